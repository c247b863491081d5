import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildEngineImage } from '../../deploy/image/build.js';
import { ensureSandboxBinaries } from '../../sandbox/build.js';
import { REPO_ROOT } from '../support/app.js';
import { eventually } from '../support/eventually.js';
import { kubectl, relayOnNode } from '../support/real-cluster.js';

const run = promisify(execFile);

/**
 * The chart installed on a real-node cluster as an operator would, and the
 * scale-out scenarios run through its Service: the engine's image (built
 * here without Docker) pushed to the sandbox's registry, which every node's
 * containerd uses as docker.io's mirror; PostgreSQL and Redis from the
 * chart's dev option (the registry's postgres:15 and redis:7); two API and
 * two worker replicas; Pod Security `restricted` enforced on the namespace.
 *
 * The image is built from a copy of the app with one more exam (a light one:
 * an RBAC task and a typed answer, no pods) so forty sessions fit beside the
 * suite's cluster; the upgrade's image adds one more migration.
 */
jest.setTimeout(900_000);

const CHART = join(REPO_ROOT, 'deploy/helm/cka-engine');
const namespace = `engine-${randomBytes(3).toString('hex')}`;
const FULL = 'exam-cka-engine';
const REPOSITORY = 'cka-engine';
const EXAM = 'scale-out';
const log = (line: string) => process.stderr.write(`[helm-chart] ${line}\n`);
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

let work: string;
let helm: string;
let base: string;
let stopRelay: (() => void) | undefined;
let staff: string;

/** The app's files as the image takes them, plus the scale-out exam; with `migration`, one more migration. */
async function appCopy(dir: string, migration: boolean): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const path of ['dist', 'questions', 'graders'])
    await cp(join(REPO_ROOT, path), join(dir, path), { recursive: true });
  for (const file of ['package.json', 'package-lock.json'])
    await cp(join(REPO_ROOT, file), join(dir, file));
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(
    join(dir, 'questions/scale-out-answer.yaml'),
    `id: scale-out-answer
title: Type a word
domain: troubleshooting
weight: 1
cluster: main
vars:
  word: { oneOf: [blue, green, amber] }
task: Submit the word \`{{word}}\` as your answer.
checks:
  - id: word
    kind: answer
    expression: "'{{word}}'"
    points: 1
    description: the answer is the word asked for
solution:
  explanation: The task names the word.
  commands:
    - "answer: {{word}}"
`,
  );
  await writeFile(
    join(dir, `questions/exams/${EXAM}.yaml`),
    `id: ${EXAM}\ntitle: Scale-out probe\ndurationMinutes: 60\nopen: true\nquestions: [rbac-pod-reader, scale-out-answer]\n`,
  );
  if (migration) {
    const migrations = join(dir, 'dist/migrations/postgres');
    await writeFile(
      join(migrations, '1799000000000-upgrade-probe.js'),
      `export class UpgradeProbe1799000000000 {
  name = 'UpgradeProbe1799000000000';
  async up(q) { await q.query('CREATE TABLE "upgrade_probe" ("id" integer PRIMARY KEY)'); }
  async down(q) { await q.query('DROP TABLE "upgrade_probe"'); }
}
`,
    );
    const index = await readFile(join(migrations, 'index.js'), 'utf8');
    const patched = index.replace(
      /(export const POSTGRES_MIGRATIONS = \[[\s\S]*?)\n\];/,
      "$1\n    UpgradeProbe1799000000000,\n];\nimport { UpgradeProbe1799000000000 } from './1799000000000-upgrade-probe.js';",
    );
    if (patched === index) throw new Error('the migrations index has changed shape');
    await writeFile(join(migrations, 'index.js'), patched);
  }
  return dir;
}

/** Builds the image from an app copy and pushes it to the sandbox's registry as cka-engine:<tag>. */
async function pushImage(tag: string, migration: boolean): Promise<void> {
  const registry = process.env.REAL_PUSH_REGISTRY;
  if (!registry) throw new Error('REAL_PUSH_REGISTRY is not set: run in the realnode Jest project');
  const started = Date.now();
  const built = await buildEngineImage({
    out: join(work, `oci-${tag}`),
    repo: await appCopy(join(work, `app-${tag}`), migration),
    repository: `library/${REPOSITORY}`,
    tag,
    push: registry,
    kubectl: process.env.REAL_KUBECTL,
    log,
  });
  log(
    `image ${REPOSITORY}:${tag} (${(built.size / 2 ** 20).toFixed(0)} MiB) built and pushed in ${seconds(started)} s`,
  );
}

