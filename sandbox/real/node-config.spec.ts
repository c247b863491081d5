import { describe, expect, it } from '@jest/globals';
import { parse, parseAllDocuments } from 'yaml';
import {
  bridgeConflist,
  containerdConfig,
  controlPlanePatches,
  kubeadmInitConfig,
  kubeadmJoinConfig,
} from './node-config.js';

const settings = {
  kubernetesVersion: 'v1.36.3',
  clusterName: 'k8s-c1',
  controlPlaneAddress: '172.31.4.10',
  corednsTag: 'v1.14.7',
};
const node = {
  name: 'controlplane',
  address: '172.31.4.10',
  cgroupRoot: '/cka/ab12cd/controlplane',
};

describe('real node configuration', () => {
  it('kubeadm init: the settings this machine needs, per node and for every kubelet', () => {
    const docs = parseAllDocuments(kubeadmInitConfig(settings, node)).map((d) => d.toJS());
    const byKind = Object.fromEntries(docs.map((d) => [d.kind, d]));
    expect(Object.keys(byKind).sort()).toEqual([
      'ClusterConfiguration',
      'InitConfiguration',
      'KubeProxyConfiguration',
      'KubeletConfiguration',
    ]);
    expect(byKind.InitConfiguration.nodeRegistration.kubeletExtraArgs).toEqual([
      { name: 'node-ip', value: '172.31.4.10' },
      { name: 'cgroup-root', value: '/cka/ab12cd/controlplane' },
    ]);
    expect(byKind.ClusterConfiguration).toMatchObject({
      kubernetesVersion: 'v1.36.3',
      clusterName: 'k8s-c1',
      controlPlaneEndpoint: '172.31.4.10:6443',
      dns: { imageTag: 'v1.14.7' },
    });
    expect(byKind.KubeletConfiguration).toMatchObject({
      cgroupDriver: 'cgroupfs',
      failCgroupV1: false,
      oomScoreAdj: 0,
      imagePullCredentialsVerificationPolicy: 'NeverVerify',
    });
    expect(byKind.KubeProxyConfiguration).toMatchObject({
      mode: 'iptables',
      conntrack: { maxPerCore: 0 },
    });
  });

  it('kubeadm join: discovery through the control plane with the CA pinned', () => {
    const [join] = parseAllDocuments(
      kubeadmJoinConfig(settings, 'abcdef.0123456789abcdef', 'sha256:00ff', {
        ...node,
        name: 'node01',
        address: '172.31.4.11',
      }),
    ).map((d) => d.toJS());
    expect(join.discovery.bootstrapToken).toEqual({
      apiServerEndpoint: '172.31.4.10:6443',
      token: 'abcdef.0123456789abcdef',
      caCertHashes: ['sha256:00ff'],
    });
    expect(join.nodeRegistration.name).toBe('node01');
  });

  it('containerd restricts oom_score_adj and reads mirrors from certs.d', () => {
    const toml = containerdConfig();
    expect(toml).toMatch(/^version = 4$/m);
    expect(toml).toMatch(/restrict_oom_score_adj = true/);
    expect(toml).toMatch(/config_path = '\/etc\/containerd\/certs.d'/);
  });

  it('the bridge network keeps pod addresses (no masquerade) on the node pod CIDR', () => {
    const conf = JSON.parse(bridgeConflist('10.244.1.0/24'));
    expect(conf.plugins[0]).toMatchObject({
      type: 'bridge',
      ipMasq: false,
      ipam: { ranges: [[{ subnet: '10.244.1.0/24' }]] },
    });
  });
});

describe('controlPlanePatches', () => {
  type Patch = {
    spec: {
      containers: {
        name: string;
        startupProbe: { periodSeconds: number };
        readinessProbe?: { periodSeconds: number };
      }[];
    };
  };
  const patches = Object.fromEntries(
    Object.entries(controlPlanePatches()).map(([file, text]) => [file, parse(text) as Patch]),
  );

  it("probes each component's start every second and its readiness every 10 s", () => {
    expect(Object.keys(patches).sort()).toEqual([
      'etcd+strategic.yaml',
      'kube-apiserver+strategic.yaml',
      'kube-controller-manager+strategic.yaml',
      'kube-scheduler+strategic.yaml',
    ]);
    for (const [file, patch] of Object.entries(patches)) {
      const [container] = patch.spec.containers;
      expect(container.name).toBe(file.replace('+strategic.yaml', ''));
      expect(container.startupProbe.periodSeconds).toBe(1);
      // kubeadm gives the controller-manager no readiness probe: a patch must not add a bare one.
      if (container.name === 'kube-controller-manager')
        expect(container.readinessProbe).toBeUndefined();
      else expect(container.readinessProbe).toEqual({ periodSeconds: 10, failureThreshold: 1 });
    }
  });
});
