import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { In, IsNull, Repository } from 'typeorm';
import { mapLimit } from '../common/map-limit.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { SessionState } from './session-state.js';
import { Session } from './session.entity.js';

/**
 * States in which an exam has ended and its access may still be open: before
 * and during grading, and after grading gave up (a revoke that failed as
 * long as grading retried leaves the access open until it succeeds).
 */
const ENDED_UNREVOKED: SessionState[] = [
  SessionState.SUBMITTED,
  SessionState.EXPIRED,
  SessionState.GRADING,
  SessionState.GRADING_FAILED,
];

/** Revocations one reconciler pass runs at a time (each is a few API calls per cluster). */
const RECONCILE_REVOKE_LIMIT = 4;
/** After a failed revoke, the reconciler waits this long before the next, doubling up to the maximum. */
const RETRY_FIRST_MS = 30_000;
const RETRY_MAX_MS = 600_000;

/**
 * Closes a candidate's access to their clusters once the exam has ended:
 * freezes what they could still change and removes their credentials (see
 * ProvisioningService.revoke), then records when in `accessRevokedAt`.
 *
 * Why its own step, not the first act of grading: grading waits for a slot
 * (GRADING_CONCURRENCY) and for Redis, and until the revoke a kubeconfig or a
 * token minted during the exam still changes the cluster — after the
 * deadline, with the grade still to read it. So it runs at the end itself,
 * from three places: a job on the sessions queue (the same worker pool as the
 * expiry, never behind grading), the reconciler's pass (database only, so an
 * exam that ends while Redis is down is revoked within one pass), and grading,
 * which revokes first if neither has yet. Idempotent: a second revoke of the
 * same session changes nothing.
 */
@Injectable()
export class AccessRevocationService {
  private readonly logger: Logger;
  /** Sessions whose revoke failed in a reconciler pass: when to try again (a lost cluster must not be retried every pass). */
  private readonly retries = new Map<string, { at: number; delayMs: number }>();

  constructor(
    private readonly provisioning: ProvisioningService,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'AccessRevocation' });
  }

  /** Revokes an ended session's access unless that is recorded as done; sets `accessRevokedAt`. */
  async revoke(session: Session): Promise<void> {
    if (session.accessRevokedAt) return;
    await this.provisioning.revoke(session);
    const at = new Date();
    await this.sessions.update(
      { id: session.id, accessRevokedAt: IsNull() },
      { accessRevokedAt: at },
    );
    session.accessRevokedAt = at;
    this.logger.info({ sessionId: session.id }, 'access revoked');
  }

  /** {@link revoke} by id, if the session has ended and its access may still be open; false when there was nothing to do. */
  async revokeEnded(sessionId: string): Promise<boolean> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session || session.accessRevokedAt || !ENDED_UNREVOKED.includes(session.state))
      return false;
    await this.revoke(session);
    return true;
  }

  /**
   * Every ended session whose access is still open, a few at a time; one that
   * fails (its cluster unreachable) is logged and tried again in a later pass,
   * after a back-off that doubles (30 s to 10 minutes), so a cluster that is
   * gone does not slow every pass. Returns how many were revoked.
   */
  async revokeAllEnded(): Promise<number> {
    const now = Date.now();
    const ended = await this.sessions.find({
      where: { state: In(ENDED_UNREVOKED), accessRevokedAt: IsNull(), tornDownAt: IsNull() },
    });
    // A back-off outlives its session's failure only while the access is open:
    // one revoked by the end's job or by grading, or torn down, is forgotten.
    const stillOpen = new Set(ended.map((session) => session.id));
    for (const id of this.retries.keys()) if (!stillOpen.has(id)) this.retries.delete(id);
    const open = ended.filter((session) => (this.retries.get(session.id)?.at ?? 0) <= now);
    const done = await mapLimit(open, RECONCILE_REVOKE_LIMIT, async (session) => {
      try {
        await this.revoke(session);
        this.retries.delete(session.id);
        return 1;
      } catch (error) {
        const last = this.retries.get(session.id)?.delayMs;
        const delayMs = last ? Math.min(RETRY_MAX_MS, last * 2) : RETRY_FIRST_MS;
        this.retries.set(session.id, { at: Date.now() + delayMs, delayMs });
        this.logger.warn(
          { sessionId: session.id, err: error, retryInSeconds: delayMs / 1000 },
          'could not revoke access; will retry',
        );
        return 0;
      }
    });
    return done.reduce<number>((sum, n) => sum + n, 0);
  }
}
