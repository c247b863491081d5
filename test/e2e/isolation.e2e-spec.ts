import { jest } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AccessQuestion } from '../../src/cluster/cluster-client.js';
import { ClusterService } from '../../src/cluster/cluster.service.js';
import { isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
import { kubectl } from '../support/cluster.js';
import { type Candidate, startCandidate } from '../support/candidate.js';

jest.setTimeout(120_000);

/**
 * The isolation matrix: each case asked twice, of the authorizer
 * (SubjectAccessReview for the candidate's ServiceAccount) and as a real
 * request with the candidate's own kubeconfig.
 */
interface Case {
  name: string;
  allowed: boolean;
  /** SubjectAccessReview attributes; none where RBAC's escalation check decides (not visible to SAR). */
  sar?: (a: Candidate, b: Candidate) => Omit<AccessQuestion, 'user' | 'groups'>;
  /** kubectl arguments run as candidate A. */
  run: (a: Candidate, b: Candidate, files: Record<string, string>) => string[];
}

const MANIFESTS: Record<string, string> = {
  netpol:
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: deny-all }\nspec: { podSelector: {}, policyTypes: [Ingress] }\n',
  pvc: 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: data }\nspec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }\n',
  pv: 'apiVersion: v1\nkind: PersistentVolume\nmetadata: { name: stolen }\nspec: { capacity: { storage: 1Gi }, accessModes: [ReadWriteOnce], hostPath: { path: /tmp/x } }\n',
  sc: 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: { name: fast }\nprovisioner: example.com/none\n',
  vap: 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: { name: mine }\nspec: { matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods] }] }, validations: [{ expression: "true" }] }\n',
};

const own =
  (verb: string, resource: string, group = '') =>
  (a: Candidate) => ({ verb, resource, group, namespace: a.namespace });

