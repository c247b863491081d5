import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';

const run = promisify(execFile);

/** The media types of the OCI image specification this module writes. */
export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** An OCI content descriptor: what a manifest or index says of a blob. */
export interface Descriptor {
  mediaType: string;
  /** `sha256:<hex>` */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** The runtime settings of an image (the `config` object of the image configuration). */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  /** `NAME=value` pairs. */
  env?: string[];
  workingDir?: string;
  /** `uid`, `uid:gid` or a name from the image's /etc/passwd. */
  user?: string;
  /** `80/tcp`, `53/udp`… */
  exposedPorts?: string[];
  stopSignal?: string;
  labels?: Record<string, string>;
  /** Docker's HEALTHCHECK (the OCI configuration has no such field; Docker and Podman read it). */
  healthcheck?: HealthCheck;
}

/** A Dockerfile HEALTHCHECK as the image configuration stores it (durations in seconds here). */
export interface HealthCheck {
  /** `['CMD', program, ...args]` or `['CMD-SHELL', command]`. */
  test: string[];
  intervalSeconds?: number;
  timeoutSeconds?: number;
  startPeriodSeconds?: number;
  retries?: number;
}

/** One layer: the files under `root`, and what made them (the image history says so). */
export interface LayerSource {
  root: string;
  createdBy: string;
  /**
   * Keep each file's numeric owner as it is on disk (a directory the image's
   * non-root user writes to). Default: every entry owned by root, whoever built it.
   */
  keepOwners?: boolean;
}

export type Compression = 'none' | 'gzip';

/** An image written into an OCI layout: every blob is `blobs/sha256/<hex>` under `layout`. */
export interface OciImage {
  layout: string;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** The sha256 of each layer's uncompressed tar (the configuration's rootfs.diff_ids). */
  diffIds: string[];
}

/**
 * Flags that make GNU tar's output depend on the files' content, names and
 * modes only: sorted entries, every mtime 0, owner root, and pax headers
 * without atime/ctime and without the pid GNU tar puts in their names by default.
 */
export const REPRODUCIBLE_TAR_FLAGS = [
  '--sort=name',
  '--mtime=@0',
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--format=posix',
  '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
];

/** Epoch: images built from the same files get the same digests whenever they are built. */
const CREATED = '1970-01-01T00:00:00Z';

