import { jest } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { ProvisioningService } from '../../src/provisioning/provisioning.service.js';
import { SessionSweeper } from '../../src/provisioning/sweeper.service.js';
import { QueueName } from '../../src/queue/jobs.js';
import { QueueService } from '../../src/queue/queue.service.js';
import { SessionQuestion } from '../../src/sessions/session-question.entity.js';
import { Session } from '../../src/sessions/session.entity.js';
import { isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
import { kubectl } from '../support/cluster.js';
import { bearer, type Candidate, startCandidate } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';

jest.setTimeout(90_000);

describe('per-candidate provisioning on the sandbox cluster', () => {
  let t: TestApp;
  let a: Candidate;
  let b: Candidate;

  const as = (c: Candidate, args: string[]) => kubectl(args, c.kubeconfig);
  const forbidden = (c: Candidate, args: string[]) =>
    expect(as(c, args)).rejects.toMatchObject({
      stderr: expect.stringMatching(/Forbidden|forbidden/),
    });

  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv());
    [a, b] = await Promise.all([
      startCandidate(t, 'open-long', 'A'),
      startCandidate(t, 'open-long', 'B'),
    ]);
  });
  afterAll(() => t?.close());

  it('gives each candidate their own namespace, with the question setup applied and labelled', async () => {
    const download = await t.http
      .get('/api/sessions/me/kubeconfig')
      .set(bearer(a.token))
      .expect(200);
    expect(download.headers['content-type']).toMatch(/^application\/yaml/);
    expect((parse(download.text) as { 'current-context': string })['current-context']).toBe('main');
    expect(a.namespace).toMatch(/^s[a-z0-9]{5}-app$/);
    expect(b.namespace).not.toBe(a.namespace);
    const hint = JSON.parse(
      (await kubectl(['-n', a.namespace, 'get', 'configmap', 'hint', '-o', 'json'])).stdout,
    );
    expect(hint.metadata.labels['cka.engine/session']).toBe(a.id);
    expect(hint.data.note).toMatch(/settings/);
    const ns = JSON.parse((await kubectl(['get', 'namespace', a.namespace, '-o', 'json'])).stdout);
    expect(ns.metadata.labels).toMatchObject({
      'cka.engine/session': a.id,
      'cka.engine/exam': 'open-long',
    });
    expect(ns.metadata.annotations['cka.engine/expires-at']).toMatch(/^\d{4}-/);
  });

  it('lets a candidate work in their own namespace, with quota and default limits', async () => {
    expect(
      (await as(a, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout,
    ).toMatch(/^system:serviceaccount:cka-engine:s[a-z0-9]{5}-candidate$/);
    await as(a, ['create', 'configmap', 'settings', '--from-literal=LOG_LEVEL=info']);
    await as(a, ['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await as(a, ['create', 'role', 'reader', '--verb=get', '--resource=pods']);
    expect((await as(a, ['get', 'resourcequota', 'cka-quota', '-o', 'name'])).stdout.trim()).toBe(
      'resourcequota/cka-quota',
    );
    expect((await as(a, ['auth', 'can-i', 'delete', 'pods'])).stdout.trim()).toBe('yes');
  });

  it('fences a candidate off from everything else', async () => {
    await forbidden(a, ['get', 'pods', '-n', b.namespace]);
    await forbidden(a, ['get', 'secrets', '-n', 'kube-system']);
    await forbidden(a, ['get', 'serviceaccounts', '-n', 'cka-engine']);
    // Nodes can be read (every CKA task assumes it), not changed.
    await as(a, ['get', 'nodes']);
    await forbidden(a, ['label', 'node', 'node01', 'x=y']);
    await forbidden(a, ['delete', 'namespace', a.namespace]);
    await forbidden(a, ['create', 'namespace', 'mine']);
    await forbidden(a, [
      'create',
      'clusterrolebinding',
      'escalate',
      '--clusterrole=cluster-admin',
      `--serviceaccount=cka-engine:${a.id}`,
    ]);
    // Binding a role one does not hold is refused by RBAC's escalation check.
    await expect(
      as(a, ['create', 'rolebinding', 'escalate', '--clusterrole=cluster-admin', '--user=me']),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/forbidden|escalat/i),
    });
    await forbidden(a, ['delete', 'resourcequota', 'cka-quota']);
    await expect(as(a, ['auth', 'can-i', 'list', 'pods', '-n', b.namespace])).rejects.toMatchObject(
      { code: 1, stdout: 'no\n' },
    );
  });

  it('revokes access the moment the exam ends, leaving the other candidate untouched', async () => {
    await t.http.post('/api/sessions/me/submit').set(bearer(a.token)).expect(200);
    // Once the end's revocation has run, nothing A tries is allowed any more.
    await eventually(
      "A's access to be revoked",
      async () => (await t.http.get('/api/sessions/me').set(bearer(a.token))).body,
      (s: { accessRevokedAt: string | null }) => s.accessRevokedAt !== null,
    );
    // Bindings are gone at once (403); the deleted ServiceAccount's tokens stop
    // authenticating (401) once the API server's 10 s token cache lets go.
    await expect(as(a, ['get', 'configmaps'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Forbidden|forbidden|Unauthorized|must be logged in/),
    });
    await expect(as(a, ['create', 'configmap', 'after-the-end'])).rejects.toMatchObject({
      code: 1,
    });
    await eventually(
      "A's token to stop authenticating",
      () =>
        as(a, ['get', 'configmaps']).then(
          () => 'still works',
          (e: { stderr: string }) => e.stderr,
        ),
      (result) => /Unauthorized|must be logged in/.test(result),
      20_000,
    );
    await as(b, ['get', 'configmaps']);
    const late = await t.http.get('/api/sessions/me/kubeconfig').set(bearer(a.token)).expect(409);
    expect(late.body.code).toBe('SESSION_EXPIRED');
    // A's work stays for grading.
    await kubectl(['-n', a.namespace, 'get', 'configmap', 'settings']);
  });

  it('revokes at the end even while no grading slot is free, and grades when one is', async () => {
    // Every grader busy (the grading queue paused): the end must not wait for them.
    const grading = t.app.get(QueueService).queue(QueueName.GRADING);
    await grading.pause();
    try {
      await t.http.post('/api/sessions/me/submit').set(bearer(b.token)).expect(200);
      const revoked = await eventually(
        "B's access to be revoked with grading held up",
        async () =>
          (await t.http.get('/api/sessions/me').set(bearer(b.token))).body as {
            state: string;
            accessRevokedAt: string | null;
          },
        (s) => s.accessRevokedAt !== null,
        20_000,
      );
      expect(revoked.state).toBe('submitted');
      // Frozen: a change is refused now, not once grading gets round to it.
      await expect(as(b, ['create', 'configmap', 'after-the-end'])).rejects.toMatchObject({
        stderr: expect.stringMatching(/Forbidden|forbidden|Unauthorized|must be logged in/),
      });
      await expect(
        kubectl(['-n', b.namespace, 'get', 'configmap', 'after-the-end']),
      ).rejects.toMatchObject({ stderr: expect.stringContaining('NotFound') });
      expect((await t.http.get('/api/sessions/me').set(bearer(b.token))).body.state).toBe(
        'submitted',
      );
    } finally {
      await grading.resume();
    }
    await eventually(
      "B's session to be graded",
      async () => (await t.http.get('/api/sessions/me').set(bearer(b.token))).body.state as string,
      (state) => state === 'graded',
      60_000,
    );
  });

  it("lets two revokes of one session run at once (the end's job and grading): both finish", async () => {
    const c = await startCandidate(t, 'open-long', 'R');
    const session = await t.dataSource.getRepository(Session).findOneByOrFail({ id: c.id });
    const provisioning = t.app.get(ProvisioningService);
    // Whichever sees the freeze first removes the account the other probes with.
    await Promise.all([provisioning.revoke(session), provisioning.revoke(session)]);
    await expect(as(c, ['create', 'configmap', 'after-the-end'])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Forbidden|forbidden|Unauthorized|must be logged in/),
    });
  });

  it('marks a session whose setup the API server rejects as provisioning_failed, naming the question', async () => {
    const res = await t.http
      .post('/api/sessions')
      .send({ examId: 'broken', candidateName: 'C' })
      .expect(201);
    const failed = await eventually(
      'the session to fail provisioning after its retries',
      async () =>
        (await t.http.get('/api/sessions/me').set(bearer(res.body.sessionToken))).body as {
          state: string;
          failureReason: string | null;
          deadline: string | null;
        },
      (s) => s.state === 'provisioning_failed',
      30_000,
    );
    // The candidate is told what happened, not the API server's words.
    expect(failed.failureReason).toMatch(/^Your exam environment could not be prepared/);
    expect(failed.failureReason).not.toMatch(/Widget|cluster main/);
    expect(failed.deadline).toBeNull();
    const trainer = await t.staffToken(StaffRole.TRAINER);
    const full = await t.http
      .get(`/api/sessions/${res.body.session.id}`)
      .set(bearer(trainer))
      .expect(200);
    expect(full.body.failureReason).toMatch(
      /^setup of question broken-setup failed: cluster main: apply Widget s[a-z0-9]{5}-broken\/w: /,
    );
    // Its access objects go at once; the half-built namespace stays for the trainer until teardown.
    const prefix = (full.body.questions[0].variables as { ns: string }).ns.split('-')[0];
    await eventually(
      "the failed session's ServiceAccount and RoleBinding to be gone",
      async () =>
        (
          await kubectl([
            'get',
            `serviceaccount/${prefix}-candidate`,
            '-n',
            'cka-engine',
            '--ignore-not-found',
            '-o',
            'name',
          ])
        ).stdout +
        (
          await kubectl([
            'get',
            'rolebinding/cka-candidate',
            '-n',
            `${prefix}-broken`,
            '--ignore-not-found',
            '-o',
            'name',
          ])
        ).stdout,
      (out) => out.trim() === '',
      20_000,
    );
    await kubectl(['get', 'namespace', `${prefix}-broken`]);
    expect(full.body.events.map((e: { to: string }) => e.to)).toEqual([
      'created',
      'provisioning',
      'provisioning_failed',
    ]);
    await t.http.get('/api/sessions/me/kubeconfig').set(bearer(res.body.sessionToken)).expect(409);
  });
});

