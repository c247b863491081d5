import { jest } from '@jest/globals';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureRealNodeBinaries, ensureSandboxBinaries } from '../../sandbox/build.js';
import { freePort } from '../../sandbox/http.js';
import {
  ensureImages,
  startImageRegistry,
  type SandboxImages,
} from '../../sandbox/images/index.js';
import { MEDIA_TYPES, OciLayout, sha256, type OciImage } from '../../sandbox/images/oci.js';
import {
  type ImageCheck,
  type ImageRecipe,
  imageRecipes,
  RecipeContext,
} from '../../sandbox/images/recipes.js';
import {
  parseReference,
  pushImage,
  RegistryError,
  type RunningRegistry,
  startRegistry,
} from '../../sandbox/images/registry.js';
import { readRealNodeVersions, readVersions } from '../../sandbox/versions.js';
import { eventually } from '../support/eventually.js';
import { createNamespace, kubectl } from '../support/real-cluster.js';

// A cold catalogue takes a minute; cold real-node binaries ten more.
jest.setTimeout(20 * 60_000);

const log = (line: string) => process.stderr.write(`[images] ${line}\n`);
const run = promisify(execFile);

/** The registry binary: the real-node cache's (built if missing), or SANDBOX_REGISTRY_BIN. */
async function registryBinary(): Promise<string> {
  const path = process.env.SANDBOX_REGISTRY_BIN;
  if (path) {
    if (!existsSync(path)) throw new Error(`SANDBOX_REGISTRY_BIN names no file: ${path}`);
    return path;
  }
  return (await ensureRealNodeBinaries({ log })).programs.registry;
}

interface Result {
  code: number | null;
  output: string;
}

function runProcess(command: string, args: string[], stdin?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    // A program that exits without reading its input must not fail the test with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(stdin);
  });
}

/**
 * `sh -c` script run by unshare in new mount and pid namespaces: /proc and a
 * /dev of its own (a tmpfs with the usual nodes, not the host's /dev) inside
 * the root, then chroot. The mounts die with the namespace.
 */
const ENTER_ROOT = [
  'set -e',
  'mount -t proc proc "$0/proc"',
  'mount -t tmpfs -o mode=755 tmpfs "$0/dev"',
  'mknod -m 666 "$0/dev/null" c 1 3',
  'mknod -m 666 "$0/dev/zero" c 1 5',
  'mknod -m 666 "$0/dev/random" c 1 8',
  'mknod -m 666 "$0/dev/urandom" c 1 9',
  'ln -s /proc/self/fd "$0/dev/fd"',
  'ln -s /proc/self/fd/0 "$0/dev/stdin"',
  'ln -s /proc/self/fd/1 "$0/dev/stdout"',
  'ln -s /proc/self/fd/2 "$0/dev/stderr"',
  'exec chroot "$0" "$@"',
].join('\n');

function inImageArgs(root: string, command: string[], isolatedNetwork: boolean): string[] {
  return [
    '--mount',
    '--pid',
    '--fork',
    '--kill-child',
    ...(isolatedNetwork ? ['--net'] : []),
    '--',
    '/bin/sh',
    '-c',
    ENTER_ROOT,
    root,
    ...command,
  ];
}

/**
 * Starts unshare with stdout and stderr on a FIFO. Node's stdio pipes are
 * socketpairs, and opening /dev/stdout on a socket fails (ENXIO) where a
 * container runtime's FIFOs work: nginx's log links need the real thing.
 */
function startInImage(root: string, command: string[], isolatedNetwork: boolean, stdin?: string) {
  const fifo = join(root, '..', `output-${process.hrtime.bigint()}.fifo`);
  execFileSync('mkfifo', [fifo]);
  // The reading end first, non-blocking (it then opens without a writer), so the
  // writing end opens at once too; the output ends when the last writer closes.
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, 'w');
  const child = spawn('unshare', inImageArgs(root, command, isolatedNetwork), {
    stdio: ['pipe', writeFd, writeFd],
  });
  closeSync(writeFd);
  child.stdin!.on('error', () => {});
  child.stdin!.end(stdin ?? '');
  let output = '';
  const reader = new Socket({ fd: readFd, readable: true, writable: false });
  reader.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const drained = new Promise((resolve) => reader.on('close', resolve));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      void drained.then(() => {
        rmSync(fifo, { force: true });
        resolve({ code, output });
      });
    });
  });
  return { pid: child.pid!, child, output: () => output, done };
}

