import { jest } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../sandbox/http.js';
import { cacheRoot } from '../../../sandbox/versions.js';
import { REPO_ROOT } from '../../support/app.js';
import { eventually } from '../../support/eventually.js';
import { processesMentioning, processesWithEnv } from '../../support/processes.js';

/**
 * `bash scripts/start.sh` as a person or a service manager runs it: with no
 * kubeconfig it starts Redis, a sandbox cluster and the engine. However the
 * script is stopped, nothing it started may outlive it by more than 5 s.
 * Every process of one run is found by a marker in its environment, which
 * children inherit whoever their parent is afterwards, except Redis: it writes
 * its process title over its environment, so it is found by its port.
 */
jest.setTimeout(300_000);

const STOP_BOUND_MS = 5_000;

interface Run {
  script: ChildProcess;
  marker: string;
  redisPort: number;
  output: () => string;
  dir: string;
}

const runs: Run[] = [];

async function startScript(): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'start-script-'));
  const marker = `CKA_START_SCRIPT_RUN=${randomBytes(6).toString('hex')}`;
  const [name, value] = marker.split('=');
  const port = await freePort();
  const redisPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [name]: value,
    // No kubeconfig anywhere: the script must start a sandbox of its own.
    HOME: dir,
    KUBECONFIG: '',
    SANDBOX_CACHE_DIR: cacheRoot(),
    PORT: String(port),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    CKA_DATA_DIR: join(dir, 'data'),
    // kwok's fake nodes: this suite is about stopping; the realnode project starts a real one.
    CKA_SANDBOX_NODES: 'fake',
    SQLITE_PATH: join(dir, 'data', 'engine.sqlite'),
    LOG_LEVEL: 'warn',
  };
  delete env.KUBECONFIG;
  // Its own process group, as a terminal or a service manager would start it.
  const script = spawn('bash', ['scripts/start.sh'], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  script.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  script.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const run = { script, marker, redisPort, output: () => output, dir };
  runs.push(run);
  const listening = /listening on http:\/\/127\.0\.0\.1:\d+; start: [\d.]+ s/;
  await eventually(
    'start.sh to print that the engine is listening (or to exit)',
    async () => output,
    (text) => listening.test(text) || script.exitCode !== null,
    240_000,
  );
  if (!listening.test(output)) {
    // The whole story, not the 500 characters eventually() keeps.
    const sandboxLog = await readFile(join(dir, 'data', 'sandbox.log'), 'utf8').catch(() => '');
    throw new Error(
      `start.sh exited ${script.exitCode}:\n${output}\n--- sandbox.log ---\n${sandboxLog}`,
    );
  }
  const health = await fetch(`http://127.0.0.1:${port}/health/live`);
  expect(health.status).toBe(200);
  return run;
}

function processesOf(run: Run) {
  const redis = processesMentioning(`redis-server 127.0.0.1:${run.redisPort}`);
  return [...processesWithEnv(run.marker), ...redis];
}

function commandsOf(run: Run): string[] {
  return processesOf(run).map((p) => p.cmdline);
}

/** What a run has started: the marker must find each part, or the "none left" check proves nothing. */
function expectEverythingRunning(run: Run): void {
  const commands = commandsOf(run).join('\n');
  for (const part of [
    'redis-server',
    'dist/src/main.js',
    'sandbox/cli.ts',
    '/etcd ',
    '/kube-apiserver ',
    '/kube-controller-manager ',
    '/kube-scheduler ',
    '/kwok ',
  ]) {
    expect(commands).toContain(part);
  }
}

async function expectAllGoneWithinBound(run: Run): Promise<void> {
  await eventually(
    `every process of the start.sh run to be gone within ${STOP_BOUND_MS} ms`,
    async () => commandsOf(run),
    (left) => left.length === 0,
    STOP_BOUND_MS,
  );
}

afterEach(async () => {
  for (const run of runs.splice(0)) {
    for (const p of processesOf(run)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(run.dir, { recursive: true, force: true });
  }
});

describe('scripts/start.sh leaves nothing behind', () => {
  it('kill -TERM of the script stops the engine, Redis, the sandbox CLI and its components', async () => {
    const run = await startScript();
    expectEverythingRunning(run);
    // The second phase of the run is warm: no npm ci, no build.
    expect(run.output()).toContain('npm ci skipped');

    process.kill(run.script.pid!, 'SIGTERM');
    await expectAllGoneWithinBound(run);
  });

  it('kill -KILL of the script (no trap runs) still takes everything down', async () => {
    const run = await startScript();
    expectEverythingRunning(run);

    process.kill(run.script.pid!, 'SIGKILL');
    await expectAllGoneWithinBound(run);
  });

  it('a hang-up of its process group (the terminal closed) takes everything down', async () => {
    const run = await startScript();
    expectEverythingRunning(run);

    process.kill(-run.script.pid!, 'SIGHUP');
    await expectAllGoneWithinBound(run);
  });
});
