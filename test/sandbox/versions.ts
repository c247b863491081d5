import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the Go modules that build the sandbox live (checked in). */
export const MODULES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'modules');

/** The two Go modules under a modules directory. */
export function moduleDirs(modulesDir = MODULES_DIR) {
  return { controlPlane: join(modulesDir, 'control-plane'), kwok: join(modulesDir, 'kwok') };
}

export interface SandboxVersions {
  /** e.g. v1.36.3 */
  kubernetes: string;
  /** e.g. v3.6.8 */
  etcd: string;
  /** e.g. v0.8.0 */
  kwok: string;
}

/**
 * The go.mod files are the single source of truth for versions: the launcher
 * reads them instead of keeping a second list that could drift.
 */
export function readVersions(modulesDir = MODULES_DIR): SandboxVersions {
  const dirs = moduleDirs(modulesDir);
  const controlPlane = readFileSync(join(dirs.controlPlane, 'go.mod'), 'utf8');
  const kwok = readFileSync(join(dirs.kwok, 'go.mod'), 'utf8');
  return {
    kubernetes: requiredVersion(controlPlane, 'k8s.io/kubernetes'),
    etcd: requiredVersion(controlPlane, 'go.etcd.io/etcd/server/v3'),
    kwok: requiredVersion(kwok, 'sigs.k8s.io/kwok'),
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
 * can never reuse binaries built from something else.
 */
export function cacheKey(
  versions: SandboxVersions,
  buildRecipe: string,
  modulesDir = MODULES_DIR,
): string {
  const digest = createHash('sha256');
  for (const dir of Object.values(moduleDirs(modulesDir))) {
    digest.update(readFileSync(join(dir, 'go.mod')));
    digest.update(readFileSync(join(dir, 'go.sum')));
  }
  digest.update(buildRecipe);
  return [
    `k8s-${versions.kubernetes}`,
    `etcd-${versions.etcd}`,
    `kwok-${versions.kwok}`,
    digest.digest('hex').slice(0, 12),
  ].join('_');
}
