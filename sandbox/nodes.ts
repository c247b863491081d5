/** Marks a Node as one that the kwok controller plays the kubelet for. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const CONTROL_PLANE_ROLE = 'node-role.kubernetes.io/control-plane';

export interface NodeLayout {
  /** Tainted NoSchedule control-plane nodes, as kubeadm leaves them. */
  controlPlanes: number;
  workers: number;
}

/**
 * Node objects shaped like a small kubeadm cluster on the CKA exam: names
 * (controlplane, node01, node02, ...), well-known labels, the control-plane
 * taint and a realistic capacity. kwok keeps their status fresh afterwards.
 */
export function nodeManifests(layout: NodeLayout, kubernetesVersion: string): object[] {
  const controlPlaneNames =
    layout.controlPlanes === 1
      ? ['controlplane']
      : Array.from({ length: layout.controlPlanes }, (_, i) => `controlplane${i + 1}`);
  const workerNames = Array.from(
    { length: layout.workers },
    (_, i) => `node${String(i + 1).padStart(2, '0')}`,
  );
  return [
    ...controlPlaneNames.map((name, index) =>
      fakeNode({ name, index, controlPlane: true, kubernetesVersion }),
    ),
    ...workerNames.map((name, i) =>
      fakeNode({
        name,
        index: controlPlaneNames.length + i,
        controlPlane: false,
        kubernetesVersion,
      }),
    ),
  ];
}

export interface FakeNodeSpec {
  name: string;
  /** Distinct per node: picks its InternalIP and pod CIDR. */
  index: number;
  controlPlane: boolean;
  kubernetesVersion: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
}

/** One Node object that kwok will play the kubelet for. */
export function fakeNode(spec: FakeNodeSpec): object {
  const { name, index, controlPlane, kubernetesVersion } = spec;
  const capacity = {
    cpu: '4',
    memory: '8148872Ki',
    pods: '110',
    'ephemeral-storage': '61202244Ki',
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        ...(controlPlane
          ? {
              [CONTROL_PLANE_ROLE]: '',
              'node.kubernetes.io/exclude-from-external-load-balancers': '',
            }
          : {}),
        ...spec.labels,
      },
    },
    spec: {
      podCIDR: `10.244.${index}.0/24`,
      podCIDRs: [`10.244.${index}.0/24`],
      taints: [
        ...(controlPlane ? [{ key: CONTROL_PLANE_ROLE, effect: 'NoSchedule' }] : []),
        ...(spec.taints ?? []),
      ],
    },
    status: {
      capacity,
      // kubelet reserves a little memory for the system, as on a real node.
      allocatable: { ...capacity, memory: '8046472Ki', 'ephemeral-storage': '56403987978' },
      addresses: [
        {
          type: 'InternalIP',
          address: `172.30.${Math.floor((index + 2) / 256)}.${(index + 2) % 256}`,
        },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: 'Ubuntu 24.04.3 LTS',
        kernelVersion: '6.8.0-kwok',
        containerRuntimeVersion: 'containerd://2.1.4',
        kubeletVersion: kubernetesVersion,
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  };
}
