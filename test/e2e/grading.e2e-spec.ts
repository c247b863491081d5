import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { dirname, join } from 'node:path';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { GradeRun } from '../../src/grading/grade-run.entity.js';
import type { SessionReport, TaskReport } from '../../src/grading/report.types.js';
import { solutionAnswer } from '../../src/question-bank/solution.js';
import {
  isolatedEnv,
  REPO_ROOT,
  scratchPostgresUrl,
  startTestApp,
  type TestApp,
} from '../support/app.js';
import { kubectl } from '../support/cluster.js';
import { bearer, type Candidate, startCandidate } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';
import { shell } from '../support/processes.js';

jest.setTimeout(240_000);

/** Tasks left unsolved, with what their report must say. */
const UNSOLVED = [
  'rbac-pod-reader',
  'scale-deployment',
  'pvc-static-binding',
  'fix-service-selector',
  'find-backend-node',
  'pending-pods-node-selector',
  'cleanup-debug-pods',
];

interface StaffQuestion {
  questionId: string;
  weight: number;
  variables: Record<string, string | number>;
  solution: { commands: string[] };
}

async function report(t: TestApp, token: string): Promise<SessionReport> {
  return (await t.http.get('/api/sessions/me/report').set(bearer(token)).expect(200))
    .body as SessionReport;
}

async function untilGraded(t: TestApp, token: string, timeoutMs = 120_000): Promise<void> {
  await eventually(
    'the session to be graded',
    async () => (await t.http.get('/api/sessions/me').set(bearer(token))).body.state as string,
    (state) => state === 'graded' || state === 'grading_failed',
    timeoutMs,
  );
}

/** Runs a reference solution as the candidate: shell commands with their kubeconfig, `answer:` lines saved. */
async function solve(t: TestApp, candidate: Candidate, question: StaffQuestion): Promise<void> {
  const path = `${dirname(process.env.SANDBOX_KUBECTL!)}:${process.env.PATH}`;
  for (const command of question.solution.commands) {
    const answer = solutionAnswer(command);
    if (answer !== undefined) {
      await t.http
        .put(`/api/sessions/me/answers/${question.questionId}`)
        .set(bearer(candidate.token))
        .send({ answer })
        .expect(200);
      continue;
    }
    const result = await shell(command, {
      ...process.env,
      KUBECONFIG: candidate.kubeconfig,
      PATH: path,
    });
    if (result.code !== 0)
      throw new Error(`solution of ${question.questionId} failed: ${command}\n${result.output}`);
  }
}

