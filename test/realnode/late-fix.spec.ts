import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { ClusterClient } from '../../src/cluster/cluster-client.js';
import { replaceBackedOffPods } from '../../src/provisioning/controller-wake.js';
import { eventually } from '../support/eventually.js';
import { createNamespace, kubectl } from '../support/real-cluster.js';

/**
 * The end of a session on a cluster whose pods run: a container crash-looping
 * until the candidate adds what it needs waits out the kubelet's back-off
 * (doubling up to 5 minutes), so a late fix would be graded as not done.
 * The end replaces such pods, and the replacement starts at once.
 */
jest.setTimeout(240_000);

const ns = `late-fix-${randomBytes(3).toString('hex')}`;

interface PodList {
  items: {
    metadata: { name: string };
    status: {
      containerStatuses?: { ready: boolean; restartCount: number; state?: { running?: object } }[];
    };
  }[];
}

const pods = async (app = 'reader') =>
  JSON.parse(await kubectl(['-n', ns, 'get', 'pods', '-l', `app=${app}`, '-o', 'json'])) as PodList;

function realClusterClient(): ClusterClient {
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.REAL_KUBECONFIG!);
  return new ClusterClient('main', kc);
}

describe('a late fix of a crash-looping Deployment', () => {
  beforeAll(async () => {
    await createNamespace(ns);
  });
  afterAll(() => kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined));

  it('runs at once once the end replaces the backed-off pod', async () => {
    await kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: reader }
spec:
  replicas: 1
  selector: { matchLabels: { app: reader } }
  template:
    metadata: { labels: { app: reader } }
    spec:
      containers:
        - name: main
          image: busybox:1.36
          command: [sh, -c, 'test -f /config/mode || exit 1; exec sleep 3600']
          volumeMounts: [{ name: config, mountPath: /config }]
      volumes:
        - name: config
          configMap: { name: reader-config, optional: true }
`,
    );
    // Three crashes: the next try is 40 s or more away, and growing. (Each restart
    // shows the container running, even Ready, for a moment: wait past it.)
    await eventually(
      'the container to crash three times',
      () => pods(),
      (list) => {
        const status = list.items[0]?.status.containerStatuses?.[0];
        return (status?.restartCount ?? 0) >= 3 && status?.state?.running === undefined;
      },
      120_000,
    );
    const before = (await pods()).items[0].metadata.name;
    await kubectl(['-n', ns, 'create', 'configmap', 'reader-config', '--from-literal=mode=on']);

    const replaced = await replaceBackedOffPods(realClusterClient(), [ns]);
    expect(replaced).toEqual([`${ns}/${before}`]);
    const ready = await eventually(
      'a replacement pod Ready',
      () => pods(),
      (list) =>
        list.items.some(
          (p) => p.metadata.name !== before && p.status.containerStatuses?.[0]?.ready === true,
        ),
      30_000,
    );
    expect(
      ready.items.find((p) => p.metadata.name !== before)?.status.containerStatuses?.[0]
        ?.restartCount,
    ).toBe(0);
  });

  it('is not taken for fixed while an unfixed replacement is in its first seconds', async () => {
    // Fails 3 s after each start, and nothing fixes it: a replacement is
    // Running and Ready (no readiness probe) for those 3 s.
    await kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: slow-crash }
spec:
  replicas: 1
  selector: { matchLabels: { app: slow-crash } }
  template:
    metadata: { labels: { app: slow-crash } }
    spec:
      containers:
        - { name: main, image: "busybox:1.36", command: [sh, -c, 'sleep 3; exit 1'] }
`,
    );
    await eventually(
      'the container to fail twice and wait in back-off',
      () => pods('slow-crash'),
      (list) => {
        const status = list.items[0]?.status.containerStatuses?.[0];
        return (status?.restartCount ?? 0) >= 2 && status?.state?.running === undefined;
      },
      120_000,
    );
    const before = (await pods('slow-crash')).items[0].metadata.name;

    const replaced = await replaceBackedOffPods(realClusterClient(), [ns]);
    expect(replaced).toEqual([`${ns}/${before}`]);
    // What grading sees next: the replacement has failed too, not a Ready pod.
    const replacement = (await pods('slow-crash')).items.find((p) => p.metadata.name !== before);
    const status = replacement?.status.containerStatuses?.[0];
    expect(status).toBeDefined();
    expect(status!.ready === false || status!.restartCount > 0).toBe(true);
  });
});
