import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { RealNodeBinaries, SandboxBinaries } from '../build.js';
import { imageInputsFrom, writeMirrorConfig } from './index.js';
import { IMAGE_PROGRAMS } from './recipes.js';

describe('writeMirrorConfig', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certs-d-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('makes the local registry the only pull host of docker.io, registry.k8s.io and quay.io', async () => {
    const written = await writeMirrorConfig(dir, '10.77.0.1:5005');
    expect(written.map((p) => relative(dir, p))).toEqual([
      'docker.io/hosts.toml',
      'registry.k8s.io/hosts.toml',
      'quay.io/hosts.toml',
    ]);
    expect(readFileSync(join(dir, 'docker.io/hosts.toml'), 'utf8')).toBe(
      'server = "https://registry-1.docker.io"\n\n' +
        '[host."http://10.77.0.1:5005"]\n  capabilities = ["pull", "resolve"]\n',
    );
    for (const upstream of ['registry.k8s.io', 'quay.io']) {
      const toml = readFileSync(join(dir, upstream, 'hosts.toml'), 'utf8');
      expect(toml).toContain(`server = "https://${upstream}"`);
      expect(toml).toContain('[host."http://10.77.0.1:5005"]');
      // No override_path: containerd keeps the upstream's repository path under /v2/.
      expect(toml).not.toContain('override_path');
    }
  });

  it('lists a second registry after the first, in the order containerd asks them', async () => {
    const second = await mkdtemp(join(tmpdir(), 'certs-d-'));
    try {
      await writeMirrorConfig(second, ['10.77.0.1:5005', '10.77.0.1:5006']);
      expect(readFileSync(join(second, 'quay.io/hosts.toml'), 'utf8')).toBe(
        'server = "https://quay.io"\n\n' +
          '[host."http://10.77.0.1:5005"]\n  capabilities = ["pull", "resolve"]\n\n' +
          '[host."http://10.77.0.1:5006"]\n  capabilities = ["pull", "resolve"]\n',
      );
    } finally {
      await rm(second, { recursive: true, force: true });
    }
  });
});

describe('imageInputsFrom', () => {
  it('takes every image program and version from the two binary caches', () => {
    const binaries = {
      kubeApiserver: '/cp/kube-apiserver',
      kubeControllerManager: '/cp/kube-controller-manager',
      kubeScheduler: '/cp/kube-scheduler',
      etcd: '/cp/etcd',
      versions: { kubernetes: 'v1.36.3', etcd: 'v3.6.8' },
    } as SandboxBinaries;
    const programs = new Proxy({}, { get: (_, name) => `/rn/${String(name)}` });
    const real = {
      programs,
      versions: { coredns: 'v1.14.7', metricsServer: 'v0.8.0' },
    } as unknown as RealNodeBinaries;
    const inputs = imageInputsFrom(binaries, real);
    expect(Object.keys(inputs.programs).sort()).toEqual([...IMAGE_PROGRAMS].sort());
    expect(inputs.programs['kube-apiserver']).toBe('/cp/kube-apiserver');
    expect(inputs.programs['kube-proxy']).toBe('/rn/kube-proxy');
    expect(inputs.registry).toBe('/rn/registry');
    expect(inputs.versions).toEqual({
      kubernetes: 'v1.36.3',
      etcd: 'v3.6.8',
      coredns: 'v1.14.7',
      metricsServer: 'v0.8.0',
    });
  });
});