const CASES: Case[] = [
  // What a candidate needs in their own namespace.
  {
    name: 'create pods in own namespace',
    allowed: true,
    sar: own('create', 'pods'),
    run: () => ['run', 'p1', '--image=nginx'],
  },
  {
    name: 'list pods in own namespace',
    allowed: true,
    sar: own('list', 'pods'),
    run: () => ['get', 'pods'],
  },
  {
    name: 'delete pods in own namespace',
    allowed: true,
    sar: own('delete', 'pods'),
    run: () => ['delete', 'pod', 'p1', '--wait=false'],
  },
  {
    name: 'create deployments',
    allowed: true,
    sar: own('create', 'deployments', 'apps'),
    run: () => ['create', 'deployment', 'd1', '--image=nginx'],
  },
  {
    name: 'create services',
    allowed: true,
    sar: own('create', 'services'),
    run: () => ['create', 'service', 'clusterip', 's1', '--tcp=80'],
  },
  {
    name: 'create secrets',
    allowed: true,
    sar: own('create', 'secrets'),
    run: () => ['create', 'secret', 'generic', 'sec1', '--from-literal=a=b'],
  },
  {
    name: 'read secrets in own namespace',
    allowed: true,
    sar: own('get', 'secrets'),
    run: () => ['get', 'secret', 'sec1'],
  },
  {
    name: 'create configmaps',
    allowed: true,
    sar: own('create', 'configmaps'),
    run: () => ['create', 'configmap', 'c1'],
  },
  {
    name: 'create roles',
    allowed: true,
    sar: own('create', 'roles', 'rbac.authorization.k8s.io'),
    run: () => ['create', 'role', 'r1', '--verb=get', '--resource=pods'],
  },
  {
    name: 'create rolebindings to roles it holds',
    allowed: true,
    sar: own('create', 'rolebindings', 'rbac.authorization.k8s.io'),
    run: () => ['create', 'rolebinding', 'rb1', '--role=r1', '--user=someone'],
  },
  {
    name: 'create network policies',
    allowed: true,
    sar: own('create', 'networkpolicies', 'networking.k8s.io'),
    run: (_a, _b, f) => ['create', '-f', f.netpol],
  },
  {
    name: 'create persistent volume claims',
    allowed: true,
    sar: own('create', 'persistentvolumeclaims'),
    run: (_a, _b, f) => ['create', '-f', f.pvc],
  },
  {
    name: 'create jobs',
    allowed: true,
    sar: own('create', 'jobs', 'batch'),
    run: () => ['create', 'job', 'j1', '--image=busybox'],
  },
  {
    name: 'create service accounts',
    allowed: true,
    sar: own('create', 'serviceaccounts'),
    run: () => ['create', 'serviceaccount', 'sa1'],
  },
  // Everything else is someone else's.
  {
    name: "list pods in another candidate's namespace",
    allowed: false,
    sar: (_a, b) => ({ verb: 'list', resource: 'pods', namespace: b.namespace }),
    run: (_a, b) => ['get', 'pods', '-n', b.namespace],
  },
  {
    name: "create pods in another candidate's namespace",
    allowed: false,
    sar: (_a, b) => ({ verb: 'create', resource: 'pods', namespace: b.namespace }),
    run: (_a, b) => ['run', 'x', '--image=nginx', '-n', b.namespace],
  },
  {
    name: 'read kube-system secrets',
    allowed: false,
    sar: () => ({ verb: 'list', resource: 'secrets', namespace: 'kube-system' }),
    run: () => ['get', 'secrets', '-n', 'kube-system'],
  },
  {
    name: 'create pods in default',
    allowed: false,
    sar: () => ({ verb: 'create', resource: 'pods', namespace: 'default' }),
    run: () => ['run', 'x', '--image=nginx', '-n', 'default'],
  },
  {
    name: "read the engine's namespace",
    allowed: false,
    sar: () => ({ verb: 'list', resource: 'serviceaccounts', namespace: 'cka-engine' }),
    run: () => ['get', 'serviceaccounts', '-n', 'cka-engine'],
  },
  {
    name: "mint a token for another candidate's account",
    allowed: false,
    sar: (_a, b) => ({
      verb: 'create',
      resource: 'serviceaccounts',
      subresource: 'token',
      name: b.serviceAccount,
      namespace: 'cka-engine',
    }),
    run: (_a, b) => ['create', 'token', b.serviceAccount, '-n', 'cka-engine'],
  },
  {
    name: 'list nodes',
    allowed: true,
    sar: () => ({ verb: 'list', resource: 'nodes' }),
    run: () => ['get', 'nodes'],
  },
  {
    name: 'patch nodes',
    allowed: false,
    sar: () => ({ verb: 'patch', resource: 'nodes', name: 'node01' }),
    run: () => ['label', 'node', 'node01', 'x=y'],
  },
  {
    name: 'create namespaces',
    allowed: false,
    sar: () => ({ verb: 'create', resource: 'namespaces' }),
    run: () => ['create', 'namespace', 'mine'],
  },
  {
    name: 'delete its own namespace',
    allowed: false,
    sar: (a) => ({ verb: 'delete', resource: 'namespaces', name: a.namespace }),
    run: (a) => ['delete', 'namespace', a.namespace, '--wait=false'],
  },
  {
    name: 'create cluster roles',
    allowed: false,
    sar: () => ({ verb: 'create', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' }),
    run: () => ['create', 'clusterrole', 'cr', '--verb=get', '--resource=pods'],
  },
  {
    name: 'bind cluster-admin cluster-wide',
    allowed: false,
    sar: () => ({
      verb: 'create',
      resource: 'clusterrolebindings',
      group: 'rbac.authorization.k8s.io',
    }),
    run: (a) => [
      'create',
      'clusterrolebinding',
      'esc',
      '--clusterrole=cluster-admin',
      `--serviceaccount=cka-engine:${a.serviceAccount}`,
    ],
  },
  {
    name: 'bind cluster-admin in its own namespace (escalation)',
    allowed: false,
    run: (a) => [
      'create',
      'rolebinding',
      'esc',
      '--clusterrole=cluster-admin',
      `--serviceaccount=cka-engine:${a.serviceAccount}`,
    ],
  },
  {
    name: 'create persistent volumes (not granted by this exam)',
    allowed: false,
    sar: () => ({ verb: 'create', resource: 'persistentvolumes' }),
    run: (_a, _b, f) => ['create', '-f', f.pv],
  },
  {
    name: 'create storage classes',
    allowed: false,
    sar: () => ({ verb: 'create', resource: 'storageclasses', group: 'storage.k8s.io' }),
    run: (_a, _b, f) => ['create', '-f', f.sc],
  },
  {
    name: 'lift its own quota',
    allowed: false,
    sar: own('delete', 'resourcequotas'),
    run: () => ['delete', 'resourcequota', 'cka-quota'],
  },
  {
    name: 'remove its own default limits',
    allowed: false,
    sar: own('delete', 'limitranges'),
    run: () => ['delete', 'limitrange', 'cka-limits'],
  },
  {
    name: 'create admission policies',
    allowed: false,
    sar: () => ({
      verb: 'create',
      resource: 'validatingadmissionpolicies',
      group: 'admissionregistration.k8s.io',
    }),
    run: (_a, _b, f) => ['create', '-f', f.vap],
  },
];

describe('the isolation matrix', () => {
  let t: TestApp;
  let a: Candidate;
  let b: Candidate;
  let files: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv());
    [a, b] = await Promise.all([
      startCandidate(t, 'open-long', 'A'),
      startCandidate(t, 'open-long', 'B'),
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'isolation-'));
    files = {};
    for (const [key, text] of Object.entries(MANIFESTS)) {
      files[key] = join(dir, `${key}.yaml`);
      await writeFile(files[key], text);
    }
  });
  afterAll(() => t?.close());

  it(`has at least 25 cases, allowed and denied`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
    expect(CASES.filter((c) => c.allowed).length).toBeGreaterThan(5);
    expect(CASES.filter((c) => !c.allowed).length).toBeGreaterThan(10);
  });

  // In order: later allowed cases use what earlier ones created.
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    if (c.sar) {
      const cluster = t.app.get(ClusterService).client('main');
      const review = await cluster.review({
        user: `system:serviceaccount:cka-engine:${a.serviceAccount}`,
        groups: [
          'system:serviceaccounts',
          'system:serviceaccounts:cka-engine',
          'system:authenticated',
        ],
        ...c.sar(a, b),
      });
      expect(review.allowed).toBe(c.allowed);
    }
    const request = kubectl(['-n', a.namespace, ...c.run(a, b, files)], a.kubeconfig);
    if (c.allowed) await request;
    else
      await expect(request).rejects.toMatchObject({
        stderr: expect.stringMatching(/forbidden|Forbidden/),
      });
  });
});
