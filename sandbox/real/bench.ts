import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureRealNodeBinaries, ensureSandboxBinaries } from '../build.js';
import { ensureImages } from '../images/index.js';
import { startSandbox } from '../launcher.js';
import { cacheRoot } from '../versions.js';

const run = promisify(execFile);
const print = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * The real-node sandbox's figures (`npm run bench:sandbox -- --real`):
 * a cold build of what real nodes add (empty Go build cache), warm start
 * until every system pod is Ready, a first workload pod's time to Ready,
 * the idle cluster's memory (PSS) and CPU, the disk its caches use, and how
 * many idle clusters this machine's memory holds.
 */
export async function benchReal(options: {
  runs: number;
  cold: boolean;
  /** Nodes in user namespaces (the engine's dedicated clusters) rather than as the machine's root. */
  userNamespaces: boolean;
  /** The idle CPU's window, in seconds. */
  idleSeconds: number;
}): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (options.cold) await coldBuild(log);
  const binaries = await ensureSandboxBinaries({ log });
  const real = await ensureRealNodeBinaries({ log });
  const images = await ensureImages({ binaries, realBinaries: real, log });

  const starts: number[] = [];
  const firstPods: number[] = [];
  let idle: Awaited<ReturnType<typeof idleFigures>> | undefined;
  let pair: Awaited<ReturnType<typeof sideBySide>> | undefined;
  for (let i = 1; i <= options.runs; i++) {
    const started = Date.now();
    const sandbox = await startSandbox({
      nodes: 'real',
      workers: 1,
      userNamespaces: options.userNamespaces,
      log: () => {},
    });
    try {
      starts.push(Date.now() - started);
      const kubectl = (args: string[]) =>
        run(sandbox.binaries.kubectl, ['--kubeconfig', sandbox.kubeconfigPath, ...args]);
      await waitForDefaultServiceAccount(kubectl);
      const created = Date.now();
      await kubectl(['run', `first-${i}`, '--image=busybox:1.36', '--', 'sleep', '3600']);
      await kubectl(['wait', '--for=condition=Ready', `pod/first-${i}`, '--timeout=60s']);
      firstPods.push(Date.now() - created);
      print(
        `run ${i}: start to every system pod Ready ${seconds(starts.at(-1)!)}; first pod Ready ${seconds(firstPods.at(-1)!)}`,
      );
      if (i === options.runs) {
        await kubectl(['delete', 'pod', `first-${i}`, '--wait=true']);
        idle = await idleFigures(cgroupBaseOf(sandbox), options.idleSeconds);
        pair = await sideBySide(sandbox, options.userNamespaces);
      }
    } finally {
      await sandbox.stop();
    }
  }
  print(
    `warm start until every system pod is Ready (controlplane + node01), median of ${starts.length}: ${seconds(median(starts))} (goal <= 25 s)`,
  );
  print(
    `first workload pod Ready after create, median: ${seconds(median(firstPods))} (goal <= 2 s)`,
  );
  if (idle) {
    print(
      `idle cluster PSS (every process of both nodes, pods included): ${idle.pssMiB} MiB (goal <= 800 MB)`,
    );
    print(`  by program (MiB): ${idle.breakdown}`);
    print(
      `idle cluster CPU over ${options.idleSeconds} s, a minute after its last pod went: ${idle.cpuPercent.toFixed(1)}% of one core (goal <= 10%)`,
    );
    print(`  by program (% of one core): ${idle.cpuBreakdown}`);
    const memTotal = (await meminfoKiB('MemTotal')) / 1024;
    const room = memTotal - 2048;
    print(
      `idle clusters that fit in this machine's ${(memTotal / 1024).toFixed(1)} GiB (keeping 2 GiB for the engine and the host), by one cluster's PSS alone: ${Math.floor(room / idle.pssMiB)}`,
    );
    if (pair) {
      print(
        `idle cluster PSS with a second cluster beside it (their program files are the same pages, shared): ${pair.pssMiB.join(' and ')} MiB (goal <= 800 MB); anonymous ${pair.anonMiB.join(' and ')} MiB`,
      );
      print(
        `memory a second idle cluster takes (MemAvailable before it and once it idles): ${pair.marginalMiB} MiB`,
      );
      print(
        `idle clusters that fit, the first alone and each further one at that cost: ${1 + Math.floor((room - idle.pssMiB) / pair.marginalMiB)}`,
      );
    }
  }
  print(
    `disk: real-node binaries ${await du(real.dir)}, images ${await du(join(images.storageDir, '..'))} (in ${cacheRoot()})`,
  );
}

function cgroupBaseOf(sandbox: Awaited<ReturnType<typeof startSandbox>>): string {
  return sandbox.real!.nodes[0].host.spec.cgroupRoot.split('/').slice(0, -1).join('/');
}

async function meminfoKiB(field: string): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
}

/**
 * A second cluster started beside an idle one, as a pool or two candidates
 * hold them: each cluster's PSS once both idle (the program files of every
 * node and cluster are the same files, from the same caches and image store,
 * so their pages are shared and PSS splits them), and what the second one
 * took from MemAvailable (page tables, kernel and tmpfs memory included).
 */
