/**
 * `npm run bench:dedicated`: what a dedicated environment costs, with the
 * sandbox provider on this machine (root, the real-node build). Prints:
 *
 *  1. cold: a cluster made for a candidate (no warm one) to "ready" (lease,
 *     start, the question's setup), and its memory (PSS) once idle;
 *  2. warm: --warm clusters started into the pool, then one candidate after
 *     another leasing one to "ready": p50 / p95 (goal <= 1 s / 2 s); the
 *     first one's memory while the others stand beside it;
 *  3. the cka-dedicated exam (two clusters, five nodes, 11 tasks): made and
 *     set up cold, its memory idle, graded unsolved, solved by every
 *     reference solution in exam order (through ssh and the API, as in the
 *     terminal), graded again: the grading time (goal <= 2 s) and score;
 *  4. how many such environments this machine's memory holds (from 1 and 3);
 *  5. with --api 0,2,4 (alone): for each count in turn, that many candidates'
 *     environments (the light question) leased and idle, and bench:api run
 *     meanwhile in its own process, at saturation and at a steady --api-rate
 *     (default 200 req/s): the API's p99 while the machine carries them
 *     (goal <= 50 ms).
 *
 * Built on bank:test's harness (the engine's own provisioning, pool and
 * evaluator over a scratch SQLite database).
 */
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckOutcome } from '../../src/grading/check-runner.js';
import type { LoadedQuestion } from '../../src/question-bank/bank.loader.js';
import { createHarness, type Candidate, type Harness } from '../bank-test/harness.js';

const { values } = parseArgs({
  options: {
    warm: { type: 'string', default: '4' },
    /** Seconds a fresh environment idles before its memory is read. */
    settle: { type: 'string', default: '30' },
    /** Only part 3 (the cka-dedicated exam). */
    'exam-only': { type: 'boolean', default: false },
    /** Only part 5: the API's latency while this many environments idle (a list: 0,2,4). */
    api: { type: 'string' },
    /** Part 5's steady load, in requests a second. */
    'api-rate': { type: 'string', default: '200' },
  },
});
const WARM = Math.max(1, Number(values.warm));
const SETTLE_MS = Number(values.settle) * 1000;
const API_RATE = Number(values['api-rate']);
if (!Number.isInteger(API_RATE) || API_RATE < 1)
  throw new Error(`--api-rate takes requests a second, e.g. 200; got "${values['api-rate']}"`);
const MIB = 1024 * 1024;
const log = (line: string) => process.stderr.write(`[bench:dedicated] ${line}\n`);
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

/** The light question the lease figures use: one ConfigMap of setup. */
const LIGHT = 'etcd-backup';
const EXAM = 'cka-dedicated';

