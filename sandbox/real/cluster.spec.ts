import { describe, expect, it } from '@jest/globals';
import { notReady } from './cluster.js';

const ready = { conditions: [{ type: 'Ready', status: 'True' }] };
const notYet = { conditions: [{ type: 'Ready', status: 'False' }] };

describe('notReady', () => {
  it('names what a starting cluster still waits for', () => {
    expect(
      notReady(
        {
          items: [
            { kind: 'Node', metadata: { name: 'controlplane' }, status: ready },
            { kind: 'Node', metadata: { name: 'node01' }, status: notYet },
            {
              kind: 'Deployment',
              metadata: { name: 'metrics-server' },
              spec: { replicas: 1 },
              status: {},
            },
            {
              kind: 'DaemonSet',
              metadata: { name: 'kube-proxy' },
              status: { desiredNumberScheduled: 2, numberReady: 1 },
            },
            { kind: 'Pod', metadata: { name: 'coredns-1' }, status: notYet },
            { kind: 'Pod', metadata: { name: 'etcd-controlplane' }, status: ready },
          ],
        },
        3,
      ),
    ).toBe(
      '2 of 3 nodes registered; nodes node01; workloads metrics-server, kube-proxy; pods coredns-1',
    );
  });

  it('is empty once every node, workload and pod is Ready', () => {
    expect(
      notReady(
        {
          items: [
            { kind: 'Node', metadata: { name: 'controlplane' }, status: ready },
            {
              kind: 'Deployment',
              metadata: { name: 'coredns' },
              spec: { replicas: 2 },
              status: { readyReplicas: 2 },
            },
            {
              kind: 'DaemonSet',
              metadata: { name: 'kube-proxy' },
              status: { desiredNumberScheduled: 1, numberReady: 1 },
            },
            { kind: 'Pod', metadata: { name: 'coredns-1' }, status: ready },
          ],
        },
        1,
      ),
    ).toBe('');
  });

  it('waits for a mirror pod the kubelet has not made yet', () => {
    expect(
      notReady(
        { items: [{ kind: 'Pod', metadata: { name: 'etcd-controlplane' }, status: ready }] },
        0,
        ['etcd-controlplane', 'kube-controller-manager-controlplane'],
      ),
    ).toBe('pods kube-controller-manager-controlplane');
  });

  it('waits for a DaemonSet that has not scheduled anything yet', () => {
    expect(
      notReady(
        { items: [{ kind: 'DaemonSet', metadata: { name: 'kube-router' }, status: {} }] },
        0,
      ),
    ).toBe('workloads kube-router');
  });
});
