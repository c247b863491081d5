import { jest } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
import { kubectl, tokenKubeConfig } from '../support/cluster.js';
import { bearer, type Candidate, startCandidate } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';

jest.setTimeout(180_000);

/**
 * The security suite for shared mode. The attacker is anyone: `security` is an
 * open exam, so an anonymous POST /api/sessions hands out a working
 * kubeconfig. Each case replays an attack a review found on the cluster side
 * (see SECURITY.md) with candidate A's own kubeconfig, and expects the fence
 * to refuse it with the reason; controls show the fence still lets a
 * candidate do the tasks. Candidate B is the neighbour A must not reach.
 */

interface Case {
  name: string;
  /** Manifest(s) that candidate A creates. */
  objects: (a: Candidate, b: Candidate) => object[];
  /** undefined: allowed; otherwise the refusal must match. */
  refused?: RegExp;
  /** Extra kubectl flags (e.g. --as). */
  flags?: (a: Candidate, b: Candidate) => string[];
}

const pod = (name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'nginx', ...extra }], ...spec },
});
const pv = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], ...spec },
});
const clusterRole = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name },
  rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'get'] }],
  ...extra,
});
const binding = (
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  name: string,
  role: string,
  subjects: object[],
) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects,
});
const sa = (namespace: string, name = 'default') => ({ kind: 'ServiceAccount', name, namespace });
const work = (c: Candidate) => `${c.prefix}-work`;
const REFUSED = /forbidden|Forbidden|denied|violates|exceeded/;

const NODE_ROOT: Case[] = [
  {
    name: 'a privileged pod',
    objects: () => [pod('priv', {}, { securityContext: { privileged: true } })],
    refused: /violates PodSecurity "baseline:v1\.36"/,
  },
  {
    name: 'a pod in the host PID and network namespaces',
    objects: () => [pod('hostns', { hostPID: true, hostNetwork: true })],
    refused: /violates PodSecurity/,
  },
  {
    name: "a pod mounting the node's root (hostPath /)",
    objects: () => [
      pod(
        'hostroot',
        { volumes: [{ name: 'root', hostPath: { path: '/' } }] },
        { volumeMounts: [{ name: 'root', mountPath: '/host' }] },
      ),
    ],
    refused: /violates PodSecurity/,
  },
  {
    name: 'a pod adding SYS_ADMIN',
    objects: () => [
      pod('sysadmin', {}, { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }),
    ],
    refused: /violates PodSecurity/,
  },
  {
    name: 'a pod with priority system-node-critical',
    objects: () => [pod('critical', { priorityClassName: 'system-node-critical' })],
    refused: REFUSED,
  },
  {
    name: 'a pod placed on the control plane by nodeName',
    objects: () => [pod('oncp', { nodeName: 'controlplane' })],
    refused: /control-plane node/,
  },
  {
    name: 'a pod tolerating every taint',
    objects: () => [pod('tolerant', { tolerations: [{ operator: 'Exists' }] })],
    refused: /may not tolerate/,
  },
  {
    name: 'a pod tolerating the control-plane taint',
    objects: () => [
      pod('cptol', {
        tolerations: [
          {
            key: 'node-role.kubernetes.io/control-plane',
            operator: 'Exists',
            effect: 'NoSchedule',
          },
        ],
      }),
    ],
    refused: /may not tolerate/,
  },
  { name: 'control: a plain pod', objects: () => [pod('plain', {})] },
  {
    name: 'control: a pod placed on node01 by nodeName',
    objects: () => [pod('on01', { nodeName: 'node01' })],
  },
  {
    name: 'control: a pod tolerating a taint of its own',
    objects: () => [
      pod('owntol', {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
      }),
    ],
  },
  {
    name: 'a Service with externalIPs (CVE-2020-8554)',
    objects: () => [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'mitm' },
        spec: { ports: [{ port: 80 }], externalIPs: ['10.96.0.10'] },
      },
    ],
    refused: /externalIPs/,
  },
  {
    name: 'a LoadBalancer Service (quota 0)',
    objects: () => [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'lb' },
        spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      },
    ],
    refused: /exceeded quota/,
  },
];

