import { jest } from '@jest/globals';
import { AppsV1Api, CoreV1Api, type V1Node, type V1Toleration } from '@kubernetes/client-node';
import { fakeNode } from '../../../sandbox/nodes.js';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteNamespace,
  ignoreNotFound,
} from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';

jest.setTimeout(60_000);

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);

// These tests cordon and taint nodes. To leave the shared workers alone (other
// suites schedule onto them in parallel), they get two nodes of their own,
// fenced off by a taint that only their pods tolerate.
const pool = Math.random().toString(36).slice(2, 8);
const nodeA = `pool-${pool}-a`;
const nodeB = `pool-${pool}-b`;
const fence: V1Toleration = {
  key: 'cka-test/pool',
  operator: 'Equal',
  value: pool,
  effect: 'NoSchedule',
};
let ns: string;

beforeAll(async () => {
  ns = await createTestNamespace('scheduling');
  const version = (await core.readNode({ name: 'node01' })).status!.nodeInfo!.kubeletVersion;
  for (const [i, name] of [nodeA, nodeB].entries()) {
    await core.createNode({
      body: fakeNode({
        name,
        index: 200 + i,
        controlPlane: false,
        kubernetesVersion: version,
        labels: { 'cka-test/pool': pool },
        taints: [{ key: fence.key!, value: pool, effect: 'NoSchedule' }],
      }) as V1Node,
    });
  }
  await eventually(
    'the pool nodes to be Ready',
    () => core.listNode({ labelSelector: `cka-test/pool=${pool}` }),
    (list) =>
      list.items.length === 2 &&
      list.items.every(
        (n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          !n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/not-ready')),
      ),
  );
});
afterAll(async () => {
  await deleteNamespace(ns);
  for (const name of [nodeA, nodeB]) await core.deleteNode({ name }).catch(ignoreNotFound);
});

async function deployToPool(name: string, replicas: number): Promise<string[]> {
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { 'cka-test/pool': pool },
            tolerations: [fence],
            containers: [{ name: 'main', image: 'nginx' }],
          },
        },
      },
    },
  });
  const pods = await eventually(
    `${replicas} pods of ${name} to be scheduled and Running`,
    () => core.listNamespacedPod({ namespace: ns, labelSelector: `app=${name}` }),
    (list) =>
      list.items.length === replicas && list.items.every((p) => p.status?.phase === 'Running'),
  );
  return pods.items.map((p) => p.spec!.nodeName!);
}

async function setNode(name: string, patch: (node: V1Node) => void): Promise<void> {
  const node = await core.readNode({ name });
  patch(node);
  await core.replaceNode({ name, body: node });
}

it('a cordoned node receives no new pods', async () => {
  await setNode(nodeA, (n) => (n.spec!.unschedulable = true));
  const placed = await deployToPool('after-cordon', 4);
  expect(placed).toEqual([nodeB, nodeB, nodeB, nodeB]);

  // The node controller marks a cordoned node with the unschedulable taint, as kubectl shows.
  const cordoned = await eventually(
    'the unschedulable taint on the cordoned node',
    () => core.readNode({ name: nodeA }),
    (n) => (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unschedulable'),
  );
  expect(cordoned.spec?.unschedulable).toBe(true);
});

it('a pod that can only go to a cordoned node stays Pending as Unschedulable', async () => {
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'pinned' },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': nodeA },
        tolerations: [fence],
        containers: [{ name: 'main', image: 'nginx' }],
      },
    },
  });
  const pod = await eventually(
    'the scheduler to report pod pinned as unschedulable',
    () => core.readNamespacedPod({ name: 'pinned', namespace: ns }),
    (p) =>
      (p.status?.conditions ?? []).some(
        (c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable',
      ),
  );
  expect(pod.status?.phase).toBe('Pending');
  expect(pod.spec?.nodeName).toBeUndefined();
});

it('a node with a NoSchedule taint receives no new pods that do not tolerate it', async () => {
  await setNode(nodeA, (n) => (n.spec!.unschedulable = false));
  await setNode(nodeB, (n) =>
    n.spec!.taints!.push({ key: 'maintenance', value: 'true', effect: 'NoSchedule' }),
  );
  const placed = await deployToPool('after-taint', 3);
  expect(placed).toEqual([nodeA, nodeA, nodeA]);
});