describe('grading a whole exam over HTTP (PostgreSQL)', () => {
  let t: TestApp;
  let a: Candidate;
  let b: Candidate;
  let trainer: string;
  let questions: StaffQuestion[];
  let graded: SessionReport;

  beforeAll(async () => {
    t = await startTestApp(
      await isolatedEnv({
        DATABASE_URL: await scratchPostgresUrl(),
        QUESTIONS_DIR: join(REPO_ROOT, 'questions'),
        GRADERS_DIR: join(REPO_ROOT, 'graders'),
      }),
    );
    trainer = await t.staffToken(StaffRole.TRAINER);
    [a, b] = await Promise.all([
      startCandidate(t, 'cka-sample', 'Ada <b>&</b>'),
      startCandidate(t, 'cka-sample', 'Bo'),
    ]);
    questions = (await t.http.get(`/api/sessions/${a.id}`).set(bearer(trainer)).expect(200)).body
      .questions;
    for (const question of questions.filter((q) => !UNSOLVED.includes(q.questionId)))
      await solve(t, a, question);
    await t.http.post('/api/sessions/me/submit').set(bearer(a.token)).expect(200);
    await untilGraded(t, a.token);
    graded = await report(t, a.token);
  });
  afterAll(() => t?.close());

  it('scores exactly the solved tasks at full marks', async () => {
    expect(graded.complete).toBe(true);
    expect(graded.run.trigger).toBe('submit');
    expect(graded.tasks).toHaveLength(questions.length);
    const full = graded.tasks
      .filter((task) => task.outcome === 'full')
      .map((task) => task.questionId);
    expect(full.sort()).toEqual(
      questions
        .map((q) => q.questionId)
        .filter((id) => !UNSOLVED.includes(id))
        .sort(),
    );
    for (const task of graded.tasks.filter((x) => UNSOLVED.includes(x.questionId))) {
      expect(task.pointsAwarded).toBe(0);
      for (const check of task.checks) {
        expect(['failed', 'skipped']).toContain(check.status);
        expect(check.message).not.toBe('');
      }
    }
    const possible = questions.reduce((sum, q) => sum + q.weight, 0);
    const awarded = graded.tasks.reduce((sum, task) => sum + task.pointsAwarded, 0);
    expect(graded).toMatchObject({
      pointsAwarded: awarded,
      pointsPossible: possible,
      passPercent: 66,
    });
    expect(graded.percent).toBeCloseTo((awarded * 100) / possible, 1);
    expect(graded.passed).toBe(awarded * 100 >= 66 * possible);
    expect(graded.timeUsedSeconds).toBeGreaterThanOrEqual(0);
    // The run stores its own score: per task, per domain, the pass mark and the time used.
    const stored = await t.dataSource
      .getRepository(GradeRun)
      .findOneByOrFail({ id: graded.run.runId });
    expect(stored.score).toMatchObject({
      // The report adds the domains' names to what the run stores.
      domains: graded.domains.map(({ domainName: _name, ...stored }) => stored),
      pointsAwarded: awarded,
      passPercent: 66,
      timeUsedSeconds: graded.timeUsedSeconds,
    });
    expect(stored.score!.tasks).toHaveLength(questions.length);
    expect(graded.domains.map((d) => d.domain).sort()).toEqual([
      'cluster-architecture',
      'services-networking',
      'storage',
      'troubleshooting',
      'workloads-scheduling',
    ]);
  });

  it('says for each unsolved task what was expected and what was found', () => {
    const task = (id: string): TaskReport => graded.tasks.find((x) => x.questionId === id)!;
    const vars = (id: string) => questions.find((q) => q.questionId === id)!.variables;
    const check = (id: string, checkId: string) => task(id).checks.find((c) => c.id === checkId)!;

    const rbac = vars('rbac-pod-reader');
    expect(check('rbac-pod-reader', 'can-list').message).toBe(
      `system:serviceaccount:${rbac.ns}:${rbac.sa} cannot list pods in ${rbac.ns}, but it should be allowed`,
    );
    expect(check('rbac-pod-reader', 'cannot-delete')).toMatchObject({
      status: 'skipped',
      message: 'skipped: requires "can-list", which failed',
    });
    const scale = vars('scale-deployment');
    expect(check('scale-deployment', 'replicas').message).toBe(
      `Deployment web: spec.replicas: expected ${scale.replicas}, got 1`,
    );
    expect(check('scale-deployment', 'image').message).toContain(
      `containers[name=web].image: expected "${scale.image}", got "nginx:1.25"`,
    );
    expect(check('pvc-static-binding', 'bound').message).toBe(
      `PVC archive not found in ${vars('pvc-static-binding').ns}`,
    );
    expect(
      task('fix-service-selector')
        .checks.map((c) => c.message)
        .join('\n'),
    ).toMatch(/has no ready endpoints.* \(selector .* matches 0 pods\)/);
    expect(task('find-backend-node').checks[0].message).toBe('no answer was submitted');
  });

  it('shows reference solutions in the report once the session has ended', () => {
    for (const task of graded.tasks) expect(task.solution?.commands.length).toBeGreaterThan(0);
  });

  it('renders the report as HTML, escaping what came from users', async () => {
    const page = await t.http.get('/api/sessions/me/report.html').set(bearer(a.token)).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('Ada &lt;b&gt;&amp;&lt;/b&gt;');
    expect(page.text).not.toContain('<b>&</b>');
    expect(page.text).toContain('has no ready endpoints');
  });

  it("keeps a candidate out of another's report, and lets trainers read every report", async () => {
    await t.http.get(`/api/sessions/${a.id}/report`).set(bearer(b.token)).expect(404);
    await t.http.get(`/api/sessions/${a.id}/report.html`).set(bearer(b.token)).expect(404);
    // B has not finished: no report yet, and a 409 that says why.
    const pending = await t.http.get('/api/sessions/me/report').set(bearer(b.token)).expect(409);
    expect(pending.body.code).toBe('REPORT_NOT_READY');
    const staff = await t.http.get(`/api/sessions/${a.id}/report`).set(bearer(trainer)).expect(200);
    expect(staff.body.pointsAwarded).toBe(graded.pointsAwarded);
    await t.http.post(`/api/sessions/${a.id}/regrade`).set(bearer(a.token)).expect(403);
  });

  it('regrades an unchanged cluster to identical results, as a new run in the history', async () => {
    await t.http.post(`/api/sessions/${a.id}/regrade`).set(bearer(trainer)).expect(202);
    const again = await eventually(
      'the regrade to finish',
      () => report(t, a.token),
      (r) => r.history.length === 2 && r.run.runId !== graded.run.runId,
      120_000,
    );
    expect(again.run.trigger).toBe('regrade');
    const outcome = (r: SessionReport) =>
      r.tasks.map((task) =>
        task.checks.map(({ id, status, pointsAwarded, message }) => ({
          id,
          status,
          pointsAwarded,
          message,
        })),
      );
    expect(outcome(again)).toEqual(outcome(graded));
    expect(again.pointsAwarded).toBe(graded.pointsAwarded);
  });

  it('exports the cohort as CSV for trainers only', async () => {
    await t.http.post('/api/sessions/me/submit').set(bearer(b.token)).expect(200);
    await untilGraded(t, b.token);
    const csv = await t.http
      .get('/api/reports.csv?examId=cka-sample')
      .set(bearer(trainer))
      .expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^session_id,exam_id,candidate,/);
    expect(lines.find((l) => l.startsWith(a.id))).toContain(`,${graded.pointsAwarded},`);
    await t.http.get('/api/reports.csv').set(bearer(a.token)).expect(403);
    await t.http.get('/api/reports.csv?examId=BAD!').set(bearer(trainer)).expect(400);
  });
});