describe('teardown and the sweeper', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv({ TEARDOWN_AFTER_SECONDS: '0' }));
  });
  afterAll(() => t?.close());

  const gone = (kind: string, name: string, namespace?: string) =>
    eventually(
      `${kind} ${name} to be gone or terminating`,
      () =>
        kubectl([
          'get',
          kind,
          name,
          ...(namespace ? ['-n', namespace] : []),
          '-o',
          'jsonpath={.status.phase}',
        ]).then(
          (r) => r.stdout,
          (e: { stderr: string }) => e.stderr,
        ),
      (out) => /NotFound|Terminating/.test(out),
      30_000,
    );

  it("removes a graded session's namespaces and ServiceAccount after the retention", async () => {
    const { id, token, namespace, serviceAccount } = await startCandidate(t, 'open-long', 'T');
    await kubectl(['get', 'namespace', namespace]);
    await t.http.post('/api/sessions/me/submit').set(bearer(token)).expect(200);
    await gone('namespace', namespace);
    await gone('serviceaccount', serviceAccount, 'cka-engine');
    // Nothing labelled for the session is left, of any kind the engine creates.
    const provisioning = t.app.get(ProvisioningService);
    await eventually(
      'no object labelled for the session on the cluster',
      () => provisioning.labelledSessions('main'),
      (ids) => !ids.has(id),
      30_000,
    );
  });

  it('sweeps expired labelled objects whose session the database does not know, never a live exam of another installation', async () => {
    const orphan = `orphan-${Date.now().toString(36)}`;
    const unknownSession = '00000000-0000-4000-8000-00000000dead';
    await kubectl(['create', 'namespace', orphan]);
    await kubectl(['label', 'namespace', orphan, `cka.engine/session=${unknownSession}`]);
    // Another installation's exam still in progress on the same cluster.
    const live = `live-${Date.now().toString(36)}`;
    const otherSession = '00000000-0000-4000-8000-0000000011fe';
    await kubectl(['create', 'namespace', live]);
    await kubectl(['label', 'namespace', live, `cka.engine/session=${otherSession}`]);
    const later = new Date(Date.now() + 3600_000).toISOString();
    await kubectl(['annotate', 'namespace', live, `cka.engine/expires-at=${later}`]);
    const sweeper = t.app.get(SessionSweeper);
    expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1);
    await gone('namespace', orphan);
    const kept = JSON.parse((await kubectl(['get', 'namespace', live, '-o', 'json'])).stdout);
    expect(kept.metadata.deletionTimestamp).toBeUndefined();
    await kubectl(['delete', 'namespace', live, '--wait=false']);
  });
});

