import { describe, expect, it } from '@jest/globals';
import type { ClusterClient } from '../cluster/cluster-client.js';
import {
  inKubeletBackOff,
  isShort,
  replaceBackedOffPods,
  replacementSettled,
  settleAll,
  settleTimeOf,
  wakeShortWorkloads,
} from './controller-wake.js';

/** A cluster of ReplicaSets in memory: records each list and what was applied. */
function fakeCluster(replicaSets: { namespace: string; name: string; short: boolean }[]) {
  const lists: (string | undefined)[] = [];
  const applied: string[] = [];
  const cluster = {
    async list(_apiVersion: string, kind: string, options: { namespace?: string } = {}) {
      lists.push(options.namespace);
      if (kind !== 'ReplicaSet') return [];
      return replicaSets
        .filter((r) => !options.namespace || r.namespace === options.namespace)
        .map((r) => ({
          metadata: { name: r.name, namespace: r.namespace },
          spec: { replicas: 1 },
          status: { replicas: r.short ? 0 : 1 },
        }));
    },
    async apply(objects: { kind: string; metadata: { namespace: string; name: string } }[]) {
      applied.push(...objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`));
    },
  };
  return { cluster: cluster as unknown as ClusterClient, lists, applied };
}

describe('settleAll', () => {
  it('waits for every promise before reporting the first failure', async () => {
    let slowDone = false;
    const slow = new Promise<number>((r) =>
      setTimeout(() => {
        slowDone = true;
        r(1);
      }, 30),
    );
    await expect(settleAll([Promise.reject(new Error('fast failure')), slow])).rejects.toThrow(
      'fast failure',
    );
    expect(slowDone).toBe(true);
    expect(await settleAll([Promise.resolve(1), Promise.resolve(2)])).toEqual([1, 2]);
  });
});

describe('replaceBackedOffPods', () => {
  it("clusterWide: one list of the cluster's pods, kept to the namespaces given", async () => {
    const crashing = (namespace: string, name: string) => ({
      metadata: {
        name,
        namespace,
        ownerReferences: [{ kind: 'ReplicaSet', uid: `rs-${name}`, controller: true }],
      },
      status: { containerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
    });
    const lists: (string | undefined)[] = [];
    const deleted: string[] = [];
    const cluster = {
      async list(_apiVersion: string, _kind: string, options: { namespace?: string } = {}) {
        lists.push(options.namespace);
        return [crashing('a', 'web-1'), crashing('b', 'api-1'), crashing('other', 'theirs-1')];
      },
      // Already gone: nothing to wait for.
      async delete(ref: { namespace: string; name: string }) {
        deleted.push(`${ref.namespace}/${ref.name}`);
        return false;
      },
    } as unknown as ClusterClient;
    await replaceBackedOffPods(cluster, ['a', 'b'], { clusterWide: true });
    expect(lists).toEqual([undefined]);
    expect(deleted).toEqual(['a/web-1', 'b/api-1']);
  });
});

describe('wakeShortWorkloads', () => {
  const replicaSets = [
    { namespace: 'a', name: 'web', short: true },
    { namespace: 'a', name: 'db', short: false },
    { namespace: 'b', name: 'api', short: true },
    { namespace: 'other', name: 'theirs', short: true },
  ];

  it("lists each of the session's namespaces and wakes only its short workloads", async () => {
    const { cluster, lists, applied } = fakeCluster(replicaSets);
    const woken = await wakeShortWorkloads(cluster, ['a', 'b']);
    expect(woken.sort()).toEqual(['ReplicaSet a/web', 'ReplicaSet b/api']);
    expect(applied.sort()).toEqual(woken);
    expect(lists.sort()).toEqual(['a', 'a', 'a', 'b', 'b', 'b']); // three kinds each
  });

  it('clusterWide: one list per kind, still kept to the namespaces given', async () => {
    const { cluster, lists, applied } = fakeCluster(replicaSets);
    const woken = await wakeShortWorkloads(cluster, ['a', 'b'], { clusterWide: true });
    expect(woken.sort()).toEqual(['ReplicaSet a/web', 'ReplicaSet b/api']);
    expect(applied.sort()).toEqual(woken);
    expect(lists).toEqual([undefined, undefined, undefined]);
  });
});

describe('isShort', () => {
  it('is true for a workload with fewer pods than it wants, false once it has them', () => {
    const rs = (want: number | undefined, have: number | undefined) => ({
      spec: want === undefined ? {} : { replicas: want },
      status: have === undefined ? {} : { replicas: have },
    });
    expect(isShort('ReplicaSet', rs(3, 0))).toBe(true);
    expect(isShort('ReplicaSet', rs(3, undefined))).toBe(true);
    expect(isShort('ReplicaSet', rs(undefined, 0))).toBe(true); // replicas default to 1
    expect(isShort('ReplicaSet', rs(3, 3))).toBe(false);
    expect(isShort('StatefulSet', rs(0, 0))).toBe(false); // scaled to zero on purpose
    expect(
      isShort('DaemonSet', { status: { desiredNumberScheduled: 2, currentNumberScheduled: 1 } }),
    ).toBe(true);
    expect(
      isShort('DaemonSet', { status: { desiredNumberScheduled: 2, currentNumberScheduled: 2 } }),
    ).toBe(false);
  });
});

describe('inKubeletBackOff', () => {
  const pod = (...statuses: object[]) => ({ status: { containerStatuses: statuses } });
  it('is true while a container waits out a crash or pull back-off', () => {
    expect(inKubeletBackOff(pod({ state: { waiting: { reason: 'CrashLoopBackOff' } } }))).toBe(
      true,
    );
    expect(inKubeletBackOff(pod({ state: { waiting: { reason: 'ImagePullBackOff' } } }))).toBe(
      true,
    );
    // A 1.36 kubelet between two restarts: the last termination, not CrashLoopBackOff.
    expect(
      inKubeletBackOff(
        pod({ ready: false, restartCount: 3, state: { terminated: { reason: 'Error' } } }),
      ),
    ).toBe(true);
    // Running for a moment after a crash, Ready without a readiness probe.
    const now = Date.parse('2026-12-03T05:05:35Z');
    const restarted = pod({
      ready: true,
      restartCount: 3,
      state: { running: { startedAt: '2026-12-03T05:05:32Z' } },
      lastState: { terminated: { reason: 'Error' } },
    });
    expect(inKubeletBackOff(restarted, now)).toBe(true);
    expect(inKubeletBackOff(restarted, now + 60_000)).toBe(false);
  });

  it('is false for running, starting, completed and terminating pods', () => {
    expect(
      inKubeletBackOff(
        pod({
          ready: true,
          restartCount: 1,
          state: { running: { startedAt: new Date() } },
          lastState: { terminated: { reason: 'Completed' } },
        }),
      ),
    ).toBe(false);
    expect(inKubeletBackOff(pod({ ready: true, restartCount: 2, state: { running: {} } }))).toBe(
      false,
    );
    expect(inKubeletBackOff(pod({ state: { waiting: { reason: 'ContainerCreating' } } }))).toBe(
      false,
    );
    expect(
      inKubeletBackOff(
        pod({ ready: false, restartCount: 1, state: { terminated: { reason: 'Completed' } } }),
      ),
    ).toBe(false);
    expect(
      inKubeletBackOff({
        metadata: { deletionTimestamp: new Date('2026-12-03T00:00:00Z') },
        ...pod({ state: { waiting: { reason: 'CrashLoopBackOff' } } }),
      }),
    ).toBe(false);
  });
});

describe('a replacement pod', () => {
  const pod = (...statuses: object[]) => ({ status: { containerStatuses: statuses } });
  const now = Date.parse('2026-12-03T06:00:00Z');
  const startedSecondsAgo = (seconds: number) => new Date(now - seconds * 1000).toISOString();

  it("must outrun the old container's last run by half again and 5 s, for 8 to 30 s", () => {
    const failedAfter = (ms: number) =>
      pod({
        restartCount: 4,
        state: {
          terminated: {
            reason: 'Error',
            startedAt: '2026-12-03T05:59:00.000Z',
            finishedAt: new Date(Date.parse('2026-12-03T05:59:00.000Z') + ms),
          },
        },
      });
    expect(settleTimeOf(failedAfter(4_000))).toBe(11_000);
    expect(settleTimeOf(failedAfter(0))).toBe(8_000);
    expect(settleTimeOf(failedAfter(600_000))).toBe(30_000);
    expect(settleTimeOf(pod({ state: { waiting: { reason: 'ImagePullBackOff' } } }))).toBe(8_000);
  });

  it('proves nothing while Ready for less than that', () => {
    const ready = pod({
      ready: true,
      restartCount: 0,
      state: { running: { startedAt: startedSecondsAgo(2) } },
    });
    expect(replacementSettled(ready, 11_000, now)).toBe(false);
    expect(replacementSettled(ready, 11_000, now + 9_000)).toBe(true);
    expect(
      replacementSettled(pod({ state: { waiting: { reason: 'ContainerCreating' } } }), 5_000, now),
    ).toBe(false);
    expect(replacementSettled({ status: {} }, 5_000, now)).toBe(false);
  });

  it('has shown it is not fixed once it fails again', () => {
    expect(
      replacementSettled(
        pod({ restartCount: 0, state: { terminated: { reason: 'Error' } } }),
        7_000,
        now,
      ),
    ).toBe(true);
    expect(
      replacementSettled(
        pod({
          restartCount: 1,
          ready: true,
          state: { running: { startedAt: startedSecondsAgo(1) } },
        }),
        7_000,
        now,
      ),
    ).toBe(true);
    expect(
      replacementSettled(pod({ state: { waiting: { reason: 'ErrImagePull' } } }), 7_000, now),
    ).toBe(true);
  });
});