describe('the deadline on a live cluster (SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv());
  });
  afterAll(() => t?.close());

  it('does not count a change made after the deadline', async () => {
    const c = await startCandidate(t, 'short', 'Late');
    await eventually(
      'the 5-second exam to end',
      async () => (await t.http.get('/api/sessions/me').set(bearer(c.token))).body.state as string,
      (state) => state !== 'active',
      30_000,
    );
    // Too late: the candidate's credentials no longer work.
    await expect(
      kubectl(
        ['-n', c.namespace, 'create', 'configmap', 'settings', '--from-literal=LOG_LEVEL=debug'],
        c.kubeconfig,
      ),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/Unauthorized|forbidden|Forbidden/) });
    await untilGraded(t, c.token);
    const late = await report(t, c.token);
    expect(late.complete).toBe(true);
    expect(late.run.trigger).toBe('expiry');
    expect(late.pointsAwarded).toBe(0);
    const value = late.tasks.find((task) => task.questionId === 'configmap-value')!.checks[0];
    expect(value).toMatchObject({
      status: 'failed',
      message: `ConfigMap settings in ${c.namespace} not found`,
    });
  });
});

describe('a check that cannot be decided (SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv({ JOB_ATTEMPTS: '3' }));
  });
  afterAll(() => t?.close());

  it('is retried, then reported as incomplete grading with the check id: never a silent zero', async () => {
    const c = await startCandidate(t, 'incomplete', 'Err');
    await t.http.post('/api/sessions/me/submit').set(bearer(c.token)).expect(200);
    await untilGraded(t, c.token);
    const me = await t.http.get('/api/sessions/me').set(bearer(c.token)).expect(200);
    expect(me.body.state).toBe('grading_failed');
    const r = await report(t, c.token);
    expect(r.complete).toBe(false);
    expect(r.passed).toBeNull(); // no pass or fail on undecided checks
    expect(r.run.status).toBe('incomplete');
    const [task] = r.tasks;
    expect(task.outcome).toBe('incomplete');
    expect(task.checks.find((x) => x.id === 'exists')).toMatchObject({
      status: 'passed',
      pointsAwarded: 1,
    });
    // The candidate is told a trainer will look; the trainer sees why.
    expect(task.checks.find((x) => x.id === 'arithmetic')).toMatchObject({
      status: 'error',
      message: 'This check could not be decided automatically; a trainer will review it.',
    });
    expect(r.incompleteNote).not.toContain('CEL');
    const page = await t.http.get('/api/sessions/me/report.html').set(bearer(c.token)).expect(200);
    expect(page.text).toContain('Grading is incomplete');
    // The audit trail shows the retries ended in grading_failed, with the reason.
    const trainer = await t.staffToken(StaffRole.TRAINER);
    const detailed = (
      await t.http.get(`/api/sessions/${c.id}/report`).set(bearer(trainer)).expect(200)
    ).body as SessionReport;
    expect(detailed.incompleteNote).toContain('cel-runtime-error/arithmetic');
    expect(detailed.tasks[0].checks.find((x) => x.id === 'arithmetic')!.message).toMatch(
      /^could not decide: CEL evaluate error: /,
    );
    const staff = await t.http.get(`/api/sessions/${c.id}`).set(bearer(trainer)).expect(200);
    const last = staff.body.events.at(-1);
    expect(last).toMatchObject({ from: 'grading', to: 'grading_failed' });
    expect(last.reason).toContain('arithmetic');
  });
});

