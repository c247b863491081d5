import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../sandbox/http.js';
import { E2E_BANK, REPO_ROOT } from '../support/app.js';
import { bearer } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';

jest.setTimeout(240_000);

/** The fields of the API's answers this test reads. */
interface ApiBody {
  state?: string;
  sessionToken?: string;
  history?: unknown[];
  complete?: boolean;
  tasks?: { checks: unknown[] }[];
}

/**
 * The built engine in its own process, killed with SIGKILL while it grades:
 * nothing half-written is stored, and the engine started again on the same
 * database and Redis picks the stalled job up and stores one consistent run.
 */
describe('a worker killed in the middle of grading', () => {
  let env: Record<string, string>;
  let engine: ChildProcess | undefined;
  let base: string;

  const start = async () => {
    engine = spawn(process.execPath, [join(REPO_ROOT, 'dist/src/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await eventually(
      'the engine to be healthy',
      async () => (await fetch(`${base}/health/live`)).status,
      (status) => status === 200,
      60_000,
    );
  };
  const api = async (path: string, token?: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) },
    });
    return { status: res.status, body: (await res.json()) as ApiBody };
  };

  beforeAll(async () => {
    // scripts/test.sh builds before the tests; a lone `npm run test:e2e` builds here.
    if (!existsSync(join(REPO_ROOT, 'dist/src/main.js')))
      execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      SQLITE_PATH: join(await mkdtemp(join(tmpdir(), 'engine-crash-')), 'engine.sqlite'),
      REDIS_URL: process.env.TEST_REDIS_URL!,
      QUEUE_PREFIX: `t-${randomBytes(4).toString('hex')}`,
      QUESTIONS_DIR: E2E_BANK,
      GRADERS_DIR: join(REPO_ROOT, 'graders'),
      KUBECONFIG: process.env.SANDBOX_KUBECONFIG!,
      LOG_LEVEL: 'warn',
      RECONCILE_INTERVAL_MS: '1000',
      JOB_BACKOFF_MS: '100',
    };
    await start();
  });
  afterAll(() => {
    engine?.kill('SIGKILL');
  });

  it('stores exactly one consistent run after the job is picked up again', async () => {
    const started = await api('/api/sessions', undefined, {
      method: 'POST',
      body: JSON.stringify({ examId: 'slow-grade', candidateName: 'Crash' }),
    });
    expect(started.status).toBe(201);
    const token = started.body.sessionToken!;
    await eventually(
      'the session to be ready',
      async () => (await api('/api/sessions/me', token)).body.state,
      (state) => state === 'ready',
    );
    expect((await api('/api/sessions/me/begin', token, { method: 'POST' })).status).toBe(200);
    await api('/api/sessions/me/submit', token, { method: 'POST' });
    await eventually(
      'grading to start',
      async () => (await api('/api/sessions/me', token)).body.state,
      (state) => state === 'grading',
    );
    // The podReady check keeps looking for 20 s: kill the process mid-run.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    engine!.kill('SIGKILL');
    await new Promise((resolve) => engine!.once('exit', resolve));

    await start();
    expect((await api('/api/sessions/me', token)).body.state).toBe('grading');
    expect((await api('/api/sessions/me/report', token)).status).toBe(409); // nothing half-written
    await eventually(
      'the stalled grading job to be picked up and finished',
      async () => (await api('/api/sessions/me', token)).body.state,
      (state) => state === 'graded',
      150_000,
    );
    const report = (await api('/api/sessions/me/report', token)).body;
    expect(report.history).toHaveLength(1);
    expect(report.complete).toBe(true);
    expect(report.tasks![0].checks[0]).toMatchObject({
      id: 'ready',
      status: 'failed',
      message: expect.stringMatching(
        /^Pod stuck is Pending: not looked at by any scheduler yet \(schedulerName none-such\)$/,
      ),
    });
  });
});