async function main(): Promise<void> {
  const clustersDir = await mkdtemp(join(tmpdir(), 'cka-bench-clusters-'));
  process.env.POOL_SIZE = String(WARM);
  const harness = await createHarness({ kubeconfig: '', clustersDir });
  const figures: string[] = [];
  try {
    const light = harness.bank.question(LIGHT)!;
    const exam = harness.bank.exam(EXAM)!;
    const shape = { nodes: exam.spec.clusters!.find((c) => c.alias === light.spec.cluster)!.nodes };

    if (values.api !== undefined) {
      const counts = values.api.split(',').map(Number);
      if (counts.some((n) => !Number.isInteger(n) || n < 0))
        throw new Error(`--api takes counts of environments, e.g. 0,2,4; got "${values.api}"`);
      figures.push(
        ...(await apiUnderLoad(
          harness,
          light,
          counts.sort((a, b) => a - b),
        )),
      );
      return;
    }

    let started = performance.now();
    let coldPss = 0;
    if (!values['exam-only']) {
      // 1. Cold.
      const cold = await harness.provision([light], 'bench cold');
      const coldMs = performance.now() - started;
      await sleep(SETTLE_MS);
      coldPss = await environmentPss(harness, clustersDir, cold);
      await cold.teardown();
      figures.push(
        `cold cluster (${shape.nodes.join(', ')}) to ready: ${(coldMs / 1000).toFixed(1)} s (goal <= 30 s)`,
        `memory of that idle environment, alone on the machine: ${Math.round(coldPss / MIB)} MiB PSS (goal <= 800 MB)`,
      );
      log(figures.slice(-2).join('; '));

      // 2. Warm.
      await harness.pool.refill([shape]);
      started = performance.now();
      for (;;) {
        const { warm } = await harness.pool.stock(shape);
        if (warm >= WARM) break;
        if (performance.now() - started > WARM * 300_000)
          throw new Error(`the pool made ${warm} of ${WARM} clusters`);
        await sleep(2000);
      }
      log(`${WARM} warm clusters in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      const leases: number[] = [];
      let pooledPss = 0;
      for (let i = 0; i < WARM; i++) {
        const t0 = performance.now();
        const candidate = await harness.provision([light], `bench warm ${i}`);
        leases.push(performance.now() - t0);
        // As in service: other clusters stand beside it (the pool's, other
        // candidates'), and every cluster's program files are the same pages.
        if (i === 0 && WARM > 1) {
          await sleep(SETTLE_MS);
          pooledPss = await environmentPss(harness, clustersDir, candidate);
        }
        await candidate.teardown();
      }
      figures.push(
        `warm lease to ready (${WARM} leases): p50 ${Math.round(pct(leases, 50))} ms, p95 ${Math.round(pct(leases, 95))} ms (goal <= 1 s / 2 s); all: ${leases.map((ms) => Math.round(ms)).join(', ')} ms`,
      );
      if (pooledPss)
        figures.push(
          `memory of an idle environment with the pool's ${WARM - 1} other warm clusters beside it: ${Math.round(pooledPss / MIB)} MiB PSS (goal <= 800 MB)`,
        );
      log(figures.slice(pooledPss ? -2 : -1).join('; '));
    }

    // 3. The cka-dedicated exam.
    const questions = exam.spec.questions!.map((id) => harness.bank.question(id)!);
    started = performance.now();
    const candidate = await harness.provision(questions, 'bench cka-dedicated');
    const examMs = performance.now() - started;
    const unsolved = await timedGrade(candidate);
    await sleep(SETTLE_MS);
    const examPss = await environmentPss(harness, clustersDir, candidate);
    const failures: string[] = [];
    for (const rendered of candidate.rendered) {
      const id = rendered.question.spec.id;
      const run = await candidate.solve(id);
      if (!run.ok) failures.push(`${id}: ${run.failure}`);
      log(`solved ${id} in ${(run.durationMs / 1000).toFixed(1)} s${run.ok ? '' : ' (FAILED)'}`);
    }
    // Three gradings of the solved exam (nothing changes between them): one
    // on two busy cores varies by a few hundred milliseconds.
    const gradings = [];
    for (let i = 0; i < 3; i++) {
      const grading = await timedGrade(candidate);
      gradings.push(grading);
      log(
        `grading ${i + 1} of the solved exam: ${grading.ms} ms (the wake ${grading.wakeMs} ms, the checks ${grading.checksMs} ms), ${grading.points} points; slowest checks: ${grading.slowest}`,
      );
    }
    const solved = [...gradings].sort((a, b) => a.ms - b.ms)[1];
    await candidate.teardown();
    const possible = questions.reduce((sum, q) => sum + q.spec.weight, 0);
    figures.push(
      `${EXAM} (2 clusters, 5 nodes, ${questions.length} tasks) made cold and set up: ${(examMs / 1000).toFixed(1)} s`,
      `memory of the idle ${EXAM} environment: ${Math.round(examPss / MIB)} MiB PSS`,
      `grading ${EXAM} unsolved: ${unsolved.ms} ms, ${unsolved.points}/${possible} points, ${unsolved.checks} checks`,
      `grading ${EXAM} solved, median of 3: ${solved.ms} ms (all: ${gradings.map((g) => g.ms).join(', ')} ms; in the median one the end's controller wake ${solved.wakeMs} ms, the checks ${solved.checksMs} ms), ${solved.points}/${possible} points (goal <= 2 s); slowest checks: ${solved.slowest}`,
      `${EXAM} environments this machine's memory holds (${Math.round(totalmem() / MIB / 1024)} GiB, 2 GiB kept for the engine): ${Math.floor((totalmem() - 2048 * MIB) / examPss)}` +
        (coldPss ? `; of the light one: ${Math.floor((totalmem() - 2048 * MIB) / coldPss)}` : ''),
    );
    for (const failure of failures) figures.push(`solution failed: ${failure}`);
    if (solved.failing.length) figures.push('checks not passed after solving:', ...solved.failing);
  } finally {
    await harness.close();
    await rm(clustersDir, { recursive: true, force: true });
    console.log(figures.join('\n'));
  }
}

/**
 * Part 5: N candidates hold an environment each (made one after another,
 * then left idle as a candidate reading a task leaves it), while bench:api
 * measures the engine's API in a process of its own, as an operator runs it.
 */
