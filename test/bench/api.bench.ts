/**
 * `npm run bench:api`: latency of GET /api/sessions/me (the call a candidate's
 * browser makes all exam long) at 100 concurrent connections.
 *
 * Starts its own Redis, a sandbox cluster (sessions are provisioned on it) and
 * the compiled engine (node dist/src/main.js, HTTP and workers in one process,
 * on a fresh SQLite file) as a separate process, so the load generator does not
 * share the server's event loop. Prints p50 / p99 and
 * throughput; the goal is p99 ≤ 50 ms on a 2-core machine.
 *
 *   npm run bench:api -- [--connections 100] [--duration 20]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort } from '../sandbox/http.js';
import { startSandbox } from '../sandbox/launcher.js';
import { startRedis } from '../support/services.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '100' },
    duration: { type: 'string', default: '20' },
  },
});
const root = fileURLToPath(new URL('../../', import.meta.url));

async function waitForHealth(base: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${base}/health`).catch(() => undefined);
    if (res?.ok) return;
    if (Date.now() > deadline)
      throw new Error(`the engine did not become healthy at ${base}/health within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  const [redis, sandbox] = await Promise.all([startRedis(), startSandbox({ workers: 2 })]);
  const dir = await mkdtemp(join(tmpdir(), 'bench-api-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = spawn(process.execPath, [join(root, 'dist/src/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      SQLITE_PATH: join(dir, 'bench.sqlite'),
      REDIS_URL: redis.url,
      KUBECONFIG: sandbox.kubeconfigPath,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitForHealth(base);
    const start = await fetch(`${base}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ examId: 'sample', candidateName: 'Bench' }),
    });
    if (start.status !== 201)
      throw new Error(`starting a session failed: ${start.status} ${await start.text()}`);
    const { sessionToken } = (await start.json()) as { sessionToken: string };
    const headers = { authorization: `Bearer ${sessionToken}` };
    for (let i = 0; ; i++) {
      const me = (await (await fetch(`${base}/api/sessions/me`, { headers })).json()) as {
        state: string;
      };
      if (me.state === 'active') break;
      if (i > 100) throw new Error(`session did not become active: ${me.state}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Warm-up, then the measured run.
    await autocannon({ url: `${base}/api/sessions/me`, headers, connections: 10, duration: 3 });
    const result = await autocannon({
      url: `${base}/api/sessions/me`,
      headers,
      connections: Number(values.connections),
      duration: Number(values.duration),
    });
    console.log(
      `GET /api/sessions/me, ${values.connections} connections, ${values.duration} s (SQLite, HTTP + workers in one process)`,
    );
    console.log(
      `latency p50 ${result.latency.p50} ms, p90 ${result.latency.p90} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
    );
    console.log(
      `throughput ${Math.round(result.requests.average)} req/s; ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
    console.log(`goal p99 <= 50 ms: ${result.latency.p99 <= 50 ? 'met' : 'NOT met'}`);
  } finally {
    app.kill('SIGTERM');
    await new Promise((resolve) => app.once('exit', resolve));
    await Promise.all([redis.stop(), sandbox.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
