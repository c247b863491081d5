import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciLayout, type OciImage } from './oci.js';
import {
  assertNoClashes,
  fullReference,
  parseReference,
  pushImage,
  RegistryError,
} from './registry.js';

describe('parseReference', () => {
  it.each([
    ['busybox', 'docker.io', 'library/busybox', 'latest'],
    ['busybox:1.36', 'docker.io', 'library/busybox', '1.36'],
    ['docker.io/library/nginx:1.27', 'docker.io', 'library/nginx', '1.27'],
    ['index.docker.io/redis:7', 'docker.io', 'library/redis', '7'],
    ['bitnami/redis:7.2', 'docker.io', 'bitnami/redis', '7.2'],
    ['registry.k8s.io/pause:3.10.2', 'registry.k8s.io', 'pause', '3.10.2'],
    [
      'registry.k8s.io/e2e-test-images/agnhost:2.53',
      'registry.k8s.io',
      'e2e-test-images/agnhost',
      '2.53',
    ],
    ['registry.k8s.io/coredns/coredns:v1.14.7', 'registry.k8s.io', 'coredns/coredns', 'v1.14.7'],
    ['quay.io/prometheus/node-exporter', 'quay.io', 'prometheus/node-exporter', 'latest'],
    ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev'],
    ['localhost/app', 'localhost', 'app', 'latest'],
  ])(
    '%s → %s / %s : %s (the path containerd asks the mirror for)',
    (name, registry, repository, tag) => {
      expect(parseReference(name)).toEqual({ registry, repository, tag });
    },
  );

  it('names images as containerd reports them', () => {
    expect(fullReference(parseReference('busybox:1.36'))).toBe('docker.io/library/busybox:1.36');
  });

  it('refuses digests and invalid names', () => {
    expect(() => parseReference('busybox@sha256:abc')).toThrow('digest');
    expect(() => parseReference('Busybox')).toThrow('not a valid repository');
    expect(() => parseReference('busybox:')).toThrow('not a valid tag');
  });
});

describe('assertNoClashes', () => {
  it('accepts one repository under several tags, and different upstream paths', () => {
    expect(() =>
      assertNoClashes([
        'busybox:1.36',
        'busybox:latest',
        'registry.k8s.io/pause:3.10',
        'quay.io/x/y',
      ]),
    ).not.toThrow();
  });

  it('refuses two upstreams that would share a mirror repository', () => {
    expect(() =>
      assertNoClashes(['coredns/coredns:1.0', 'registry.k8s.io/coredns/coredns:v1.14.7']),
    ).toThrow('would share the mirror repository coredns/coredns');
  });
});

/** Just enough of the distribution API to see what pushImage sends. */
class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, Buffer>();
  readonly requests: string[] = [];
  private server: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url!, this.url);
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.pathname.startsWith('/v2/refused/')) {
      res.writeHead(403).end('{"errors":[{"code":"DENIED"}]}');
      return;
    }
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]+)$/.exec(url.pathname);
    const upload = /^\/v2\/(.+)\/blobs\/uploads\/(\w*)$/.exec(url.pathname);
    const manifest = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (req.method === 'HEAD' && blob) {
      res.writeHead(this.blobs.has(`${blob[1]}@${blob[2]}`) ? 200 : 404).end();
    } else if (req.method === 'POST' && upload) {
      const mount = url.searchParams.get('mount');
      const from = url.searchParams.get('from');
      if (mount && from && this.blobs.has(`${from}@${mount}`)) {
        this.blobs.set(`${upload[1]}@${mount}`, this.blobs.get(`${from}@${mount}`)!);
        res.writeHead(201).end();
      } else {
        res.writeHead(202, { location: `/v2/${upload[1]}/blobs/uploads/u1?state=x` }).end();
      }
    } else if (req.method === 'PUT' && upload) {
      const digest = url.searchParams.get('digest')!;
      const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      if (digest !== actual || url.searchParams.get('state') !== 'x') {
        res.writeHead(400).end('DIGEST_INVALID');
        return;
      }
      this.blobs.set(`${upload[1]}@${digest}`, body);
      res.writeHead(201).end();
    } else if (req.method === 'PUT' && manifest) {
      this.manifests.set(`${manifest[1]}:${manifest[2]}`, body);
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      res.writeHead(201, { 'docker-content-digest': digest }).end();
    } else {
      res.writeHead(405).end('UNSUPPORTED');
    }
  }
}

describe('pushImage', () => {
  let work: string;
  let image: OciImage;
  let registry: FakeRegistry;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'push-spec-'));
    mkdirSync(join(work, 'root'));
    writeFileSync(join(work, 'root', 'file'), 'content');
    image = await new OciLayout(join(work, 'layout')).image(
      [{ root: join(work, 'root'), createdBy: 'x' }],
      { cmd: ['x'] },
    );
  });

  beforeEach(async () => {
    registry = new FakeRegistry();
    await registry.start();
  });

  afterEach(() => registry.stop());
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('uploads each blob monolithically (POST, PUT ?digest=) then the manifest under each tag', async () => {
    const { digest } = await pushImage(registry.url, 'library/x', ['1', 'latest'], image);
    expect(digest).toBe(image.manifest.digest);
    const [config, layer] = [image.config.digest, image.layers[0].digest];
    expect(registry.requests).toEqual([
      `HEAD /v2/library/x/blobs/${config}`,
      'POST /v2/library/x/blobs/uploads/',
      `PUT /v2/library/x/blobs/uploads/u1?state=x&digest=${encodeURIComponent(config)}`,
      `HEAD /v2/library/x/blobs/${layer}`,
      'POST /v2/library/x/blobs/uploads/',
      `PUT /v2/library/x/blobs/uploads/u1?state=x&digest=${encodeURIComponent(layer)}`,
      'PUT /v2/library/x/manifests/1',
      'PUT /v2/library/x/manifests/latest',
    ]);
    expect(registry.manifests.get('library/x:latest')).toEqual(
      registry.manifests.get('library/x:1'),
    );
  });

  it('skips blobs the repository already has (HEAD 200)', async () => {
    await pushImage(registry.url, 'library/x', '1', image);
    registry.requests.length = 0;
    await pushImage(registry.url, 'library/x', '2', image);
    expect(registry.requests.filter((r) => !r.startsWith('HEAD'))).toEqual([
      'PUT /v2/library/x/manifests/2',
    ]);
  });

  it('mounts blobs another repository has instead of uploading them', async () => {
    const knownBlobs = new Map<string, string>();
    await pushImage(registry.url, 'library/x', '1', image, { knownBlobs });
    registry.requests.length = 0;
    await pushImage(registry.url, 'library/y', '1', image, { knownBlobs });
    expect(registry.requests.filter((r) => r.startsWith('PUT'))).toEqual([
      'PUT /v2/library/y/manifests/1',
    ]);
    expect(registry.requests).toContain(
      `POST /v2/library/y/blobs/uploads/?mount=${image.layers[0].digest}&from=library%2Fx`,
    );
  });

  it('says what failed when the registry refuses', async () => {
    const push = pushImage(registry.url, 'refused/x', '1', image);
    await expect(push).rejects.toThrow(RegistryError);
    await expect(push).rejects.toThrow(
      /starting the upload of sha256:\w+ to refused\/x: HTTP 403 .*DENIED/,
    );
  });
});
