import 'reflect-metadata';
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterError, parseManifests } from '../../../src/cluster/cluster-client.js';
import { ClusterService } from '../../../src/cluster/cluster.service.js';
import { loadConfig } from '../../../src/config/config.schema.js';
import { kubectl } from '../../support/cluster.js';

jest.setTimeout(60_000);

const FIELD_MANAGER = 'cka-exam-engine';

function service(env: Record<string, string> = {}) {
  return new ClusterService(loadConfig({ KUBECONFIG: process.env.SANDBOX_KUBECONFIG!, ...env }));
}

describe('ClusterClient on the sandbox', () => {
  const cluster = service().client('main');
  const ns = `cc-${randomBytes(3).toString('hex')}`;
  afterAll(() => cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns }));

  it('applies manifests server-side, idempotently, as the engine', async () => {
    const manifests = parseManifests(`
apiVersion: v1
kind: Namespace
metadata: { name: ${ns}, labels: { cka-test: cluster-client } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${ns} }
data: { LEVEL: info }
---
`);
    expect(manifests.map((m) => m.kind)).toEqual(['Namespace', 'ConfigMap']);
    const [, first] = await cluster.apply(manifests, FIELD_MANAGER);
    const [, second] = await cluster.apply(manifests, FIELD_MANAGER);
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(first.metadata?.managedFields?.map((f) => f.manager)).toContain(FIELD_MANAGER);

    const read = await cluster.read<{ data: Record<string, string> } & typeof first>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'settings',
      namespace: ns,
    });
    expect(read?.data).toEqual({ LEVEL: 'info' });
    const listed = await cluster.list('v1', 'Namespace', {
      labelSelector: 'cka-test=cluster-client',
    });
    expect(listed.map((n) => n.metadata?.name)).toContain(ns);
  });

  it('keeps fields whose JSON names differ from client-node model names (LimitRange default)', async () => {
    const [applied] = await cluster.apply(
      parseManifests(`
apiVersion: v1
kind: LimitRange
metadata: { name: limits, namespace: ${ns} }
spec:
  limits: [{ type: Container, default: { cpu: 200m }, defaultRequest: { cpu: 20m } }]
`),
      FIELD_MANAGER,
    );
    expect(applied.metadata?.name).toBe('limits');
    const stored = JSON.parse(
      (await kubectl(['-n', ns, 'get', 'limitrange', 'limits', '-o', 'json'])).stdout,
    );
    expect(stored.spec.limits[0]).toEqual({
      type: 'Container',
      default: { cpu: '200m' },
      defaultRequest: { cpu: '20m' },
    });
  });

  it('reports a missing object as absent and an invalid one with the API server message', async () => {
    expect(
      await cluster.read({ apiVersion: 'v1', kind: 'ConfigMap', name: 'nope', namespace: ns }),
    ).toBeUndefined();
    expect(
      await cluster.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'nope', namespace: ns }),
    ).toBe(false);
    const invalid = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken', namespace: ns },
      spec: {},
    };
    const error = await cluster.apply([invalid], FIELD_MANAGER).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as ClusterError).status).toBe(422);
    expect((error as Error).message).toMatch(
      /^cluster main: apply Deployment cc-[0-9a-f]+\/broken: Deployment.apps "broken" is invalid: .*spec\.selector: Required value/,
    );
    const unknown = await cluster
      .apply(
        [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: ns } }],
        FIELD_MANAGER,
      )
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ClusterError);
  });

  it('answers SubjectAccessReviews and issues bound tokens that authenticate, in a kubeconfig kubectl accepts', async () => {
    await cluster.apply(
      parseManifests(`
apiVersion: v1
kind: ServiceAccount
metadata: { name: candidate, namespace: ${ns} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: candidate-edit, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }
subjects: [{ kind: ServiceAccount, name: candidate, namespace: ${ns} }]
`),
      FIELD_MANAGER,
    );
    const user = `system:serviceaccount:${ns}:candidate`;
    const groups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`];
    expect(
      (
        await cluster.review({
          user,
          groups,
          verb: 'create',
          resource: 'deployments',
          group: 'apps',
          namespace: ns,
        })
      ).allowed,
    ).toBe(true);
    expect(
      (
        await cluster.review({
          user,
          groups,
          verb: 'list',
          resource: 'secrets',
          namespace: 'kube-system',
        })
      ).allowed,
    ).toBe(false);

    const { token, expiresAt } = await cluster.requestToken(ns, 'candidate', 900);
    expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(800_000);
    const path = join(tmpdir(), `${ns}.kubeconfig`);
    await writeFile(path, cluster.kubeconfigFor(token, { name: 'main', namespace: ns }), {
      mode: 0o600,
    });
    expect(
      (await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], path))
        .stdout,
    ).toBe(user);
    expect(
      (
        await kubectl(
          ['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}'],
          path,
        )
      ).stdout,
    ).toBe(ns);
    await kubectl(['create', 'configmap', 'made-by-candidate', '--from-literal=a=b'], path);
    await expect(kubectl(['get', 'secrets', '-n', 'kube-system'], path)).rejects.toMatchObject({
      stderr: expect.stringContaining('Forbidden'),
    });
  });

  it('names each configured cluster and reports its reachability', async () => {
    const clusters = service({
      CLUSTERS: `other=${process.env.SANDBOX_KUBECONFIG},broken=/nonexistent/kubeconfig`,
    });
    expect(clusters.aliases()).toEqual(['main', 'other', 'broken']);
    const reach = await clusters.reachability();
    expect(reach.main).toMatchObject({ status: 'up', version: expect.stringMatching(/^v1\./) });
    expect(reach.other).toMatchObject({ status: 'up' });
    expect(reach.broken).toMatchObject({ status: 'not-configured' });
    expect(() => clusters.client('nope')).toThrow(
      'no cluster "nope" is configured (known: main, other, broken)',
    );
  });
});
