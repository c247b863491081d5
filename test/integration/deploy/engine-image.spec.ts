import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  APP_DIR,
  buildEngineImage,
  type BuiltImage,
  DATA_DIR,
  ENGINE_USER,
} from '../../../deploy/image/build.js';
import { finalStage, instructions } from '../../../deploy/image/dockerfile.js';
import { freePort } from '../../../sandbox/http.js';
import { blobPath } from '../../../sandbox/images/oci.js';
import { readVersions } from '../../../sandbox/versions.js';
import { REPO_ROOT } from '../../support/app.js';
import { eventually } from '../../support/eventually.js';

const run = promisify(execFile);

/**
 * The engine's image as `npm run image:build` writes it without Docker, held
 * to the Dockerfile: the same runtime settings as Docker would record from
 * its last stage, files that come only from the script both builds run, and
 * an image that really starts as its non-root user on a read-only root (as
 * the chart runs it) against this run's Redis and sandbox cluster.
 */
jest.setTimeout(600_000);

const dockerfileText = () => readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');

interface ImageConfigJson {
  config: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Labels?: Record<string, string>;
    Healthcheck?: {
      Test: string[];
      Interval?: number;
      Timeout?: number;
      StartPeriod?: number;
      Retries?: number;
    };
  };
  rootfs: { diff_ids: string[] };
}

let work: string;
let built: BuiltImage;
let config: ImageConfigJson;
let entries: { mode: string; owner: string; path: string }[];
let root: string;
const processes: ChildProcess[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'engine-image-'));
  // The jail runs as the image's user, who must reach the unpacked root.
  await chmod(work, 0o755);
  built = await buildEngineImage({
    out: join(work, 'oci'),
    kubectl: process.env.SANDBOX_KUBECTL,
    log: (line) => process.stderr.write(`[image] ${line}\n`),
  });
  config = JSON.parse(
    await readFile(blobPath(built.image.layout, built.image.config.digest), 'utf8'),
  ) as ImageConfigJson;
  const layer = blobPath(built.image.layout, built.image.layers[0].digest);
  const { stdout } = await run('tar', ['-tvf', layer, '--numeric-owner'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  entries = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [mode, owner, , , , ...rest] = line.split(/\s+/);
      return { mode, owner, path: rest.join(' ').replace(/ -> .*$/, '') };
    });
  root = join(work, 'root');
  await mkdir(root);
  await run('tar', ['-xf', layer, '-C', root, '--same-owner', '--numeric-owner', '-p']);
});

afterAll(async () => {
  for (const child of processes) child.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the Dockerfile', () => {
  it('pins the Node of scripts/lib.sh and the Kubernetes of the sandbox', async () => {
    const { args } = finalStage(await dockerfileText());
    const libSh = await readFile(join(REPO_ROOT, 'scripts/lib.sh'), 'utf8');
    expect(args.NODE_VERSION).toBe(/^NODE_LTS_VERSION=(\S+)$/m.exec(libSh)?.[1]);
    expect(args.KUBERNETES_VERSION).toBe(readVersions().kubernetes);
  });

  it("takes the image's files only from the root the build script assembles", async () => {
    const text = await dockerfileText();
    const stage = finalStage(text);
    expect(stage.from).toBe('scratch');
    expect(stage.copies).toEqual([{ from: 'build', source: '/rootfs/', destination: '/' }]);
    const build = instructions(text).filter((i) => i.keyword === 'RUN');
    expect(
      build.some((i) => i.args.includes('deploy/image/build.ts --rootfs-only /rootfs --kubectl')),
    ).toBe(true);
  });
});

