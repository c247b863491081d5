import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { JobName, type JobPayloads } from '../queue/jobs.js';
import { QueueService } from '../queue/queue.service.js';
import { SessionEvent } from './session-event.entity.js';
import { assertTransition, SessionState } from './session-state.js';
import { Session } from './session.entity.js';

type SessionPatch = Partial<
  Pick<Session, 'failureReason' | 'readyUntil' | 'startedAt' | 'deadline' | 'endedAt' | 'gradedAt'>
>;

/**
 * Moves sessions through their state machine. Each move is one transaction: a
 * conditional UPDATE on the state read (so concurrent movers cannot both
 * win) plus its audit event. Follow-up work is enqueued after the commit; if
 * Redis is down at that moment, the reconciler enqueues it later.
 */
@Injectable()
export class SessionLifecycleService {
  private readonly logger: Logger;
  private readonly listeners: ((sessionId: string, to: SessionState) => void)[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: QueueService,
    private readonly metrics: MetricsService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'SessionLifecycle' });
  }

  async transition(
    sessionId: string,
    to: SessionState,
    reason: string,
    patch: SessionPatch = {},
  ): Promise<Session> {
    const moved = await this.dataSource.transaction((manager) =>
      this.transitionIn(manager, sessionId, to, reason, patch),
    );
    this.metrics.sessionTransitions.inc({ to });
    this.logger.info({ sessionId, from: moved.from, to, reason }, 'session transition');
    for (const listener of this.listeners) listener(sessionId, to);
    return moved.session;
  }

  /**
   * Called after each committed transition made in this process (e.g. the
   * terminal closes at a submit at once; other processes' moves it polls for).
   */
  onTransition(listener: (sessionId: string, to: SessionState) => void): void {
    this.listeners.push(listener);
  }

  /** The same move inside a caller's transaction (e.g. session creation). */
  async transitionIn(
    manager: EntityManager,
    sessionId: string,
    to: SessionState,
    reason: string,
    patch: SessionPatch = {},
  ): Promise<{ session: Session; from: SessionState }> {
    const current = await manager.findOneBy(Session, { id: sessionId });
    if (!current) throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
    assertTransition(current.state, to);
    const result = await manager
      .createQueryBuilder()
      .update(Session)
      .set({ state: to, ...patch })
      .where('id = :id AND state = :state', { id: sessionId, state: current.state })
      .execute();
    if (result.affected !== 1) {
      throw new DomainError(
        ErrorCode.CONFLICT,
        'The session changed while this request was handled; retry',
        { sessionId },
      );
    }
    const from = current.state;
    await manager.insert(SessionEvent, {
      sessionId,
      fromState: from,
      toState: to,
      reason,
      at: new Date(),
    });
    return { session: Object.assign(current, { state: to }, patch), from };
  }

  /**
   * Ends a session whose time is up: an active one past its deadline
   * (expired, then graded), or a ready one never begun by `readyUntil`
   * (abandoned, then torn down: there is nothing to grade). Idempotent:
   * returns false when there is nothing due. With `enqueueFollowUp: false`
   * the grading or teardown job is left to the caller (the reconciler, which
   * must not wait on a down Redis once per session).
   */
  async expireIfDue(
    sessionId: string,
    reason: string,
    { enqueueFollowUp = true }: { enqueueFollowUp?: boolean } = {},
  ): Promise<boolean> {
    const session = await this.dataSource.getRepository(Session).findOneBy({ id: sessionId });
    if (!session) return false;
    const now = Date.now();
    let moved: boolean;
    if (session.state === SessionState.ACTIVE && session.deadline) {
      if (session.deadline.getTime() > now) return false;
      // The exam ended at its deadline, whenever this runs.
      moved = await this.moveIfStill(sessionId, SessionState.EXPIRED, reason, {
        endedAt: session.deadline,
      });
      if (moved && enqueueFollowUp) await this.enqueueEndOfExam(sessionId);
    } else if (session.state === SessionState.READY && session.readyUntil) {
      if (session.readyUntil.getTime() > now) return false;
      moved = await this.moveIfStill(
        sessionId,
        SessionState.ABANDONED,
        `not begun by ${session.readyUntil.toISOString()}`,
      );
      if (moved && enqueueFollowUp)
        await this.enqueueSafely(JobName.TEARDOWN_SESSION, { sessionId });
    } else {
      return false;
    }
    return moved;
  }

  /** A transition that someone else (a submit, Begin, another worker) may have made moot. */
  private async moveIfStill(
    sessionId: string,
    to: SessionState,
    reason: string,
    patch: SessionPatch = {},
  ): Promise<boolean> {
    try {
      await this.transition(sessionId, to, reason, patch);
      return true;
    } catch (error) {
      if (
        error instanceof DomainError &&
        (error.code === ErrorCode.CONFLICT || error.code === ErrorCode.ILLEGAL_TRANSITION)
      ) {
        return false;
      }
      throw error;
    }
  }

  /**
   * The delayed job that ends the session's current wait at `at`: the exam's
   * deadline once active, the time to press Begin while ready. The job id
   * carries the time, so a later wait is a new job and a stale one finds
   * nothing due (see expireIfDue).
   */
  scheduleExpiry(sessionId: string, at: Date): Promise<void> {
    return this.enqueueSafely(
      JobName.EXPIRE_SESSION,
      { sessionId, deadline: at.getTime() },
      at.getTime() - Date.now(),
    );
  }

  /**
   * What follows the end of an exam: the revocation of the candidate's access
   * on the sessions queue (at once, never behind a grading slot) and the
   * grading. Both at once: with Redis down, a submit waits for one timeout.
   */
  async enqueueEndOfExam(sessionId: string): Promise<void> {
    await Promise.all([
      this.enqueueSafely(JobName.REVOKE_ACCESS, { sessionId }),
      this.enqueueSafely(JobName.GRADE_SESSION, { sessionId }),
    ]);
  }

  /** Enqueues follow-up work; a Redis failure is logged, and the reconciler makes up for it. */
  async enqueueSafely<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    delay?: number,
  ): Promise<void> {
    try {
      await this.queues.enqueue(name, payload, { delay });
    } catch (error) {
      this.logger.warn(
        { err: error, job: name, sessionId: payload.sessionId },
        'enqueue failed; the reconciler will retry',
      );
    }
  }
}
