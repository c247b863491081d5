import { jest } from '@jest/globals';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type V1PodSpec,
} from '@kubernetes/client-node';
import {
  adminKubeConfig,
  createObjects,
  createTestNamespace,
  deleteNamespace,
} from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';

jest.setTimeout(90_000);

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const batch = kc.makeApiClient(BatchV1Api);
const discovery = kc.makeApiClient(DiscoveryV1Api);

const podSpec = (image = 'nginx:1.27'): V1PodSpec => ({
  containers: [{ name: 'main', image, ports: [{ containerPort: 80 }] }],
});

let ns: string;
let workers: string[];
let controlPlanes: string[];

beforeAll(async () => {
  ns = await createTestNamespace('workloads');
  // scheduling.spec adds nodes of its own (labelled cka-test/pool, fenced by a
  // taint) while this suite may run beside it: they are not the sandbox's.
  const nodes = (await core.listNode()).items.filter(
    (n) => n.metadata?.labels?.['cka-test/pool'] === undefined,
  );
  const isControlPlane = (labels?: Record<string, string>) =>
    labels !== undefined && 'node-role.kubernetes.io/control-plane' in labels;
  controlPlanes = nodes
    .filter((n) => isControlPlane(n.metadata?.labels))
    .map((n) => n.metadata!.name!);
  workers = nodes.filter((n) => !isControlPlane(n.metadata?.labels)).map((n) => n.metadata!.name!);
});
afterAll(() => deleteNamespace(ns));

describe('the default sandbox', () => {
  it('has one tainted control-plane node and two workers with realistic labels and capacity', async () => {
    expect(controlPlanes).toEqual(['controlplane']);
    expect(workers.sort()).toEqual(['node01', 'node02']);
    const controlPlane = await core.readNode({ name: 'controlplane' });
    expect(controlPlane.spec?.taints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key: 'node-role.kubernetes.io/control-plane',
          effect: 'NoSchedule',
        }),
      ]),
    );
    const worker = await core.readNode({ name: 'node01' });
    expect(worker.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': 'node01',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
    });
    expect(worker.status?.allocatable).toMatchObject({ cpu: '4', pods: '110' });
    expect(worker.status?.nodeInfo?.kubeletVersion).toMatch(/^v1\.(3[5-9]|[4-9]\d)\./);
  });
});

describe('Deployment and Service', () => {
  it('a 3-replica Deployment becomes ready on the workers only, and its Service gets 3 ready endpoints', async () => {
    const labels = { app: 'web' };
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: podSpec() },
        },
      },
    });
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: { selector: labels, ports: [{ port: 80, targetPort: 80 }] },
      },
    });

    const deployment = await eventually(
      'Deployment web to have 3 ready replicas',
      () => apps.readNamespacedDeployment({ name: 'web', namespace: ns }),
      (d) => d.status?.readyReplicas === 3 && d.status?.availableReplicas === 3,
    );
    expect(deployment.status?.updatedReplicas).toBe(3);

    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.status?.phase).toBe('Running');
      expect(workers).toContain(pod.spec?.nodeName);
      expect(controlPlanes).not.toContain(pod.spec?.nodeName);
      expect(pod.status?.podIP).toMatch(/^10\.244\./);
    }

    const slices = await eventually(
      'EndpointSlices of Service web to list 3 ready endpoints',
      () =>
        discovery.listNamespacedEndpointSlice({
          namespace: ns,
          labelSelector: 'kubernetes.io/service-name=web',
        }),
      (list) =>
        list.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready).length ===
        3,
    );
    const addresses = slices.items
      .flatMap((s) => s.endpoints ?? [])
      .flatMap((e) => e.addresses)
      .sort();
    expect(addresses).toEqual(pods.map((p) => p.status!.podIP!).sort());
    const service = await core.readNamespacedService({ name: 'web', namespace: ns });
    expect(service.spec?.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\./);
  });
});

describe('Job, StatefulSet and DaemonSet', () => {
  it('a Job runs to completion', async () => {
    await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: 'once' },
        spec: {
          completions: 2,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'main', image: 'busybox', command: ['true'] }],
            },
          },
        },
      },
    });
    const job = await eventually(
      'Job once to complete',
      () => batch.readNamespacedJob({ name: 'once', namespace: ns }),
      (j) => (j.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True'),
    );
    expect(job.status?.succeeded).toBe(2);
  });

  it('a StatefulSet rolls out with ordered, stable pod names', async () => {
    const labels = { app: 'db' };
    await createObjects(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'db', namespace: ns },
        spec: { clusterIP: 'None', selector: labels, ports: [{ port: 5432 }] },
      } as never,
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: ns },
        spec: {
          serviceName: 'db',
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: podSpec('postgres:17') },
        },
      } as never,
    );
    const sts = await eventually(
      'StatefulSet db to have 2 ready replicas',
      () => apps.readNamespacedStatefulSet({ name: 'db', namespace: ns }),
      (s) =>
        s.status?.readyReplicas === 2 && s.status?.currentRevision === s.status?.updateRevision,
    );
    expect(sts.status?.replicas).toBe(2);
    const names = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=db' })).items
      .map((p) => p.metadata?.name)
      .sort();
    expect(names).toEqual(['db-0', 'db-1']);
  });

  it('a DaemonSet places one pod on each schedulable node and none on the tainted control plane', async () => {
    const labels = { app: 'agent' };
    await apps.createNamespacedDaemonSet({
      namespace: ns,
      body: {
        metadata: { name: 'agent' },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: podSpec('fluent-bit:3') },
        },
      },
    });
    const ds = await eventually(
      'DaemonSet agent to be ready on every schedulable node',
      () => apps.readNamespacedDaemonSet({ name: 'agent', namespace: ns }),
      (d) =>
        d.status?.desiredNumberScheduled === workers.length &&
        d.status?.numberReady === workers.length,
    );
    expect(ds.status?.numberMisscheduled).toBe(0);
    const nodes = (
      await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=agent' })
    ).items
      .map((p) => p.spec?.nodeName)
      .sort();
    expect(nodes).toEqual([...workers].sort());
  });
});
