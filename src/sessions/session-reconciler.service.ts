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
import { SessionLifecycleService } from './session-lifecycle.service.js';
import { SessionState } from './session-state.js';
import { Session } from './session.entity.js';

/** Job states in which BullMQ will still run a job by itself. */
const PENDING = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

export interface ReconcileReport {
  expired: number;
  enqueued: number;
  retried: number;
}

/**
 * The database is the source of truth; Redis only schedules. At boot and on a
 * timer this makes the queues match the sessions again: every session that
 * needs work has a pending job for it (after a Redis flush or restart, or an
 * enqueue that failed), and an active session past its deadline is expired
 * here directly.
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
      const report = await this.reconcile();
      if (report.expired || report.enqueued || report.retried)
        this.logger.info(report, 'reconciled');
    } catch (error) {
      this.logger.warn({ err: error }, 'reconcile pass failed; will try again');
    }
  }

  private async pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { expired: 0, enqueued: 0, retried: 0 };
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
    return report;
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
