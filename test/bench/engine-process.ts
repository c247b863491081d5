import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { freePort } from '../../sandbox/http.js';
import { type Sandbox, startSandbox } from '../../sandbox/launcher.js';
import { QueueName } from '../../src/queue/jobs.js';
import { redisConnection } from '../../src/queue/redis-connection.js';
import { unmountUnder } from '../support/processes.js';
import { type TestService, startPostgres, startRedis } from '../support/services.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** setpriv (util-linux): the kernel SIGKILLs an engine process whose bench died. */
const SETPRIV = '/usr/bin/setpriv';

export interface EngineOptions {
  /** sqlite (default): a fresh file; postgres: a private PostgreSQL server (startPostgres). */
  database?: 'sqlite' | 'postgres';
  /** API processes (`dist/src/main.js`), default 1. */
  apis?: number;
  /**
   * Worker processes (`dist/src/worker.js`, no HTTP). 0 (default): the API
   * process runs the workers itself, as `npm start` does (one API process
   * only); more: every API process runs with WORKER_ENABLED=false. Needs
   * PostgreSQL (SQLite is one process).
   */
  workers?: number;
}

/** One process of the engine. */
export interface EngineProcess {
  role: 'api' | 'worker';
  pid: number;
  /** http://127.0.0.1:<port> (API processes). */
  base?: string;
  /** Resolves with how it ended. */
  exited: Promise<string>;
  running(): boolean;
  kill(signal: NodeJS.Signals): void;
}

export interface Engine {
  /** The first API process. */
  base: string;
  /** Every API process, in start order. */
  bases: string[];
  /** Admin kubeconfig of the engine's sandbox, and the sandbox's kubectl. */
  kubeconfig: string;
  kubectl: string;
  /** The SQLite file (SQLite only; empty on PostgreSQL). */
  sqlitePath: string;
  /** postgres://… (PostgreSQL only). */
  databaseUrl?: string;
  /** SQLITE_PATH or DATABASE_URL: what another process (a CLI) needs to open the database. */
  databaseEnv: Record<string, string>;
  redisUrl: string;
  /** The engine's data folder (its recordings are in recordings/). */
  dir: string;
  /** The first API process's id (for its memory and CPU). */
  pid: number;
  apis: EngineProcess[];
  workers: EngineProcess[];
  /** Starts one more API process; resolves once its /health answers. */
  addApi(): Promise<EngineProcess>;
  /** Starts one more worker process; resolves once its grading worker is connected. */
  addWorker(): Promise<EngineProcess>;
  /** Stops every process, Redis, PostgreSQL and the sandbox, removes the data (idempotent). */
  stop: () => Promise<void>;
}

/** Starts services in parallel; if one fails, stops those that started. */
async function startAll<T extends { stop(): Promise<void> }>(
  starts: (() => Promise<T>)[],
): Promise<T[]> {
  const settled = await Promise.allSettled(starts.map((start) => start()));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(
      settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.stop()] : [])),
    );
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/**
 * The built engine as separate processes, with its own Redis, sandbox cluster
 * and database, so a benchmark's client never shares the server's event loop.
 * By default one process (`node dist/src/main.js`, HTTP and workers, a fresh
 * SQLite file); with options, the split deployment: API and worker processes
 * on a private PostgreSQL server, all on one Redis and one sandbox.
 */
