import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { JobProcessor } from '../queue/job-processor.js';
import { JobName, type JobOf, QueueName } from '../queue/jobs.js';
import { SessionLifecycleService } from './session-lifecycle.service.js';

/** The delayed job that ends an exam at its deadline. */
@Injectable()
export class SessionExpiryProcessor implements JobProcessor {
  readonly queue = QueueName.SESSIONS;
  readonly handlers = {
    [JobName.EXPIRE_SESSION]: (job: JobOf<typeof JobName.EXPIRE_SESSION>) => this.expire(job),
  };
  private readonly logger: Logger;

  constructor(
    private readonly lifecycle: SessionLifecycleService,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'SessionExpiry' });
  }

  private async expire(job: JobOf<typeof JobName.EXPIRE_SESSION>): Promise<void> {
    const { sessionId, deadline } = job.data;
    // A job can fire a little early (clocks of Redis and this host differ):
    // fail it so BullMQ retries after the backoff instead of dropping it.
    if (Date.now() < deadline)
      throw new Error(`deadline of ${sessionId} is ${deadline - Date.now()} ms ahead`);
    const expired = await this.lifecycle.expireIfDue(sessionId, 'deadline passed (expiry job)');
    if (!expired)
      this.logger.debug({ sessionId }, 'nothing to expire (already ended or deadline moved)');
  }
}
