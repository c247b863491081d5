import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../sandbox/http.js';
import { startSandbox } from '../../sandbox/launcher.js';
import { unmountUnder } from '../support/processes.js';
import { startRedis } from '../support/services.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The built engine (`node dist/src/main.js`, HTTP and workers in one process,
 * a fresh SQLite file) as a separate process, with its own Redis and sandbox
 * cluster, so a benchmark's client never shares the server's event loop.
 */
export async function startEngine(env: Record<string, string> = {}): Promise<{
  base: string;
  /** Admin kubeconfig of the engine's sandbox, and the sandbox's kubectl. */
  kubeconfig: string;
  kubectl: string;
  sqlitePath: string;
  /** The engine's data folder (its recordings are in recordings/). */
  dir: string;
  /** The engine's process id (for its memory and CPU). */
  pid: number;
  stop: () => Promise<void>;
}> {
  const [redis, sandbox] = await Promise.all([startRedis(), startSandbox({ workers: 2 })]);
  const dir = await mkdtemp(join(tmpdir(), 'bench-engine-'));
  // The terminal's jails (other uids) reach their homes under it.
  await chmod(dir, 0o711);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const engine = spawn(process.execPath, [join(REPO_ROOT, 'dist/src/main.js')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      SQLITE_PATH: join(dir, 'bench.sqlite'),
      // The bank is loaded from the repository (the process runs from dist/).
      GRADERS_DIR: join(REPO_ROOT, 'graders'),
      REDIS_URL: redis.url,
      KUBECONFIG: sandbox.kubeconfigPath,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // Benchmarks are one client starting many sessions: no windows or caps
      // unless a benchmark sets them (an empty value means the default).
      THROTTLE_PUBLIC: '0/60',
      THROTTLE_SESSION_START: '0/60',
      MAX_ACTIVE_SESSIONS: '0',
      MAX_ACTIVE_SESSIONS_PER_CLIENT: '0',
      // The terminal only where a benchmark turns it on (bench:terminal).
      TERMINAL_ENABLED: 'false',
      TERMINAL_KUBECTL: sandbox.binaries.kubectl,
      TERMINAL_RUN_DIR: join(dir, 'run'),
      TERMINAL_RECORDINGS_DIR: join(dir, 'recordings'),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    engine.kill('SIGTERM');
    await new Promise((resolve) => engine.once('exit', resolve));
    await Promise.all([redis.stop(), sandbox.stop()]);
    unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${base}/health`).catch(() => undefined);
      if (res?.ok) break;
      if (Date.now() > deadline)
        throw new Error(`the engine did not become healthy at ${base}/health within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    base,
    kubeconfig: sandbox.kubeconfigPath,
    kubectl: sandbox.binaries.kubectl,
    sqlitePath: join(dir, 'bench.sqlite'),
    dir,
    pid: engine.pid!,
    stop,
  };
}

export interface StartedSession {
  token: string;
  id: string;
}

/** Starts an open exam's session over HTTP. */
export async function startSession(
  base: string,
  examId: string,
  candidateName: string,
): Promise<StartedSession> {
  const res = await fetch(`${base}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ examId, candidateName }),
  });
  if (res.status !== 201)
    throw new Error(`starting a session failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { sessionToken: string; session: { id: string } };
  return { token: body.sessionToken, id: body.session.id };
}

export interface SessionTimes {
  state: string;
  createdAt: string;
  startedAt: string | null;
  failureReason: string | null;
  serverTime: string;
  /** The server's time on the first poll that saw the session ready (polls are 25 ms apart). */
  readyAt?: string;
}

/** Polls until the session is ready (or failed), then begins it; bounded. */
export async function untilActive(
  base: string,
  session: StartedSession,
  timeoutMs = 60_000,
): Promise<SessionTimes> {
  const deadline = Date.now() + timeoutMs;
  const headers = { authorization: `Bearer ${session.token}` };
  for (;;) {
    const me = (await (await fetch(`${base}/api/sessions/me`, { headers })).json()) as SessionTimes;
    if (me.state === 'ready') {
      const begun = await fetch(`${base}/api/sessions/me/begin`, { method: 'POST', headers });
      if (begun.status !== 200) throw new Error(`begin: ${begun.status} ${await begun.text()}`);
      return { ...((await begun.json()) as SessionTimes), readyAt: me.serverTime };
    }
    if (me.state === 'active') return me;
    if (me.state === 'provisioning_failed')
      throw new Error(`provisioning failed: ${me.failureReason}`);
    if (Date.now() > deadline)
      throw new Error(`session ${session.id} not ready after ${timeoutMs} ms (${me.state})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A staff API token for the engine whose database is at `sqlitePath` (made with the token CLI). */
export async function staffToken(
  sqlitePath: string,
  role: 'trainer' | 'admin' = 'trainer',
): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'),
      'src/auth/token.cli.ts',
      'create',
      '--role',
      role,
      '--name',
      'bench',
    ],
    { cwd: REPO_ROOT, env: { ...process.env, SQLITE_PATH: sqlitePath, LOG_LEVEL: 'silent' } },
  );
  return stdout.trim().split('\n').at(-1)!;
}