export function blobPath(layout: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (algorithm !== 'sha256' || !/^[0-9a-f]{64}$/.test(hex ?? ''))
    throw new Error(`not a sha256 digest: ${digest}`);
  return join(layout, 'blobs', 'sha256', hex);
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * A tar of everything under `root`, entries named without a leading `./`
 * (as image builders write them), made by GNU tar reproducibly.
 */
export async function tarDirectory(root: string, out: string, keepOwners = false): Promise<void> {
  const entries = (await readdir(root)).sort();
  if (!entries.length) throw new Error(`nothing to put in a layer: ${root} is empty`);
  await run('tar', [
    '--create',
    `--file=${out}`,
    ...REPRODUCIBLE_TAR_FLAGS.filter((flag) => !keepOwners || !/^--(owner|group)=/.test(flag)),
    `--directory=${root}`,
    '--',
    ...entries,
  ]);
}

/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`) that
 * several images share: a layer built from the same root directory is tarred
 * once, and equal blobs are stored once.
 */
export class OciLayout {
  private readonly layerCache = new Map<string, Promise<{ blob: Descriptor; diffId: string }>>();

  constructor(
    readonly dir: string,
    private readonly compression: Compression = 'none',
  ) {}

  /** Writes a layer for each source, then the configuration and the manifest. */
  async image(sources: LayerSource[], config: ImageConfig): Promise<OciImage> {
    if (!sources.length) throw new Error('an image needs at least one layer');
    await this.init();
    const layers = [];
    for (const source of sources) layers.push(await this.layer(source.root, source.keepOwners));
    const configJson = imageConfigJson(
      config,
      layers.map((l) => l.diffId),
      sources.map((s) => s.createdBy),
    );
    const configBlob = await this.writeBlob(MEDIA_TYPES.config, Buffer.from(configJson));
    const manifest = await this.writeBlob(
      MEDIA_TYPES.manifest,
      Buffer.from(
        manifestJson(
          configBlob,
          layers.map((l) => l.blob),
        ),
      ),
    );
    return {
      layout: this.dir,
      manifest,
      config: configBlob,
      layers: layers.map((l) => l.blob),
      diffIds: layers.map((l) => l.diffId),
    };
  }

  /** A blob of bytes, stored under its digest. */
  async writeBlob(mediaType: string, data: Buffer): Promise<Descriptor> {
    const digest = sha256(data);
    const path = blobPath(this.dir, digest);
    if (!existsSync(path)) {
      await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
      const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, data);
      await rename(temp, path);
    }
    return { mediaType, digest, size: data.length };
  }

  /**
   * `index.json` naming each image by its references, with the annotations
   * `ctr images import` reads (`io.containerd.image.name`) and the OCI tag
   * (`org.opencontainers.image.ref.name`).
   */
  async writeIndex(images: { image: OciImage; references: string[] }[]): Promise<void> {
    await this.init();
    const manifests = images.flatMap(({ image, references }) =>
      references.map((reference) => ({
        mediaType: image.manifest.mediaType,
        digest: image.manifest.digest,
        size: image.manifest.size,
        annotations: {
          'io.containerd.image.name': reference,
          'org.opencontainers.image.ref.name': reference.slice(reference.lastIndexOf(':') + 1),
        },
      })),
    );
    const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests };
    await writeFile(join(this.dir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  }

  private async init(): Promise<void> {
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    const marker = join(this.dir, 'oci-layout');
    if (!existsSync(marker))
      await writeFile(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
  }

  private layer(root: string, keepOwners = false): Promise<{ blob: Descriptor; diffId: string }> {
    const key = `${keepOwners ? 'owners:' : ''}${root}`;
    let pending = this.layerCache.get(key);
    if (!pending) {
      pending = this.writeLayer(root, keepOwners);
      this.layerCache.set(key, pending);
    }
    return pending;
  }

  private async writeLayer(
    root: string,
    keepOwners: boolean,
  ): Promise<{ blob: Descriptor; diffId: string }> {
    const tmp = join(this.dir, 'blobs', `layer-${randomBytes(6).toString('hex')}`);
    await tarDirectory(root, `${tmp}.tar`, keepOwners);
    const diffId = await sha256File(`${tmp}.tar`);
    let file = `${tmp}.tar`;
    let digest = diffId;
    let mediaType: string = MEDIA_TYPES.layer;
    if (this.compression === 'gzip') {
      // zlib writes no name and a zero mtime in the gzip header: same tar, same digest.
      const hash = createHash('sha256');
      const tee = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(
        createReadStream(file),
        createGzip({ level: 6 }),
        tee,
        createWriteStream(`${tmp}.tar.gz`),
      );
      await rm(file);
      file = `${tmp}.tar.gz`;
      digest = `sha256:${hash.digest('hex')}`;
      mediaType = MEDIA_TYPES.layerGzip;
    }
    const { size } = await stat(file);
    const path = blobPath(this.dir, digest);
    if (existsSync(path)) await rm(file);
    else await rename(file, path);
    return { blob: { mediaType, digest, size }, diffId };
  }
}

/** The image configuration (OCI image-spec config.md), keys in a fixed order. */
export function imageConfigJson(
  config: ImageConfig,
  diffIds: string[],
  createdBy: string[] = [],
): string {
  const runtime: Record<string, unknown> = {};
  if (config.user !== undefined) runtime.User = config.user;
  if (config.exposedPorts?.length)
    runtime.ExposedPorts = Object.fromEntries(config.exposedPorts.map((p) => [p, {}]));
  if (config.env?.length) runtime.Env = config.env;
  if (config.entrypoint) runtime.Entrypoint = config.entrypoint;
  if (config.cmd) runtime.Cmd = config.cmd;
  if (config.workingDir !== undefined) runtime.WorkingDir = config.workingDir;
  if (config.labels && Object.keys(config.labels).length) runtime.Labels = config.labels;
  if (config.stopSignal !== undefined) runtime.StopSignal = config.stopSignal;
  if (config.healthcheck) {
    const { test, intervalSeconds, timeoutSeconds, startPeriodSeconds, retries } =
      config.healthcheck;
    const nanoseconds = (seconds?: number) =>
      seconds === undefined ? undefined : seconds * 1_000_000_000;
    runtime.Healthcheck = {
      Test: test,
      Interval: nanoseconds(intervalSeconds),
      Timeout: nanoseconds(timeoutSeconds),
      StartPeriod: nanoseconds(startPeriodSeconds),
      Retries: retries,
    };
  }
  return JSON.stringify({
    created: CREATED,
    architecture: 'amd64',
    os: 'linux',
    config: runtime,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: CREATED, created_by: createdBy[i] ?? '' })),
  });
}

export function manifestJson(config: Descriptor, layers: Descriptor[]): string {
  const descriptor = (d: Descriptor) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
  });
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: descriptor(config),
    layers: layers.map(descriptor),
  });
}

/**
 * A tarball of one image as an OCI layout (what `ctr images import` and
 * `docker load` read), named by `references` (`docker.io/library/busybox:1.36`).
 */
export async function writeImageArchive(
  image: OciImage,
  references: string[],
  out: string,
): Promise<void> {
  const staging = await mkdtemp(`${out}.staging-`);
  try {
    const layout = new OciLayout(staging);
    await layout.writeIndex([{ image, references }]);
    for (const blob of [image.manifest, image.config, ...image.layers]) {
      const from = blobPath(image.layout, blob.digest);
      const to = blobPath(staging, blob.digest);
      if (existsSync(to)) continue;
      // A hard link costs nothing; another filesystem gets a copy.
      await link(from, to).catch(() => pipeline(createReadStream(from), createWriteStream(to)));
    }
    await tarDirectory(staging, out);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