/** Runs a command in the unpacked image, with no network (iptables changes stay in a new namespace). */
function runInImage(root: string, check: ImageCheck): Promise<Result> {
  return startInImage(root, check.command, true, check.stdin).done;
}

/** Pulls an image as containerd would (manifest by tag, then each blob by digest) and unpacks it. */
async function pullAndUnpack(
  registryUrl: string,
  name: string,
  dir: string,
): Promise<{ manifest: { layers: { digest: string }[] }; digest: string }> {
  const { repository, tag } = parseReference(name);
  const response = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: MEDIA_TYPES.manifest },
  });
  if (response.status !== 200) throw new Error(`GET manifest of ${name}: ${response.status}`);
  const body = Buffer.from(await response.arrayBuffer());
  const manifest = JSON.parse(body.toString()) as { layers: { digest: string }[] };
  await mkdir(dir, { recursive: true });
  for (const layer of manifest.layers) {
    const blob = Buffer.from(
      await (await fetch(`${registryUrl}/v2/${repository}/blobs/${layer.digest}`)).arrayBuffer(),
    );
    expect(sha256(blob)).toBe(layer.digest);
    const file = join(dir, '..', `${layer.digest.slice(7, 19)}.tar`);
    await writeFile(file, blob);
    const untar = await runProcess('tar', ['-xf', file, '-C', dir]);
    await rm(file);
    if (untar.code !== 0) throw new Error(`tar -x ${layer.digest}: ${untar.output}`);
  }
  await mkdir(join(dir, 'proc'), { recursive: true });
  await mkdir(join(dir, 'dev'), { recursive: true });
  return { manifest, digest: sha256(body) };
}

/** The pid namespace ids of a process (`NSpid:` in /proc/<pid>/status): [host pid, …, innermost]. */
function nsPids(pid: number): number[] {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return (/^NSpid:\s+(.*)$/m.exec(status)?.[1] ?? '').split(/\s+/).map(Number);
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Starts a server in the unpacked image on the host network; returns its output and a stop. */
function serveInImage(root: string, command: string[]) {
  const started = startInImage(root, command, false);
  return {
    pid: started.pid,
    output: started.output,
    async stop() {
      // unshare blocks SIGTERM while it waits; SIGKILL it and --kill-child takes the
      // namespace's PID 1, and with it everything in the namespace.
      started.child.kill('SIGKILL');
      await started.done;
    },
  };
}

function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) socket.end();
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

const TEST_VERSIONS = { kubernetes: readVersions().kubernetes, etcd: readVersions().etcd };

