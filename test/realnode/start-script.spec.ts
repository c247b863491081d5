import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../sandbox/http.js';
import { cacheRoot } from '../../sandbox/versions.js';
import { REPO_ROOT } from '../support/app.js';
import { eventually } from '../support/eventually.js';
import { processesMentioning, processesWithEnv } from '../support/processes.js';

const run = promisify(execFile);

/**
 * `bash scripts/start.sh` with no kubeconfig on a machine that can run real
 * nodes starts a real cluster (kubeadm, pods that run) for the engine. A
 * part the cluster cannot live without that dies (here a node, as if its VM
 * went away) stops the sandbox CLI, which names it, and with it everything
 * the script started: nothing stays behind on the host.
 */
jest.setTimeout(420_000);

let script: ChildProcess | undefined;
let dir: string | undefined;
const marker = `CKA_START_SCRIPT_RUN=${randomBytes(6).toString('hex')}`;

afterAll(async () => {
  if (script?.exitCode === null) process.kill(-script.pid!, 'SIGTERM');
  await eventually(
    'start.sh to exit',
    async () => script?.exitCode ?? null,
    (c) => c !== null,
    30_000,
  ).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scripts/start.sh with real nodes', () => {
  it('serves the engine on a real cluster, and a dead node takes everything down, naming itself', async () => {
    dir = await mkdtemp(join(tmpdir(), 'start-real-'));
    const port = await freePort();
    const redisPort = await freePort();
    const [name, value] = marker.split('=');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [name]: value,
      HOME: dir,
      SANDBOX_CACHE_DIR: cacheRoot(),
      CKA_SANDBOX_NODES: 'real',
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      CKA_DATA_DIR: join(dir, 'data'),
      SQLITE_PATH: join(dir, 'data', 'engine.sqlite'),
      LOG_LEVEL: 'warn',
    };
    delete env.KUBECONFIG;
    script = spawn('bash', ['scripts/start.sh'], {
      cwd: REPO_ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    script.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    script.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const sandboxLog = () => readFile(join(dir!, 'data', 'sandbox.log'), 'utf8').catch(() => '');

    await eventually(
      'start.sh to print that the engine is listening (or to exit)',
      async () => output,
      (text) => /listening on http:\/\/127\.0\.0\.1:\d+/.test(text) || script!.exitCode !== null,
      300_000,
    );
    if (script.exitCode !== null)
      throw new Error(`start.sh exited ${script.exitCode}:\n${output}\n${await sandboxLog()}`);
    expect(output).toContain('starting a sandbox cluster, nodes real');
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);

    // The engine's kubeconfig is a real cluster's: kubeadm's nodes, Ready.
    const out = await readFile(join(dir, 'data', 'sandbox.out'), 'utf8');
    const kubeconfig = /^KUBECONFIG=(.*)$/m.exec(out)![1];
    const kubectl = /^KUBECTL=(.*)$/m.exec(out)![1];
    const { stdout: nodes } = await run(kubectl, [
      '--kubeconfig',
      kubeconfig,
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
    ]);
    expect(nodes.trim().split(' ').sort()).toEqual(['controlplane=True', 'node01=True']);

    // node01's namespace holder: the process its daemons were entered through.
    const runDir = /logs in (\S+)/.exec(await sandboxLog())![1];
    const { tag } = JSON.parse(await readFile(join(runDir, 'real-run.json'), 'utf8')) as {
      tag: string;
    };
    const cgroup = `/sys/fs/cgroup/pids/cka/${tag}`;
    const procs = (await readFile(join(cgroup, 'node01/system/cgroup.procs'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(Number);
    const holder = processesMentioning('sleep infinity').find((p) => procs.includes(p.pid));
    expect(holder).toBeDefined();

    process.kill(holder!.pid, 'SIGKILL');
    await eventually(
      'start.sh to exit',
      async () => script!.exitCode,
      (code) => code !== null,
      60_000,
    );
    expect(script.exitCode).not.toBe(0);
    expect(await sandboxLog()).toMatch(/node node01 exited unexpectedly \(killed by SIGKILL\)/);
    // Nothing of the run is left: engine, Redis, CLI, node daemons, cgroups.
    await eventually(
      'every process of the run to be gone',
      async () => [
        ...processesWithEnv(marker).map((p) => p.cmdline),
        ...processesMentioning(`redis-server 127.0.0.1:${redisPort}`).map((p) => p.cmdline),
      ],
      (left) => left.length === 0,
      10_000,
    );
    expect(existsSync(cgroup)).toBe(false);
    // Nor the host's filter for the cluster's uplink.
    const { stdout: filters } = await promisify(execFile)('iptables', ['-w', '-S']);
    expect(filters).not.toContain(`CKA-IN-${tag}`);
    expect(filters).not.toContain(`cka${tag}h`);
  });
});
