import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { JOB_PROCESSORS, type JobProcessor, MissingJobHandlerError } from './job-processor.js';
import { ALL_JOBS, ALL_QUEUES, type JobName, QUEUE_OF, QueueName } from './jobs.js';
import { redisConnection } from './redis-connection.js';

/**
 * Consumer side: one BullMQ Worker per queue, dispatching each job to the
 * handler its feature module registered. Refuses to start if any job name has
 * no handler on the queue it is sent to.
 */
@Injectable()
export class WorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly workers: Worker[] = [];
  private readonly handlers = new Map<JobName, (job: Job) => Promise<void>>();
  private readonly logger: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(JOB_PROCESSORS) processors: JobProcessor[],
    @Inject(ROOT_LOGGER) logger: Logger,
    private readonly metrics: MetricsService,
  ) {
    this.logger = logger.child({ context: 'WorkerService' });
    for (const processor of processors) {
      for (const [name, handler] of Object.entries(processor.handlers)) {
        if (QUEUE_OF[name as JobName] !== processor.queue) {
          throw new Error(
            `${name} is sent to queue ${QUEUE_OF[name as JobName]}, but its handler is on ${processor.queue}`,
          );
        }
        this.handlers.set(name as JobName, handler.bind(processor) as (job: Job) => Promise<void>);
      }
    }
    const missing = ALL_JOBS.filter((name) => !this.handlers.has(name));
    if (missing.length) throw new MissingJobHandlerError(missing);
  }

  onApplicationBootstrap(): void {
    for (const queue of ALL_QUEUES) this.workers.push(this.createWorker(queue));
    this.logger.info(
      { queues: ALL_QUEUES, concurrency: this.config.worker.concurrency },
      'workers started',
    );
  }

  private createWorker(queue: QueueName): Worker {
    const worker = new Worker(queue, (job: Job) => this.run(queue, job), {
      connection: redisConnection(this.config.redis.url, 'worker'),
      prefix: this.config.redis.prefix,
      // Grading is the heavy queue: its concurrency is set on its own.
      concurrency:
        queue === QueueName.GRADING
          ? this.config.grading.concurrency
          : this.config.worker.concurrency,
    });
    worker.on('error', (error) => this.logger.error({ queue, err: error }, 'worker error'));
    return worker;
  }

  private async run(queue: QueueName, job: Job): Promise<void> {
    const log = this.logger.child({
      queue,
      job: job.name,
      jobId: job.id,
      sessionId: job.data?.sessionId,
      attempt: job.attemptsMade + 1,
    });
    const handler = this.handlers.get(job.name as JobName);
    const started = process.hrtime.bigint();
    let status = 'completed';
    try {
      if (!handler) throw new MissingJobHandlerError([job.name]);
      await handler(job);
      log.info('job done');
    } catch (error) {
      status = 'failed';
      log.warn({ err: error }, 'job failed');
      throw error;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.jobDuration.observe({ queue, job: job.name, status }, seconds);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
