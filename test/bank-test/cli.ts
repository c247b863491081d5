/**
 * `npm run bank:test [ids...]`: proves every question's grader. Against a
 * sandbox cluster it starts (or the cluster of `--kubeconfig`), each entry
 * of a question (its reference solution, every alternative in `solutions`,
 * every known mistake in `mistakes`) runs in a throwaway candidate of its
 * own, provisioned exactly as a session is: grade the untouched setup (the
 * reference only: the score must equal the question's baseline), wait
 * `--solve-after` seconds if asked, run the entry's commands with the
 * candidate's own kubeconfig, kubectl and helm, grade again (full marks for
 * a solution, at most maxPoints for a mistake), tear down. Prints a row per
 * entry; exits 1 on any mismatch, with every failing check's message.
 *
 * A dedicated question's entry gets real-node clusters of its own from the
 * sandbox provider (made for it, destroyed after: a solution may have broken
 * them), its setup runs on them as in a session, and its commands run with
 * `ssh <node>` reaching the nodes as in the terminal. `--skip-dedicated`
 * leaves them out (a machine without the real-node build).
 *
 *   npm run bank:test -- [--kubeconfig path [--kubectl path] [--helm path]] [--questions dir]
 *                        [--concurrency N] [--only-reference] [--solve-after seconds]
 *                        [--skip-dedicated] [ids...]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { CheckOutcome } from '../../src/grading/check-runner.js';
import type { LoadedQuestion } from '../../src/question-bank/bank.loader.js';
import { type Sandbox, startSandbox } from '../../sandbox/launcher.js';
import { type Candidate, createHarness, type Harness, kubectlDirOf } from './harness.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kubeconfig: { type: 'string' },
    /** The kubectl the solutions run with a --kubeconfig cluster (default: the one on PATH). */
    kubectl: { type: 'string' },
    /** The helm the solutions run with a --kubeconfig cluster (default: the one on PATH). */
    helm: { type: 'string' },
    questions: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    /** Run only each question's reference solution (fast). */
    'only-reference': { type: 'boolean', default: false },
    /** Wait this many seconds after provisioning before solving: a late solve must score as an early one. */
    'solve-after': { type: 'string', default: '0' },
    /** Leave out the questions that need a dedicated environment (real-node clusters). */
    'skip-dedicated': { type: 'boolean', default: false },
  },
});

/** What bank:test runs in a candidate of its own: the reference solution, an alternative or a mistake. */
interface Entry {
  question: LoadedQuestion;
  /** `solution`, `solutions[name]` or `mistakes[name]`, as the table shows it. */
  label: string;
  kind: 'solution' | 'solutions' | 'mistakes';
  /** Position in its list (solutions, mistakes). */
  index: number;
  /** The most a mistake may score; an alternative or the reference needs full marks. */
  maxPoints?: number;
}

interface Row {
  id: string;
  entry: string;
  baseline: string;
  expected: string;
  score: string;
  seconds: string;
  ok: boolean;
  problems: string[];
}

const log = (line: string) => process.stderr.write(`[bank:test] ${line}\n`);

/** The reference solution first, then the alternatives and the mistakes, in the file's order. */
function entriesOf(question: LoadedQuestion, onlyReference: boolean): Entry[] {
  const { spec } = question;
  const reference: Entry = { question, label: 'solution', kind: 'solution', index: 0 };
  if (onlyReference) return [reference];
  return [
    reference,
    ...spec.solutions.map((s, index): Entry => ({
      question,
      label: `solutions[${s.name}]`,
      kind: 'solutions',
      index,
    })),
    ...spec.mistakes.map((m, index): Entry => ({
      question,
      label: `mistakes[${m.name}]`,
      kind: 'mistakes',
      index,
      maxPoints: m.maxPoints,
    })),
  ];
}

/** Candidates provisioned and not yet torn down, so that a stop (Ctrl-C) can tear them down. */
const live = new Set<Candidate>();

/**
 * One entry in a freshly provisioned candidate: grade the untouched setup
 * (reference only), wait `solveAfterMs` if asked (a late solve must score as
 * an early one), run the commands as rendered for this candidate, grade, and
 * tear down whatever happened.
 */
