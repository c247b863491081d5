import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  blobPath,
  imageConfigJson,
  MEDIA_TYPES,
  OciLayout,
  type OciImage,
  sha256,
  writeImageArchive,
} from './oci.js';

const hexDigest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

function makeRoot(dir: string, touched = 1_000_000): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'tmp'));
  chmodSync(join(dir, 'tmp'), 0o1777);
  writeFileSync(join(dir, 'bin', 'tool'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'bin', 'tool'), 0o755);
  symlinkSync('tool', join(dir, 'bin', 'sh'));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  chmodSync(join(dir, 'etc', 'passwd'), 0o644);
  for (const path of ['bin/tool', 'etc/passwd', 'etc', 'bin'])
    utimesSync(join(dir, path), touched, touched);
  return dir;
}

function tarListing(file: string): string[] {
  return execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('OciLayout', () => {
  let work: string;
  let image: OciImage;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'oci-spec-'));
    const layout = new OciLayout(join(work, 'layout'));
    image = await layout.image([{ root: makeRoot(join(work, 'root')), createdBy: 'test files' }], {
      entrypoint: ['/bin/tool'],
      cmd: ['--flag'],
      env: ['PATH=/bin'],
      workingDir: '/tmp',
      user: '65534:65534',
      exposedPorts: ['80/tcp', '53/udp'],
      labels: { purpose: 'test' },
    });
  });

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('stores every blob under its sha256 with the size the descriptors give', () => {
    for (const blob of [image.manifest, image.config, ...image.layers]) {
      const data = readFileSync(blobPath(image.layout, blob.digest));
      expect(hexDigest(data)).toBe(blob.digest);
      expect(data.length).toBe(blob.size);
    }
  });

  it('writes an OCI manifest pointing at the configuration and the layer', () => {
    const manifest = JSON.parse(
      readFileSync(blobPath(image.layout, image.manifest.digest), 'utf8'),
    );
    expect(image.manifest.mediaType).toBe(MEDIA_TYPES.manifest);
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: image.config.digest,
        size: image.config.size,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: image.layers[0].digest,
          size: image.layers[0].size,
        },
      ],
    });
  });

  it('writes an amd64/linux configuration whose diff_id is the uncompressed layer digest', () => {
    const config = JSON.parse(readFileSync(blobPath(image.layout, image.config.digest), 'utf8'));
    expect(config).toEqual({
      created: '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: {
        User: '65534:65534',
        ExposedPorts: { '80/tcp': {}, '53/udp': {} },
        Env: ['PATH=/bin'],
        Entrypoint: ['/bin/tool'],
        Cmd: ['--flag'],
        WorkingDir: '/tmp',
        Labels: { purpose: 'test' },
      },
      rootfs: { type: 'layers', diff_ids: [image.layers[0].digest] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'test files' }],
    });
    expect(image.diffIds).toEqual([image.layers[0].digest]);
  });

  it('tars the root reproducibly: root-owned, mtime 0, sorted, no ./ prefix, modes kept', () => {
    const listing = tarListing(blobPath(image.layout, image.layers[0].digest));
    expect(listing.map((l) => l.split(/\s+/).slice(5).join(' '))).toEqual([
      'bin/',
      'bin/sh -> tool',
      'bin/tool',
      'etc/',
      'etc/passwd',
      'tmp/',
    ]);
    for (const line of listing) expect(line).toMatch(/^\S+ 0\/0 +\d+ 1970-01-01 00:00 /);
    expect(listing[2]).toMatch(/^-rwxr-xr-x /);
    expect(listing[5]).toMatch(/^drwxrwxrwt /);
  });

  it('gives the same digests for the same files built again at another time', async () => {
    const again = await new OciLayout(join(work, 'layout-2')).image(
      [{ root: makeRoot(join(work, 'root-2'), 2_000_000), createdBy: 'test files' }],
      {
        entrypoint: ['/bin/tool'],
        cmd: ['--flag'],
        env: ['PATH=/bin'],
        workingDir: '/tmp',
        user: '65534:65534',
        exposedPorts: ['80/tcp', '53/udp'],
        labels: { purpose: 'test' },
      },
    );
    expect(again.layers[0].digest).toBe(image.layers[0].digest);
    expect(again.manifest.digest).toBe(image.manifest.digest);
  });

  it('tars a root shared by several images once, and stores equal blobs once', async () => {
    const layout = new OciLayout(join(work, 'shared'));
    const root = makeRoot(join(work, 'root-shared'));
    const a = await layout.image([{ root, createdBy: 'x' }], { cmd: ['a'] });
    const b = await layout.image([{ root, createdBy: 'x' }], { cmd: ['b'] });
    expect(a.layers).toEqual(b.layers);
    expect(a.manifest.digest).not.toBe(b.manifest.digest);
  });

  it('gzips layers on request: digest of the gzip, diff_id of the tar', async () => {
    const layout = new OciLayout(join(work, 'gzip'), 'gzip');
    const gz = await layout.image([{ root: makeRoot(join(work, 'root-gz')), createdBy: 'x' }], {});
    const blob = readFileSync(blobPath(layout.dir, gz.layers[0].digest));
    expect(gz.layers[0].mediaType).toBe(MEDIA_TYPES.layerGzip);
    expect(hexDigest(blob)).toBe(gz.layers[0].digest);
    expect(hexDigest(gunzipSync(blob))).toBe(gz.diffIds[0]);
    expect(gz.diffIds[0]).toBe(image.layers[0].digest);
  });

  it('writes an image tarball that ctr images import reads (index with names, blobs)', async () => {
    const out = join(work, 'image.tar');
    await writeImageArchive(
      image,
      ['docker.io/library/tool:1.0', 'docker.io/library/tool:latest'],
      out,
    );
    const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual(
      expect.arrayContaining([
        'oci-layout',
        'index.json',
        `blobs/sha256/${image.manifest.digest.slice(7)}`,
        `blobs/sha256/${image.config.digest.slice(7)}`,
        `blobs/sha256/${image.layers[0].digest.slice(7)}`,
      ]),
    );
    const index = JSON.parse(
      execFileSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' }),
    );
    expect(index.mediaType).toBe(MEDIA_TYPES.index);
    expect(index.manifests).toEqual([
      expect.objectContaining({
        digest: image.manifest.digest,
        annotations: {
          'io.containerd.image.name': 'docker.io/library/tool:1.0',
          'org.opencontainers.image.ref.name': '1.0',
        },
      }),
      expect.objectContaining({
        annotations: expect.objectContaining({ 'org.opencontainers.image.ref.name': 'latest' }),
      }),
    ]);
  });
});

describe('imageConfigJson', () => {
  it('leaves out what is not set, as image builders do', () => {
    expect(JSON.parse(imageConfigJson({}, ['sha256:aa']))).toMatchObject({
      config: {},
      rootfs: { type: 'layers', diff_ids: ['sha256:aa'] },
    });
  });

  it('keeps a fixed key order: equal settings give equal bytes, so equal digests', () => {
    const a = imageConfigJson({ cmd: ['x'], user: '1', env: ['A=1'] }, []);
    const b = imageConfigJson({ env: ['A=1'], user: '1', cmd: ['x'] }, []);
    expect(sha256(a)).toBe(sha256(b));
  });
});

describe('blobPath', () => {
  it('refuses anything but a sha256 digest (no path tricks)', () => {
    expect(() => blobPath('/l', 'sha256:../../etc')).toThrow('not a sha256 digest');
    expect(() => blobPath('/l', 'md5:abc')).toThrow('not a sha256 digest');
    expect(blobPath('/l', `sha256:${'a'.repeat(64)}`)).toBe(`/l/blobs/sha256/${'a'.repeat(64)}`);
  });
});