describe('cluster-scoped grants fenced by the session prefix', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv({ TEARDOWN_AFTER_SECONDS: '0' }));
  });
  afterAll(() => t?.close());

  const pv = (name: string) => `apiVersion: v1
kind: PersistentVolume
metadata: { name: ${name} }
spec: { capacity: { storage: 1Gi }, accessModes: [ReadWriteOnce], storageClassName: ${name}, hostPath: { path: /srv/${name} } }
`;

  it("admits objects with the prefix, rejects others, and removes the candidate's after the exam", async () => {
    const { token, kubeconfig, prefix } = await startCandidate(t, 'cluster-grant', 'P');
    const dir = tmpdir();
    const file = async (name: string) => {
      const path = join(dir, `${name}.yaml`);
      await writeFile(path, pv(name));
      return path;
    };

    // The policy is live once the API server's informer has it: retry briefly.
    const outside = await file(`foreign-${prefix}`);
    const rejected = await eventually(
      'the prefix policy to reject a PersistentVolume without the prefix',
      () =>
        kubectl(['create', '-f', outside], kubeconfig).then(
          () => 'created',
          (e: { stderr: string }) => e.stderr,
        ),
      (out) => out !== 'created',
    );
    expect(rejected).toContain(
      `names of cluster-wide objects must start with ${prefix}- (your session prefix)`,
    );
    await kubectl(['create', '-f', await file(`${prefix}-data`)], kubeconfig);
    expect((await kubectl(['get', 'pv', `${prefix}-data`, '-o', 'name'])).stdout.trim()).toBe(
      `persistentvolume/${prefix}-data`,
    );

    // By name only: listing would show every other session's volumes and claims.
    expect(
      (await kubectl(['get', 'pv', `${prefix}-data`, '-o', 'name'], kubeconfig)).stdout.trim(),
    ).toBe(`persistentvolume/${prefix}-data`);
    await expect(kubectl(['get', 'pv'], kubeconfig)).rejects.toMatchObject({
      stderr: expect.stringMatching(/forbidden/i),
    });

    // Someone else's volume cannot be deleted either.
    const other = `other-${prefix}`;
    await kubectl(['create', '-f', await file(other)]);
    await expect(kubectl(['delete', 'pv', other], kubeconfig)).rejects.toMatchObject({
      stderr: expect.stringContaining('must start with'),
    });
    await kubectl(['delete', 'pv', other, '--wait=false']);

    await t.http.post('/api/sessions/me/submit').set(bearer(token)).expect(200);
    await eventually(
      "the candidate's volume and the policy to be removed with the session",
      async () => (await kubectl(['get', 'pv,validatingadmissionpolicy', '-o', 'name'])).stdout,
      (out) => !out.includes(`${prefix}-data`) && !out.includes(`cka-${prefix}-cluster`),
      30_000,
    );
  });
});