const CLUSTER_CONTENT: Case[] = [
  {
    name: "a PersistentVolume onto the node's root",
    objects: (a) => [pv(`${a.prefix}-root`, { hostPath: { path: '/' } })],
    refused: /must be a directory \/mnt\/s\w+-… or \/srv\/s\w+-… or \/data\/s\w+-…/,
  },
  {
    name: 'a PersistentVolume escaping its root with ..',
    objects: (a) => [pv(`${a.prefix}-dots`, { hostPath: { path: '/mnt/../etc' } })],
    refused: /must be a directory|must not contain '\.\.'/,
  },
  {
    name: 'a PersistentVolume at a look-alike of an allowed root (/mntx)',
    objects: (a) => [pv(`${a.prefix}-alike`, { hostPath: { path: '/mntx/etc' } })],
    refused: /must be a directory/,
  },
  {
    name: "a PersistentVolume onto another candidate's directory",
    objects: (a, b) => [
      pv(`${a.prefix}-theirs`, {
        hostPath: { path: `/srv/${b.prefix}-ok` },
        storageClassName: `${a.prefix}-manual`,
      }),
    ],
    refused: /must be a directory/,
  },
  {
    name: 'a PersistentVolume below its own directory (where a planted symlink could lead)',
    objects: (a) => [
      pv(`${a.prefix}-deep`, {
        hostPath: { path: `/srv/${a.prefix}-ok/link/etc` },
        storageClassName: `${a.prefix}-manual`,
      }),
    ],
    refused: /must be a directory/,
  },
  {
    name: "an unreserved PersistentVolume without a class of its own (could capture another's claim)",
    objects: (a) => [pv(`${a.prefix}-bait`, { hostPath: { path: `/srv/${a.prefix}-bait` } })],
    refused: /or have a storage class named/,
  },
  {
    name: 'a PersistentVolume of another volume source (nfs)',
    objects: (a) => [pv(`${a.prefix}-nfs`, { nfs: { server: '10.0.0.1', path: '/' } })],
    refused: /only use a hostPath/,
  },
  {
    name: "a PersistentVolume reserved for a claim in another candidate's namespace",
    objects: (a, b) => [
      pv(`${a.prefix}-steal`, {
        hostPath: { path: `/srv/${a.prefix}-steal` },
        claimRef: { namespace: work(b), name: 'data' },
      }),
    ],
    refused: /claimRef/,
  },
  {
    name: 'control: a hostPath PersistentVolume under /srv reserved for its own claim',
    objects: (a) => [
      pv(`${a.prefix}-ok`, {
        hostPath: { path: `/srv/${a.prefix}-ok` },
        claimRef: { namespace: work(a), name: 'data' },
      }),
    ],
  },
  {
    name: 'a global-default PriorityClass',
    objects: (a) => [
      {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: `${a.prefix}-default` },
        value: 10,
        globalDefault: true,
      },
    ],
    refused: /global default/,
  },
  {
    name: 'a PriorityClass above every workload',
    objects: (a) => [
      {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: `${a.prefix}-huge` },
        value: 1_000_000_000,
      },
    ],
    refused: /at most 1000000/,
  },
  {
    name: 'control: an ordinary PriorityClass',
    objects: (a) => [
      {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: `${a.prefix}-high` },
        value: 1000,
      },
    ],
  },
  {
    name: 'a default StorageClass',
    objects: (a) => [
      {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: {
          name: `${a.prefix}-fast`,
          annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
        },
        provisioner: 'example.com/none',
      },
    ],
    refused: /default StorageClass/,
  },
  {
    name: 'a default IngressClass',
    objects: (a) => [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: {
          name: `${a.prefix}-nginx`,
          annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
        },
        spec: { controller: 'example.com/none' },
      },
    ],
    refused: /default IngressClass/,
  },
  {
    name: 'a ClusterRole aggregated into the built-in admin role',
    objects: (a) => [
      clusterRole(`${a.prefix}-agg`, {
        metadata: {
          name: `${a.prefix}-agg`,
          labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' },
        },
        // Rules it holds (through the grant), so only the policy can refuse it.
        rules: [{ apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get'] }],
      }),
    ],
    refused: /aggregated ClusterRoles/,
  },
  {
    name: 'a ClusterRole with an aggregationRule',
    objects: (a) => [
      clusterRole(`${a.prefix}-rule`, {
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] },
        rules: [],
      }),
    ],
    // RBAC itself asks for cluster-admin here; the policy refuses it too.
    refused: /aggregated ClusterRoles|cluster-admin privileges to use the aggregationRule/,
  },
  {
    // The classic CKA task: the candidate holds these only inside their
    // namespaces, so RBAC alone (without escalate) would refuse the ClusterRole.
    name: 'control: a ClusterRole for Deployments, StatefulSets and DaemonSets, bound in its namespace',
    objects: (a) => [
      clusterRole(`${a.prefix}-deployer`, {
        rules: [
          {
            apiGroups: ['apps'],
            resources: ['deployments', 'statefulsets', 'daemonsets'],
            verbs: ['create'],
          },
        ],
      }),
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cicd-token' } },
      {
        ...binding('RoleBinding', 'deployer', `${a.prefix}-deployer`, [sa(work(a), 'cicd-token')]),
        metadata: { name: 'deployer', namespace: work(a) },
      },
    ],
  },
  {
    name: 'a ClusterRole that may relabel its own namespace (dropping Pod Security)',
    objects: (a) => [
      clusterRole(`${a.prefix}-ns-writer`, {
        rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'update', 'patch'] }],
      }),
    ],
    refused: /may hold only what the built-in admin role holds/,
  },
  {
    name: 'a ClusterRole with wildcards',
    objects: (a) => [
      clusterRole(`${a.prefix}-star`, {
        rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
      }),
    ],
    refused: /may hold only what the built-in admin role holds/,
  },
  {
    name: 'a ClusterRole that may impersonate, bind or escalate',
    objects: (a) => [
      clusterRole(`${a.prefix}-imp`, {
        rules: [
          { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
          { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['bind'] },
        ],
      }),
    ],
    refused: /may hold only what the built-in admin role holds/,
  },
  {
    name: 'a ClusterRole that may write Endpoints (CVE-2021-25740)',
    objects: (a) => [
      clusterRole(`${a.prefix}-ep`, {
        rules: [{ apiGroups: [''], resources: ['endpoints'], verbs: ['create', 'update'] }],
      }),
    ],
    refused: /may hold only what the built-in admin role holds/,
  },
  {
    name: 'control: a ClusterRole within its grants, bound in its namespace',
    objects: (a) => [
      clusterRole(`${a.prefix}-pv-reader`, {
        rules: [{ apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get'] }],
      }),
      {
        ...binding('RoleBinding', 'pv-reader', `${a.prefix}-pv-reader`, [sa(work(a))]),
        metadata: { name: 'pv-reader', namespace: work(a) },
      },
    ],
    // persistentvolumes is not in admin's namespaced rules: a session-made role cannot hold it.
    refused: /may hold only what the built-in admin role holds/,
  },
  {
    // Created empty (so RBAC lets it be bound), bound cluster-wide, then
    // widened, it would grant anything: session-made roles are bound only
    // inside the session's namespaces.
    name: 'a ClusterRoleBinding of a ClusterRole the session made',
    objects: (a) => [
      clusterRole(`${a.prefix}-hollow`, { rules: [] }),
      binding('ClusterRoleBinding', `${a.prefix}-hollow`, `${a.prefix}-hollow`, [sa(work(a))]),
    ],
    refused: /nor a ClusterRole made in a session/,
  },
  {
    name: 'control: a ClusterRoleBinding of a role it holds cluster-wide, for its own ServiceAccount',
    objects: (a) => [
      binding('ClusterRoleBinding', `${a.prefix}-nodes`, 'cka-engine-node-reader', [sa(work(a))]),
    ],
  },
  {
    name: 'a ClusterRoleBinding to every authenticated user',
    objects: (a) => [
      binding('ClusterRoleBinding', `${a.prefix}-all`, 'cka-engine-node-reader', [
        { kind: 'Group', name: 'system:authenticated', apiGroup: 'rbac.authorization.k8s.io' },
      ]),
    ],
    refused: /ClusterRoleBinding here may bind/,
  },
  {
    name: "a ClusterRoleBinding of the engine's grant role",
    objects: (a) => [
      binding('ClusterRoleBinding', `${a.prefix}-regrant`, `cka-${a.prefix}-cluster`, [
        sa(work(a)),
      ]),
    ],
    refused: /never the engine's grant role/,
  },
];

const CROSSING: Case[] = [
  {
    name: "a RoleBinding letting another candidate's ServiceAccount into its namespace",
    objects: (a, b) => [
      {
        ...binding('RoleBinding', 'friend', 'admin', [sa('cka-engine', b.serviceAccount)]),
        metadata: { name: 'friend', namespace: work(a) },
      },
    ],
    refused: /RoleBinding here may name ServiceAccounts of your own session/,
  },
  {
    name: "a RoleBinding naming another namespace's ServiceAccount as a User",
    objects: (a, b) => [
      {
        ...binding('RoleBinding', 'friend-user', 'view', [
          {
            kind: 'User',
            name: `system:serviceaccount:${work(b)}:default`,
            apiGroup: 'rbac.authorization.k8s.io',
          },
        ]),
        metadata: { name: 'friend-user', namespace: work(a) },
      },
    ],
    refused: /RoleBinding here may name/,
  },
  {
    name: "a ClusterRoleBinding for another candidate's ServiceAccount",
    objects: (a, b) => [
      binding('ClusterRoleBinding', `${a.prefix}-friend`, 'cka-engine-node-reader', [sa(work(b))]),
    ],
    refused: /ClusterRoleBinding here may bind/,
  },

  {
    name: 'control: a RoleBinding for its own ServiceAccount',
    objects: (a) => [
      {
        ...binding('RoleBinding', 'viewer', 'view', [sa(work(a))]),
        metadata: { name: 'viewer', namespace: work(a) },
      },
    ],
  },
];

describe('shared mode security: an anonymous user of an open exam, with a candidate kubeconfig', () => {
  let t: TestApp;
  let a: Candidate;
  let b: Candidate;
  let dir: string;
  let counter = 0;

  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv());
    [a, b] = await Promise.all([
      startCandidate(t, 'security', 'A'),
      startCandidate(t, 'security', 'B'),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'security-'));
  });
  afterAll(() => t?.close());

  /** Creates the objects as A (in A's work namespace unless they say otherwise). */
  async function create(
    objects: object[],
    flags: string[] = [],
  ): Promise<{ ok: boolean; output: string }> {
    const file = join(dir, `case-${counter++}.json`);
    await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    try {
      const { stdout, stderr } = await kubectl(
        ['-n', work(a), ...flags, 'create', '-f', file],
        a.kubeconfig,
      );
      return { ok: true, output: stdout + stderr };
    } catch (error) {
      return { ok: false, output: String((error as { stderr?: string }).stderr ?? error) };
    }
  }

  const check = async (c: Case) => {
    const result = await create(c.objects(a, b), c.flags?.(a, b));
    if (c.refused) {
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(c.refused);
    } else {
      expect(result).toMatchObject({ ok: true });
    }
  };

  describe("no way to a node's root", () => {
    it.each(NODE_ROOT.map((c) => [c.name, c] as const))('%s', (_n, c) => check(c));

    it('a sixth NodePort Service exceeds the quota', async () => {
      for (let i = 1; i <= 5; i++) {
        await check({
          name: `nodeport ${i}`,
          objects: () => [
            {
              apiVersion: 'v1',
              kind: 'Service',
              metadata: { name: `np${i}` },
              spec: { type: 'NodePort', ports: [{ port: 80 }] },
            },
          ],
        });
      }
      await check({
        name: 'nodeport 6',
        objects: () => [
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'np6' },
            spec: { type: 'NodePort', ports: [{ port: 80 }] },
          },
        ],
        refused: /exceeded quota.*services\.nodeports/,
      });
    });

    it('nodes can be read, not changed', async () => {
      const { stdout } = await kubectl(['get', 'nodes', '-o', 'name'], a.kubeconfig);
      expect(stdout).toContain('node/controlplane');
      await expect(kubectl(['label', 'node', 'node01', 'x=y'], a.kubeconfig)).rejects.toMatchObject(
        {
          stderr: expect.stringMatching(/forbidden/),
        },
      );
    });
  });

  // In order: later cases use the ClusterRole the control case creates.
  describe('cluster-wide grants fenced by content', () => {
    it.each(CLUSTER_CONTENT.map((c) => [c.name, c] as const))('%s', (_n, c) => check(c));

    it('a ClusterRole created empty and bound in its namespace cannot be widened past admin', async () => {
      await check({
        name: 'empty, bound',
        objects: (a) => [
          clusterRole(`${a.prefix}-empty`, { rules: [] }),
          {
            ...binding('RoleBinding', 'empty', `${a.prefix}-empty`, [sa(work(a))]),
            metadata: { name: 'empty', namespace: work(a) },
          },
        ],
      });
      const widened = join(dir, 'widened.json');
      await writeFile(
        widened,
        JSON.stringify(
          clusterRole(`${a.prefix}-empty`, {
            rules: [{ apiGroups: [''], resources: ['namespaces', 'resourcequotas'], verbs: ['*'] }],
          }),
        ),
      );
      await expect(kubectl(['replace', '-f', widened], a.kubeconfig)).rejects.toMatchObject({
        stderr: expect.stringMatching(/may hold only what the built-in admin role holds/),
      });
    });

    it("the ClusterRole task's ServiceAccount can create Deployments in that namespace only", async () => {
      const as = ['--as', `system:serviceaccount:${work(a)}:cicd-token`];
      const canI = async (...args: string[]) =>
        (
          await kubectl(['auth', 'can-i', ...args, ...as], a.kubeconfig).catch(
            (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
          )
        ).stdout.trim();
      expect(await canI('create', 'deployments', '-n', work(a))).toBe('yes');
      expect(await canI('create', 'deployments', '-n', 'default')).toBe('no');
    });
  });

  describe('nothing crosses between candidates', () => {
    it.each(CROSSING.map((c) => [c.name, c] as const))('%s', (_n, c) => check(c));

    it("a RoleBinding of another candidate's ClusterRole (which they could widen afterwards)", async () => {
      const file = join(dir, 'b-role.json');
      await writeFile(file, JSON.stringify(clusterRole(`${b.prefix}-lent`, { rules: [] })));
      await kubectl(['create', '-f', file], b.kubeconfig);
      await check({
        name: 'borrowed',
        objects: (a, b) => [
          {
            ...binding('RoleBinding', 'borrowed', `${b.prefix}-lent`, [sa(work(a))]),
            metadata: { name: 'borrowed', namespace: work(a) },
          },
        ],
        refused: /may not use another session's ClusterRole/,
      });
    });
  });

  describe('every identity acting for the session is fenced, not only the candidate', () => {
    it('impersonating a namespace ServiceAccount (bound to a PV-writing ClusterRole) still meets the prefix rule', async () => {
      // A candidate cannot give a ServiceAccount cluster-wide rights any more
      // (see above); an operator's mistake could. Made here as cluster admin.
      const granted = join(dir, 'sa-pv-writer.json');
      const name = `test-${a.prefix}-pv-writer`;
      await writeFile(
        granted,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            clusterRole(name, {
              rules: [
                {
                  apiGroups: [''],
                  resources: ['persistentvolumes'],
                  verbs: ['create', 'delete', 'get'],
                },
              ],
            }),
            binding('ClusterRoleBinding', name, name, [sa(work(a))]),
          ],
        }),
      );
      await kubectl(['create', '-f', granted]);
      await check({
        name: 'as the namespace default ServiceAccount',
        objects: () => [pv('unprefixed-by-sa', { hostPath: { path: '/srv/x' } })],
        flags: (a) => [`--as=system:serviceaccount:${work(a)}:default`],
        refused: /must start with/,
      });
      await check({
        name: 'as the namespace default ServiceAccount, onto the root',
        objects: (a) => [pv(`${a.prefix}-sa-root`, { hostPath: { path: '/' } })],
        flags: (a) => [`--as=system:serviceaccount:${work(a)}:default`],
        refused: /must be a directory/,
      });
      await kubectl(['delete', '-f', granted]);
    });
  });

  describe('no access after the end', () => {
    it('tokens minted before submitting, a legacy token Secret and the kubeconfig change nothing afterwards', async () => {
      // Before the end: give the namespace's default ServiceAccount edit rights and take tokens for it.
      await check({
        name: 'edit for default',
        objects: (a) => [
          {
            ...binding('RoleBinding', 'keep', 'edit', [sa(work(a))]),
            metadata: { name: 'keep', namespace: work(a) },
          },
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: {
              name: 'legacy',
              annotations: { 'kubernetes.io/service-account.name': 'default' },
            },
            type: 'kubernetes.io/service-account-token',
          },
        ],
      });
      const minted = (
        await kubectl(
          ['-n', work(a), 'create', 'token', 'default', '--duration=87600h'],
          a.kubeconfig,
        )
      ).stdout.trim();
      const legacy = await eventually(
        'the token controller to fill the legacy Secret',
        async () =>
          (
            await kubectl(
              ['-n', work(a), 'get', 'secret', 'legacy', '-o', 'jsonpath={.data.token}'],
              a.kubeconfig,
            )
          ).stdout,
        (value) => value.length > 0,
      );
      const tokens = { minted, legacy: Buffer.from(legacy, 'base64').toString() };
      const asToken = async (token: string, args: string[]) => {
        const file = join(dir, `token-${counter++}.kubeconfig`);
        const kc = tokenKubeConfig(token, work(a));
        await writeFile(file, kc.exportConfig());
        return kubectl(args, file);
      };
      // While active they work: the attack is real.
      await asToken(tokens.minted, ['-n', work(a), 'create', 'configmap', 'before']);

      await t.http.post('/api/sessions/me/submit').set(bearer(a.token)).expect(200);
      await eventually(
        "A's session to be graded",
        async () =>
          (await t.http.get('/api/sessions/me').set(bearer(a.token))).body.state as string,
        (state) => state === 'graded',
        60_000,
      );

      for (const token of Object.values(tokens)) {
        await expect(
          asToken(token, ['-n', work(a), 'create', 'configmap', 'after']),
        ).rejects.toMatchObject({
          stderr: expect.stringMatching(/the session has ended: its namespaces are frozen/),
        });
        await expect(
          asToken(token, ['-n', work(a), 'scale', 'deployment', 'nothing', '--replicas=3']),
        ).rejects.toMatchObject({ stderr: expect.stringMatching(/frozen|not found/) });
        await expect(
          asToken(token, ['-n', work(a), 'delete', 'configmap', 'before']),
        ).rejects.toMatchObject({
          stderr: expect.stringMatching(/frozen/),
        });
      }
      // The ServiceAccount's prefixed ClusterRoleBinding is gone, and the session's policy refuses everything.
      const latePv = join(dir, 'late-pv.json');
      await writeFile(
        latePv,
        JSON.stringify(pv(`${a.prefix}-late`, { hostPath: { path: '/srv/late' } })),
      );
      await expect(asToken(tokens.minted, ['create', '-f', latePv])).rejects.toMatchObject({
        stderr: expect.stringMatching(/forbidden/),
      });
      // The candidate's own kubeconfig: its bindings are gone at once, its
      // ServiceAccount too (the token stops authenticating once the API server's cache sees it).
      await expect(kubectl(['-n', work(a), 'get', 'pods'], a.kubeconfig)).rejects.toMatchObject({
        stderr: expect.stringMatching(/Unauthorized|must be logged in|forbidden/),
      });
      // B is untouched by A's end.
      await kubectl(['-n', work(b), 'create', 'configmap', 'still-mine'], b.kubeconfig);
    });
  });
});
