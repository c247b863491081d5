import { Injectable } from '@nestjs/common';
import type { JobProcessor } from '../queue/job-processor.js';
import { JobName, type JobOf, QueueName } from '../queue/jobs.js';
import { AccessRevocationService } from './access-revocation.service.js';

/** The job, enqueued at a submit or an expiry, that closes the candidate's access at once. */
@Injectable()
export class AccessRevocationProcessor implements JobProcessor {
  readonly queue = QueueName.SESSIONS;
  readonly handlers = {
    [JobName.REVOKE_ACCESS]: (job: JobOf<typeof JobName.REVOKE_ACCESS>) =>
      this.revocation.revokeEnded(job.data.sessionId).then(() => undefined),
  };

  constructor(private readonly revocation: AccessRevocationService) {}
}