export async function startEngine(
  env: Record<string, string> = {},
  options: EngineOptions = {},
): Promise<Engine> {
  const database = options.database ?? 'sqlite';
  const workerCount = options.workers ?? 0;
  const apiCount = options.apis ?? 1;
  if (database === 'sqlite' && (workerCount > 0 || apiCount !== 1))
    throw new Error('SQLite is one process: separate API or worker processes need postgres');
  const services: { stop(): Promise<void> }[] = [];
  const [redis, sandbox, postgres] = (await startAll<{ stop(): Promise<void> }>([
    () => startRedis(),
    () => startSandbox({ workers: 2 }),
    ...(database === 'postgres' ? [() => startPostgres()] : []),
  ])) as [TestService, Sandbox, TestService | undefined];
  services.push(redis, sandbox, ...(postgres ? [postgres] : []));
  const dir = await mkdtemp(join(tmpdir(), 'bench-engine-'));
  // The terminal's jails (other uids) reach their homes under it.
  await chmod(dir, 0o711);
  const sqlitePath = postgres ? '' : join(dir, 'bench.sqlite');
  const databaseEnv: Record<string, string> = postgres
    ? { DATABASE_URL: postgres.url }
    : { SQLITE_PATH: sqlitePath };
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...databaseEnv,
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
    ...(workerCount > 0 ? { WORKER_ENABLED: 'false' } : {}),
    ...env,
  };
  const children: ChildProcess[] = [];
  const apis: EngineProcess[] = [];
  const workers: EngineProcess[] = [];
  // A bench that exits without stopping (an uncaught error) leaves no engine behind.
  const killAll = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killAll);

  const launch = (role: 'api' | 'worker', extraEnv: NodeJS.ProcessEnv): EngineProcess => {
    const argv = [
      process.execPath,
      join(REPO_ROOT, role === 'api' ? 'dist/src/main.js' : 'dist/src/worker.js'),
    ];
    const [command, args] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ...argv]]
      : [argv[0], argv.slice(1)];
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { ...baseEnv, ...extraEnv },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    const exited = new Promise<string>((resolve) => {
      child.once('error', (error) => resolve(`spawn error: ${error.message}`));
      child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
    });
    return {
      role,
      pid: child.pid!,
      exited,
      running: () => child.exitCode === null && child.signalCode === null,
      kill: (signal) => child.kill(signal),
    };
  };
  const until = async (what: string, p: EngineProcess, ready: () => Promise<boolean>) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (await ready().catch(() => false)) return;
      if (!p.running()) throw new Error(`${what} exited (${await p.exited}) while starting`);
      if (Date.now() > deadline) throw new Error(`${what} not ready within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const addApi = async (): Promise<EngineProcess> => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const api = { ...launch('api', { PORT: String(port) }), base };
    apis.push(api);
    await until(`API process ${apis.length} (${base})`, api, async () => {
      const res = await fetch(`${base}/health`);
      return res.ok;
    });
    return api;
  };
  const addWorker = async (): Promise<EngineProcess> => {
    const worker = launch('worker', {});
    workers.push(worker);
    // BullMQ names each worker's connection: count them on the grading queue.
    const queue = new Queue(QueueName.GRADING, {
      connection: redisConnection(redis.url, 'producer'),
      prefix: baseEnv.QUEUE_PREFIX || 'cka',
    });
    try {
      const expected = workers.filter((w) => w.running()).length;
      await until(
        `worker process ${workers.length}`,
        worker,
        async () => (await queue.getWorkersCount()) >= expected,
      );
    } finally {
      await queue.close();
    }
    return worker;
  };

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
          const gone = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await gone;
          clearTimeout(timer);
        }),
      );
      process.removeListener('exit', killAll);
      await Promise.allSettled(services.map((s) => s.stop()));
      unmountUnder(dir);
      await rm(dir, { recursive: true, force: true });
    })());
  try {
    // All at once, as an operator's supervisor starts them (on PostgreSQL the
    // first takes the migration lock, the others wait for it).
    await Promise.all([
      ...Array.from({ length: apiCount }, () => addApi()),
      ...Array.from({ length: workerCount }, () => addWorker()),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    base: apis[0].base!,
    get bases() {
      return apis.map((a) => a.base!);
    },
    kubeconfig: sandbox.kubeconfigPath,
    kubectl: sandbox.binaries.kubectl,
    sqlitePath,
    databaseUrl: postgres?.url,
    databaseEnv,
    redisUrl: redis.url,
    dir,
    pid: apis[0].pid,
    apis,
    workers,
    addApi,
    addWorker,
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

/** Downloads the session's kubeconfig into a private temporary file and returns its path. */
export async function candidateKubeconfig(base: string, session: StartedSession): Promise<string> {
  const path = join(tmpdir(), `${session.id}.kubeconfig`);
  const text = await (
    await fetch(`${base}/api/sessions/me/kubeconfig`, {
      headers: { authorization: `Bearer ${session.token}` },
    })
  ).text();
  await writeFile(path, text, { mode: 0o600 });
  return path;
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

/**
 * A staff API token (made with the token CLI) for the engine whose SQLite
 * file is at `database`, or whose database `databaseEnv` names.
 */
export async function staffToken(
  database: string | Record<string, string>,
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
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...(typeof database === 'string' ? { SQLITE_PATH: database } : database),
        LOG_LEVEL: 'silent',
      },
    },
  );
  return stdout.trim().split('\n').at(-1)!;
}
