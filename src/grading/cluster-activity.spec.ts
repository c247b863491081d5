import { describe, expect, it } from '@jest/globals';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { activityIn, objectActivity } from './cluster-activity.js';
import { ClusterReads, type LiveObject } from './cluster-reads.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
const obj = (fields: Record<string, unknown>) =>
  ({ metadata: { name: 'x', creationTimestamp: ago(600) }, ...fields }) as unknown as Parameters<
    typeof objectActivity
  >[1];

describe('objectActivity', () => {
  it('waits for the scheduler, but not past its verdict', () => {
    expect(objectActivity('Pod', obj({ spec: {}, status: { phase: 'Pending' } }), NOW)).toBe(
      'waiting for the scheduler',
    );
    const unschedulable = obj({
      spec: {},
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }],
      },
    });
    expect(objectActivity('Pod', unschedulable, NOW)).toBeUndefined();
  });

  it('waits while containers are being created or just started, not while backed off', () => {
    const pod = (state: object, ready = false) =>
      obj({
        spec: { nodeName: 'node01' },
        status: { phase: 'Running', containerStatuses: [{ name: 'app', ready, state }] },
      });
    expect(objectActivity('Pod', pod({ waiting: { reason: 'ContainerCreating' } }), NOW)).toBe(
      'container app is ContainerCreating',
    );
    expect(objectActivity('Pod', pod({ running: { startedAt: ago(3) } }), NOW)).toBe(
      'container app started 3 s ago, not ready yet',
    );
    expect(objectActivity('Pod', pod({ running: { startedAt: ago(60) } }), NOW)).toBeUndefined();
    expect(objectActivity('Pod', pod({ waiting: { reason: 'CrashLoopBackOff' } }), NOW)).toBe(
      undefined,
    );
    expect(objectActivity('Pod', pod({ waiting: { reason: 'ImagePullBackOff' } }), NOW)).toBe(
      undefined,
    );
    expect(
      objectActivity(
        'Pod',
        obj({ metadata: { name: 'x', deletionTimestamp: ago(1) }, spec: {}, status: {} }),
        NOW,
      ),
    ).toBe('being deleted');
  });

  it('waits for a generation to be observed and for a ReplicaSet to create its pods, unless refused', () => {
    const deploy = obj({
      metadata: { name: 'web', generation: 3 },
      status: { observedGeneration: 2 },
    });
    expect(objectActivity('Deployment', deploy, NOW)).toBe(
      'generation 3 not yet observed (observed 2)',
    );
    const rs = (conditions: object[] = []) =>
      obj({
        metadata: { name: 'web-1', generation: 1 },
        spec: { replicas: 3 },
        status: { observedGeneration: 1, replicas: 1, conditions },
      });
    expect(objectActivity('ReplicaSet', rs(), NOW)).toBe('1 of 3 pods created');
    // A missing ServiceAccount or a quota: nothing changes until someone acts.
    expect(
      objectActivity('ReplicaSet', rs([{ type: 'ReplicaFailure', status: 'True' }]), NOW),
    ).toBeUndefined();
  });
});

describe('activityIn', () => {
  /** Reads over a fixed set of lists: kind -> objects. */
  const readsOver = (lists: Record<string, object[]>) =>
    new ClusterReads({
      listJson: async (_apiVersion: string, kind: string) => lists[kind] ?? [],
    } as unknown as ClusterClient);

  it('is settled when nothing changed lately and nothing is in flight', async () => {
    const reads = readsOver({
      Pod: [
        {
          metadata: { name: 'web-1', creationTimestamp: ago(120) },
          spec: { nodeName: 'node01' },
          status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: true }] },
        },
      ],
    });
    expect(await activityIn(reads, { namespace: 's1-app' }, NOW)).toBeUndefined();
  });

  it('waits out a quiet window after a write, longer for RBAC (informer caches)', async () => {
    const written = (kind: string, seconds: number) =>
      readsOver({
        [kind]: [
          {
            metadata: {
              name: 'a',
              creationTimestamp: ago(300),
              managedFields: [{ time: ago(seconds) }],
            },
          },
        ],
      });
    expect(await activityIn(written('Service', 1), { namespace: 'n' }, NOW)).toMatch(
      /^Service a changed \d s ago$/,
    );
    expect(await activityIn(written('Service', 4), { namespace: 'n' }, NOW)).toBeUndefined();
    expect(await activityIn(written('RoleBinding', 4), { namespace: 'n' }, NOW)).toMatch(
      /^RoleBinding a changed/,
    );
    expect(await activityIn(written('RoleBinding', 7), { namespace: 'n' }, NOW)).toBeUndefined();
  });

  it("looks at the session's cluster-scoped objects by prefix only", async () => {
    const pv = (name: string) =>
      ({ metadata: { name, creationTimestamp: ago(0) } }) as unknown as LiveObject;
    const reads = readsOver({ PersistentVolume: [pv('other-pv'), pv('s1abcd-pv')] });
    expect(await activityIn(reads, { prefix: 's1abcd' }, NOW)).toMatch(
      /^PersistentVolume s1abcd-pv changed/,
    );
    const others = readsOver({ PersistentVolume: [pv('other-pv')] });
    expect(await activityIn(others, { prefix: 's1abcd' }, NOW)).toBeUndefined();
  });
});

