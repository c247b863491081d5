import 'reflect-metadata';
import { jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../../../src/config/config.schema.js';
import { MetricsService } from '../../../src/metrics/metrics.service.js';
import { type JobProcessor, MissingJobHandlerError } from '../../../src/queue/job-processor.js';
import { JobName, type JobOf, QueueName } from '../../../src/queue/jobs.js';
import { QueueService } from '../../../src/queue/queue.service.js';
import { WorkerService } from '../../../src/queue/worker.service.js';
import { eventually } from '../../support/eventually.js';

jest.setTimeout(30_000);

const silent = pino({ level: 'silent' });

function config() {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run through the integration Jest project');
  return loadConfig({
    REDIS_URL: url,
    QUEUE_PREFIX: `q-${randomBytes(4).toString('hex')}`,
    JOB_ATTEMPTS: '3',
    JOB_BACKOFF_MS: '50',
  });
}

/** Records every run; the grading handler fails its first `failures` attempts per session. */
function recordingProcessors(failures = 0) {
  const runs: { job: string; sessionId: string; at: number; attempt: number }[] = [];
  const record = async (job: JobOf<JobName>) => {
    runs.push({
      job: job.name,
      sessionId: job.data.sessionId,
      at: Date.now(),
      attempt: job.attemptsMade + 1,
    });
  };
  const processors: JobProcessor[] = [
    { queue: QueueName.PROVISIONING, handlers: { [JobName.PROVISION_SESSION]: record } },
    {
      queue: QueueName.SESSIONS,
      handlers: { [JobName.EXPIRE_SESSION]: record, [JobName.REVOKE_ACCESS]: record },
    },
    { queue: QueueName.TEARDOWN, handlers: { [JobName.TEARDOWN_SESSION]: record } },
    {
      queue: QueueName.GRADING,
      handlers: {
        [JobName.GRADE_SESSION]: async (job) => {
          await record(job);
          if (job.attemptsMade < failures)
            throw new Error(`transient failure ${job.attemptsMade + 1}`);
        },
      },
    },
  ];
  return { runs, processors };
}

describe('queues on a real Redis', () => {
  let queues: QueueService;
  let worker: WorkerService;
  let runs: ReturnType<typeof recordingProcessors>['runs'];

  beforeAll(() => {
    const cfg = config();
    const recording = recordingProcessors(2);
    runs = recording.runs;
    queues = new QueueService(cfg, silent);
    worker = new WorkerService(cfg, recording.processors, silent, new MetricsService());
    worker.onApplicationBootstrap();
  });
  afterAll(async () => {
    await worker.onApplicationShutdown();
    await queues.onModuleDestroy();
  });

  it('adds a job once however often it is enqueued (deterministic ids)', async () => {
    const sessionId = randomUUID();
    const ids = await Promise.all(
      [1, 2, 3].map(() => queues.enqueue(JobName.PROVISION_SESSION, { sessionId })),
    );
    expect(new Set(ids)).toEqual(new Set([`provision-session.${sessionId}`]));
    await eventually(
      'the job to run',
      async () => runs.filter((r) => r.sessionId === sessionId),
      (r) => r.length >= 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(runs.filter((r) => r.sessionId === sessionId)).toHaveLength(1);
  });

  it('runs a delayed job at its time, not before', async () => {
    const sessionId = randomUUID();
    const enqueuedAt = Date.now();
    await queues.enqueue(
      JobName.EXPIRE_SESSION,
      { sessionId, deadline: enqueuedAt + 700 },
      { delay: 700 },
    );
    expect(
      await queues.state(JobName.EXPIRE_SESSION, { sessionId, deadline: enqueuedAt + 700 }),
    ).toBe('delayed');
    const [run] = await eventually(
      'the delayed job to run',
      async () => runs.filter((r) => r.sessionId === sessionId),
      (r) => r.length === 1,
    );
    expect(run.at - enqueuedAt).toBeGreaterThanOrEqual(690);
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const sessionId = randomUUID();
    await queues.enqueue(JobName.GRADE_SESSION, { sessionId });
    const attempts = await eventually(
      'three attempts',
      async () => runs.filter((r) => r.sessionId === sessionId),
      (r) => r.length === 3,
      10_000,
    );
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Exponential backoff from 50 ms: at least 50 then 100 ms between attempts.
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(45);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(95);
    await eventually(
      'the job to be gone once done',
      () => queues.state(JobName.GRADE_SESSION, { sessionId }),
      (s) => s === undefined,
    );
  });

  it('reports queue depths', async () => {
    const counts = await queues.counts();
    expect(Object.keys(counts).sort()).toEqual(['grading', 'provisioning', 'sessions', 'teardown']);
    expect(counts.sessions).toEqual(
      expect.objectContaining({ waiting: expect.any(Number), delayed: expect.any(Number) }),
    );
  });
});

describe('the worker refuses to start', () => {
  it('when a job name has no handler', () => {
    const { processors } = recordingProcessors();
    const withoutGrading = processors.filter((p) => p.queue !== QueueName.GRADING);
    expect(() => new WorkerService(config(), withoutGrading, silent, new MetricsService())).toThrow(
      new MissingJobHandlerError([JobName.GRADE_SESSION]),
    );
  });

  it('when a handler sits on the wrong queue', () => {
    const { processors } = recordingProcessors();
    const misplaced = processors.map((p) =>
      p.queue === QueueName.GRADING ? { ...p, queue: QueueName.SESSIONS } : p,
    );
    expect(() => new WorkerService(config(), misplaced, silent, new MetricsService())).toThrow(
      /grade-session is sent to queue grading/,
    );
  });
});
