import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tailOf } from './log-tail.js';
import {
  MODULES_DIR,
  type RealNodeVersions,
  type SandboxVersions,
  cacheKey,
  readRealNodeVersions,
  realNodeCacheKey,
  cacheRoot,
  helmCacheKey,
  moduleDirs,
  readVersions,
} from './versions.js';

const run = promisify(execFile);

/** Absolute paths of everything the launcher starts. */
export interface SandboxBinaries {
  dir: string;
  versions: SandboxVersions;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  /** kwok Stage objects (fake kubelet behaviour), taken from the kwok module. */
  kwokStages: string;
  /** The helm CLI (the terminal's and bank:test's), in a cache entry of its own. */
  helm: string;
}

/**
 * kwok's own "fast" stages: nodes become Ready at once and keep a lease
 * heartbeat, pods go Running/Ready at once, Job pods complete. They ship in the
 * kwok Go module; we copy them next to the binary so a run needs no module cache.
 */
const KWOK_STAGE_FILES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];

const CONTROL_PLANE_PACKAGES: Record<string, string> = {
  etcd: 'go.etcd.io/etcd/server/v3',
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
  kubectl: 'k8s.io/kubernetes/cmd/kubectl',
};

/** Bounded: a cold build takes about 6 minutes on two cores, downloads included. */
const BUILD_TIMEOUT_MS = 60 * 60 * 1000;
const LOCK_WAIT_MS = BUILD_TIMEOUT_MS;

export interface EnsureBinariesOptions {
  log?: (line: string) => void;
  /** Another copy of sandbox/modules (tests use a broken one). */
  modulesDir?: string;
  /** Default: SANDBOX_CACHE_DIR, else ~/.cache/cka-sandbox. */
  cacheDir?: string;
}

export class SandboxBuildError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(`${message}\n--- last build output ---\n${logTail}`);
    this.name = 'SandboxBuildError';
  }
}

/**
 * Returns the cached binaries for the versions in the go.mod files, building
 * them first when the cache has none. Concurrent callers (two test runs) share
 * one build through a lock directory.
 */
export async function ensureSandboxBinaries(
  options: EnsureBinariesOptions = {},
): Promise<SandboxBinaries> {
  const log = options.log ?? (() => {});
  const modulesDir = options.modulesDir ?? MODULES_DIR;
  const versions = readVersions(modulesDir);
  const goVersion = (await run('go', ['env', 'GOVERSION'])).stdout.trim();
  const root = options.cacheDir ?? cacheRoot();
  const modules = moduleDirs(modulesDir);

  const ldflags = versionLdflags(versions.kubernetes);
  const dir = await ensureEntry(
    root,
    cacheKey(versions, JSON.stringify({ goVersion, ldflags, KWOK_STAGE_FILES }), modulesDir),
    { versions, goVersion },
    'sandbox binaries',
    'a cold build takes about 6 minutes on two cores',
    async (staging, buildLog) => {
      await goBuild(modules, staging, ldflags, buildLog);
      await copyKwokStages(modules.kwok, staging);
    },
    log,
  );

  const helmLdflags = helmVersionLdflags(versions);
  const helmDir = await ensureEntry(
    root,
    helmCacheKey(versions, JSON.stringify({ goVersion, helmLdflags }), modulesDir),
    { helm: versions.helm, goVersion },
    `helm ${versions.helm}`,
    'a cold build takes about 10 minutes on two cores',
    (staging, buildLog) =>
      goSteps(buildLog, async (step) => {
        await step(modules.helm, [
          'build',
          '-trimpath',
          '-ldflags',
          helmLdflags,
          '-o',
          join(staging, 'helm'),
          `${versions.helmModule}/cmd/helm`,
        ]);
      }),
    log,
  );
  return { ...binariesIn(dir, versions), helm: join(helmDir, 'helm') };
}

/**
 * The cache entry `key` under `root`, built by `build` into a staging folder
 * and renamed into place once complete (with a COMPLETE file), so an
 * interrupted or failed build is never used. Returns its folder.
 */
