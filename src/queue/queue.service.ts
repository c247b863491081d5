import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type JobsOptions, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { withTimeout } from '../common/with-timeout.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import {
  ALL_QUEUES,
  type JobName,
  type JobPayloads,
  jobIdOf,
  QUEUE_OF,
  type QueueName,
} from './jobs.js';
import { redisConnection } from './redis-connection.js';

/**
 * A request or a reconciler pass must not hang on a Redis outage (BullMQ waits
 * without end for a Redis that was down when the process started); the
 * reconciler enqueues the work later.
 */
const REDIS_TIMEOUT_MS = 3000;

/** Producer side of the queues: the only way work is enqueued. */
@Injectable()
export class QueueService implements OnModuleDestroy {
  private readonly queues = new Map<QueueName, Queue>();
  private readonly logger: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'QueueService' });
  }

  /**
   * Queues connect on first use, not at construction: an app whose start-up
   * fails later (an invalid bank, say) then leaves no Redis connection behind.
   */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: redisConnection(this.config.redis.url, 'producer'),
        prefix: this.config.redis.prefix,
      });
      // Without a listener BullMQ prints connection errors to the console.
      queue.on('error', (error) =>
        this.logger.warn({ queue: name, err: error.message }, 'redis error'),
      );
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Adds a job with its deterministic id and the retry policy (exponential
   * backoff). A job whose id already exists is not added again.
   */
  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    options: Pick<JobsOptions, 'delay'> = {},
  ): Promise<string> {
    const jobId = jobIdOf(name, payload);
    const added = this.queue(QUEUE_OF[name]).add(name, payload, {
      jobId,
      attempts: this.config.worker.attempts,
      backoff: { type: 'exponential', delay: this.config.worker.backoffMs },
      // Completed jobs go at once so the same id can be enqueued again later;
      // failed ones stay a day for inspection (the reconciler retries them).
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
      delay: options.delay,
    });
    await withTimeout(added, REDIS_TIMEOUT_MS, `enqueue ${jobId} (is Redis up?)`);
    this.logger.debug(
      { jobId, job: name, sessionId: payload.sessionId, delay: options.delay },
      'enqueued',
    );
    return jobId;
  }

  /** Whether the job is waiting, delayed, active or failed (and so will not be lost). */
  state(name: JobName, payload: JobPayloads[JobName]): Promise<string | undefined> {
    const jobId = jobIdOf(name, payload as never);
    const state = async () => {
      const job = await this.queue(QUEUE_OF[name]).getJob(jobId);
      return job ? await job.getState() : undefined;
    };
    return withTimeout(state(), REDIS_TIMEOUT_MS, `state of ${jobId} (is Redis up?)`);
  }

  /** Re-runs a job that exhausted its attempts. */
  retryFailed(name: JobName, payload: JobPayloads[JobName]): Promise<void> {
    const jobId = jobIdOf(name, payload as never);
    const retry = async () => {
      const job = await this.queue(QUEUE_OF[name]).getJob(jobId);
      if (job && (await job.isFailed())) await job.retry('failed');
    };
    return withTimeout(retry(), REDIS_TIMEOUT_MS, `retry of ${jobId} (is Redis up?)`);
  }

  async counts(): Promise<Record<QueueName, Record<string, number>>> {
    const entries = await Promise.all(
      ALL_QUEUES.map(async (name) => {
        const counts = await this.queue(name).getJobCounts(
          'waiting',
          'active',
          'delayed',
          'failed',
          'prioritized',
        );
        return [name, counts] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<QueueName, Record<string, number>>;
  }

  /** A round trip to Redis through the producer connection, for /health. */
  async ping(): Promise<void> {
    await this.queue(ALL_QUEUES[0]).getJobCounts('waiting');
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
