import { jest } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { SessionState } from '../../src/sessions/session-state.js';
import { Session } from '../../src/sessions/session.entity.js';
import { isolatedEnv, scratchPostgresUrl, startTestApp, type TestApp } from '../support/app.js';
import { bearer } from '../support/candidate.js';
import { kubectl } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { startRedis, type TestService } from '../support/services.js';

jest.setTimeout(150_000);

interface SessionBody {
  id: string;
  state: string;
  accessRevokedAt: string | null;
  events?: { from: string | null; to: string; reason: string }[];
}

/**
 * Redis stopped across an exam's deadline (a Redis of its own: the shared one
 * serves the other suites): the database is the source of truth, so the exam
 * ends at its deadline all the same, and its grading, which needs the queue,
 * is enqueued once Redis is back (with nothing in it: the delayed expiry job
 * died with it).
 */
describe('an exam whose deadline passes while Redis is down', () => {
  let redis: TestService | undefined;
  let port: number | undefined;
  let t: TestApp | undefined;
  afterAll(async () => {
    // Closing waits for the queues' connections: bring Redis back if a failure left it down.
    if (t && !redis && port) redis = await startRedis({ port });
    await t?.close();
    await redis?.stop();
  });

  it('is expired at its deadline in the database, and graded once Redis is back', async () => {
    redis = await startRedis();
    port = Number(new URL(redis.url).port);
    // PostgreSQL, as the split deployment runs (and as the trial that found this did).
    t = await startTestApp(
      await isolatedEnv({ REDIS_URL: redis.url, DATABASE_URL: await scratchPostgresUrl() }),
    );
    const app = t;
    const me = async (token: string) =>
      (await app.http.get('/api/sessions/me').set(bearer(token)).expect(200)).body as SessionBody;

    // A session whose upkeep needs Redis (graded, its teardown job kept for
    // the hour of review), written first so that a pass reads it first (in
    // heap order): passes used to stop at it while Redis was down, never
    // reaching the overdue exam.
    await app.dataSource.getRepository(Session).insert({
      id: '00000000-0000-4000-8000-000000000000',
      examId: 'short',
      examTitle: 'Graded before',
      candidateName: 'Earlier',
      invitationId: null,
      prefix: 's0000',
      state: SessionState.GRADED,
      failureReason: null,
      tokenHash: '0'.repeat(64),
      seed: 'seed',
      durationSeconds: 5,
      passPercent: 66,
      createdAt: new Date(),
      gradedAt: new Date(),
      tornDownAt: null,
    });
    // `short` lasts 5 s from Begin.
    const started = await app.http
      .post('/api/sessions')
      .send({ examId: 'short', candidateName: 'Outage' })
      .expect(201);
    const token: string = started.body.sessionToken;
    await eventually(
      'the session to be ready',
      () => me(token),
      (s) => s.state === 'ready',
    );
    await app.http.post('/api/sessions/me/begin').set(bearer(token)).expect(200);
    const kubeconfig = join(tmpdir(), `${started.body.session.id as string}.kubeconfig`);
    await writeFile(
      kubeconfig,
      (await app.http.get('/api/sessions/me/kubeconfig').set(bearer(token)).expect(200)).text,
      { mode: 0o600 },
    );
    await kubectl(['create', 'configmap', 'during-the-exam'], kubeconfig);
    await redis.stop();
    redis = undefined;

    const expired = await eventually(
      'the session to expire with Redis down',
      () => me(token),
      (s) => s.state !== 'active',
      20_000,
    );
    expect(expired.state).toBe('expired');
    const trainer = await app.staffToken(StaffRole.TRAINER);
    const full = (
      await app.http.get(`/api/sessions/${expired.id}`).set(bearer(trainer)).expect(200)
    ).body as SessionBody;
    expect(full.events!.find((e) => e.to === 'expired')).toMatchObject({
      from: 'active',
      reason: 'deadline passed (reconciler)',
    });
    // The candidate's access closes at the end too, with no queue to run a job.
    await eventually(
      'the access to be revoked with Redis down',
      () => me(token),
      (s) => s.accessRevokedAt !== null,
      20_000,
    );
    await expect(
      kubectl(['create', 'configmap', 'after-the-end'], kubeconfig),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/Forbidden|forbidden|Unauthorized|must be logged in/),
    });
    // Grading needs the queue: it waits for Redis (passes go on meanwhile, every second).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await me(token)).state).toBe('expired');

    redis = await startRedis({ port });
    // BullMQ reconnects with a backoff of up to 20 s; then the next pass enqueues the grading.
    await eventually(
      'the session to be graded',
      () => me(token),
      (s) => s.state === 'graded',
      90_000,
    );
    const report = await app.http.get('/api/sessions/me/report').set(bearer(token)).expect(200);
    expect(report.body.history).toHaveLength(1);
    expect(report.body.complete).toBe(true);
  });
});