async function testEntry(harness: Harness, entry: Entry, solveAfterMs: number): Promise<Row> {
  const { spec } = entry.question;
  const started = Date.now();
  const row: Row = {
    id: spec.id,
    entry: entry.label,
    baseline: '-',
    expected:
      entry.maxPoints === undefined
        ? `${spec.weight}/${spec.weight}`
        : `<=${entry.maxPoints}/${spec.weight}`,
    score: '-',
    seconds: '',
    ok: false,
    problems: [],
  };
  let candidate: Candidate | undefined;
  try {
    candidate = await harness.provision([entry.question], `bank-test ${spec.id} ${entry.label}`);
    live.add(candidate);
    if (entry.kind === 'solution') {
      // What the candidate meets at the start: no settling time, as after setupWaits.
      const before = await candidate.grade(0);
      const baseline = scoreOf(before.outcomes);
      row.baseline = `${baseline.points}/${spec.baseline}`;
      if (baseline.points !== spec.baseline || baseline.errors.length) {
        row.problems.push(
          `baseline: expected ${spec.baseline} points, got ${baseline.points}`,
          ...baseline.failing,
        );
      }
    }
    if (solveAfterMs) await sleep(solveAfterMs);
    const rendered = candidate.rendered[0];
    const commands =
      entry.kind === 'solution'
        ? rendered.solution.commands
        : rendered[entry.kind][entry.index].commands;
    const run = await candidate.solve(spec.id, commands);
    if (!run.ok) row.problems.push(`${entry.label} failed: ${run.failure}`);
    const after = await candidate.grade(Date.now());
    const score = scoreOf(after.outcomes);
    row.score = `${score.points}/${spec.weight}`;
    if (score.errors.length)
      row.problems.push(
        `${score.errors.length} check(s) could not be graded (an error is never the candidate's failure):`,
        ...score.errors.map(line),
      );
    if (entry.maxPoints === undefined && score.points !== spec.weight) {
      row.problems.push(
        `after ${entry.label}: expected ${spec.weight} points, got ${score.points}`,
        ...score.failing,
      );
    } else if (entry.maxPoints !== undefined && score.points > entry.maxPoints) {
      row.problems.push(
        `after ${entry.label}: expected at most ${entry.maxPoints} points, got ${score.points} (the grader is too lenient, or maxPoints too high); points from:`,
        ...score.awarded,
      );
    }
  } catch (error) {
    row.problems.push(`${(error as Error).name}: ${(error as Error).message}`);
  } finally {
    if (candidate) {
      live.delete(candidate);
      await candidate
        .teardown()
        .catch((error: Error) => row.problems.push(`teardown: ${error.message}`));
    }
  }
  row.seconds = ((Date.now() - started) / 1000).toFixed(1);
  row.ok = row.problems.length === 0;
  return row;
}

const line = (o: CheckOutcome) =>
  `  ${o.checkId} [${o.status}] ${o.message.replaceAll('\n', '\n    ')}`.trimEnd();

function scoreOf(outcomes: Map<string, CheckOutcome[]>) {
  const all = [...outcomes.values()].flat();
  return {
    points: all.reduce((sum, o) => sum + o.pointsAwarded, 0),
    errors: all.filter((o) => o.status === 'error'),
    failing: all.filter((o) => o.status !== 'passed').map(line),
    awarded: all
      .filter((o) => o.pointsAwarded > 0)
      .map((o) => `  ${o.checkId} +${o.pointsAwarded}`),
  };
}