function helmArgs(tag: string): string[] {
  return [
    CHART,
    '-n',
    namespace,
    '--kubeconfig',
    process.env.REAL_KUBECONFIG ?? '',
    '--set',
    `image.repository=${REPOSITORY}`,
    '--set',
    `image.tag=${tag}`,
    '--set',
    'dev.postgresql.enabled=true',
    '--set',
    'dev.redis.enabled=true',
    '--set',
    'api.replicas=2',
    '--set',
    'worker.replicas=2',
    '--set',
    `engineNamespace=${namespace}-candidates`,
    '--set',
    `env.QUEUE_PREFIX=${namespace}`,
    // Every request comes from the test, through one relay: one client.
    '--set-string',
    'env.THROTTLE_PUBLIC=0/60',
    '--set-string',
    'env.THROTTLE_SESSION_START=0/60',
    '--set-string',
    'env.MAX_ACTIVE_SESSIONS_PER_CLIENT=0',
  ];
}

async function diagnose(error: Error): Promise<never> {
  const pods = await kubectl(['-n', namespace, 'get', 'pods', '-o', 'wide']).catch(() => '');
  const events = await kubectl([
    '-n',
    namespace,
    'get',
    'events',
    '--sort-by=.lastTimestamp',
  ]).catch(() => '');
  const logs = await kubectl([
    '-n',
    namespace,
    'logs',
    `deploy/${FULL}-api`,
    '--all-containers',
    '--tail=30',
  ]).catch((e: Error) => e.message);
  throw new Error(`${error.message}\n${pods}\n${events.slice(-4000)}\n${logs}`);
}

const readyReplicas = (deployment: string) =>
  kubectl([
    '-n',
    namespace,
    'get',
    'deployment',
    deployment,
    '-o',
    'jsonpath={.status.readyReplicas}/{.spec.replicas}/{.status.updatedReplicas}',
  ]);

const podsOf = async (component: string) =>
  (
    await kubectl([
      '-n',
      namespace,
      'get',
      'pods',
      '-l',
      `app.kubernetes.io/component=${component}`,
      '--field-selector=status.phase=Running',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}',
    ])
  )
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter(([name, deleting]) => name && !deleting)
    .map(([name]) => name!);

// --- the engine's API, through the Service -------------------------------

interface Started {
  id: string;
  token: string;
}

/** Requests retried after a connection error or no answer (logged: each is a backend gone mid-rollout). */
let retried = 0;

/**
 * One request through the Service. A GET that gets no answer (a connection
 * to a pod that was just removed, before node01's kube-proxy rules drop it)
 * is asked again, as a browser would; a write is not, unless `retry` says it
 * may be repeated.
 */
async function api(
  path: string,
  options: { method?: string; token?: string; body?: unknown; retry?: boolean } = {},
): Promise<Response> {
  const method = options.method ?? 'GET';
  const attempts = (options.retry ?? method === 'GET') ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          // A new connection each time: the Service picks a backend per connection.
          connection: 'close',
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const why = `${method} ${path} at ${new Date().toISOString()}: ${(error as Error).message}`;
      if (attempt >= attempts) throw new Error(why);
      retried++;
      log(`retrying ${why}`);
    }
  }
}

