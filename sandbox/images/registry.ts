import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Component } from '../component.js';
import { freePort } from '../http.js';
import { waitFor } from '../wait.js';
import { blobPath, type OciImage } from './oci.js';

/**
 * How an image name maps onto the one local registry that mirrors several
 * upstreams. containerd, given `certs.d/<upstream>/hosts.toml` with the local
 * registry as a host, asks that host for the upstream's repository path under
 * /v2/ and adds `?ns=<upstream>`:
 *
 * | pod image                                   | upstream        | request to the mirror                                        |
 * | ------------------------------------------- | --------------- | ------------------------------------------------------------ |
 * | `busybox:1.36`                              | docker.io       | `/v2/library/busybox/manifests/1.36?ns=docker.io`            |
 * | `bitnami/redis`                             | docker.io       | `/v2/bitnami/redis/manifests/latest?ns=docker.io`            |
 * | `registry.k8s.io/pause:3.10.2`              | registry.k8s.io | `/v2/pause/manifests/3.10.2?ns=registry.k8s.io`              |
 * | `registry.k8s.io/e2e-test-images/agnhost:2.53` | registry.k8s.io | `/v2/e2e-test-images/agnhost/manifests/2.53?ns=registry.k8s.io` |
 * | `quay.io/prometheus/node-exporter`          | quay.io         | `/v2/prometheus/node-exporter/manifests/latest?ns=quay.io`   |
 *
 * The distribution registry ignores `ns`, so a repository is stored under the
 * upstream's path as is. Docker Hub's official images all live under
 * `library/`, which no other upstream uses, so they never clash; two upstreams
 * with the same path (Docker Hub's `coredns/coredns` and registry.k8s.io's)
 * would share one repository. The catalogue holds no such pair, and
 * {@link assertNoClashes} refuses one.
 */
export interface ImageReference {
  /** docker.io, registry.k8s.io, quay.io… */
  registry: string;
  /** The repository path on that registry, and so in the mirror: `library/busybox`. */
  repository: string;
  tag: string;
}

/** Parses an image name as containerd normalises it (`busybox` → docker.io/library/busybox:latest). */
export function parseReference(name: string): ImageReference {
  if (name.includes('@')) throw new Error(`digest references are not supported here: ${name}`);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const [path, tag] =
    colon > slash ? [name.slice(0, colon), name.slice(colon + 1)] : [name, 'latest'];
  const first = path.split('/')[0];
  const hasRegistry =
    path.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : 'docker.io';
  let repository = hasRegistry ? path.slice(first.length + 1) : path;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repository))
    throw new Error(`not a valid repository name: ${repository} (from ${name})`);
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`not a valid tag: ${tag} (from ${name})`);
  return { registry, repository, tag };
}

/** `docker.io/library/busybox:1.36`: the name containerd and the kubelet report. */
export function fullReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}:${ref.tag}`;
}

/** Throws when two upstreams' images would land in the same mirror repository. */
export function assertNoClashes(names: string[]): void {
  const owner = new Map<string, string>();
  for (const name of names) {
    const { registry, repository } = parseReference(name);
    const other = owner.get(repository);
    if (other && other !== registry)
      throw new Error(
        `${registry}/${repository} and ${other}/${repository} would share the mirror repository ${repository}`,
      );
    owner.set(repository, registry);
  }
}

export interface StartRegistryOptions {
  /** The distribution registry binary (`registry serve config.yml`). */
  binary: string;
  /** Its filesystem storage (rootdirectory). */
  storageDir: string;
  /** Where its config.yml and registry.log go. */
  runDir: string;
  /** The address it listens on (default 127.0.0.1). */
  host?: string;
  /**
   * Maintenance read-only mode: pulls work, pushes are refused, and nothing
   * in `storageDir` is written, so several sandboxes can serve one cache entry.
   */
  readOnly?: boolean;
  log?: (line: string) => void;
}

export interface RunningRegistry {
  /** `http://host:port` */
  url: string;
  /** `host:port`, as containerd's hosts.toml and image names write it. */
  hostPort: string;
  port: number;
  component: Component;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const START_ATTEMPTS = 3;

/**
 * Runs the registry as a {@link Component} (killed with its parent) on a free
 * port. A port taken between choosing and binding makes it exit at once; the
 * next attempt takes another.
 */
