/**
 * `npm run bench:grading`: how fast the engine grades, on a sandbox cluster.
 *
 *  1. The whole sample exam (cka-sample), solved by its reference solutions:
 *     the engine's grading run (shared read cache, checks concurrent) against
 *     a baseline that evaluates the same checks the way shell-script graders
 *     do (one kubectl process per read, one check after another), on the same
 *     cluster in the same run; medians over --runs, and their ratio
 *     (goal: >= 20x and <= 300 ms).
 *  2. --sessions N (default 100) sessions of a four-task exam drawn from the
 *     bank (RBAC with canI, a static PV claim, a NetworkPolicy, RBAC for a
 *     user: 13 checks, light on pods so a hundred candidates' workloads fit
 *     the sandbox), solved by their reference solutions, then submitted at
 *     the same moment to the built engine in its own process (one worker,
 *     default grading concurrency): time until every report is stored
 *     (goal <= 30 s).
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusterClient } from '../../src/cluster/cluster-client.js';
import { runChecks } from '../../src/grading/check-runner.js';
import { taskOf } from '../../src/grading/grading.service.js';
import { KubeConfig } from '@kubernetes/client-node';
import { createHarness } from '../bank-test/harness.js';
import { startEngine, staffToken } from './engine-process.js';
import { KubectlReads } from './kubectl-reads.js';
import { MANY_QUESTIONS, bankWithExams, solvedSessions, submitAll } from './solved-sessions.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    sessions: { type: 'string', default: '100' },
    exam: { type: 'string', default: 'cka-sample' },
  },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const MANY_EXAM = 'bench-grading';

async function main(): Promise<void> {
  // The bank, plus the exam the many-sessions part takes.
  const bank = await bankWithExams([{ id: MANY_EXAM, title: 'Four tasks for bench:grading' }]);
  const engine = await startEngine({ QUESTIONS_DIR: bank });
  try {
    await wholeExam(engine.kubeconfig, engine.kubectl, bank);
    await manySessions(engine, Number(values.sessions));
  } finally {
    await engine.stop();
    await rm(bank, { recursive: true, force: true });
  }
}

async function wholeExam(kubeconfig: string, kubectl: string, questionsDir: string): Promise<void> {
  const harness = await createHarness({ kubeconfig, kubectlDir: dirname(kubectl), questionsDir });
  try {
    const exam = harness.bank.exam(values.exam);
    if (!exam?.spec.questions)
      throw new Error(`exam ${values.exam} with a questions list not found`);
    const questions = exam.spec.questions.map((id) => harness.bank.question(id)!);
    const candidate = await harness.provision(questions, 'bench');
    for (const q of questions) {
      const solved = await candidate.solve(q.spec.id);
      if (!solved.ok) throw new Error(`solution of ${q.spec.id} failed: ${solved.failure}`);
    }
    // Settle once (rollouts, endpoints), then every run looks once.
    const first = await candidate.grade(Date.now());
    const points = [...first.outcomes.values()].flat().reduce((s, o) => s + o.pointsAwarded, 0);
    const possible = questions.reduce((s, q) => s + q.spec.weight, 0);
    const checks = [...first.outcomes.values()].flat().length;
    if (points !== possible)
      throw new Error(`the solved exam scores ${points}/${possible}, not full marks`);

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const baselineReads = new KubectlReads(new ClusterClient('main', kc), kubectl, kubeconfig);
    const tasks = candidate.questions.map(taskOf);
    const engineTimes: number[] = [];
    const baselineTimes: number[] = [];
    let engineRequests = 0;
    for (let i = 0; i < Number(values.runs); i++) {
      const t0 = performance.now();
      const run = await candidate.grade(0);
      engineTimes.push(performance.now() - t0);
      engineRequests = run.requests;
      const b0 = performance.now();
      baselineReads.requests = 0;
      const baseline = await runChecks(tasks, {
        readsFor: () => baselineReads,
        loadGrader: (name) => harness.evaluator.loadGrader(name),
        concurrency: 1,
        settleFrom: 0,
      });
      baselineTimes.push(performance.now() - b0);
      const statuses = (m: Map<string, { status: string }[]>) =>
        JSON.stringify([...m.values()].map((os) => os.map((o) => o.status)));
      if (statuses(baseline) !== statuses(run.outcomes)) {
        const differ = [...baseline.entries()].flatMap(([task, outcomes]) =>
          outcomes
            .filter((o, j) => o.status !== run.outcomes.get(task)![j].status)
            .map((o) => `${o.checkId}: baseline ${o.status} (${o.message})`),
        );
        throw new Error(`the baseline and the engine disagree: ${differ.join('; ')}`);
      }
    }
    const e = median(engineTimes);
    const b = median(baselineTimes);
    console.log(
      `whole exam ${values.exam}: ${questions.length} tasks, ${checks} checks, ${possible} points (solved: full marks)`,
    );
    console.log(
      `engine:   median ${e.toFixed(1)} ms over ${engineTimes.length} runs (${engineRequests} API requests per run)`,
    );
    console.log(
      `baseline: median ${b.toFixed(1)} ms over ${baselineTimes.length} runs (${baselineReads.requests} kubectl processes per run, one after another)`,
    );
    console.log(
      `ratio ${(b / e).toFixed(1)}x faster (goal >= 20x; engine goal <= 300 ms: ${e <= 300 ? 'met' : 'NOT met'})`,
    );
    await candidate.teardown();
  } finally {
    await harness.close();
  }
}

async function manySessions(
  engine: { base: string; kubectl: string; sqlitePath: string },
  count: number,
): Promise<void> {
  const staff = await staffToken(engine.sqlitePath);
  const api = async (path: string, token: string, init: RequestInit = {}) => {
    const res = await fetch(`${engine.base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    return {
      status: res.status,
      body: (await res.json().catch(() => undefined)) as Record<string, unknown>,
    };
  };

  const sessions = await solvedSessions(engine, staff, MANY_EXAM, count, 'grading');
  const started = Date.now();
  await submitAll(engine.base, sessions);
  let graded = 0;
  let full = 0;
  for (;;) {
    const list = await api(`/api/sessions?state=graded&limit=${count}`, staff);
    graded = (list.body.total as number) ?? 0;
    if (graded >= count) break;
    if (Date.now() - started > 300_000)
      throw new Error(`only ${graded} of ${count} graded after 300 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (Date.now() - started) / 1000;
  for (const s of sessions) {
    const report = await api('/api/sessions/me/report', s.token);
    if (report.body.pointsAwarded === report.body.pointsPossible) full++;
  }
  console.log(
    `${count} solved sessions (${MANY_QUESTIONS.length} tasks each) submitted at the same moment: all reports stored after ${seconds.toFixed(1)} s (${full} of ${count} at full marks); goal <= 30 s: ${seconds <= 30 ? 'met' : 'NOT met'}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