describe('a late fix of a backed-off controller (SQLite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      await isolatedEnv({
        QUESTIONS_DIR: join(REPO_ROOT, 'questions'),
        GRADERS_DIR: join(REPO_ROOT, 'graders'),
      }),
    );
  });
  afterAll(() => t?.close());

  it('scores like an early one: the end wakes the ReplicaSet that stopped retrying', async () => {
    const c = await startCandidate(t, 'cka-tools', 'Late fixer');
    const trainer = await t.staffToken(StaffRole.TRAINER);
    const questions = (await t.http.get(`/api/sessions/${c.id}`).set(bearer(trainer)).expect(200))
      .body.questions as StaffQuestion[];
    const task = questions.find((q) => q.questionId === 'deployment-missing-serviceaccount')!;
    const { ns, app, sa } = task.variables as Record<string, string>;
    // The ReplicaSet's retries back off exponentially; after 45 s of refusals the next one is
    // about 40 s away, longer than the rollout check's 30 s cap. Only a wake at the end makes
    // a fix made now count before the report.
    await new Promise((resolve) => setTimeout(resolve, 45_000));
    await kubectl(['-n', ns, 'create', 'serviceaccount', sa], c.kubeconfig);
    await t.http.post('/api/sessions/me/submit').set(bearer(c.token)).expect(200);
    await untilGraded(t, c.token);
    const graded = await report(t, c.token);
    const result = graded.tasks.find((r) => r.questionId === task.questionId)!;
    expect(result.checks.map((check) => [check.id, check.status])).toEqual([
      ['identity', 'passed'],
      ['unchanged', 'passed'],
      ['running', 'passed'],
    ]);
    const sets = JSON.parse(
      (await kubectl(['-n', ns, 'get', 'replicaset', '-l', `app=${app}`, '-o', 'json'])).stdout,
    ) as { items: { metadata: { annotations?: Record<string, string> } }[] };
    expect(sets.items[0].metadata.annotations?.['cka.engine/woken-at']).toEqual(expect.any(String));
  });
});
