import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { Repository } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { CapacityWaitError } from '../environments/dedicated-environments.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { JobProcessor } from '../queue/job-processor.js';
import { JobName, type JobOf, QueueName } from '../queue/jobs.js';
import { SessionLifecycleService } from '../sessions/session-lifecycle.service.js';
import { SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';
import { ProvisioningService } from './provisioning.service.js';

/**
 * Prepares a session's cluster environment, then makes it ready (the
 * candidate starts the timer with Begin). A failure
 * is retried with backoff; after the last attempt the session becomes
 * provisioning_failed with the reason (the timer never started).
 */
@Injectable()
export class ProvisioningProcessor implements JobProcessor {
  readonly queue = QueueName.PROVISIONING;
  readonly handlers = {
    [JobName.PROVISION_SESSION]: (job: JobOf<typeof JobName.PROVISION_SESSION>) =>
      this.provision(job),
  };

  private readonly logger: Logger;

  constructor(
    private readonly lifecycle: SessionLifecycleService,
    private readonly provisioning: ProvisioningService,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'Provisioning' });
  }

  private async provision(job: JobOf<typeof JobName.PROVISION_SESSION>): Promise<void> {
    const { sessionId } = job.data;
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session || session.state !== SessionState.PROVISIONING) return; // done already
    const expiresAt = new Date(Date.now() + session.durationSeconds * 1000);
    try {
      await this.provisioning.provision(session, expiresAt);
    } catch (error) {
      if (error instanceof CapacityWaitError) {
        // Not a failure: the machine is full. The reconciler queues this job
        // again while the session is provisioning; the console shows its place.
        this.logger.info({ sessionId, position: error.position }, error.message);
        return;
      }
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (lastAttempt) {
        await this.lifecycle.transition(
          sessionId,
          SessionState.PROVISIONING_FAILED,
          'provisioning failed',
          {
            failureReason: (error as Error).message,
          },
        );
        // Best effort (the cluster may be what failed): teardown removes them later anyway.
        await this.provisioning
          .revokeAccess(session)
          .catch((revokeError: unknown) =>
            this.logger.warn(
              { sessionId, err: revokeError },
              'could not remove the access objects of a failed provisioning; teardown will',
            ),
          );
      }
      throw error;
    }
    // The timer starts only when the candidate presses Begin; until then the
    // environment waits, for a bounded time.
    const readyUntil = new Date(Date.now() + this.config.provisioning.readyTimeoutSeconds * 1000);
    await this.lifecycle.transition(
      sessionId,
      SessionState.READY,
      'provisioned; waiting for Begin',
      {
        readyUntil,
      },
    );
    await this.lifecycle.scheduleExpiry(sessionId, readyUntil);
  }
}
