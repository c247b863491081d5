import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterClient } from '../../../src/cluster/cluster-client.js';
import {
  type CheckOutcome,
  runChecks,
  type TaskToGrade,
} from '../../../src/grading/check-runner.js';
import { ClusterReads } from '../../../src/grading/cluster-reads.js';
import { GraderLoader } from '../../../src/grading/grader-loader.js';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteNamespace,
  kubectl,
  tokenKubeConfig,
} from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';

/**
 * Every check kind against the sandbox cluster: what passes, what fails and
 * with which message, what is skipped, and what is an error (never a failure).
 */
describe('check kinds on a live cluster', () => {
  let ns: string;
  let pv: string;
  const admin = () => new ClusterClient('main', adminKubeConfig());
  const graders = new GraderLoader(join(process.cwd(), 'test/fixtures/graders'));

  async function grade(
    checks: TaskToGrade['checks'],
    options: {
      client?: ClusterClient;
      answer?: string;
      settleFrom?: number;
      reads?: ClusterReads;
    } = {},
  ): Promise<Record<string, CheckOutcome>> {
    const reads = options.reads ?? new ClusterReads(options.client ?? admin());
    const results = await runChecks(
      [
        {
          id: 't',
          questionId: 'q',
          cluster: 'main',
          variables: { ns, replicas: 3 },
          answer: options.answer ?? null,
          checks,
        },
      ],
      {
        readsFor: () => reads,
        loadGrader: (name) => graders.load(name),
        concurrency: 8,
        settleFrom: options.settleFrom ?? 0,
        pollIntervalMs: 200,
      },
    );
    return Object.fromEntries(results.get('t')!.map((o) => [o.checkId, o]));
  }

  const deployment = (name: string) => ({
    apiVersion: 'apps/v1',
    resourceKind: 'Deployment',
    name,
    namespace: ns,
  });

  beforeAll(async () => {
    ns = await createTestNamespace('grading');
    pv = `grading-pv-${randomBytes(3).toString('hex')}`;
    const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: "nginx:1.27", ports: [{ containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: typo, namespace: ${ns} }
spec: { selector: { app: wbe }, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${ns} }
data: { LOG_LEVEL: debug }
---
apiVersion: v1
kind: Pod
metadata: { name: stuck, namespace: ${ns}, labels: { app: stuck } }
spec:
  nodeSelector: { disk: none }
  containers: [{ name: c, image: busybox }]
---
apiVersion: v1
kind: Pod
metadata: { name: orphan, namespace: ${ns} }
spec:
  schedulerName: my-scheduler
  containers: [{ name: c, image: busybox }]
---
apiVersion: v1
kind: PersistentVolume
metadata: { name: ${pv} }
spec:
  capacity: { storage: 1Gi }
  accessModes: [ReadWriteOnce]
  storageClassName: grading-manual
  hostPath: { path: /srv/${pv} }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data, namespace: ${ns} }
spec:
  storageClassName: grading-manual
  accessModes: [ReadWriteOnce]
  volumeName: ${pv}
  resources: { requests: { storage: 1024Mi } }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db, namespace: ${ns} }
spec:
  podSelector: { matchExpressions: [{ key: app, operator: In, values: [db] }] }
  policyTypes: [Ingress]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: reader, namespace: ${ns} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: pod-reader, namespace: ${ns} }
rules: [{ apiGroups: [""], resources: [pods], verbs: [get, list, watch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader }
subjects: [{ kind: ServiceAccount, name: reader, namespace: ${ns} }]
`;
    const file = join(tmpdir(), `${ns}.yaml`);
    await writeFile(file, manifest);
    await kubectl(['apply', '-f', file]);
    await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);
    await kubectl([
      '-n',
      ns,
      'wait',
      '--for=jsonpath={.status.phase}=Bound',
      'pvc/data',
      '--timeout=60s',
    ]);
    // The EndpointSlice controller lags a finished rollout on a loaded API
    // server; the endpoints check below runs with timeout 0, so wait here.
    await eventually(
      'three ready endpoints of Service web',
      async () =>
        (
          await kubectl([
            '-n',
            ns,
            'get',
            'endpointslices',
            '-l',
            'kubernetes.io/service-name=web',
            '-o',
            'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}',
          ])
        ).stdout,
      (out) => out.trim().split(/\s+/).filter(Boolean).length >= 3,
      60_000,
    );
  }, 180_000);

  afterAll(async () => {
    await deleteNamespace(ns);
    await kubectl(['delete', 'pv', pv, '--ignore-not-found']);
  }, 60_000);

  it('resource: partial match with operators and any-order lists; one line per differing path', async () => {
    const r = await grade([
      {
        id: 'ok',
        kind: 'resource',
        description: 'd',
        ...deployment('web'),
        match: {
          spec: {
            replicas: 3,
            template: {
              spec: { containers: [{ name: 'web', image: { $regex: '^nginx:1\\.27' } }] },
            },
          },
        },
      },
      {
        id: 'replicas',
        kind: 'resource',
        description: 'd',
        ...deployment('web'),
        match: { spec: { replicas: 5 } },
      },
      {
        id: 'image',
        kind: 'resource',
        description: 'd',
        ...deployment('web'),
        match: {
          spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } },
        },
      },
      { id: 'missing', kind: 'resource', description: 'd', ...deployment('nope') },
      {
        id: 'quantity',
        kind: 'resource',
        description: 'd',
        apiVersion: 'v1',
        resourceKind: 'PersistentVolumeClaim',
        name: 'data',
        namespace: ns,
        match: { spec: { resources: { requests: { storage: '1Gi' } } } },
      },
      ...[
        ['either', 'db'],
        ['neither', 'web'],
      ].map(([id, app]) => ({
        id,
        kind: 'resource',
        description: 'd',
        apiVersion: 'networking.k8s.io/v1',
        resourceKind: 'NetworkPolicy',
        name: 'db',
        namespace: ns,
        match: {
          spec: {
            podSelector: {
              $anyOf: [
                { matchLabels: { app } },
                { matchExpressions: [{ key: 'app', operator: 'In', values: [app] }] },
              ],
            },
          },
        },
      })),
    ]);
    expect(r.ok.status).toBe('passed');
    expect(r.replicas).toMatchObject({
      status: 'failed',
      message: 'Deployment web: spec.replicas: expected 5, got 3',
    });
    expect(r.image.status).toBe('failed');
    expect(r.image.message).toContain(
      'containers[name=web].image: expected "nginx:1.25", got "nginx:1.27"',
    );
    expect(r.missing).toMatchObject({
      status: 'failed',
      message: `Deployment nope in ${ns} not found`,
    });
    expect(r.quantity.status).toBe('passed'); // 1024Mi == 1Gi
    expect(r.either.status).toBe('passed');
    expect(r.neither.status).toBe('failed');
    expect(r.neither.message).toContain('spec.podSelector: expected one of 2 alternatives');
  });

  it('absent and count, by name and by label and field selectors', async () => {
    const r = await grade([
      { id: 'gone', kind: 'absent', description: 'd', ...deployment('debug') },
      {
        id: 'there',
        kind: 'absent',
        description: 'd',
        apiVersion: 'v1',
        resourceKind: 'ConfigMap',
        name: 'settings',
        namespace: ns,
      },
      {
        id: 'labelled',
        kind: 'absent',
        description: 'd',
        apiVersion: 'v1',
        resourceKind: 'Pod',
        namespace: ns,
        labelSelector: 'app=stuck',
      },
      {
        id: 'three',
        kind: 'count',
        description: 'd',
        apiVersion: 'v1',
        resourceKind: 'Pod',
        namespace: ns,
        labelSelector: 'app=web',
        fieldSelector: 'status.phase=Running',
        equals: 3,
      },
      {
        id: 'four',
        kind: 'count',
        description: 'd',
        apiVersion: 'v1',
        resourceKind: 'Pod',
        namespace: ns,
        labelSelector: 'app=web',
        fieldSelector: 'status.phase=Running',
        equals: 4,
      },
      {
        id: 'pending',
        kind: 'count',
        description: 'd',
        apiVersion: 'v1',
        resourceKind: 'Pod',
        namespace: ns,
        fieldSelector: 'status.phase!=Running',
        // stuck and orphan
        min: 2,
        max: 2,
      },
    ]);
    expect(r.gone.status).toBe('passed');
    expect(r.there).toMatchObject({
      status: 'failed',
      message: `ConfigMap settings in ${ns} still exists`,
    });
    expect(r.labelled).toMatchObject({
      status: 'failed',
      message: `Pods with app=stuck in ${ns} still exist: stuck`,
    });
    expect(r.three.status).toBe('passed');
    expect(r.four).toMatchObject({
      status: 'failed',
      message: `expected 4 Pods with app=web, status.phase=Running in ${ns}, found 3`,
    });
    expect(r.pending.status).toBe('passed');
  });

  it('expr: CEL over named objects and vars, with messageExpression; a missing field fails readably', async () => {
    const r = await grade([
      {
        id: 'ok',
        kind: 'expr',
        description: 'd',
        objects: { deploy: deployment('web') },
        expression:
          'deploy.spec.replicas == vars.replicas && deploy.spec.template.spec.containers.all(c, c.image.startsWith("nginx"))',
      },
      {
        id: 'message',
        kind: 'expr',
        description: 'd',
        objects: { deploy: deployment('web') },
        variables: [{ name: 'want', expression: 'vars.replicas + 2' }],
        expression: 'deploy.spec.replicas == variables.want',
        messageExpression:
          '"web has " + string(deploy.spec.replicas) + " replicas, expected " + string(variables.want)',
      },
      {
        id: 'pods',
        kind: 'expr',
        description: 'd',
        objects: {
          pods: {
            apiVersion: 'v1',
            resourceKind: 'Pod',
            namespace: ns,
            labelSelector: 'app=web',
            list: true,
          },
        },
        expression: 'size(pods) == 3 && pods.all(p, p.spec.nodeName != "controlplane")',
      },
      {
        id: 'no-field',
        kind: 'expr',
        description: 'd',
        objects: { deploy: deployment('web') },
        expression: 'deploy.spec.template.spec.affinity.nodeAffinity != null',
      },
      {
        id: 'no-object',
        kind: 'expr',
        description: 'd',
        objects: { deploy: deployment('nope') },
        expression: 'deploy.spec.replicas == 3',
      },
      {
        id: 'type-error',
        kind: 'expr',
        description: 'd',
        objects: { deploy: deployment('web') },
        expression: 'deploy.metadata.name + 1 == "x"',
      },
    ]);
    expect(r.ok.status).toBe('passed');
    expect(r.message).toMatchObject({
      status: 'failed',
      message: 'web has 3 replicas, expected 5',
    });
    expect(r.pods.status).toBe('passed');
    expect(r['no-field'].status).toBe('failed');
    expect(r['no-field'].message).toContain('no such key: affinity');
    expect(r['no-object']).toMatchObject({
      status: 'failed',
      message: `Deployment nope in ${ns} not found`,
    });
    expect(r['type-error'].status).toBe('error');
    expect(r['type-error'].message).toMatch(/^could not decide: CEL/);
  });

  it('canI: SubjectAccessReview for a ServiceAccount with its groups, and for a user', async () => {
    const sa = `${ns}/reader`;
    const r = await grade([
      {
        id: 'list',
        kind: 'canI',
        description: 'd',
        as: { serviceAccount: sa },
        verb: 'list',
        resource: 'pods',
        namespace: ns,
        expect: 'allowed',
      },
      {
        id: 'delete',
        kind: 'canI',
        description: 'd',
        as: { serviceAccount: sa },
        verb: 'delete',
        resource: 'pods',
        namespace: ns,
        expect: 'denied',
      },
      {
        id: 'wrong',
        kind: 'canI',
        description: 'd',
        as: { serviceAccount: sa },
        verb: 'list',
        resource: 'pods',
        namespace: ns,
        expect: 'denied',
      },
      {
        id: 'deploys',
        kind: 'canI',
        description: 'd',
        as: { serviceAccount: sa },
        verb: 'create',
        resource: 'deployments.apps',
        namespace: ns,
        expect: 'allowed',
      },
      {
        id: 'user',
        kind: 'canI',
        description: 'd',
        as: { user: 'jane' },
        verb: 'get',
        resource: 'secrets',
        namespace: ns,
        expect: 'denied',
      },
    ]);
    expect(r.list.status).toBe('passed');
    expect(r.delete.status).toBe('passed');
    expect(r.wrong.status).toBe('failed');
    expect(r.wrong.message).toContain(
      `system:serviceaccount:${ns}:reader can list pods in ${ns}, but least privilege was required`,
    );
    expect(r.deploys).toMatchObject({
      status: 'failed',
      message: `system:serviceaccount:${ns}:reader cannot create deployments.apps in ${ns}, but it should be allowed`,
    });
    expect(r.user.status).toBe('passed');
  });

  it('rollout, podReady, endpoints and pvcBound read runtime state, with the reason when not ready', async () => {
    const r = await grade([
      { id: 'rollout', kind: 'rollout', description: 'd', ...deployment('web'), timeout: 0 },
      {
        id: 'ready',
        kind: 'podReady',
        description: 'd',
        namespace: ns,
        labelSelector: 'app=web',
        min: 3,
        timeout: 0,
      },
      { id: 'stuck', kind: 'podReady', description: 'd', namespace: ns, name: 'stuck', timeout: 0 },
      {
        id: 'orphan',
        kind: 'podReady',
        description: 'd',
        namespace: ns,
        name: 'orphan',
        timeout: 0,
      },
      {
        id: 'endpoints',
        kind: 'endpoints',
        description: 'd',
        name: 'web',
        namespace: ns,
        min: 3,
        port: 8080,
        timeout: 0,
      },
      { id: 'typo', kind: 'endpoints', description: 'd', name: 'typo', namespace: ns, timeout: 0 },
      {
        id: 'bound',
        kind: 'pvcBound',
        description: 'd',
        name: 'data',
        namespace: ns,
        volumeName: pv,
        storageClassName: 'grading-manual',
      },
      {
        id: 'other-pv',
        kind: 'pvcBound',
        description: 'd',
        name: 'data',
        namespace: ns,
        volumeName: 'elsewhere',
        timeout: 0,
      },
    ]);
    expect(r.rollout.status).toBe('passed');
    expect(r.ready.status).toBe('passed');
    expect(r.stuck.status).toBe('failed');
    expect(r.stuck.message).toMatch(/^Pod stuck is Pending: 0\/3 nodes are available/);
    expect(r.orphan).toMatchObject({
      status: 'failed',
      message:
        'Pod orphan is Pending: not looked at by any scheduler yet (schedulerName my-scheduler)',
    });
    expect(r.endpoints.status).toBe('passed');
    expect(r.typo).toMatchObject({
      status: 'failed',
      message: 'Service typo has no ready endpoints (selector app=wbe matches 0 pods)',
    });
    expect(r.bound.status).toBe('passed');
    expect(r['other-pv']).toMatchObject({
      status: 'failed',
      message: `PVC data is bound to ${pv}, expected elsewhere`,
    });
  });

  it('answer: normalised literal, pattern, and a value computed by CEL from the cluster', async () => {
    const checks = [
      { id: 'literal', kind: 'answer', description: 'd', equals: 'Debug' },
      { id: 'pattern', kind: 'answer', description: 'd', pattern: '^de' },
      {
        id: 'computed',
        kind: 'answer',
        description: 'd',
        objects: {
          cm: { apiVersion: 'v1', resourceKind: 'ConfigMap', name: 'settings', namespace: ns },
        },
        expression: 'cm.data.LOG_LEVEL',
      },
    ];
    const right = await grade(checks, { answer: '  DEBUG \n' });
    expect(Object.values(right).map((o) => o.status)).toEqual(['passed', 'passed', 'passed']);
    const wrong = await grade(checks, { answer: 'info' });
    expect(wrong.literal).toMatchObject({
      status: 'failed',
      message: 'answered "info", expected "Debug"',
    });
    expect(wrong.pattern.message).toBe('answered "info", expected an answer matching /^de/');
    const none = await grade(checks);
    expect(none.computed).toMatchObject({ status: 'failed', message: 'no answer was submitted' });
  });

  it('custom graders get a read-only context; a throwing grader is an error, not a failure', async () => {
    const r = await grade([
      {
        id: 'odd',
        kind: 'custom',
        description: 'd',
        grader: 'even-replicas',
        params: { deployment: 'web' },
      },
      { id: 'broken', kind: 'custom', description: 'd', grader: 'throws' },
      { id: 'unknown', kind: 'custom', description: 'd', grader: 'no-such-grader' },
    ]);
    expect(r.odd).toMatchObject({
      status: 'failed',
      message: 'Deployment web has 3 replicas, an odd number',
    });
    expect(r.broken.status).toBe('error');
    expect(r.broken.message).toContain('grader bug');
    expect(r.unknown.status).toBe('error');
  });

  it('requires: a check whose prerequisite did not pass is skipped with a one-line reason', async () => {
    const r = await grade([
      {
        id: 'first',
        kind: 'resource',
        description: 'd',
        ...deployment('web'),
        match: { spec: { replicas: 5 } },
      },
      {
        id: 'second',
        kind: 'rollout',
        description: 'd',
        ...deployment('web'),
        requires: ['first'],
        points: 2,
      },
      {
        id: 'third',
        kind: 'absent',
        description: 'd',
        ...deployment('debug'),
        requires: ['second'],
      },
    ]);
    expect(r.second).toMatchObject({
      status: 'skipped',
      pointsAwarded: 0,
      pointsPossible: 2,
      message: 'skipped: requires "first", which failed',
    });
    expect(r.third.message).toBe('skipped: requires "second", which was skipped');
  });

  it('an unreachable or forbidding API server, a wrong kind or an invalid check is an error, never a failure', async () => {
    const checks = [{ id: 'web', kind: 'resource', description: 'd', ...deployment('web') }];
    const unreachable = new KubeConfig();
    unreachable.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const down = await grade(checks, { client: new ClusterClient('main', unreachable) });
    expect(down.web.status).toBe('error');
    expect(down.web.message).toMatch(/^could not decide: cluster main: /);

    const { stdout: token } = await kubectl(['-n', ns, 'create', 'token', 'reader']);
    const forbidden = await grade(checks, {
      client: new ClusterClient('main', tokenKubeConfig(token.trim())),
    });
    expect(forbidden.web.status).toBe('error');
    expect(forbidden.web.message).toContain('forbidden');

    const r = await grade([
      {
        id: 'kind',
        kind: 'resource',
        description: 'd',
        apiVersion: 'apps/v1',
        resourceKind: 'Deploymnt',
        name: 'web',
        namespace: ns,
      },
      {
        id: 'fields',
        kind: 'count',
        description: 'd',
        apiVersion: 'v1',
        resourceKind: 'Pod',
        namespace: ns,
      },
    ]);
    expect(r.kind.status).toBe('error');
    expect(r.fields).toMatchObject({
      status: 'error',
      message: 'check "fields" is invalid: count: a count check needs equals, min or max',
    });
  });

  it('reads each distinct object once per run, and grading an unchanged cluster twice gives identical results', async () => {
    const reads = new ClusterReads(admin());
    const checks = [
      {
        id: 'a',
        kind: 'resource',
        description: 'd',
        ...deployment('web'),
        match: { spec: { replicas: 3 } },
      },
      { id: 'b', kind: 'rollout', description: 'd', ...deployment('web') },
      {
        id: 'c',
        kind: 'expr',
        description: 'd',
        objects: { d: deployment('web') },
        expression: 'd.spec.replicas > 1',
      },
      {
        id: 'd',
        kind: 'resource',
        description: 'd',
        ...deployment('web'),
        match: { spec: { replicas: 4 } },
      },
      {
        id: 'e',
        kind: 'count',
        description: 'd',
        apiVersion: 'v1',
        resourceKind: 'Pod',
        namespace: ns,
        labelSelector: 'app=web',
        equals: 3,
      },
      { id: 'f', kind: 'podReady', description: 'd', namespace: ns, labelSelector: 'app=web' },
    ];
    const first = await grade(checks, { reads });
    expect(reads.requests).toBe(2); // the Deployment once, the pod list once
    const second = await grade(checks);
    const strip = (r: Record<string, CheckOutcome>) =>
      Object.values(r).map((o) => ({ ...o, durationMs: 0 }));
    expect(strip(second)).toEqual(strip(first));
  });

  it('polls runtime state until `timeout` after the end of the session, and not after', async () => {
    await kubectl(['-n', ns, 'create', 'deployment', 'late', '--image=nginx', '--replicas=0']);
    const check = {
      id: 'late',
      kind: 'resource',
      description: 'd',
      ...deployment('late'),
      match: { spec: { replicas: 2 } },
      timeout: 20,
    };
    // Long ended: no settling time left, decided at once.
    const started = Date.now();
    const stale = await grade([check], { settleFrom: Date.now() - 60_000 });
    expect(stale.late.status).toBe('failed');
    expect(Date.now() - started).toBeLessThan(2_000);
    // Just ended: the change made a second later is seen.
    setTimeout(
      () => void kubectl(['-n', ns, 'scale', 'deployment', 'late', '--replicas=2']),
      1_000,
    );
    const settled = await grade([check], { settleFrom: Date.now() });
    expect(settled.late.status).toBe('passed');
  }, 40_000);
});
