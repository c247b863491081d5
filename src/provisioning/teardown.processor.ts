import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import type { JobProcessor } from '../queue/job-processor.js';
import { JobName, type JobOf, QueueName } from '../queue/jobs.js';
import { SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';
import { ProvisioningService } from './provisioning.service.js';

/** States after which a session's cluster objects are no longer needed (after the retention). */
export const TEARDOWN_STATES: readonly SessionState[] = [
  SessionState.GRADED,
  SessionState.PROVISIONING_FAILED,
  SessionState.ABANDONED,
];

/**
 * Removes a session's cluster objects once its report is stored and the
 * retention (TEARDOWN_AFTER_SECONDS) has passed. Idempotent and retried.
 */
@Injectable()
export class TeardownProcessor implements JobProcessor {
  readonly queue = QueueName.TEARDOWN;
  readonly handlers = {
    [JobName.TEARDOWN_SESSION]: (job: JobOf<typeof JobName.TEARDOWN_SESSION>) => this.teardown(job),
  };

  constructor(
    private readonly provisioning: ProvisioningService,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
  ) {}

  private async teardown(job: JobOf<typeof JobName.TEARDOWN_SESSION>): Promise<void> {
    const session = await this.sessions.findOneBy({ id: job.data.sessionId });
    if (!session || session.tornDownAt || !TEARDOWN_STATES.includes(session.state)) return;
    await this.provisioning.teardown(session);
    await this.sessions.update(
      { id: session.id, tornDownAt: IsNull() },
      { tornDownAt: new Date() },
    );
  }
}