export async function ensureEntry(
  root: string,
  key: string,
  complete: Record<string, unknown>,
  what: string,
  howLong: string,
  build: (staging: string, buildLog: string) => Promise<void>,
  log: (line: string) => void,
): Promise<string> {
  const dir = join(root, key);
  if (existsSync(join(dir, 'COMPLETE'))) {
    await markUsed(dir);
    return dir;
  }

  await mkdir(root, { recursive: true });
  const release = await acquireLock(`${dir}.lock`, log);
  try {
    if (existsSync(join(dir, 'COMPLETE'))) return dir;
    log(`building ${what} (${key}); ${howLong}`);
    const started = Date.now();
    const staging = `${dir}.partial-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    try {
      await build(staging, join(root, `${key}.build.log`));
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    await writeFile(
      join(staging, 'COMPLETE'),
      JSON.stringify({ ...complete, builtAt: new Date().toISOString() }, null, 2),
    );
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    log(`${what} built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await pruneUnused(root, dir, log);
    return dir;
  } finally {
    await release();
  }
}

/** Entries nobody has started for this long are removed after the next build. */
const PRUNE_AFTER_MS = 14 * 24 * 60 * 60 * 1000;

async function markUsed(dir: string): Promise<void> {
  const now = new Date();
  await utimes(join(dir, 'COMPLETE'), now, now).catch(() => {});
}

/**
 * Each entry is about 400 MB, and a version bump leaves the old one behind;
 * entries unused for two weeks go (another checkout may still use a recent one).
 */
async function pruneUnused(root: string, keep: string, log: (line: string) => void): Promise<void> {
  for (const entry of await readdir(root)) {
    const path = join(root, entry);
    if (path === keep) continue;
    const used = await stat(join(path, 'COMPLETE')).catch(() => undefined);
    if (used && Date.now() - used.mtimeMs > PRUNE_AFTER_MS) {
      log(`removing sandbox binaries unused since ${used.mtime.toISOString()}: ${entry}`);
      await rm(path, { recursive: true, force: true });
    }
  }
}

function binariesIn(dir: string, versions: SandboxVersions): Omit<SandboxBinaries, 'helm'> {
  return {
    dir,
    versions,
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    kubectl: join(dir, 'kubectl'),
    kwok: join(dir, 'kwok'),
    kwokStages: join(dir, 'kwok-stages.yaml'),
  };
}

/**
 * Without these, `kubectl version` and /version report v0.0.0-master and
 * kubectl warns about version skew on every command.
 */