async function apiUnderLoad(
  harness: Harness,
  light: LoadedQuestion,
  counts: number[],
): Promise<string[]> {
  const candidates: Candidate[] = [];
  const rows: string[] = [];
  try {
    for (const count of counts) {
      const started = performance.now();
      while (candidates.length < count) {
        candidates.push(await harness.provision([light], `bench api ${candidates.length}`));
        log(`environment ${candidates.length} of ${count} ready`);
      }
      log(`${count} environments (${((performance.now() - started) / 1000).toFixed(0)} s more)`);
      await sleep(SETTLE_MS);
      // Saturation (as many requests as 100 connections make), then a steady
      // load the engine is meant to carry: what the clusters' CPU costs each.
      const saturated = apiBench([]);
      const steady = apiBench(['--connections', '20', '--rate', String(API_RATE)]);
      rows.push(
        `${count} idle environment${count === 1 ? '' : 's'} (${count * 2} real nodes): at saturation ${saturated}; at ${API_RATE} req/s ${steady}`,
      );
      log(rows.at(-1)!);
    }
    return [
      `GET /api/sessions/me (bench:api in its own process) while dedicated environments (${light.spec.id}) idle on this machine:`,
      ...rows,
    ];
  } finally {
    for (const candidate of candidates) await candidate.teardown();
  }
}

/** bench:api in its own process: "p50 …, p99 … ms, … req/s". */
function apiBench(args: string[]): string {
  const api = spawnSync('npx', ['tsx', 'test/bench/api.bench.ts', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (api.status !== 0) throw new Error(`bench:api exited ${api.status}`);
  const latency = /latency p50 (\d+) ms, p90 \d+ ms, p99 (\d+) ms, max (\d+) ms/.exec(api.stdout);
  const throughput = /throughput (\d+) req\/s/.exec(api.stdout);
  if (!latency || !throughput) throw new Error(`bench:api printed no figures:\n${api.stdout}`);
  return `p50 ${latency[1]} ms, p99 ${latency[2]} ms, max ${latency[3]} ms, ${throughput[1]} req/s`;
}

async function timedGrade(candidate: Candidate) {
  const t0 = performance.now();
  const evaluation = await candidate.grade(Date.now());
  const all: CheckOutcome[] = [...evaluation.outcomes.values()].flat();
  const ms = Math.round(performance.now() - t0);
  return {
    ms,
    // grade() wakes backed-off controllers first, as the end of a session does.
    checksMs: evaluation.durationMs,
    wakeMs: ms - evaluation.durationMs,
    points: all.reduce((sum, o) => sum + o.pointsAwarded, 0),
    checks: all.length,
    failing: all
      .filter((o) => o.status !== 'passed')
      .map((o) => `  ${o.checkId} [${o.status}] ${o.message}`),
    // Where a grading's time goes: checks run concurrently, so the total is
    // about its longest chain of `requires`, not the sum.
    slowest: [...evaluation.outcomes]
      .flatMap(([task, outcomes]) => outcomes.map((o) => ({ task, ...o })))
      .sort((a, b) => b.durationMs - a.durationMs)
      .slice(0, 5)
      .map((o) => `${o.task}/${o.checkId} (${o.kind}) ${Math.round(o.durationMs)} ms`)
      .join(', '),
  };
}

/**
 * The proportional memory (PSS) of a candidate's clusters: each cluster
 * daemon's process tree (the daemon, its nodes' holders, kubelets,
 * containerds, the registry) and every process in the cluster's cgroups
 * (the pods, whose shims leave the tree).
 */
async function environmentPss(
  harness: Harness,
  clustersDir: string,
  candidate: Candidate,
): Promise<number> {
  const pids = new Set<number>();
  const children = await childrenByParent();
  // A cluster's folder is named by its lease.
  for (const { id } of await harness.pool.leasesOf(candidate.session.id)) {
    const status = JSON.parse(await readFile(join(clustersDir, id, 'status.json'), 'utf8')) as {
      pid: number;
    };
    const queue = [status.pid];
    while (queue.length) {
      const pid = queue.pop()!;
      pids.add(pid);
      queue.push(...(children.get(pid) ?? []));
    }
    for (const run of await readdir('/tmp/cka-sandbox-runs').catch(() => [])) {
      if (!run.startsWith(`real-${status.pid}-`)) continue;
      const { cgroupRoot } = JSON.parse(
        await readFile(join('/tmp/cka-sandbox-runs', run, 'real-run.json'), 'utf8'),
      ) as { cgroupRoot: string };
      for (const pid of await cgroupPids(join('/sys/fs/cgroup/pids', cgroupRoot))) pids.add(pid);
    }
  }
  let bytes = 0;
  for (const pid of pids) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    const kib = /^Pss:\s+(\d+) kB/m.exec(rollup);
    if (kib) bytes += Number(kib[1]) * 1024;
  }
  return bytes;
}

async function childrenByParent(): Promise<Map<number, number[]>> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name may hold spaces and parentheses: the ppid follows the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!ppid) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  return children;
}

async function cgroupPids(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const walk = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name === 'cgroup.procs')
        for (const line of (await readFile(join(d, e.name), 'utf8')).split('\n'))
          if (line) pids.push(Number(line));
    }
  };
  await walk(dir);
  return pids;
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    log(error.stack ?? error.message);
    process.exit(1);
  },
);
