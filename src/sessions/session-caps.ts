import { type EntityManager, type FindOptionsWhere, In, Not, IsNull } from 'typeorm';
import { lockForTransaction } from '../database/transaction-lock.js';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { RUNNING_STATES } from './session-state.js';
import { Session } from './session.entity.js';

/**
 * Key of the PostgreSQL advisory lock a session start holds from counting the
 * sessions running to writing its own ("ckacaps" in ASCII; the pool and the
 * migrations have keys of their own).
 */
export const SESSION_CAPS_LOCK_KEY = '27984088717684851';

export interface SessionCaps {
  /** MAX_ACTIVE_SESSIONS: sessions provisioning or running at once, for everyone; 0: no cap. */
  maxActiveSessions: number;
  /** MAX_ACTIVE_SESSIONS_PER_CLIENT: the same per client, for open exams; 0: no cap. */
  maxActiveSessionsPerClient: number;
}

/**
 * Refuses a start past the caps on sessions provisioning or running: in total
 * (503: the clusters are full) and, for open exams, per client (429: an
 * anonymous client cannot fill the clusters alone). An invitation is one
 * person's single start, so only the total applies to it (`openExamClient`
 * null). Both refusals say when a place is expected to free up.
 *
 * Call it inside the transaction that writes the new session: it takes a lock
 * that makes the count and the write one step for every process, so starts
 * made at the same moment cannot pass a cap together (lockForTransaction).
 */
export async function reserveSessionPlace(
  manager: EntityManager,
  caps: SessionCaps,
  openExamClient: string | null,
): Promise<void> {
  if (!capped(caps, openExamClient)) return;
  // Each start holds the lock for milliseconds; a wait this long means a stuck
  // holder, and waiting on would pin this process's pool connections.
  const locked = await lockForTransaction(manager, SESSION_CAPS_LOCK_KEY, {
    waitSeconds: LOCK_WAIT_SECONDS,
  });
  if (!locked)
    throw new DomainError(
      ErrorCode.AT_CAPACITY,
      'Too many exams are starting at this moment; try again in a few seconds',
      { retryAfterSeconds: LOCK_WAIT_SECONDS },
    );
  await refuseOverCaps(manager, caps, openExamClient);
}

/**
 * The same refusals without the lock, before a start does any work: a start
 * the caps already refuse is refused cheaply. Only reserveSessionPlace is
 * the guarantee.
 */
export async function refuseOverCaps(
  manager: EntityManager,
  caps: SessionCaps,
  openExamClient: string | null,
): Promise<void> {
  const { maxActiveSessions, maxActiveSessionsPerClient } = caps;
  if (!capped(caps, openExamClient)) return;
  const sessions = manager.getRepository(Session);
  const running = In([...RUNNING_STATES]);
  if (maxActiveSessions > 0) {
    const total = await sessions.countBy({ state: running });
    if (total >= maxActiveSessions)
      throw new DomainError(
        ErrorCode.AT_CAPACITY,
        `All ${maxActiveSessions} exam places are taken; try again later`,
        { retryAfterSeconds: await untilAPlaceFrees(manager, { state: running }) },
      );
  }
  if (openExamClient !== null && maxActiveSessionsPerClient > 0) {
    const mine = { state: running, clientAddress: openExamClient };
    const count = await sessions.countBy(mine);
    if (count >= maxActiveSessionsPerClient)
      throw new DomainError(
        ErrorCode.SESSION_LIMIT_REACHED,
        `This address already has ${count} open-exam session${count === 1 ? '' : 's'} running (at most ${maxActiveSessionsPerClient}); submit one or wait for it to end`,
        {
          retryAfterSeconds: await untilAPlaceFrees(manager, mine),
          limit: maxActiveSessionsPerClient,
        },
      );
  }
}

const LOCK_WAIT_SECONDS = 10;

function capped(caps: SessionCaps, openExamClient: string | null): boolean {
  return (
    caps.maxActiveSessions > 0 || (openExamClient !== null && caps.maxActiveSessionsPerClient > 0)
  );
}

/** Seconds until the earliest deadline among the sessions matched (60 while all are still provisioning). */
async function untilAPlaceFrees(
  manager: EntityManager,
  where: FindOptionsWhere<Session>,
): Promise<number> {
  const first = await manager.getRepository(Session).findOne({
    where: { ...where, deadline: Not(IsNull()) },
    order: { deadline: 'ASC' },
    select: { id: true, deadline: true },
  });
  if (!first?.deadline) return 60;
  return Math.max(1, Math.ceil((first.deadline.getTime() - Date.now()) / 1000));
}
