import type { JobName, JobOf, QueueName } from './jobs.js';

/** What a feature module implements to do the work of some jobs on one queue. */
export interface JobProcessor {
  readonly queue: QueueName;
  /** One handler per job name; handlers are idempotent and rethrow so BullMQ retries. */
  readonly handlers: { [N in JobName]?: (job: JobOf<N>) => Promise<void> };
}

/** Multi-provider token under which feature modules register their processors. */
export const JOB_PROCESSORS = Symbol('JOB_PROCESSORS');

export class MissingJobHandlerError extends Error {
  constructor(missing: string[]) {
    super(
      `No handler for job${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: every job name needs one before the worker can start`,
    );
    this.name = 'MissingJobHandlerError';
  }
}