function versionLdflags(kubernetes: string): string {
  const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(kubernetes) ?? [];
  const flags = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(
      `-X ${pkg}.gitVersion=${kubernetes}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
    );
  }
  return flags.join(' ');
}

/** As helm's own Makefile sets them for a release: `helm version` says v4.3.2, not v4.3. */
function helmVersionLdflags(versions: SandboxVersions): string {
  const pkg = `${versions.helmModule}/internal/version`;
  return ['-s', '-w', `-X ${pkg}.version=${versions.helm}`, `-X ${pkg}.gitTreeState=clean`].join(
    ' ',
  );
}

type GoStep = (cwd: string, args: string[], env?: Record<string, string>) => Promise<void>;

/**
 * Runs `go` commands (no cgo, read-only modules) with their output in
 * `logPath`; a failure throws a {@link SandboxBuildError} with the log's tail.
 */
async function goSteps(logPath: string, steps: (step: GoStep) => Promise<void>): Promise<void> {
  const out = createWriteStream(logPath);
  const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false -mod=readonly' };
  const step: GoStep = async (cwd, args, extraEnv = {}) => {
    const prefix = Object.entries(extraEnv)
      .map(([k, v]) => `${k}=${v} `)
      .join('');
    out.write(`$ (cd ${cwd} && ${prefix}go ${args.join(' ')})\n`);
    await new Promise<void>((resolve, reject) => {
      const child = spawn('go', args, {
        cwd,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
      const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`go ${args[0]} exited with ${signal ?? code}`));
      });
    });
  };
  try {
    await steps(step);
  } catch (error) {
    await new Promise((resolve) => out.end(resolve));
    throw new SandboxBuildError(
      `sandbox build failed: ${(error as Error).message} (full log: ${logPath})`,
      await tailOf(logPath, 40),
    );
  }
  await new Promise((resolve) => out.end(resolve));
}

function goBuild(
  modules: ReturnType<typeof moduleDirs>,
  outDir: string,
  ldflags: string,
  logPath: string,
): Promise<void> {
  return goSteps(logPath, async (step) => {
    // One invocation for all control-plane programs so shared packages compile once.
    const cpDir = join(outDir, 'control-plane');
    await mkdir(cpDir);
    await step(modules.controlPlane, [
      'build',
      '-trimpath',
      '-ldflags',
      ldflags,
      '-o',
      cpDir + '/',
      ...Object.values(CONTROL_PLANE_PACKAGES),
    ]);
    // `go build -o dir/` names each program after its import path's last
    // element, with a major-version suffix dropped (etcd's becomes "server").
    for (const [name, pkg] of Object.entries(CONTROL_PLANE_PACKAGES)) {
      const built = pkg
        .split('/')
        .filter((part) => !/^v\d+$/.test(part))
        .pop()!;
      await rename(join(cpDir, built), join(outDir, name));
    }
    await rm(cpDir, { recursive: true });
    await step(modules.kwok, [
      'build',
      '-trimpath',
      '-ldflags',
      '-s -w',
      '-o',
      join(outDir, 'kwok'),
      'sigs.k8s.io/kwok/cmd/kwok',
    ]);
  });
}

async function copyKwokStages(kwokModule: string, outDir: string): Promise<void> {
  const { stdout } = await run('go', ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], {
    cwd: kwokModule,
  });
  const moduleDir = stdout.trim();
  const docs = await Promise.all(
    KWOK_STAGE_FILES.map((file) => readFile(join(moduleDir, file), 'utf8')),
  );
  await writeFile(
    join(outDir, 'kwok-stages.yaml'),
    docs.map((d) => d.trim()).join('\n---\n') + '\n',
  );
}

/**
 * A lock between processes of this machine: a folder holding its owner's
 * pid. A lock whose owner is gone (killed mid-build) is taken over rather
 * than waited on forever. Resolves to its release.
 */
export async function acquireLock(
  lockDir: string,
  log: (line: string) => void,
  what = 'building the sandbox',
): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, 'pid'), String(process.pid));
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => '0'));
    // No pid yet: the owner is between mkdir and writeFile, or died there.
    const ownerless =
      !owner && Date.now() - ((await stat(lockDir).catch(() => undefined))?.mtimeMs ?? 0) > 30_000;
    if ((owner && !processAlive(owner)) || ownerless) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for the lock ${lockDir} (${what}) held by pid ${owner}`);
    }
    if (!announced) {
      log(`waiting for another process (pid ${owner}) to finish ${what}`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The programs a real node and its add-ons run, in one cache entry beside the control plane's. */
export interface RealNodeBinaries {
  dir: string;
  versions: RealNodeVersions;
  /** Programs by name (kubelet, kubeadm, containerd, runc, crictl, coredns…), each in `dir`. */
  programs: Record<RealNodeProgram, string>;
  /** The CNI plugins' folder (bridge, host-local, loopback, portmap). */
  cniDir: string;
}

export const REAL_NODE_PROGRAMS = [
  'kubelet',
  'kube-proxy',
  'kubeadm',
  'agnhost',
  'etcdctl',
  'etcdutl',
  'containerd',
  'ctr',
  'containerd-shim-runc-v2',
  'runc',
  'crictl',
  'coredns',
  'metrics-server',
  'kube-router',
  'registry',
] as const;
export type RealNodeProgram = (typeof REAL_NODE_PROGRAMS)[number];
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

/** Debian packages the real-node build needs (runc's seccomp support links libseccomp). */
const REAL_NODE_BUILD_PACKAGES = ['gcc', 'libseccomp-dev'];

/**
 * Returns the cached real-node binaries, building them first when missing
 * (13 minutes on two cores from empty Go build and module caches, downloads
 * included; less with the control plane's build cache warm). The same lock and staging as the control
 * plane's entry.
 */
export async function ensureRealNodeBinaries(
  options: EnsureBinariesOptions = {},
): Promise<RealNodeBinaries> {
  const log = options.log ?? (() => {});
  const modulesDir = options.modulesDir ?? MODULES_DIR;
  const versions = readRealNodeVersions(modulesDir);
  const goVersion = (await run('go', ['env', 'GOVERSION'])).stdout.trim();
  const root = options.cacheDir ?? cacheRoot();
  const modules = moduleDirs(modulesDir);
  const recipe = realNodeRecipe(versions);
  const dir = await ensureEntry(
    root,
    realNodeCacheKey(versions, JSON.stringify({ goVersion, recipe }), modulesDir),
    { versions, goVersion },
    'real-node binaries',
    'a cold build takes about 13 minutes on two cores',
    async (staging, buildLog) => {
      await checkBuildPackages();
      await mkdir(join(staging, 'cni'));
      await goSteps(buildLog, async (step) => {
        for (const build of recipe)
          await step(
            modules[build.module],
            [
              'build',
              '-trimpath',
              ...(build.tags ? ['-tags', build.tags] : []),
              '-ldflags',
              build.ldflags,
              '-o',
              build.out === 'cni' ? join(staging, 'cni') + '/' : staging + '/',
              ...build.packages,
            ],
            build.cgo ? { CGO_ENABLED: '1' } : {},
          );
      });
    },
    log,
  );
  return {
    dir,
    versions,
    programs: Object.fromEntries(REAL_NODE_PROGRAMS.map((p) => [p, join(dir, p)])) as Record<
      RealNodeProgram,
      string
    >,
    cniDir: join(dir, 'cni'),
  };
}

interface RecipeStep {
  module: 'node' | 'runtime' | 'coredns' | 'metricsServer' | 'kubeRouter' | 'registry';
  packages: string[];
  ldflags: string;
  tags?: string;
  cgo?: boolean;
  out?: 'cni';
}

/** One `go build` per module and set of flags: programs of one invocation share compiled packages. */
function realNodeRecipe(versions: RealNodeVersions): RecipeStep[] {
  const plain = '-s -w';
  return [
    {
      module: 'node',
      packages: [
        'k8s.io/kubernetes/cmd/kubelet',
        'k8s.io/kubernetes/cmd/kube-proxy',
        'k8s.io/kubernetes/cmd/kubeadm',
        'k8s.io/kubernetes/test/images/agnhost',
        // Named etcdctl and etcdutl: `go build -o dir/` drops a major-version suffix.
        'go.etcd.io/etcd/etcdctl/v3',
        'go.etcd.io/etcd/etcdutl/v3',
      ],
      ldflags: versionLdflags(versions.kubernetes),
    },
    {
      module: 'runtime',
      packages: ['github.com/opencontainers/runc'],
      ldflags: `${plain} -X main.version=${versions.runc.replace(/^v/, '')}`,
      tags: 'seccomp urfave_cli_no_docs',
      cgo: true,
    },
    {
      module: 'runtime',
      packages: [
        'github.com/containerd/containerd/v2/cmd/containerd',
        'github.com/containerd/containerd/v2/cmd/ctr',
      ],
      ldflags: `${plain} -X github.com/containerd/containerd/v2/version.Version=${versions.containerd}`,
      tags: 'no_btrfs urfave_cli_no_docs',
    },
    {
      module: 'runtime',
      packages: ['github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2'],
      ldflags: `${plain} -X github.com/containerd/containerd/v2/version.Version=${versions.containerd}`,
      tags: 'urfave_cli_no_docs no_grpc',
    },
    {
      module: 'runtime',
      packages: ['sigs.k8s.io/cri-tools/cmd/crictl'],
      ldflags: `${plain} -X sigs.k8s.io/cri-tools/pkg/version.Version=${versions.crictl}`,
    },
    {
      module: 'runtime',
      packages: CNI_PLUGINS.map((p) =>
        p === 'host-local'
          ? 'github.com/containernetworking/plugins/plugins/ipam/host-local'
          : p === 'portmap'
            ? 'github.com/containernetworking/plugins/plugins/meta/portmap'
            : `github.com/containernetworking/plugins/plugins/main/${p}`,
      ),
      ldflags: plain,
      out: 'cni',
    },
    { module: 'coredns', packages: ['github.com/coredns/coredns'], ldflags: plain },
    {
      module: 'metricsServer',
      packages: ['sigs.k8s.io/metrics-server/cmd/metrics-server'],
      ldflags: plain,
    },
    {
      module: 'kubeRouter',
      packages: ['github.com/cloudnativelabs/kube-router/v2/cmd/kube-router'],
      ldflags: plain,
    },
    {
      module: 'registry',
      packages: ['github.com/distribution/distribution/v3/cmd/registry'],
      ldflags: plain,
    },
  ];
}

/** cgo for runc needs a C compiler and libseccomp's headers; say which package is missing. */
async function checkBuildPackages(): Promise<void> {
  const missing: string[] = [];
  for (const pkg of REAL_NODE_BUILD_PACKAGES) {
    const status = await run('dpkg-query', ['-W', '-f', '${Status}', pkg]).catch(() => ({
      stdout: '',
    }));
    if (!status.stdout.includes('install ok installed')) missing.push(pkg);
  }
  if (missing.length)
    throw new Error(
      `building runc needs the Debian packages ${missing.join(' ')}: apt-get install ${missing.join(' ')} (scripts/test.sh installs them)`,
    );
}
