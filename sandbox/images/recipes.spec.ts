import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CatalogueEntry, formatCatalogue, IMAGE_PROGRAMS, imageRecipes } from './recipes.js';
import { assertNoClashes, parseReference } from './registry.js';

const VERSIONS = {
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.8',
  coredns: 'v1.14.7',
  metricsServer: 'v0.8.0',
  kubeRouter: 'v2.1.0',
};

describe('imageRecipes', () => {
  const recipes = imageRecipes(VERSIONS);
  const byName = new Map(recipes.map((r) => [r.name, r]));

  it('holds the images pods and kubeadm ask for, under the tags they use', () => {
    const references = recipes.flatMap((r) => r.tags.map((t) => `${r.name}:${t}`));
    expect(references).toEqual(
      expect.arrayContaining([
        'registry.k8s.io/pause:3.10.1',
        'registry.k8s.io/pause:3.10.2',
        'busybox:1.36',
        'busybox:1.37',
        'busybox:latest',
        'registry.k8s.io/e2e-test-images/agnhost:2.53',
        'registry.k8s.io/e2e-test-images/agnhost:2.52',
        'nginx:1.25',
        'nginx:1.26',
        'nginx:1.27',
        'nginx:latest',
        'nginx:alpine',
        'redis:7',
        'redis:latest',
        'redis:alpine',
        'postgres:15',
        'postgres:latest',
        'httpd:2.4',
        'httpd:latest',
        'alpine:3.20',
        'alpine:latest',
        'registry.k8s.io/kube-apiserver:v1.36.3',
        'registry.k8s.io/kube-controller-manager:v1.36.3',
        'registry.k8s.io/kube-scheduler:v1.36.3',
        'registry.k8s.io/kube-proxy:v1.36.3',
        'registry.k8s.io/etcd:3.6.8-0',
        'registry.k8s.io/coredns/coredns:v1.14.7',
        'registry.k8s.io/metrics-server/metrics-server:v0.8.0',
        'docker.io/cloudnativelabs/kube-router:v2.1.0',
      ]),
    );
    expect(new Set(references).size).toBe(references.length);
    expect(() => assertNoClashes(references)).not.toThrow();
  });

  it('describes every image: valid name, tags, how it is built, what it really is, a check', () => {
    for (const recipe of recipes) {
      expect(() => parseReference(recipe.name)).not.toThrow();
      expect(recipe.tags.length).toBeGreaterThan(0);
      for (const tag of recipe.tags)
        expect(() => parseReference(`${recipe.name}:${tag}`)).not.toThrow();
      expect(recipe.builtFrom.length).toBeGreaterThan(10);
      expect(recipe.really.length).toBeGreaterThan(10);
      expect(recipe.checks.length).toBeGreaterThan(0);
      for (const need of recipe.needs) expect(IMAGE_PROGRAMS).toContain(need);
      expect(recipe.missing).toBeUndefined();
    }
  });

  it('says which images are stand-ins rather than what their name says', () => {
    expect(byName.get('httpd')!.really).toMatch(/stand-in, not Apache: BusyBox httpd/);
    expect(byName.get('alpine')!.really).toMatch(/not Alpine/);
    expect(byName.get('nginx')!.really).toMatch(/Debian 12's nginx whatever the tag/);
    expect(byName.get('redis')!.really).toMatch(/Debian 12's Redis/);
    expect(byName.get('postgres')!.really).toMatch(/Debian 12's PostgreSQL 15 whatever the tag/);
    expect(byName.get('postgres')!.tags).toEqual(['15', 'latest']);
    expect(byName.get('busybox')!.really).toMatch(/Debian 12's BusyBox whatever the tag/);
    expect(byName.get('registry.k8s.io/coredns/coredns')!.really).toContain('CoreDNS v1.14.7');
  });

  it('puts each control-plane binary where kubeadm manifests run it', () => {
    for (const program of [
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kube-proxy',
    ])
      expect(byName.get(`registry.k8s.io/${program}`)!.checks[0].command[0]).toBe(
        `/usr/local/bin/${program}`,
      );
    expect(byName.get('registry.k8s.io/etcd')!.checks[0].command[0]).toBe('/usr/local/bin/etcd');
    expect(byName.get('registry.k8s.io/coredns/coredns')!.checks[0].command[0]).toBe('/coredns');
    expect(byName.get('registry.k8s.io/metrics-server/metrics-server')!.checks[0].command[0]).toBe(
      '/metrics-server',
    );
  });

  it('checks the iptables tools kube-proxy drives, through iptables-restore with its matches', () => {
    const proxy = byName.get('registry.k8s.io/kube-proxy')!;
    expect(proxy.debianPackages).toEqual(
      expect.arrayContaining(['iptables', 'conntrack', 'ipset']),
    );
    const restore = proxy.checks.find((c) => c.command[0] === '/usr/sbin/iptables-restore')!;
    for (const match of [
      'comment',
      'mark',
      'statistic',
      'addrtype',
      'conntrack',
      'MASQUERADE',
      'DNAT',
    ])
      expect(restore.stdin).toContain(match);
  });

  it('marks CoreDNS, metrics-server and kube-router as missing when their versions are unknown', () => {
    const partial = imageRecipes({ kubernetes: 'v1.36.3', etcd: 'v3.6.8' });
    const missing = partial.filter((r) => r.missing).map((r) => [r.name, r.missing]);
    expect(missing).toEqual([
      ['registry.k8s.io/coredns/coredns', 'no CoreDNS version given'],
      ['registry.k8s.io/metrics-server/metrics-server', 'no metrics-server version given'],
      ['docker.io/cloudnativelabs/kube-router', 'no kube-router version given'],
    ]);
  });

  it('keeps the table in the module comment in step with the recipes', () => {
    const source = readFileSync(fileURLToPath(new URL('./recipes.ts', import.meta.url)), 'utf8');
    for (const recipe of recipes) {
      const short = recipe.name
        .replace(/^registry\.k8s\.io\//, '')
        .split('/')
        .pop()!;
      expect(source).toMatch(new RegExp(`^ \\* \\| [^\\n]*${short.replace(/[.-]/g, '\\$&')}`, 'm'));
    }
  });
});

describe('formatCatalogue', () => {
  it('prints one Markdown row per image, with packages, size and why one was skipped', () => {
    const entries: CatalogueEntry[] = [
      {
        name: 'nginx',
        tags: ['1.27', 'latest'],
        references: ['docker.io/library/nginx:1.27', 'docker.io/library/nginx:latest'],
        repository: 'library/nginx',
        builtFrom: 'Debian nginx',
        really: 'nginx 1.22 | Debian',
        digest: 'sha256:aa',
        size: 12 * 1024 * 1024,
        packages: { nginx: '1.22.1-9' },
      },
      {
        name: 'registry.k8s.io/coredns/coredns',
        tags: [],
        references: [],
        repository: 'coredns/coredns',
        builtFrom: '/coredns',
        really: 'CoreDNS',
        skipped: 'no coredns binary given',
      },
    ];
    expect(formatCatalogue(entries).split('\n')).toEqual([
      '| image:tags | built from | what it really is | Debian packages | size |',
      '| --- | --- | --- | --- | --- |',
      '| nginx:1.27, latest | Debian nginx | nginx 1.22 \\| Debian | nginx 1.22.1-9 | 12.0 MiB |',
      '| registry.k8s.io/coredns/coredns: | /coredns | not built: no coredns binary given |  |  |',
    ]);
  });
});
