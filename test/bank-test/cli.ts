/**
 * `npm run bank:test [ids...]`: proves every question's grader. For each
 * question, against a sandbox cluster it starts (or the cluster of
 * `--kubeconfig`): provision a throwaway candidate exactly as a session is
 * provisioned, apply the setup, grade (the score must equal the question's
 * baseline), run the reference solution with the candidate's own kubeconfig
 * and kubectl, grade again (full marks required). Prints a table; exits 1 on
 * any mismatch, with every failing check's message.
 *
 *   npm run bank:test -- [--kubeconfig path [--kubectl path] [--helm path]] [--questions dir]
 *                        [--concurrency N] [ids...]
 */
import { parseArgs } from 'node:util';
import type { CheckOutcome } from '../../src/grading/check-runner.js';
import type { LoadedQuestion } from '../../src/question-bank/bank.loader.js';
import { type Sandbox, startSandbox } from '../sandbox/launcher.js';
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
  },
});

interface Row {
  id: string;
  baseline: string;
  solved: string;
  seconds: string;
  ok: boolean;
  problems: string[];
}

const log = (line: string) => process.stderr.write(`[bank:test] ${line}\n`);

async function testQuestion(harness: Harness, question: LoadedQuestion): Promise<Row> {
  const { spec } = question;
  const started = Date.now();
  const row: Row = {
    id: spec.id,
    baseline: '-',
    solved: '-',
    seconds: '',
    ok: false,
    problems: [],
  };
  let candidate: Candidate | undefined;
  try {
    candidate = await harness.provision([question], `bank-test ${spec.id}`);
    // What the candidate meets at the start: no settling time, as after setupWaits.
    const before = await candidate.grade(0);
    const baseline = scoreOf(before.outcomes);
    row.baseline = `${baseline.points}/${spec.baseline}`;
    if (baseline.points !== spec.baseline || baseline.errors.length) {
      row.problems.push(
        `baseline: expected ${spec.baseline} points, got ${baseline.points}`,
        ...baseline.lines,
      );
    }
    const solution = await candidate.solve(spec.id);
    if (!solution.ok) row.problems.push(`solution failed: ${solution.failure}`);
    const after = await candidate.grade(Date.now());
    const solved = scoreOf(after.outcomes);
    row.solved = `${solved.points}/${spec.weight}`;
    if (solved.points !== spec.weight) {
      row.problems.push(
        `after the solution: expected ${spec.weight} points, got ${solved.points}`,
        ...solved.lines,
      );
    }
  } catch (error) {
    row.problems.push(`${(error as Error).name}: ${(error as Error).message}`);
  } finally {
    await candidate
      ?.teardown()
      .catch((error: Error) => row.problems.push(`teardown: ${error.message}`));
  }
  row.seconds = ((Date.now() - started) / 1000).toFixed(1);
  row.ok = row.problems.length === 0;
  return row;
}

function scoreOf(outcomes: Map<string, CheckOutcome[]>) {
  const all = [...outcomes.values()].flat();
  return {
    points: all.reduce((sum, o) => sum + o.pointsAwarded, 0),
    errors: all.filter((o) => o.status === 'error'),
    lines: all
      .filter((o) => o.status !== 'passed')
      .map((o) => `  ${o.checkId} [${o.status}] ${o.message.replaceAll('\n', '\n    ')}`),
  };
}

function printTable(rows: Row[]): void {
  const header = ['question', 'baseline', 'solved', 'seconds', 'result'];
  const cells = rows.map((r) => [r.id, r.baseline, r.solved, r.seconds, r.ok ? 'ok' : 'MISMATCH']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
  for (const row of rows.filter((r) => !r.ok)) {
    console.log(`\n${row.id}:`);
    for (const problem of row.problems) console.log(`  ${problem}`);
  }
}

async function main(): Promise<number> {
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
    await sandbox?.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  try {
    const harness = await createHarness({
      kubeconfig,
      kubectlDir,
      helm,
      questionsDir: values.questions,
    });
    try {
      const all = harness.bank.questions();
      const unknown = positionals.filter((id) => !harness.bank.question(id));
      if (unknown.length) {
        log(`no such question: ${unknown.join(', ')}`);
        return 2;
      }
      const selected = positionals.length
        ? all.filter((q) => positionals.includes(q.spec.id))
        : all;
      const concurrency = Math.max(1, Number(values.concurrency) || 1);
      const rows: Row[] = [];
      const queue = [...selected];
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            const row = await testQuestion(harness, next);
            log(`${row.id}: ${row.ok ? 'ok' : 'MISMATCH'} (${row.seconds} s)`);
            rows.push(row);
          }
        }),
      );
      rows.sort((a, b) => a.id.localeCompare(b.id));
      printTable(rows);
      const failed = rows.filter((r) => !r.ok).length;
      console.log(`\n${rows.length} questions, ${rows.length - failed} ok, ${failed} mismatched`);
      return failed ? 1 : 0;
    } finally {
      await harness.close();
    }
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log(error.stack ?? error.message);
    process.exit(1);
  },
);