describe('the image built without Docker', () => {
  it('has exactly the runtime settings of the Dockerfile, as Docker records them', async () => {
    const { config: wanted } = finalStage(await dockerfileText());
    const ns = (seconds?: number) => (seconds === undefined ? undefined : seconds * 1e9);
    expect(config.config).toEqual({
      User: wanted.user,
      Env: wanted.env,
      Entrypoint: wanted.entrypoint,
      Cmd: wanted.cmd,
      WorkingDir: wanted.workingDir,
      ExposedPorts: Object.fromEntries((wanted.exposedPorts ?? []).map((p) => [p, {}])),
      Labels: wanted.labels,
      Healthcheck: {
        Test: wanted.healthcheck?.test,
        Interval: ns(wanted.healthcheck?.intervalSeconds),
        Timeout: ns(wanted.healthcheck?.timeoutSeconds),
        StartPeriod: ns(wanted.healthcheck?.startPeriodSeconds),
        Retries: wanted.healthcheck?.retries,
      },
    });
    // The values the chart and the README rely on.
    expect(config.config.User).toBe(`${ENGINE_USER.uid}:${ENGINE_USER.gid}`);
    expect(config.config.WorkingDir).toBe(APP_DIR);
    expect(config.config.Env).toEqual(
      expect.arrayContaining(['HOST=0.0.0.0', 'PORT=3000', 'NODE_ENV=production']),
    );
    expect(config.config.Healthcheck?.Test.join(' ')).toContain('/health/live');
    expect(config.rootfs.diff_ids).toHaveLength(1);
    process.stderr.write(
      `[image] ${built.image.manifest.digest}: ${(built.size / 1024 / 1024).toFixed(1)} MiB, built in ${built.seconds.toFixed(1)} s\n`,
    );
  });

  it('holds Node 24, kubectl, the built app and its production dependencies only', async () => {
    const paths = new Set(entries.map((e) => e.path.replace(/\/$/, '')));
    for (const path of [
      'usr/local/bin/node',
      'usr/local/bin/kubectl',
      'app/package.json',
      'app/dist/src/main.js',
      'app/dist/src/worker.js',
      'app/dist/src/database/migration-cli.js',
      'app/dist/web/index.html',
      'app/dist/graders/container-resources.js',
      'app/graders/container-resources.ts',
      'app/questions/exams',
      'app/node_modules/@nestjs/core/package.json',
      'app/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'app/node_modules/pg/package.json',
      'etc/passwd',
    ])
      expect(paths).toContain(path);
    const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith('node_modules/') && p.dev)
      .map(([path]) => `app/${path}`);
    expect(devOnly.length).toBeGreaterThan(100);
    expect(devOnly.filter((path) => paths.has(path))).toEqual([]);
    for (const dev of ['jest', 'vite', 'prettier', 'typescript', '@nestjs/cli'])
      expect(paths).not.toContain(`app/node_modules/${dev}`);
    // Nothing of the checkout that is not the app's.
    for (const absent of ['app/src', 'app/test', 'app/sandbox', 'app/.node', 'app/web'])
      expect(paths).not.toContain(absent);
    const { stdout } = await run(join(root, 'usr/local/bin/node'), ['--version']);
    expect(stdout.trim()).toBe(`v${finalStage(await dockerfileText()).args.NODE_VERSION}`);
  });

  it('is owned by root except the data folder, which only its user may write', async () => {
    const notRoot = entries.filter((e) => e.owner !== '0/0');
    expect(notRoot.map((e) => `${e.path} ${e.owner} ${e.mode}`)).toEqual([
      `${DATA_DIR.slice(1)}/ ${ENGINE_USER.uid}/${ENGINE_USER.gid} drwxr-x---`,
    ]);
    const passwd = await readFile(join(root, 'etc/passwd'), 'utf8');
    expect(passwd).toContain(`${ENGINE_USER.name}:x:${ENGINE_USER.uid}:${ENGINE_USER.gid}:`);
    expect(entries.filter((e) => /^[-d]...(..s|s)/.test(e.mode))).toEqual([]);
  });

  it('starts as its user on a read-only root and answers /health/live, /health and its HEALTHCHECK', async () => {
    const redis = process.env.TEST_REDIS_URL;
    const kubeconfig = process.env.SANDBOX_KUBECONFIG;
    if (!redis || !kubeconfig) throw new Error('run through the integration Jest project');
    const data = join(work, 'data');
    await mkdir(data);
    await copyFile(kubeconfig, join(work, 'kubeconfig'));
    await chmod(join(work, 'kubeconfig'), 0o644);
    await run('chown', [`${ENGINE_USER.uid}:${ENGINE_USER.gid}`, data]);
    const port = await freePort();
    const env = [
      ...(config.config.Env ?? []).filter((e) => !e.startsWith('PORT=')),
      `PORT=${port}`,
      `REDIS_URL=${redis}`,
      `QUEUE_PREFIX=image-${port}`,
      'KUBECONFIG=/tmp/kubeconfig',
      'LOG_LEVEL=warn',
    ];
    const jail = await jailArgs(root, data, join(work, 'kubeconfig'), env);
    const command = [...(config.config.Entrypoint ?? []), ...(config.config.Cmd ?? [])];
    let output = '';
    const engine = spawn('setpriv', [...asUser(), 'bwrap', ...jail, '--', ...command], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    processes.push(engine);
    engine.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    engine.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = Date.now();
    await eventually(
      `/health/live of the image (output: ${output.slice(-2000)})`,
      async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).status,
      (status) => status === 200,
      60_000,
    );
    process.stderr.write(`[image] /health/live answered ${Date.now() - started} ms after start\n`);
    const health = await eventually(
      '/health of the image',
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        return { status: response.status, body: (await response.json()) as unknown };
      },
      (h) => h.status === 200,
      60_000,
    );
    expect(health.body).toMatchObject({
      status: 'ok',
      checks: {
        database: { status: 'up' },
        redis: { status: 'up' },
        clusters: { main: { status: 'up' } },
      },
    });
    // Docker's HEALTHCHECK command, run in a second jail beside the engine.
    const probe = config.config.Healthcheck?.Test.slice(1) ?? [];
    await run('setpriv', [...asUser(), 'bwrap', ...jail, '--', ...probe]);
    // The SQLite file is where the image says, written by the user.
    expect((await readdir(data)).some((f) => f.startsWith('engine.sqlite'))).toBe(true);
    expect((await lstat(join(data, 'engine.sqlite'))).uid).toBe(ENGINE_USER.uid);
    engine.kill('SIGTERM');
    await new Promise((resolve) => engine.once('exit', resolve));
  });
});

