import { Injectable } from '@nestjs/common';
import type { JobProcessor } from '../queue/job-processor.js';
import { JobName, type JobOf, QueueName } from '../queue/jobs.js';
import { SessionLifecycleService } from '../sessions/session-lifecycle.service.js';
import { SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';

/**
 * Prepares a session's cluster environment, then starts its timer.
 *
 * Status: per-candidate namespaces, RBAC and kubeconfigs arrive with the
 * provisioning issue; until then this step passes straight through to
 * "active" (the README's status section says so).
 */
@Injectable()
export class ProvisioningProcessor implements JobProcessor {
  readonly queue = QueueName.PROVISIONING;
  readonly handlers = {
    [JobName.PROVISION_SESSION]: (job: JobOf<typeof JobName.PROVISION_SESSION>) =>
      this.provision(job),
  };

  constructor(
    private readonly lifecycle: SessionLifecycleService,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
  ) {}

  private async provision(job: JobOf<typeof JobName.PROVISION_SESSION>): Promise<void> {
    const { sessionId } = job.data;
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session || session.state !== SessionState.PROVISIONING) return; // done already
    const startedAt = new Date();
    const deadline = new Date(startedAt.getTime() + session.durationSeconds * 1000);
    await this.lifecycle.transition(sessionId, SessionState.ACTIVE, 'provisioned; timer started', {
      startedAt,
      deadline,
    });
    await this.lifecycle.enqueueSafely(
      JobName.EXPIRE_SESSION,
      { sessionId, deadline: deadline.getTime() },
      deadline.getTime() - Date.now(),
    );
  }
}