describe('the image registry with busybox, nginx and redis pushed', () => {
  let work: string;
  let registry: RunningRegistry;
  const images = new Map<string, { recipe: ImageRecipe; image: OciImage; tags: string[] }>();

  beforeAll(async () => {
    const binary = await registryBinary();
    work = await mkdtemp(join(tmpdir(), 'cka-images-'));
    const ctx = new RecipeContext(join(work, 'build'), {}, TEST_VERSIONS, log);
    const layout = new OciLayout(join(work, 'oci'));
    for (const recipe of imageRecipes(TEST_VERSIONS).filter((r) =>
      ['busybox', 'nginx', 'redis'].includes(r.name),
    )) {
      const built = await recipe.build(ctx);
      images.set(recipe.name, {
        recipe,
        image: await layout.image(built.layers, built.config),
        tags: recipe.tags,
      });
    }
    registry = await startRegistry({
      binary,
      storageDir: join(work, 'storage'),
      runDir: join(work, 'run'),
      log,
    });
    const knownBlobs = new Map<string, string>();
    for (const [name, { image, tags }] of images)
      await pushImage(registry.url, parseReference(name).repository, tags, image, { knownBlobs });
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('serves busybox:1.36 where containerd asks a docker.io mirror for it, with its digest', async () => {
    const busybox = images.get('busybox')!.image;
    const response = await fetch(`${registry.url}/v2/library/busybox/manifests/1.36?ns=docker.io`, {
      headers: { accept: MEDIA_TYPES.manifest },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(MEDIA_TYPES.manifest);
    expect(response.headers.get('docker-content-digest')).toBe(busybox.manifest.digest);
    const body = Buffer.from(await response.arrayBuffer());
    expect(sha256(body)).toBe(busybox.manifest.digest);
    const manifest = JSON.parse(body.toString()) as {
      config: { digest: string };
      layers: { digest: string; mediaType: string }[];
    };
    expect(manifest.config.digest).toBe(busybox.config.digest);
    expect(manifest.layers.map((l) => l.digest)).toEqual(busybox.layers.map((l) => l.digest));
    const config = (await (
      await fetch(`${registry.url}/v2/library/busybox/blobs/${manifest.config.digest}`)
    ).json()) as { architecture: string; os: string; config: { Cmd: string[] } };
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] } });
  });

  it('serves every tag of a recipe as the same manifest', async () => {
    const digests = await Promise.all(
      ['1.36', '1.37', 'latest'].map(async (tag) => {
        const response = await fetch(`${registry.url}/v2/library/busybox/manifests/${tag}`, {
          method: 'HEAD',
          headers: { accept: MEDIA_TYPES.manifest },
        });
        return response.headers.get('docker-content-digest');
      }),
    );
    expect(new Set(digests)).toEqual(new Set([images.get('busybox')!.image.manifest.digest]));
  });

  it('has bin/sh (a link to busybox) in the busybox layer', async () => {
    const layer = images.get('busybox')!.image.layers[0];
    const blob = Buffer.from(
      await (await fetch(`${registry.url}/v2/library/busybox/blobs/${layer.digest}`)).arrayBuffer(),
    );
    expect(blob.length).toBe(layer.size);
    expect(sha256(blob)).toBe(layer.digest);
    const file = join(work, 'busybox-layer.tar');
    await writeFile(file, blob);
    const listing = await runProcess('tar', ['-tvf', file]);
    expect(listing.code).toBe(0);
    expect(listing.output).toMatch(/^lrwxrwxrwx 0\/0 +0 1970-01-01 00:00 bin\/sh -> busybox$/m);
    expect(listing.output).toMatch(/^-rwxr-xr-x 0\/0 +\d+ 1970-01-01 00:00 bin\/busybox$/m);
    expect(listing.output).toMatch(/^drwxrwxrwt 0\/0 +0 1970-01-01 00:00 tmp\/$/m);
  });

  it('answers 404 for an image it does not have (containerd then reports ErrImagePull)', async () => {
    const response = await fetch(`${registry.url}/v2/library/no-such-image/manifests/latest`);
    expect(response.status).toBe(404);
    const unknownTag = await fetch(`${registry.url}/v2/library/nginx/manifests/0.0.1`);
    expect(unknownTag.status).toBe(404);
  });

  it('pushes again without uploading: every blob is already there', async () => {
    const { image, tags } = images.get('nginx')!;
    const started = Date.now();
    await expect(pushImage(registry.url, 'library/nginx', tags, image)).resolves.toEqual({
      digest: image.manifest.digest,
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('runs busybox: sh -c "echo ok" as PID 1 of its own namespaces', async () => {
    const root = join(work, 'run-busybox', 'root');
    await pullAndUnpack(registry.url, 'busybox:1.36', root);
    const result = await runProcess('unshare', [
      '--mount',
      '--pid',
      '--fork',
      `--root=${root}`,
      '/bin/sh',
      '-c',
      'echo ok; echo pid $$',
    ]);
    expect(result).toEqual({ code: 0, output: 'ok\npid 1\n' });
  });

  it('runs nginx as PID 1 with daemon off, serving the welcome page and logging to stdout', async () => {
    const root = join(work, 'run-nginx', 'root');
    await pullAndUnpack(registry.url, 'nginx:latest', root);
    const port = await freePort();
    // The image's own server block, moved to a free port: the host network is shared here.
    const conf = readFileSync(join(root, 'etc/nginx/conf.d/default.conf'), 'utf8');
    expect(conf).toMatch(/listen\s+80;/);
    await writeFile(
      join(root, 'etc/nginx/conf.d/default.conf'),
      conf.replace(/listen\s+80;/, `listen 127.0.0.1:${port};`),
    );
    const nginx = serveInImage(root, ['nginx', '-g', 'daemon off;']);
    try {
      const page = await eventually(
        'the nginx welcome page',
        () =>
          fetch(`http://127.0.0.1:${port}/`)
            .then((r) => r.text())
            .catch(() => ''),
        (text) => text.includes('Welcome to nginx!'),
        15_000,
      );
      expect(page).toContain('<title>Welcome to nginx!</title>');
      const [master] = childrenOf(nginx.pid);
      expect(readFileSync(`/proc/${master}/cmdline`, 'utf8')).toContain('nginx: master process');
      expect(nsPids(master).at(-1)).toBe(1);
      const workers = childrenOf(master);
      expect(workers.length).toBeGreaterThan(0);
      // `user nobody`: the workers run as 65534.
      expect(readFileSync(`/proc/${workers[0]}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
      await eventually(
        'the access log line on stdout',
        async () => nginx.output(),
        (out) => /"GET \/ HTTP\/1\.1" 200/.test(out),
        5000,
      );
    } finally {
      await nginx.stop();
    }
  });

  it('runs redis through its entrypoint with protected mode off, answering PING', async () => {
    const root = join(work, 'run-redis', 'root');
    await pullAndUnpack(registry.url, 'redis:7', root);
    const port = await freePort();
    const redis = serveInImage(root, [
      '/usr/local/bin/docker-entrypoint.sh',
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
    ]);
    try {
      const pong = await eventually(
        'redis PING',
        () => redisCommand(port, 'PING').catch(() => ''),
        (reply) => reply === '+PONG\r\n',
        15_000,
      );
      expect(pong).toBe('+PONG\r\n');
      expect(await redisCommand(port, 'CONFIG GET protected-mode')).toContain('no');
    } finally {
      await redis.stop();
    }
  });
});

describe('the whole catalogue from ensureImages, served read-only', () => {
  const versions = readRealNodeVersions();
  const recipes = imageRecipes({
    kubernetes: versions.kubernetes,
    etcd: versions.etcd,
    coredns: versions.coredns,
    metricsServer: versions.metricsServer,
    kubeRouter: versions.kubeRouter,
  });
  let work: string;
  let images: SandboxImages;
  let registry: RunningRegistry;

  beforeAll(async () => {
    const [binaries, realBinaries] = await Promise.all([
      ensureSandboxBinaries({ log }),
      ensureRealNodeBinaries({ log }),
    ]);
    images = await ensureImages({ binaries, realBinaries, log });
    work = await mkdtemp(join(tmpdir(), 'cka-catalogue-'));
    registry = await startImageRegistry({ storageDir: images.storageDir, runDir: work, log });
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('built every recipe: nothing skipped', () => {
    expect(images.catalogue.filter((e) => e.skipped)).toEqual([]);
    expect(images.catalogue.map((e) => e.name)).toEqual(recipes.map((r) => r.name));
  });

  it.each(recipes.map((r) => [`${r.name}:${r.tags[0]}`, r] as const))(
    '%s pulls and passes its checks inside the image',
    async (reference, recipe) => {
      const root = join(work, reference.replace(/[/:]/g, '_'), 'root');
      const pulled = await pullAndUnpack(registry.url, reference, root);
      const entry = images.catalogue.find((e) => e.name === recipe.name)!;
      expect(pulled.digest).toBe(entry.digest);
      for (const check of recipe.checks) {
        const result = await runInImage(root, check);
        expect({ command: check.command, ...result }).toEqual({
          command: check.command,
          code: 0,
          output: expect.stringContaining(check.expect ?? ''),
        });
      }
      await rm(join(root, '..'), { recursive: true, force: true });
    },
  );

  it('refuses pushes: the cache entry is served read-only', async () => {
    const busybox = images.catalogue.find((e) => e.name === 'busybox')!;
    const layout = new OciLayout(join(work, 'oci'));
    const blob = await layout.writeBlob(MEDIA_TYPES.config, Buffer.from('{}'));
    const image: OciImage = {
      layout: layout.dir,
      manifest: blob,
      config: blob,
      layers: [],
      diffIds: [],
    };
    await expect(pushImage(registry.url, busybox.repository, 'pushed', image)).rejects.toThrow(
      RegistryError,
    );
  });
});

/**
 * The chart's development PostgreSQL (templates/dev-datastores.yaml, rendered
 * by helm) on the real-node cluster with the sandbox's postgres:15: uid and
 * gid 999, a read-only root, no capabilities, emptyDirs for the data, the
 * socket and /tmp, in a namespace enforcing Pod Security restricted. A second
 * pod from the same image connects with psql over the network.
 */
describe("postgres:15 as the Helm chart's dev PostgreSQL runs it", () => {
  const ns = `images-pg-${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  const chart = fileURLToPath(new URL('../../deploy/helm/cka-engine', import.meta.url));
  const restricted = `securityContext:
    runAsNonRoot: true
    runAsUser: 999
    runAsGroup: 999
    seccompProfile: { type: RuntimeDefault }`;

  beforeAll(async () => {
    await createNamespace(ns);
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });

  it('initialises its database as uid 999 on a read-only root and lets psql in with the password only', async () => {
    const { helm } = await ensureSandboxBinaries({ log });
    const { stdout: rendered } = await run(helm, [
      'template',
      'exam',
      chart,
      '-n',
      ns,
      '--show-only',
      'templates/dev-datastores.yaml',
      '--set',
      'dev.postgresql.enabled=true',
      '--set',
      'dev.postgresql.image=postgres:15',
      '--set',
      `dev.postgresql.password=${password}`,
      // The engine's templates want a Redis; --show-only leaves them out of the output.
      '--set',
      'redis.url=redis://unused:6379',
    ]);
    await kubectl(['-n', ns, 'apply', '-f', '-'], rendered);
    // The client: the same image, sleeping until psql is run in it.
    await kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  automountServiceAccountToken: false
  ${restricted}
  containers:
    - name: psql
      image: postgres:15
      command: [sleep, '3600']
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
`,
    );
    interface PodView {
      metadata: { name: string };
      spec: {
        securityContext: Record<string, unknown>;
        containers: { image: string; securityContext: Record<string, unknown> }[];
      };
      status: { podIP?: string; conditions?: { type: string; status: string }[] };
    }
    const ready = (p: PodView | undefined) =>
      p?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const server = (await eventually(
      "the chart's postgresql pod Ready (its readiness probe is TCP 5432: initdb done, postgres listening)",
      async () =>
        (
          JSON.parse(
            await kubectl([
              '-n',
              ns,
              'get',
              'pods',
              '-l',
              'app.kubernetes.io/component=postgresql',
              '-o',
              'json',
            ]),
          ) as { items: PodView[] }
        ).items[0],
      ready,
      240_000,
    ))!;
    expect(server.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(server.spec.containers[0]).toMatchObject({
      image: 'postgres:15',
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    });
    await eventually(
      'the client pod Ready',
      async () =>
        JSON.parse(await kubectl(['-n', ns, 'get', 'pod', 'client', '-o', 'json'])) as PodView,
      ready,
      240_000,
    );
    const psql = (url: string) =>
      kubectl([
        '-n',
        ns,
        'exec',
        'client',
        '--',
        'psql',
        url,
        '-Atc',
        'select 1, current_user, current_database()',
      ]);
    expect(await psql(`postgres://cka:${password}@${server.status.podIP}:5432/cka`)).toBe(
      '1|cka|cka\n',
    );
    await expect(
      psql(`postgres://cka:wrong-${password}@${server.status.podIP}:5432/cka`),
    ).rejects.toThrow(/password authentication failed for user "cka"/);
    // Through the chart's Service, by its DNS name.
    expect(await psql(`postgres://cka:${password}@exam-cka-engine-postgresql:5432/cka`)).toBe(
      '1|cka|cka\n',
    );
    const logs = await kubectl(['-n', ns, 'logs', server.metadata.name]);
    expect(logs).toContain('PostgreSQL init process complete; ready for start up.');
    expect(logs).toContain('selecting default time zone ... Etc/UTC');
    expect(logs).toMatch(/listening on IPv4 address "0\.0\.0\.0", port 5432/);
    expect(logs).not.toMatch(/WARNING/);
  });
});
