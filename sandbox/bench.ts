/**
 * `npm run bench:sandbox` prints the sandbox's figures:
 *   - warm start-to-ready time (cached binaries), over several runs;
 *   - peak RSS of the whole sandbox (every component plus the launcher) while
 *     it starts and runs a 30-pod workload;
 *   - disk used by the binary cache and by the Go module downloads.
 * With --cold it first measures a cold build: empty binary cache and empty Go
 * build cache (module downloads kept); add --cold-modules to also start from an
 * empty module cache, so the time includes downloading every module.
 *
 * With --real, the real-node sandbox's figures instead (see real/bench.ts);
 * --user-namespaces, for nodes in user namespaces (the engine's dedicated clusters).
 *
 * --idle-seconds N: the real cluster's idle CPU window (default 60; a
 * longer one evens out more of the periodic work).
 *
 *   npm run bench:sandbox -- [--runs N] [--cold] [--cold-modules] [--real [--user-namespaces] [--idle-seconds N]]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ensureSandboxBinaries } from './build.js';
import { type Sandbox, startSandbox } from './launcher.js';
import { benchReal } from './real/bench.js';
import { cacheRoot, moduleDirs } from './versions.js';
import { descendantsOf } from '../test/support/processes.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    cold: { type: 'boolean', default: false },
    'cold-modules': { type: 'boolean', default: false },
    real: { type: 'boolean', default: false },
    'user-namespaces': { type: 'boolean', default: false },
    'idle-seconds': { type: 'string', default: '60' },
  },
});

const print = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function coldBuild(withModules: boolean): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'sandbox-cold-build-'));
  const saved = { GOCACHE: process.env.GOCACHE, GOMODCACHE: process.env.GOMODCACHE };
  process.env.GOCACHE = join(scratch, 'gocache');
  if (withModules) process.env.GOMODCACHE = join(scratch, 'gomodcache');
  try {
    const started = Date.now();
    await ensureSandboxBinaries({
      cacheDir: join(scratch, 'bin'),
      log: (l) => process.stderr.write(`${l}\n`),
    });
    const what = withModules
      ? 'empty Go build and module caches'
      : 'empty Go build cache, modules already downloaded';
    print(`cold build (${what}): ${seconds(Date.now() - started)}`);
  } finally {
    Object.assign(process.env, saved);
    for (const [key, value] of Object.entries(saved))
      if (value === undefined) delete process.env[key];
    // The module cache is read-only on disk; go clean can remove it.
    if (withModules) {
      await run('go', ['clean', '-modcache'], {
        env: { ...process.env, GOMODCACHE: join(scratch, 'gomodcache') },
      });
    }
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Resident memory of a process in KiB (0 once it is gone). */
async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Samples the summed RSS of this process and all its descendants (the components). */
function sampleRss(): { stop: () => Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const pids = descendantsOf(process.pid).map((p) => p.pid);
      const total = (await Promise.all([process.pid, ...pids].map(rssKiB))).reduce(
        (a, b) => a + b,
        0,
      );
      peak = Math.max(peak, total);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}

async function workload(sandbox: Sandbox): Promise<void> {
  const kubectl = (...args: string[]) =>
    run(sandbox.binaries.kubectl, args, {
      env: { ...process.env, KUBECONFIG: sandbox.kubeconfigPath },
    });
  await kubectl('create', 'namespace', 'bench');
  await kubectl('-n', 'bench', 'create', 'deployment', 'web', '--image=nginx', '--replicas=30');
  await kubectl('-n', 'bench', 'expose', 'deployment', 'web', '--port=80');
  await kubectl('-n', 'bench', 'rollout', 'status', 'deployment/web', '--timeout=120s');
}

async function diskUsage(binariesDir: string): Promise<void> {
  const du = async (path: string) => Number((await run('du', ['-sk', path])).stdout.split('\t')[0]);
  print(
    `binary cache entry ${binariesDir}: ${((await du(binariesDir)) / 1024).toFixed(0)} MiB (all entries in ${cacheRoot()}: ${((await du(cacheRoot())) / 1024).toFixed(0)} MiB)`,
  );
  let moduleKiB = 0;
  const seen = new Set<string>();
  for (const dir of Object.values(moduleDirs())) {
    // Every module the build graph needs, as the module cache stores it (zip + extracted tree).
    const { stdout } = await run('go', ['mod', 'download', '-json'], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
    });
    const modules = stdout
      .split(/\n(?=\{)/)
      .map((chunk) => JSON.parse(chunk) as { Dir?: string; Zip?: string });
    for (const m of modules) {
      for (const path of [m.Dir, m.Zip]) {
        if (path && !seen.has(path)) {
          seen.add(path);
          moduleKiB += await du(path).catch(() => 0);
        }
      }
    }
  }
  print(
    `Go module downloads for the build (${seen.size / 2} modules): ${(moduleKiB / 1024).toFixed(0)} MiB`,
  );
}

async function main(): Promise<void> {
  if (values.real) {
    const idleSeconds = Number(values['idle-seconds']);
    if (!Number.isInteger(idleSeconds) || idleSeconds < 10)
      throw new Error(
        `--idle-seconds takes whole seconds, at least 10; got "${values['idle-seconds']}"`,
      );
    return benchReal({
      runs: Number(values.runs),
      cold: values.cold,
      userNamespaces: values['user-namespaces'],
      idleSeconds,
    });
  }
  if (values.cold || values['cold-modules']) await coldBuild(values['cold-modules']);
  const binaries = await ensureSandboxBinaries({ log: (l) => process.stderr.write(`${l}\n`) });

  const runs = Number(values.runs);
  const startTimes: number[] = [];
  let peakKiB = 0;
  for (let i = 0; i < runs; i++) {
    const sampler = sampleRss();
    const started = Date.now();
    const sandbox = await startSandbox();
    startTimes.push(Date.now() - started);
    if (i === 0) await workload(sandbox);
    peakKiB = Math.max(peakKiB, await sampler.stop());
    await sandbox.stop();
  }
  const sorted = [...startTimes].sort((a, b) => a - b);
  print(
    `warm start-to-ready over ${runs} runs: median ${seconds(sorted[Math.floor(runs / 2)])}, min ${seconds(sorted[0])}, max ${seconds(sorted[runs - 1])}`,
  );
  print(
    `peak RSS of the whole sandbox (5 components + launcher, 30-pod workload): ${(peakKiB / 1024).toFixed(0)} MiB`,
  );
  await diskUsage(binaries.dir);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
