import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the Go modules that build the sandbox live (checked in). */
export const MODULES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'modules');

/** The Go modules under a modules directory. */
export function moduleDirs(modulesDir = MODULES_DIR) {
  return {
    controlPlane: join(modulesDir, 'control-plane'),
    kwok: join(modulesDir, 'kwok'),
    helm: join(modulesDir, 'helm'),
    node: join(modulesDir, 'node'),
    runtime: join(modulesDir, 'runtime'),
    coredns: join(modulesDir, 'coredns'),
    metricsServer: join(modulesDir, 'metrics-server'),
    kubeRouter: join(modulesDir, 'kube-router'),
    registry: join(modulesDir, 'registry'),
  };
}

/** What a real node runs besides the control plane, as the go.mod files pin it. */
export interface RealNodeVersions {
  kubernetes: string;
  etcd: string;
  containerd: string;
  runc: string;
  cniPlugins: string;
  crictl: string;
  coredns: string;
  metricsServer: string;
  kubeRouter: string;
  registry: string;
}

/**
 * The real-node modules' versions. The node module builds the kubelet from
 * the same k8s.io/kubernetes as the control plane's: a difference would be
 * version skew nobody asked for, so it is refused here.
 */
export function readRealNodeVersions(modulesDir = MODULES_DIR): RealNodeVersions {
  const dirs = moduleDirs(modulesDir);
  const mod = (dir: string) => readFileSync(join(dir, 'go.mod'), 'utf8');
  const controlPlane = readVersions(modulesDir);
  const node = mod(dirs.node);
  const kubernetes = requiredVersion(node, 'k8s.io/kubernetes');
  if (kubernetes !== controlPlane.kubernetes)
    throw new Error(
      `sandbox/modules/node builds Kubernetes ${kubernetes} but the control plane is ${controlPlane.kubernetes}: give both go.mod files the same version`,
    );
  const runtime = mod(dirs.runtime);
  return {
    kubernetes,
    etcd: requiredVersion(node, 'go.etcd.io/etcd/etcdctl/v3'),
    containerd: requiredVersion(runtime, 'github.com/containerd/containerd/v2'),
    runc: requiredVersion(runtime, 'github.com/opencontainers/runc'),
    cniPlugins: requiredVersion(runtime, 'github.com/containernetworking/plugins'),
    crictl: requiredVersion(runtime, 'sigs.k8s.io/cri-tools'),
    coredns: requiredVersion(mod(dirs.coredns), 'github.com/coredns/coredns'),
    metricsServer: requiredVersion(mod(dirs.metricsServer), 'sigs.k8s.io/metrics-server'),
    kubeRouter: requiredVersion(mod(dirs.kubeRouter), 'github.com/cloudnativelabs/kube-router/v2'),
    registry: requiredVersion(mod(dirs.registry), 'github.com/distribution/distribution/v3'),
  };
}

/** The cache entry of the real-node binaries: the main versions and a digest of every module. */
export function realNodeCacheKey(
  versions: RealNodeVersions,
  buildRecipe: string,
  modulesDir = MODULES_DIR,
): string {
  const dirs = moduleDirs(modulesDir);
  return [
    `realnode-${versions.kubernetes}`,
    `containerd-${versions.containerd}`,
    moduleDigest(
      [dirs.node, dirs.runtime, dirs.coredns, dirs.metricsServer, dirs.kubeRouter, dirs.registry],
      buildRecipe,
    ),
  ].join('_');
}

export interface SandboxVersions {
  /** e.g. v1.36.3 */
  kubernetes: string;
  /** e.g. v3.6.8 */
  etcd: string;
  /** e.g. v0.8.0 */
  kwok: string;
  /** e.g. v4.3.2 */
  helm: string;
  /** The helm module's import path, e.g. helm.sh/helm/v4 (its major version is part of it). */
  helmModule: string;
}

/**
 * The go.mod files are the single source of truth for versions: the launcher
 * reads them instead of keeping a second list that could drift.
 */
export function readVersions(modulesDir = MODULES_DIR): SandboxVersions {
  const dirs = moduleDirs(modulesDir);
  const controlPlane = readFileSync(join(dirs.controlPlane, 'go.mod'), 'utf8');
  const kwok = readFileSync(join(dirs.kwok, 'go.mod'), 'utf8');
  const helm = readFileSync(join(dirs.helm, 'go.mod'), 'utf8');
  const helmModule = /^\s*(?:require\s+)?(helm\.sh\/helm\/v\d+)\s/m.exec(helm)?.[1];
  if (!helmModule) throw new Error('go.mod does not require helm.sh/helm/vN');
  return {
    kubernetes: requiredVersion(controlPlane, 'k8s.io/kubernetes'),
    etcd: requiredVersion(controlPlane, 'go.etcd.io/etcd/server/v3'),
    kwok: requiredVersion(kwok, 'sigs.k8s.io/kwok'),
    helm: requiredVersion(helm, helmModule),
    helmModule,
  };
}

function requiredVersion(goMod: string, module: string): string {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v[^\\s]+)`, 'm').exec(goMod);
  if (!match) throw new Error(`go.mod does not require ${module}`);
  return match[1];
}

/** Root of the binary cache; shared by every checkout on the machine. */
export function cacheRoot(): string {
  if (process.env.SANDBOX_CACHE_DIR) return process.env.SANDBOX_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cka-sandbox');
}

/**
 * A readable cache key: the component versions plus a short digest of the
 * module files and build flags, so that editing go.mod/go.sum (or how we build)
 * can never reuse binaries built from something else. Helm has an entry of
 * its own ({@link helmCacheKey}): bumping it does not rebuild the cluster.
 */
export function cacheKey(
  versions: SandboxVersions,
  buildRecipe: string,
  modulesDir = MODULES_DIR,
): string {
  const dirs = moduleDirs(modulesDir);
  return [
    `k8s-${versions.kubernetes}`,
    `etcd-${versions.etcd}`,
    `kwok-${versions.kwok}`,
    moduleDigest([dirs.controlPlane, dirs.kwok], buildRecipe),
  ].join('_');
}

/** The cache entry of the helm binary: its version and a digest of its module and build flags. */
export function helmCacheKey(
  versions: SandboxVersions,
  buildRecipe: string,
  modulesDir = MODULES_DIR,
): string {
  return `helm-${versions.helm}_${moduleDigest([moduleDirs(modulesDir).helm], buildRecipe)}`;
}

function moduleDigest(dirs: string[], buildRecipe: string): string {
  const digest = createHash('sha256');
  for (const dir of dirs) {
    digest.update(readFileSync(join(dir, 'go.mod')));
    digest.update(readFileSync(join(dir, 'go.sum')));
  }
  digest.update(buildRecipe);
  return digest.digest('hex').slice(0, 12);
}