/** Submits; a repeat after no answer may find it submitted already (409), which is as good. */
async function submit(s: Started): Promise<void> {
  const res = await api('/api/sessions/me/submit', { method: 'POST', token: s.token, retry: true });
  if (res.status !== 200 && !(res.status === 409 && retried > 0))
    throw new Error(`submit ${s.id}: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

async function json<T>(response: Promise<Response>): Promise<T> {
  const res = await response;
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function startSessions(count: number, name: string): Promise<Started[]> {
  const sessions = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const body = await json<{ sessionToken: string; session: { id: string } }>(
        api('/api/sessions', {
          method: 'POST',
          body: { examId: EXAM, candidateName: `${name}-${i}` },
        }),
      );
      return { id: body.session.id, token: body.sessionToken };
    }),
  );
  await Promise.all(
    sessions.map((s) =>
      eventually(
        `session ${s.id} active`,
        async () => {
          const me = await json<{ state: string; failureReason: string | null }>(
            api('/api/sessions/me', { token: s.token }),
          );
          if (me.state === 'provisioning_failed')
            throw new Error(`provisioning failed: ${me.failureReason}`);
          if (me.state === 'ready')
            await json(api('/api/sessions/me/begin', { method: 'POST', token: s.token }));
          return me.state;
        },
        (state) => state === 'active',
        300_000,
      ),
    ),
  );
  return sessions;
}

interface MyView {
  state: string;
  deadline: string | null;
  questions: { questionId: string; task: string; answer: string | null }[];
}

const myView = (s: Started) => json<MyView>(api('/api/sessions/me', { token: s.token }));
const word = (view: MyView) =>
  /`(\w+)`/.exec(view.questions.find((q) => q.questionId === 'scale-out-answer')!.task)![1]!;
const saveAnswer = (s: Started, answer: string) =>
  api('/api/sessions/me/answers/scale-out-answer', {
    method: 'PUT',
    token: s.token,
    body: { answer },
  });

interface Report {
  state: string;
  history: unknown[];
  tasks: { questionId: string; answer: string | null; checks: { id: string; status: string }[] }[];
}

/** Polls (as staff) until every session is graded; returns their reports. */
async function untilGraded(sessions: Started[], timeoutMs = 600_000): Promise<Report[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(
      sessions.map(
        async (s) =>
          (await json<{ state: string }>(api(`/api/sessions/${s.id}`, { token: staff }))).state,
      ),
    );
    const failed = states.filter((s) => s === 'grading_failed');
    if (failed.length) throw new Error(`${failed.length} sessions grading_failed`);
    if (states.every((s) => s === 'graded'))
      return Promise.all(
        sessions.map((s) => json<Report>(api(`/api/sessions/${s.id}/report`, { token: staff }))),
      );
    if (Date.now() > deadline)
      throw new Error(`not all graded after ${timeoutMs} ms: ${JSON.stringify(states)}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** Graded exactly once (one grade run) with the typed answer scored. */
function expectGradedOnce(reports: Report[], answers: string[]): void {
  expect(reports.map((r) => r.history.length)).toEqual(reports.map(() => 1));
  const typed = reports.map((r) => r.tasks.find((t) => t.questionId === 'scale-out-answer')!);
  expect(typed.map((t) => t.answer)).toEqual(answers);
}

/**
 * Each session saves answer after answer (one request at a time, as a
 * console does) until `stop`; records the last one acknowledged with 200.
 */
function saveLoop(sessions: Started[], label: string) {
  let running = true;
  const acknowledged = new Map<string, number>();
  let failures = 0;
  let saves = 0;
  const loops = sessions.map(async (s) => {
    for (let n = 1; running; n++) {
      const res = await saveAnswer(s, `${label}-${n}`).catch(() => undefined);
      saves++;
      if (res?.status === 200) acknowledged.set(s.id, n);
      else {
        failures++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await res?.body?.cancel();
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { acknowledged, failures, saves };
    },
  };
}

/** Every session's stored answer is its last acknowledged one or a later attempt (its reply lost). */
async function expectNoAcknowledgedLoss(
  sessions: Started[],
  label: string,
  acknowledged: Map<string, number>,
): Promise<void> {
  for (const s of sessions) {
    const stored = (await myView(s)).questions.find(
      (q) => q.questionId === 'scale-out-answer',
    )!.answer;
    const n = Number(stored?.slice(label.length + 1));
    expect(stored?.startsWith(`${label}-`)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(acknowledged.get(s.id) ?? 0);
  }
}

beforeAll(async () => {
  // Nodes have their own /tmp; /var/tmp is the machine's, seen by every node.
  work = await mkdtemp('/var/tmp/engine-chart-');
  helm = (await ensureSandboxBinaries({ log })).helm;
  await pushImage('first', false);
});

afterAll(async () => {
  log(`requests retried after no answer: ${retried}`);
  stopRelay?.();
  await run(helm, [
    'uninstall',
    'exam',
    '-n',
    namespace,
    '--kubeconfig',
    process.env.REAL_KUBECONFIG ?? '',
  ]).catch(() => undefined);
  await kubectl([
    'delete',
    'namespace',
    namespace,
    `${namespace}-candidates`,
    '--ignore-not-found',
    '--wait=false',
  ]).catch(() => undefined);
  if (work) await rm(work, { recursive: true, force: true });
});

it('installs from the registry with its own PostgreSQL and Redis, becomes Ready under Pod Security restricted, answers /health through its Service', async () => {
  await kubectl(['create', 'namespace', namespace]);
  await kubectl([
    'label',
    'namespace',
    namespace,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  ]);
  const started = Date.now();
  await run(helm, ['install', 'exam', ...helmArgs('first')]);
  for (const component of ['api', 'worker'])
    await eventually(
      `the ${component} Deployment available`,
      () => readyReplicas(`${FULL}-${component}`),
      (value) => value.startsWith('2/2/'),
      420_000,
    ).catch(diagnose);
  log(`API and worker pods Ready ${seconds(started)} s after helm install`);

  const clusterIp = await kubectl([
    '-n',
    namespace,
    'get',
    'service',
    FULL,
    '-o',
    'jsonpath={.spec.clusterIP}',
  ]);
  const relay = await relayOnNode('node01', clusterIp, 80);
  stopRelay = relay.stop;
  base = relay.url;

  const health = await json<unknown>(api('/health'));
  expect(health).toMatchObject({
    status: 'ok',
    checks: {
      database: { status: 'up' },
      redis: { status: 'up' },
      clusters: { main: { status: 'up' } },
    },
  });
  expect(await json(api('/health/live'))).toEqual({ status: 'ok' });
  // Every pod ran as its image's user (the engine's, PostgreSQL's and Redis's), admitted by restricted.
  const users = await kubectl([
    '-n',
    namespace,
    'get',
    'pods',
    '-l',
    'app.kubernetes.io/name=cka-engine',
    '-o',
    'jsonpath={range .items[*]}{.spec.securityContext.runAsUser}{"\\n"}{end}',
  ]);
  expect(new Set(users.split('\n').filter(Boolean))).toEqual(new Set(['10001', '999']));
  const images = await kubectl([
    '-n',
    namespace,
    'get',
    'pods',
    '-o',
    'jsonpath={range .items[*]}{.status.containerStatuses[0].imageID}{"\\n"}{end}',
  ]);
  // Pulled by the nodes' containerd through the mirror (an image ID with a registry digest).
  expect(images).toContain(`docker.io/library/${REPOSITORY}@sha256:`);

  staff = (
    await kubectl([
      '-n',
      namespace,
      'exec',
      `deploy/${FULL}-api`,
      '-c',
      'api',
      '--',
      'node',
      'dist/src/auth/token.cli.js',
      'create',
      '--role',
      'admin',
      '--name',
      'scale-out',
    ])
  )
    .trim()
    .split('\n')
    .at(-1)!;
  expect(staff.length).toBeGreaterThan(20);
});

it('grades forty sessions submitted at once exactly once, with a worker pod deleted mid-grading', async () => {
  const started = Date.now();
  const sessions = await startSessions(40, 'many');
  log(`40 sessions active ${seconds(started)} s after they were started`);
  const answers = await Promise.all(
    sessions.map(async (s) => {
      const answer = word(await myView(s));
      expect((await saveAnswer(s, answer)).status).toBe(200);
      return answer;
    }),
  );
  const submitted = Date.now();
  await Promise.all(sessions.map(submit));
  // Mid-grading: as soon as the first session is graded, one worker goes
  // (a short grace period: what it holds is cut off, as in a crash).
  await eventually(
    'a first session graded',
    () =>
      Promise.all(
        sessions.map((s) =>
          json<{ state: string }>(api(`/api/sessions/${s.id}`, { token: staff })),
        ),
      ),
    (views) => views.some((v) => v.state === 'graded'),
    300_000,
  );
  const [victim] = await podsOf('worker');
  await kubectl(['-n', namespace, 'delete', 'pod', victim!, '--grace-period=1', '--wait=false']);
  const killed = Date.now();
  log(`worker ${victim} deleted ${seconds(submitted)} s after the submits`);

  const reports = await untilGraded(sessions);
  log(
    `all 40 graded ${seconds(submitted)} s after the submits, ${seconds(killed)} s after the worker was deleted`,
  );
  expectGradedOnce(reports, answers);
  expect(
    reports.every(
      (r) =>
        r.tasks.find((t) => t.questionId === 'scale-out-answer')!.checks[0]!.status === 'passed',
    ),
  ).toBe(true);
  // The Deployment replaced the worker.
  await eventually(
    'two workers again',
    () => readyReplicas(`${FULL}-worker`),
    (v) => v.startsWith('2/2/'),
    300_000,
  );
  expect(await podsOf('worker')).not.toContain(victim);
});

it('loses no acknowledged answer when an API pod is deleted mid-save', async () => {
  const sessions = await startSessions(6, 'saves');
  const loop = saveLoop(sessions, 'save');
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const [victim] = await podsOf('api');
  await kubectl(['-n', namespace, 'delete', 'pod', victim!, '--grace-period=1', '--wait=false']);
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  const { acknowledged, failures, saves } = await loop.stop();
  log(`API pod ${victim} deleted mid-save: ${saves} saves, ${failures} not acknowledged`);
  expect(acknowledged.size).toBe(sessions.length);
  await expectNoAcknowledgedLoss(sessions, 'save', acknowledged);
  await eventually(
    'two API pods again',
    () => readyReplicas(`${FULL}-api`),
    (v) => v.startsWith('2/2/'),
    300_000,
  );
  expect(await podsOf('api')).not.toContain(victim);

  // The same sessions live on through the upgrade below.
  sessionsForUpgrade = sessions;
});

let sessionsForUpgrade: Started[] = [];

it('upgrades to a new image with a migration while sessions are active and loses nothing', async () => {
  const sessions = sessionsForUpgrade;
  expect(sessions.length).toBeGreaterThan(0);
  const before = await Promise.all(sessions.map(myView));
  await pushImage('second', true);
  const loop = saveLoop(sessions, 'upgrade');
  const started = Date.now();
  await run(helm, ['upgrade', 'exam', ...helmArgs('second'), '--wait', '--timeout', '10m']).catch(
    diagnose,
  );
  log(`helm upgrade done in ${seconds(started)} s`);
  const { acknowledged, failures, saves } = await loop.stop();
  log(`saves during the upgrade: ${saves}, ${failures} not acknowledged`);

  // The new migration ran once, in the database every pod shares.
  const applied = await kubectl([
    '-n',
    namespace,
    'exec',
    `deploy/${FULL}-postgresql`,
    '--',
    'psql',
    '-U',
    'cka',
    '-d',
    'cka',
    '-tAc',
    `SELECT count(*) FROM migrations WHERE name = 'UpgradeProbe1799000000000'`,
  ]);
  expect(applied.trim()).toBe('1');
  // Every engine pod runs the new image.
  const tags = await kubectl([
    '-n',
    namespace,
    'get',
    'pods',
    '-l',
    'app.kubernetes.io/component in (api,worker)',
    '--field-selector=status.phase=Running',
    '-o',
    'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}',
  ]);
  expect(new Set(tags.split('\n').filter(Boolean))).toEqual(new Set([`${REPOSITORY}:second`]));

  // Nothing lost: the sessions are still active with their deadlines, and
  // every acknowledged answer is stored.
  const after = await Promise.all(sessions.map(myView));
  expect(after.map((v) => [v.state, v.deadline])).toEqual(
    before.map((v) => ['active', v.deadline]),
  );
  expect(acknowledged.size).toBe(sessions.length);
  await expectNoAcknowledgedLoss(sessions, 'upgrade', acknowledged);

  // And they are graded once after it, each with its last answer.
  const last = after.map(
    (v) => v.questions.find((q) => q.questionId === 'scale-out-answer')!.answer,
  );
  await Promise.all(sessions.map(submit));
  expectGradedOnce(await untilGraded(sessions), last as string[]);
});
