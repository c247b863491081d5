import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { In, IsNull, Repository } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { JobName, type JobPayloads } from '../queue/jobs.js';
import { QueueService } from '../queue/queue.service.js';
import { AccessRevocationService } from './access-revocation.service.js';
import { SessionLifecycleService } from './session-lifecycle.service.js';
import { SessionState } from './session-state.js';
import { Session } from './session.entity.js';

/** Job states in which BullMQ will still run a job by itself. */
const PENDING = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

export interface ReconcileReport {
  /** Sessions this pass ended for being past their deadline (or their time to Begin). */
  expired: number;
  /** Ended sessions whose candidate's access this pass closed (no job had yet: Redis down, say). */
  revoked: number;
  enqueued: number;
  retried: number;
  /** Why the queues could not be rebuilt in this pass (Redis down): the next pass tries again. */
  queuesFailed?: string;
}

/**
 * The database is the source of truth; Redis only schedules. At boot and on a
 * timer, first every active session past its deadline (and every ready one
 * past its time to Begin) is ended in the database: that needs nothing from
 * Redis, so exams end on time through a Redis outage; so does closing the
 * candidate's access to every ended exam whose access is still open (see
 * AccessRevocationService). Then the queues are
 * made to match the sessions again: every session that needs work has a
 * pending job for it (after a Redis flush or restart, an enqueue that failed,
 * or a session expired here while Redis was down, whose grading is enqueued
 * by the first pass after Redis is back).
 */
@Injectable()
export class SessionReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReconcileReport>;
  private readonly logger: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly lifecycle: SessionLifecycleService,
    private readonly revocation: AccessRevocationService,
    private readonly queues: QueueService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'SessionReconciler' });
  }

  onApplicationBootstrap(): void {
    void this.runLogged();
    this.timer = setInterval(() => void this.runLogged(), this.config.worker.reconcileIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent calls share the pass in progress. */
  reconcile(): Promise<ReconcileReport> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runLogged(): Promise<void> {
    try {
      const { queuesFailed, ...report } = await this.reconcile();
      if (queuesFailed)
        this.logger.warn(
          { ...report, err: queuesFailed },
          'queues not rebuilt (is Redis up?); overdue sessions were expired in the database; will try again',
        );
      else if (report.expired || report.revoked || report.enqueued || report.retried)
        this.logger.info(report, 'reconciled');
    } catch (error) {
      this.logger.warn({ err: error }, 'reconcile pass failed; will try again');
    }
  }

  private async pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { expired: 0, revoked: 0, enqueued: 0, retried: 0 };
    report.expired = await this.expireOverdue();
    // Like the expiry, from the database alone: the end closes access even while Redis is down.
    report.revoked = await this.revocation.revokeAllEnded();
    try {
      await this.rebuildQueues(report);
    } catch (error) {
      report.queuesFailed = error instanceof Error ? error.message : String(error);
    }
    return report;
  }

  /**
   * Ends, in the database alone, every exam whose time is up: the same move
   * and audit event as the expiry job's. Their follow-up jobs (grading,
   * teardown) are left to rebuildQueues, right after when Redis answers, or
   * to the first pass after it is back: waiting on a down Redis once per
   * session here would hold every later expiry up.
   */
  private async expireOverdue(): Promise<number> {
    const waiting = await this.sessions.find({
      where: { state: In([SessionState.READY, SessionState.ACTIVE]) },
      select: { id: true, state: true, readyUntil: true, deadline: true },
    });
    const now = Date.now();
    let expired = 0;
    for (const session of waiting) {
      const due = session.state === SessionState.READY ? session.readyUntil : session.deadline;
      if (!due || due.getTime() > now) continue;
      const moved = await this.lifecycle.expireIfDue(session.id, 'deadline passed (reconciler)', {
        enqueueFollowUp: false,
      });
      if (moved) expired++;
    }
    return expired;
  }

  /** Makes sure every session that needs work has a pending job; stops at the first Redis failure. */
  private async rebuildQueues(report: ReconcileReport): Promise<void> {
    const open = await this.sessions.find({
      where: [
        {
          state: In([
            SessionState.PROVISIONING,
            SessionState.READY,
            SessionState.ACTIVE,
            SessionState.SUBMITTED,
            SessionState.EXPIRED,
            SessionState.GRADING,
          ]),
        },
        // Finished, but their cluster objects are still there.
        {
          state: In([
            SessionState.GRADED,
            SessionState.PROVISIONING_FAILED,
            SessionState.ABANDONED,
          ]),
          tornDownAt: IsNull(),
        },
      ],
      select: {
        id: true,
        state: true,
        readyUntil: true,
        deadline: true,
        createdAt: true,
        gradedAt: true,
      },
    });
    const now = Date.now();
    for (const session of open) {
      const sessionId = session.id;
      switch (session.state) {
        case SessionState.PROVISIONING:
          await this.ensure(JobName.PROVISION_SESSION, { sessionId }, 0, report);
          break;
        case SessionState.READY:
        case SessionState.ACTIVE: {
          // Ready: the time to press Begin; active: the exam's deadline.
          const due = session.state === SessionState.READY ? session.readyUntil : session.deadline;
          if (!due) break;
          if (due.getTime() <= now) {
            // Came due since expireOverdue looked.
            if (await this.lifecycle.expireIfDue(sessionId, 'deadline passed (reconciler)'))
              report.expired++;
          } else {
            const deadline = due.getTime();
            await this.ensure(
              JobName.EXPIRE_SESSION,
              { sessionId, deadline },
              deadline - now,
              report,
            );
          }
          break;
        }
        case SessionState.ABANDONED:
          await this.ensure(JobName.TEARDOWN_SESSION, { sessionId }, 0, report);
          break;
        case SessionState.GRADED:
        case SessionState.PROVISIONING_FAILED: {
          const since = (session.gradedAt ?? session.createdAt).getTime();
          const due = since + this.config.provisioning.teardownAfterSeconds * 1000;
          await this.ensure(JobName.TEARDOWN_SESSION, { sessionId }, due - now, report);
          break;
        }
        default: // submitted, expired, grading (a worker may have died mid-grade)
          await this.ensure(JobName.GRADE_SESSION, { sessionId }, 0, report);
      }
    }
  }

  private async ensure<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    delay: number,
    report: ReconcileReport,
  ): Promise<void> {
    const state = await this.queues.state(name, payload);
    if (state && PENDING.has(state)) return;
    if (state === 'failed') {
      await this.queues.retryFailed(name, payload);
      report.retried++;
      return;
    }
    // Missing, or completed while the session still waits (a lost race): enqueue anew.
    await this.queues.enqueue(name, payload, { delay: Math.max(0, delay) });
    report.enqueued++;
  }
}