export async function startRegistry(options: StartRegistryOptions): Promise<RunningRegistry> {
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.runDir, { recursive: true });
  await mkdir(options.storageDir, { recursive: true });
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const configPath = join(options.runDir, 'registry-config.yml');
    await writeFile(configPath, registryConfig(options.storageDir, host, port, options.readOnly));
    const component = new Component(
      'registry',
      options.binary,
      ['serve', configPath],
      join(options.runDir, 'registry.log'),
      { append: attempt > 1 },
    );
    const url = `http://${host}:${port}`;
    try {
      await waitFor(`the image registry on ${url}`, START_TIMEOUT_MS, [component], async () => {
        const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
        return response.status === 200 || `GET /v2/ answered ${response.status}`;
      });
      options.log?.(`image registry on ${url} serving ${options.storageDir}`);
      return {
        url,
        hostPort: `${host}:${port}`,
        port,
        component,
        stop: () => component.stop(),
      };
    } catch (error) {
      lastError = error as Error;
      await component.stop();
      if (!/address already in use/.test(component.lastLines())) break;
    }
  }
  throw lastError ?? new Error('the image registry did not start');
}

function registryConfig(storageDir: string, host: string, port: number, readOnly = false): string {
  // JSON is YAML: no quoting rules to get wrong for odd paths.
  return JSON.stringify(
    {
      version: 0.1,
      log: { level: 'info', accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: storageDir },
        delete: { enabled: false },
        // Upload purging walks and deletes under _uploads: nothing to do in a read-only store.
        maintenance: {
          uploadpurging: { enabled: false },
          readonly: { enabled: readOnly },
        },
      },
      // Only for signing upload state between requests; a fresh one each run is fine.
      http: { addr: `${host}:${port}`, secret: randomBytes(16).toString('hex') },
    },
    null,
    2,
  );
}

export class RegistryError extends Error {
  constructor(what: string, response: Response, body: string) {
    super(`${what}: HTTP ${response.status} ${body.slice(0, 500)}`);
    this.name = 'RegistryError';
  }
}

export interface PushOptions {
  /**
   * Blobs already pushed to another repository of the same registry (digest →
   * repository): mounted instead of uploaded again. Updated with this push's blobs.
   */
  knownBlobs?: Map<string, string>;
}

/**
 * Pushes an image with the OCI distribution API: each blob unless the
 * repository has it (HEAD), by cross-repository mount when another
 * repository has it, else by a monolithic upload (POST, then PUT with the
 * digest); then the manifest under each tag.
 */
export async function pushImage(
  registryUrl: string,
  repository: string,
  tags: string | string[],
  image: OciImage,
  options: PushOptions = {},
): Promise<{ digest: string }> {
  const base = `${registryUrl}/v2/${repository}`;
  for (const blob of [image.config, ...image.layers]) {
    const head = await fetch(`${base}/blobs/${blob.digest}`, { method: 'HEAD' });
    if (head.status !== 200) {
      const from = options.knownBlobs?.get(blob.digest);
      const query = from ? `?mount=${blob.digest}&from=${encodeURIComponent(from)}` : '';
      const start = await fetch(`${base}/blobs/uploads/${query}`, { method: 'POST' });
      if (start.status !== 201) {
        if (start.status !== 202)
          throw new RegistryError(
            `starting the upload of ${blob.digest} to ${repository}`,
            start,
            await start.text(),
          );
        await start.body?.cancel();
        const location = new URL(start.headers.get('location') ?? '', registryUrl);
        location.searchParams.set('digest', blob.digest);
        const data = await readFile(blobPath(image.layout, blob.digest));
        const put = await fetch(location, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body: data,
        });
        if (put.status !== 201)
          throw new RegistryError(
            `uploading ${blob.digest} to ${repository}`,
            put,
            await put.text(),
          );
        await put.body?.cancel();
      } else {
        await start.body?.cancel();
      }
    }
    options.knownBlobs?.set(blob.digest, repository);
  }
  const manifest = await readFile(blobPath(image.layout, image.manifest.digest));
  for (const tag of typeof tags === 'string' ? [tags] : tags) {
    const put = await fetch(`${base}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': image.manifest.mediaType },
      body: manifest,
    });
    if (put.status !== 201)
      throw new RegistryError(`putting the manifest ${repository}:${tag}`, put, await put.text());
    await put.body?.cancel();
    const digest = put.headers.get('docker-content-digest');
    if (digest && digest !== image.manifest.digest)
      throw new Error(
        `the registry stored ${repository}:${tag} as ${digest}, not ${image.manifest.digest}`,
      );
  }
  return { digest: image.manifest.digest };
}
