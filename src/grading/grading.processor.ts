import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import type { JobProcessor } from '../queue/job-processor.js';
import { JobName, type JobOf, QueueName } from '../queue/jobs.js';
import { AccessRevocationService } from '../sessions/access-revocation.service.js';
import { SessionLifecycleService } from '../sessions/session-lifecycle.service.js';
import { SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';
import { GradingService } from './grading.service.js';

/**
 * Grades an ended session against the live cluster.
 *
 * The candidate's access is revoked first (normally done already at the end,
 * see AccessRevocationService), so grading sees a frozen cluster; then the
 * backed-off controllers are woken, so the grade does not depend on when in
 * the exam a fix was made.
 * Undecidable checks make the job fail and BullMQ retry it with backoff; the
 * last attempt stores what it has as an incomplete run. A stalled job (worker
 * killed) is picked up again: nothing was stored, so it grades afresh.
 */
@Injectable()
export class GradingProcessor implements JobProcessor {
  readonly queue = QueueName.GRADING;
  readonly handlers = {
    [JobName.GRADE_SESSION]: (job: JobOf<typeof JobName.GRADE_SESSION>) => this.grade(job),
  };

  constructor(
    private readonly lifecycle: SessionLifecycleService,
    private readonly provisioning: ProvisioningService,
    private readonly revocation: AccessRevocationService,
    private readonly grading: GradingService,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private async grade(job: JobOf<typeof JobName.GRADE_SESSION>): Promise<void> {
    const { sessionId } = job.data;
    const session = await this.sessions.findOneBy({ id: sessionId });
    const ended: string[] = [SessionState.SUBMITTED, SessionState.EXPIRED, SessionState.GRADING];
    if (!session || !ended.includes(session.state)) return; // graded already, or not ended
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    // The revoke is skipped when the end did it already; waking runs again
    // after a crash mid-grade (both are idempotent). A cluster that is gone
    // for good (a dedicated session's, lost with its host) ends in
    // grading_failed with the reason, not in retries for ever.
    try {
      await this.revocation.revoke(session);
      await this.provisioning.wakeAllControllers(session);
    } catch (error) {
      if (lastAttempt) {
        const reason = `could not revoke access before grading: ${(error as Error).message}`;
        if (session.state !== SessionState.GRADING)
          await this.lifecycle.transition(sessionId, SessionState.GRADING, reason);
        await this.lifecycle.transition(sessionId, SessionState.GRADING_FAILED, reason, {
          failureReason: (error as Error).message,
        });
      }
      throw error;
    }
    if (session.state !== SessionState.GRADING) {
      await this.lifecycle.transition(
        sessionId,
        SessionState.GRADING,
        'access revoked; grading started',
      );
    }
    let run;
    try {
      run = await this.grading.gradeSession(sessionId, { lastAttempt });
    } catch (error) {
      // Out of attempts on something other than undecided checks (the
      // database, a bug): say so on the session rather than leave it in
      // grading for the reconciler to retry forever. A regrade starts again.
      if (lastAttempt) {
        await this.lifecycle.transition(
          sessionId,
          SessionState.GRADING_FAILED,
          `grading failed after ${job.attemptsMade + 1} attempts: ${(error as Error).message}`,
          { failureReason: (error as Error).message },
        );
      }
      throw error;
    }
    if (run.status === 'complete') {
      await this.lifecycle.enqueueSafely(
        JobName.TEARDOWN_SESSION,
        { sessionId },
        this.config.provisioning.teardownAfterSeconds * 1000,
      );
    }
  }
}