const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function printTable(rows: Row[]): void {
  const header = ['question', 'entry', 'baseline', 'expected', 'score', 'seconds', 'result'];
  const cells = rows.map((r) => [
    r.id,
    r.entry,
    r.baseline,
    r.expected,
    r.score,
    r.seconds,
    r.ok ? 'ok' : 'MISMATCH',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const format = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(format(c));
  for (const row of rows.filter((r) => !r.ok)) {
    console.log(`\n${row.id} ${row.entry}:`);
    for (const problem of row.problems) console.log(`  ${problem}`);
  }
}

async function main(): Promise<number> {
  const solveAfter = Number(values['solve-after']);
  if (!Number.isFinite(solveAfter) || solveAfter < 0) {
    log(`--solve-after takes a number of seconds, not "${values['solve-after']}"`);
    return 2;
  }
  const solveAfterMs = Math.round(solveAfter * 1000);
  let sandbox: Sandbox | undefined;
  let kubeconfig = values.kubeconfig;
  let kubectlDir = values.kubectl ? kubectlDirOf(values.kubectl) : undefined;
  let helm = values.helm;
  if (!kubeconfig) {
    log('starting a sandbox cluster');
    sandbox = await startSandbox({ log });
    kubeconfig = sandbox.kubeconfigPath;
    kubectlDir = kubectlDirOf(sandbox.binaries.kubectl);
    helm = sandbox.binaries.helm;
  }
  const stop = async () => {
    // A cluster of --kubeconfig outlives the run, and a dedicated candidate's
    // clusters are processes of their own: leave nothing of a stopped run behind.
    const leftover = [...live].filter(
      (candidate) => !sandbox || candidate.session.environment === 'dedicated',
    );
    await Promise.race([
      Promise.allSettled(leftover.map((candidate) => candidate.teardown())),
      sleep(30_000),
    ]);
    await sandbox?.stop();
  };
  // The dedicated questions' clusters: this user's only, as the provider requires.
  const clustersDir = values['skip-dedicated']
    ? undefined
    : await mkdtemp(join(tmpdir(), 'cka-bt-clusters-'));
  let opened: Harness | undefined;
  const interrupted = async (code: number) => {
    await stop();
    // Clusters no teardown reached: their daemons are processes of their own.
    await opened?.close().catch(() => undefined);
    if (clustersDir) await rm(clustersDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGINT', () => void interrupted(130));
  process.once('SIGTERM', () => void interrupted(143));
  try {
    const harness = await createHarness({
      kubeconfig,
      kubectlDir,
      helm,
      questionsDir: values.questions,
      clustersDir,
    });
    opened = harness;
    try {
      const all = harness.bank.questions();
      const unknown = positionals.filter((id) => !harness.bank.question(id));
      if (unknown.length) {
        log(`no such question: ${unknown.join(', ')}`);
        return 2;
      }
      const selected = (
        positionals.length ? all.filter((q) => positionals.includes(q.spec.id)) : all
      )
        .filter((q) => !(values['skip-dedicated'] && q.spec.environment === 'dedicated'))
        .sort((a, b) => a.spec.id.localeCompare(b.spec.id));
      const entries = selected.flatMap((q) => entriesOf(q, values['only-reference']));
      const concurrency = Math.max(1, Number(values.concurrency) || 1);
      log(
        `${counted(entries.length, 'entry', 'entries')} of ${counted(selected.length, 'question')}, ${concurrency} at a time` +
          (solveAfterMs ? `, each solved ${solveAfterMs / 1000} s after provisioning` : ''),
      );
      const started = Date.now();
      const rows: Row[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < entries.length) {
            const i = next++;
            const row = await testEntry(harness, entries[i], solveAfterMs);
            log(`${row.id} ${row.entry}: ${row.ok ? 'ok' : 'MISMATCH'} (${row.seconds} s)`);
            rows[i] = row;
          }
        }),
      );
      printTable(rows);
      const failed = rows.filter((r) => !r.ok).length;
      const count = (kind: Entry['kind']) => entries.filter((e) => e.kind === kind).length;
      console.log(
        `\n${counted(rows.length, 'entry', 'entries')} of ${counted(selected.length, 'question')} ` +
          `(${count('solution')} reference, ${counted(count('solutions'), 'alternative')}, ` +
          `${counted(count('mistakes'), 'mistake')}): ${rows.length - failed} ok, ` +
          `${failed} mismatched, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return failed ? 1 : 0;
    } finally {
      opened = undefined;
      await harness.close();
    }
  } finally {
    await stop();
    if (clustersDir) await rm(clustersDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log(error.stack ?? error.message);
    process.exit(1);
  },
);
