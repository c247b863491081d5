import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import type { JobProcessor } from '../queue/job-processor.js';
import { JobName, type JobOf, QueueName } from '../queue/jobs.js';
import { SessionLifecycleService } from '../sessions/session-lifecycle.service.js';
import { SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';

/**
 * Grades an ended session against the live cluster.
 *
 * The candidate's access is revoked first, so grading sees a frozen cluster.
 *
 * Status: check evaluation and reports arrive with the grading issue; until
 * then a session passes straight through grading to "graded" with no score
 * (the README's status section says so).
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
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private async grade(job: JobOf<typeof JobName.GRADE_SESSION>): Promise<void> {
    const { sessionId } = job.data;
    const session = await this.sessions.findOneBy({ id: sessionId });
    const ended: string[] = [SessionState.SUBMITTED, SessionState.EXPIRED, SessionState.GRADING];
    if (!session || !ended.includes(session.state)) return; // graded already, or not ended
    // Again after a crash mid-grade: revoking is idempotent.
    await this.provisioning.revoke(session);
    if (session.state !== SessionState.GRADING) {
      await this.lifecycle.transition(
        sessionId,
        SessionState.GRADING,
        'access revoked; grading started',
      );
    }
    await this.lifecycle.transition(
      sessionId,
      SessionState.GRADED,
      'graded (pass-through: no checks evaluated yet)',
      {
        gradedAt: new Date(),
      },
    );
    await this.lifecycle.enqueueSafely(
      JobName.TEARDOWN_SESSION,
      { sessionId },
      this.config.provisioning.teardownAfterSeconds * 1000,
    );
  }
}