describe('setup waits, progress, token lifetime and an unreachable cluster', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv({ JOB_ATTEMPTS: '2' }));
  });
  afterAll(() => t?.close());

  const until = (token: string, states: string[], timeoutMs = 60_000) =>
    eventually(
      `the session to reach ${states.join(' or ')}`,
      async () =>
        (await t.http.get('/api/sessions/me').set(bearer(token))).body as {
          state: string;
          deadline: string;
          failureReason: string | null;
          questions: { questionId: string; setupStatus: string; setupMessage: string | null }[];
        },
      (s) => states.includes(s.state),
      timeoutMs,
    );

  it("starts the timer only once the setup is up, and shows each task's setup progress", async () => {
    const res = await t.http
      .post('/api/sessions')
      .send({ examId: 'with-wait', candidateName: 'W' })
      .expect(201);
    expect(res.body.session.questions.map((q: { setupStatus: string }) => q.setupStatus)).toEqual([
      'pending',
      'pending',
    ]);
    await until(res.body.sessionToken, ['ready']);
    const active = (
      await t.http.post('/api/sessions/me/begin').set(bearer(res.body.sessionToken)).expect(200)
    ).body as { deadline: string; questions: { questionId: string; setupStatus: string }[] };
    expect(active.questions.map((q) => [q.questionId, q.setupStatus])).toEqual([
      ['wait-deploy', 'applied'],
      ['answer-text', 'applied'],
    ]);
    const text = (
      await t.http.get('/api/sessions/me/kubeconfig').set(bearer(res.body.sessionToken)).expect(200)
    ).text;
    const config = parse(text) as {
      users: { user: { token: string } }[];
      contexts: { context: { namespace: string } }[];
    };
    const deployment = JSON.parse(
      (
        await kubectl([
          '-n',
          config.contexts[0].context.namespace,
          'get',
          'deployment',
          'frontend',
          '-o',
          'json',
        ])
      ).stdout,
    );
    expect(deployment.status.availableReplicas).toBe(2);

    // The bound token lives until the deadline plus the grace period (300 s by default).
    const claims = JSON.parse(
      Buffer.from(config.users[0].user.token.split('.')[1], 'base64url').toString(),
    );
    const expected = new Date(active.deadline).getTime() / 1000 + 300;
    expect(Math.abs(claims.exp - expected)).toBeLessThanOrEqual(5);
    expect(claims.sub).toMatch(/^system:serviceaccount:cka-engine:s[a-z0-9]{5}-candidate$/);
  });

  it('provisions an exam whose tasks use no namespace (nothing namespaced to fence)', async () => {
    const res = await t.http
      .post('/api/sessions')
      .send({ examId: 'answer-only', candidateName: 'N' })
      .expect(201);
    const ready = await until(res.body.sessionToken, ['ready', 'provisioning_failed']);
    expect(ready.state).toBe('ready');
  });

  it("applies the exam's namespace limits", async () => {
    const { kubeconfig: path } = await startCandidate(t, 'tight', 'Q');
    await kubectl(['run', 'one', '--image=nginx'], path);
    await expect(kubectl(['run', 'two', '--image=nginx'], path)).rejects.toMatchObject({
      stderr: expect.stringContaining('exceeded quota: cka-quota'),
    });
    const pod = JSON.parse((await kubectl(['get', 'pod', 'one', '-o', 'json'], path)).stdout);
    expect(pod.spec.containers[0].resources).toEqual({
      requests: { cpu: '10m', memory: '16Mi' },
      limits: { cpu: '100m', memory: '64Mi' },
    });
  });

  it('fails provisioning with the task and what it waited for when a setup wait times out', async () => {
    const res = await t.http
      .post('/api/sessions')
      .send({ examId: 'wait-fails', candidateName: 'F' })
      .expect(201);
    await until(res.body.sessionToken, ['provisioning_failed']);
    const trainer = await t.staffToken(StaffRole.TRAINER);
    const failed = (
      await t.http.get(`/api/sessions/${res.body.session.id}`).set(bearer(trainer)).expect(200)
    ).body as { failureReason: string; questions: { setupStatus: string; setupMessage: string }[] };
    expect(failed.failureReason).toMatch(
      /^setup of question wait-never failed: cluster main: waiting for ConfigMap s[a-z0-9]{5}-stuck\/plain to be Ready timed out after 2 s; last: no Ready condition yet$/,
    );
    expect(failed.questions[0]).toMatchObject({
      setupStatus: 'failed',
      setupMessage: failed.failureReason,
    });
    // The candidate sees that the task's setup failed, not why.
    const mine = await until(res.body.sessionToken, ['provisioning_failed']);
    expect(mine.questions[0]).toMatchObject({
      setupStatus: 'failed',
      setupMessage: 'The setup of this task failed; a trainer can see why.',
    });
  });

  it('runs a setup of ordered steps: each revision of a Deployment before the next, kubectl as the engine', async () => {
    const { id, namespace } = await startCandidate(t, 'stepped', 'O');
    const deployment = JSON.parse(
      (await kubectl(['-n', namespace, 'get', 'deployment', 'web', '-o', 'json'])).stdout,
    );
    expect(deployment.metadata.labels['cka.engine/session']).toBe(id);
    // The last step, a kubectl command, ran after the third revision.
    expect(deployment.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '3',
      'kubernetes.io/change-cause': 'third',
    });
    // One ReplicaSet per step that changed the template, in the order of the steps.
    const sets = (
      JSON.parse(
        (await kubectl(['-n', namespace, 'get', 'replicasets', '-l', 'app=web', '-o', 'json']))
          .stdout,
      ) as {
        items: {
          metadata: { annotations: Record<string, string> };
          spec: { template: { spec: { containers: { image: string }[] } } };
        }[];
      }
    ).items;
    expect(
      sets
        .map((rs) => [
          rs.metadata.annotations['deployment.kubernetes.io/revision'],
          rs.spec.template.spec.containers[0].image,
        ])
        .sort(),
    ).toEqual([
      ['1', 'nginx:1.25'],
      ['2', 'nginx:1.26'],
      ['3', 'nginx:1.27'],
    ]);
  });

  it('still provisions a question issued before setup steps were stored: its setup, then its setupWaits', async () => {
    const { id, namespace } = await startCandidate(t, 'stepped', 'L');
    const session = await t.dataSource.getRepository(Session).findOneByOrFail({ id });
    // As a row written before the setupSteps column: manifests and waits in their own columns.
    await t.dataSource.getRepository(SessionQuestion).update(
      { sessionId: id },
      {
        setupSteps: [],
        setup: `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: legacy, namespace: ${namespace} }\ndata: { from: setup }\n`,
        setupWaits: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'legacy',
            namespace,
            condition: 'Ready',
            timeout: 1,
          },
        ],
      },
    );
    // The wait found the ConfigMap (a ConfigMap never has conditions): the setup was applied first.
    await expect(
      t.app.get(ProvisioningService).provision(session, session.deadline!),
    ).rejects.toThrow(
      `setup of question stepped-setup failed: cluster main: waiting for ConfigMap ${namespace}/legacy to be Ready timed out after 1 s; last: no Ready condition yet`,
    );
    const legacy = JSON.parse(
      (await kubectl(['-n', namespace, 'get', 'configmap', 'legacy', '-o', 'json'])).stdout,
    );
    expect(legacy.data).toEqual({ from: 'setup' });
    expect(legacy.metadata.labels['cka.engine/session']).toBe(id);
  });

  it("fails provisioning with a kubectl step's own error output", async () => {
    const res = await t.http
      .post('/api/sessions')
      .send({ examId: 'kubectl-fails', candidateName: 'K' })
      .expect(201);
    await until(res.body.sessionToken, ['provisioning_failed']);
    const trainer = await t.staffToken(StaffRole.TRAINER);
    const failed = (
      await t.http.get(`/api/sessions/${res.body.session.id}`).set(bearer(trainer)).expect(200)
    ).body as { failureReason: string; questions: { setupStatus: string }[] };
    expect(failed.failureReason).toMatch(
      /^setup of question kubectl-fails failed: kubectl -n s[a-z0-9]{5}-fails rollout status deployment\/missing --timeout=5s failed \(exit 1\): Error from server \(NotFound\): deployments.apps "missing" not found$/,
    );
    expect(failed.questions[0].setupStatus).toBe('failed');
  });

  it('retries against an unreachable API server, then fails with a clear reason', async () => {
    const dir = tmpdir();
    const unreachable = join(dir, `unreachable-${Date.now()}.kubeconfig`);
    await writeFile(
      unreachable,
      'apiVersion: v1\nkind: Config\nclusters: [{ name: x, cluster: { server: "https://127.0.0.1:9", insecure-skip-tls-verify: true } }]\nusers: [{ name: x, user: { token: t } }]\ncontexts: [{ name: x, context: { cluster: x, user: x } }]\ncurrent-context: x\n',
    );
    const other = await startTestApp(
      await isolatedEnv({ KUBECONFIG: unreachable, JOB_ATTEMPTS: '3' }),
    );
    try {
      const res = await other.http
        .post('/api/sessions')
        .send({ examId: 'open-long', candidateName: 'U' })
        .expect(201);
      const trainer = await other.staffToken(StaffRole.TRAINER);
      const failed = await eventually(
        'the session to fail provisioning',
        async () =>
          (await other.http.get(`/api/sessions/${res.body.session.id}`).set(bearer(trainer)))
            .body as { state: string; failureReason: string; events: { to: string }[] },
        (s) => s.state === 'provisioning_failed',
        30_000,
      );
      expect(failed.failureReason).toMatch(
        /^cluster main: (SelfSubjectReview|apply (ValidatingAdmissionPolicy|Namespace) .*): .*(ECONNREFUSED|connect|fetch failed)/,
      );
      expect(failed.events.map((e) => e.to)).toEqual([
        'created',
        'provisioning',
        'provisioning_failed',
      ]);
    } finally {
      await other.close();
    }
  });
});