function asUser(): string[] {
  return [
    `--reuid=${ENGINE_USER.uid}`,
    `--regid=${ENGINE_USER.gid}`,
    '--clear-groups',
    '--inh-caps=-all',
  ];
}

/**
 * The image's root as a container runtime with a read-only root file system
 * gives it: every top-level folder bound read-only, links as they are, /tmp a
 * tmpfs, /app/data writable (the chart's emptyDir), the network the host's.
 */
async function jailArgs(
  rootDir: string,
  data: string,
  kubeconfig: string,
  env: string[],
): Promise<string[]> {
  const args = ['--unshare-user', '--unshare-pid', '--die-with-parent', '--tmpfs', '/'];
  for (const name of (await readdir(rootDir)).sort()) {
    const path = join(rootDir, name);
    if (name === 'tmp') continue;
    if ((await lstat(path)).isSymbolicLink())
      args.push('--symlink', await readlink(path), `/${name}`);
    else args.push('--ro-bind', path, `/${name}`);
  }
  args.push('--bind', data, DATA_DIR, '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  args.push('--ro-bind', kubeconfig, '/tmp/kubeconfig', '--chdir', APP_DIR, '--clearenv');
  for (const pair of env) {
    const at = pair.indexOf('=');
    args.push('--setenv', pair.slice(0, at), pair.slice(at + 1));
  }
  return args;
}