describe('activityIn: a status that lags its pods', () => {
  const readsOver = (lists: Record<string, object[]>) =>
    new ClusterReads({
      listJson: async (_apiVersion: string, kind: string) => lists[kind] ?? [],
    } as unknown as ClusterClient);
  const owned = (uid: string) => [{ uid, controller: true }];
  const readyPod = (name: string) => ({
    metadata: { name, creationTimestamp: ago(60), ownerReferences: owned('rs-1') },
    spec: { nodeName: 'controlplane' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'app', ready: true }],
    },
  });
  const cluster = (rsReady: number | undefined, deploymentReady: number | undefined) =>
    readsOver({
      Pod: [readyPod('web-1'), readyPod('web-2')],
      ReplicaSet: [
        {
          metadata: {
            name: 'web-abc',
            uid: 'rs-1',
            generation: 1,
            creationTimestamp: ago(60),
            ownerReferences: owned('d-1'),
          },
          spec: { replicas: 2 },
          status: { observedGeneration: 1, replicas: 2, readyReplicas: rsReady },
        },
      ],
      Deployment: [
        {
          metadata: { name: 'web', uid: 'd-1', generation: 1, creationTimestamp: ago(60) },
          spec: { replicas: 2 },
          status: { observedGeneration: 1, replicas: 2, readyReplicas: deploymentReady },
        },
      ],
    });

  it('is settled when every count agrees', async () => {
    expect(await activityIn(cluster(2, 2), { namespace: 'shop' }, NOW)).toBeUndefined();
  });

  it("waits while a ReplicaSet's status counts fewer ready pods than it has (an etcd restore's stale status)", async () => {
    expect(await activityIn(cluster(undefined, undefined), { namespace: 'shop' }, NOW)).toBe(
      'ReplicaSet web-abc: its status counts 0 ready pods, 2 are',
    );
  });

  it("waits while a Deployment's status disagrees with its ReplicaSets'", async () => {
    expect(await activityIn(cluster(2, 0), { namespace: 'shop' }, NOW)).toBe(
      'Deployment web: its status counts 0 ready pods, its ReplicaSets 2',
    );
  });
});

describe('activityIn: finished pods are not counted as ready', () => {
  it('is settled when a Succeeded pod still says Ready (the ReplicaSet controller does not count it)', async () => {
    const reads = new ClusterReads({
      listJson: async (_apiVersion: string, kind: string) =>
        ({
          Pod: [
            {
              metadata: {
                name: 'done',
                creationTimestamp: ago(60),
                ownerReferences: [{ uid: 'rs-1', controller: true }],
              },
              spec: { nodeName: 'node01' },
              status: { phase: 'Succeeded', conditions: [{ type: 'Ready', status: 'True' }] },
            },
          ],
          ReplicaSet: [
            {
              metadata: { name: 'rs', uid: 'rs-1', generation: 1, creationTimestamp: ago(60) },
              spec: { replicas: 0 },
              status: { observedGeneration: 1, replicas: 0 },
            },
          ],
        })[kind] ?? [],
    } as unknown as ClusterClient);
    expect(await activityIn(reads, { namespace: 'n' }, NOW)).toBeUndefined();
  });
});
