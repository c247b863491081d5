import { CONTROL_PLANE_ROLE, KWOK_NODE_ANNOTATION, nodeManifests } from './nodes.js';

interface NodeView {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { podCIDR: string; taints: { key: string; effect: string }[] };
  status: { addresses: { type: string; address: string }[]; nodeInfo: { kubeletVersion: string } };
}

const layout = (controlPlanes: number, workers: number) =>
  nodeManifests({ controlPlanes, workers }, 'v1.36.3') as NodeView[];

describe('nodeManifests', () => {
  it('defaults to an exam-like cluster: controlplane, node01, node02', () => {
    const nodes = layout(1, 2);
    expect(nodes.map((n) => n.metadata.name)).toEqual(['controlplane', 'node01', 'node02']);
  });

  it('taints and labels only the control-plane nodes', () => {
    const [cp, worker] = layout(1, 1);
    expect(cp.spec.taints).toEqual([{ key: CONTROL_PLANE_ROLE, effect: 'NoSchedule' }]);
    expect(cp.metadata.labels[CONTROL_PLANE_ROLE]).toBe('');
    expect(worker.spec.taints).toEqual([]);
    expect(worker.metadata.labels).not.toHaveProperty(CONTROL_PLANE_ROLE);
  });

  it('marks every node for kwok and gives each its hostname label and version', () => {
    for (const node of layout(3, 4)) {
      expect(node.metadata.annotations[KWOK_NODE_ANNOTATION]).toBe('fake');
      expect(node.metadata.labels['kubernetes.io/hostname']).toBe(node.metadata.name);
      expect(node.status.nodeInfo.kubeletVersion).toBe('v1.36.3');
    }
  });

  it('gives every node its own name, InternalIP and pod CIDR', () => {
    const nodes = layout(3, 40);
    const ips = nodes.map((n) => n.status.addresses.find((a) => a.type === 'InternalIP')!.address);
    for (const values of [
      nodes.map((n) => n.metadata.name),
      ips,
      nodes.map((n) => n.spec.podCIDR),
    ]) {
      expect(new Set(values).size).toBe(nodes.length);
    }
    expect(nodes.slice(0, 3).map((n) => n.metadata.name)).toEqual([
      'controlplane1',
      'controlplane2',
      'controlplane3',
    ]);
    expect(nodes.at(-1)!.metadata.name).toBe('node40');
  });
});