async function sideBySide(
  first: Awaited<ReturnType<typeof startSandbox>>,
  userNamespaces: boolean,
): Promise<{ pssMiB: number[]; anonMiB: number[]; marginalMiB: number }> {
  const before = await meminfoKiB('MemAvailable');
  const second = await startSandbox({ nodes: 'real', workers: 1, userNamespaces, log: () => {} });
  try {
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    const marginalMiB = Math.round((before - (await meminfoKiB('MemAvailable'))) / 1024);
    const pssMiB: number[] = [];
    const anonMiB: number[] = [];
    for (const sandbox of [first, second]) {
      const memory = await cgroupMemory(cgroupBaseOf(sandbox));
      pssMiB.push(Math.round(memory.pssKiB / 1024));
      anonMiB.push(Math.round(memory.anonKiB / 1024));
    }
    return { pssMiB, anonMiB, marginalMiB };
  } finally {
    await second.stop();
  }
}

async function cgroupMemory(
  cgroupBase: string,
): Promise<{ pssKiB: number; anonKiB: number; byProgram: Map<string, number> }> {
  let pssKiB = 0;
  let anonKiB = 0;
  const byProgram = new Map<string, number>();
  for (const pid of await pidsUnder(join('/sys/fs/cgroup/pids', cgroupBase))) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    const kib = Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    pssKiB += kib;
    anonKiB += Number(/^Pss_Anon:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
    byProgram.set(comm, (byProgram.get(comm) ?? 0) + kib);
  }
  return { pssKiB, anonKiB, byProgram };
}

async function waitForDefaultServiceAccount(
  kubectl: (args: string[]) => Promise<{ stdout: string }>,
): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const found = await kubectl(['get', 'serviceaccount', 'default', '-o', 'name']).catch(() => ({
      stdout: '',
    }));
    if (found.stdout.trim()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('no default ServiceAccount after 20 s');
}

/**
 * PSS of every process in the cluster's cgroups, and their CPU over
 * `seconds` idle seconds (60 by default) from a minute after the last change: the add-ons' first syncs and
 * the garbage collectors of the start are over by then (the first minute after
 * a start measured 1-2 points of a core higher), and a longer window evens
 * out the periodic work (10 s scrapes and probes, 15-60 s resyncs).
 */
async function idleFigures(
  cgroupBase: string,
  seconds: number,
): Promise<{ pssMiB: number; cpuPercent: number; breakdown: string; cpuBreakdown: string }> {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  const usage = async () =>
    Number(
      (await readFile(join('/sys/fs/cgroup/cpuacct', cgroupBase, 'cpuacct.usage'), 'utf8')).trim(),
    );
  const before = await usage();
  const ticksBefore = await cgroupTicks(cgroupBase);
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpuNs = (await usage()) - before;
  const ticksAfter = await cgroupTicks(cgroupBase);
  const wallNs = Number(process.hrtime.bigint() - started);
  const { pssKiB, byProgram } = await cgroupMemory(cgroupBase);
  const breakdown = [...byProgram]
    .sort((a, b) => b[1] - a[1])
    .map(([comm, kib]) => `${comm} ${Math.round(kib / 1024)}`)
    .join(', ');
  // By program: the processes alive at both ends (a probe's or a restart's
  // short-lived ones are in the total only). USER_HZ is 100 on Linux.
  const cpuByProgram = new Map<string, number>();
  for (const [pid, after] of ticksAfter) {
    const start = ticksBefore.get(pid);
    if (start && start.comm === after.comm)
      cpuByProgram.set(after.comm, (cpuByProgram.get(after.comm) ?? 0) + after.ticks - start.ticks);
  }
  const cpuBreakdown = [...cpuByProgram]
    .map(([comm, ticks]) => [comm, (ticks * 10_000_000 * 100) / wallNs] as const)
    .filter(([, percent]) => percent >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([comm, percent]) => `${comm} ${percent.toFixed(1)}`)
    .join(', ');
  return {
    pssMiB: Math.round(pssKiB / 1024),
    cpuPercent: (cpuNs / wallNs) * 100,
    breakdown,
    cpuBreakdown,
  };
}

/** Each process's CPU time so far (user + system, in clock ticks), by pid. */
async function cgroupTicks(
  cgroupBase: string,
): Promise<Map<number, { comm: string; ticks: number }>> {
  const ticks = new Map<number, { comm: string; ticks: number }>();
  for (const pid of await pidsUnder(join('/sys/fs/cgroup/pids', cgroupBase))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // Fields after the command: state is the 3rd of stat(5), utime the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks.set(pid, { comm, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return ticks;
}

async function pidsUnder(dir: string): Promise<number[]> {
  const own = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    children.filter((c) => c.isDirectory()).map((c) => pidsUnder(join(dir, c.name))),
  );
  return [...own, ...nested.flat()];
}

async function du(path: string): Promise<string> {
  const { stdout } = await run('du', ['-sh', path]);
  return stdout.split('\t')[0];
}

/**
 * What real nodes add, as on a fresh machine: empty Go build and module
 * caches (the modules come from the proxy), into a scratch cache.
 */
async function coldBuild(log: (line: string) => void): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'sandbox-real-cold-'));
  const saved = { GOCACHE: process.env.GOCACHE, GOMODCACHE: process.env.GOMODCACHE };
  process.env.GOCACHE = join(scratch, 'gocache');
  process.env.GOMODCACHE = join(scratch, 'gomodcache');
  try {
    let started = Date.now();
    const real = await ensureRealNodeBinaries({ cacheDir: join(scratch, 'bin'), log });
    print(
      `cold build of the real-node binaries (empty Go build and module caches): ${seconds(Date.now() - started)}`,
    );
    started = Date.now();
    await ensureImages({
      binaries: await ensureSandboxBinaries({ log }),
      realBinaries: real,
      cacheDir: join(scratch, 'images'),
      log,
    });
    print(`cold build of the images: ${seconds(Date.now() - started)}`);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    // The module cache is read-only by design: make it removable first.
    await run('chmod', ['-R', 'u+w', scratch]).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}
