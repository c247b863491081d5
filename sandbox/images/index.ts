import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ensureEntry,
  type RealNodeBinaries,
  SandboxBuildError,
  type SandboxBinaries,
} from '../build.js';
import { tailOf } from '../log-tail.js';
import { cacheRoot } from '../versions.js';
import { DebianPackages } from './debian.js';
import { type Compression, OciLayout } from './oci.js';
import {
  type CatalogueEntry,
  type CatalogueVersions,
  formatCatalogue,
  type ImagePrograms,
  imageRecipes,
  RecipeContext,
} from './recipes.js';
import {
  assertNoClashes,
  fullReference,
  parseReference,
  pushImage,
  type RunningRegistry,
  startRegistry,
} from './registry.js';

export { formatCatalogue, type CatalogueEntry } from './recipes.js';

/**
 * Layers are stored uncompressed: each sandbox start pulls a few hundred MB
 * of images per node, and two cores are better spent starting the cluster
 * than inflating gzip; the cost is disk (the cache entry holds about 700 MB).
 */
const LAYER_COMPRESSION: Compression = 'none';

/** The Debian packages images contain, and the host's libc their programs load. */
const HOST_PACKAGES = ['libc6'];

/** What the catalogue is built from, when not from the sandbox's own caches. */
export interface ImageInputs {
  /** The distribution registry, run during the build and by {@link startImageRegistry}. */
  registry: string;
  programs: ImagePrograms;
  versions: CatalogueVersions;
}

export type EnsureImagesOptions = {
  log?: (line: string) => void;
  /** Default: SANDBOX_CACHE_DIR, else ~/.cache/cka-sandbox. */
  cacheDir?: string;
} & ({ binaries: ImageInputs } | { binaries: SandboxBinaries; realBinaries: RealNodeBinaries });

export interface SandboxImages {
  /** The registry's filesystem storage, every catalogue image pushed into it. */
  storageDir: string;
  /** The registry binary kept beside it, so the entry serves on its own. */
  registryBinary: string;
  catalogue: CatalogueEntry[];
}

/** The inputs from the control-plane and real-node binary caches. */
export function imageInputsFrom(binaries: SandboxBinaries, real: RealNodeBinaries): ImageInputs {
  return {
    registry: real.programs.registry,
    programs: {
      'kube-apiserver': binaries.kubeApiserver,
      'kube-controller-manager': binaries.kubeControllerManager,
      'kube-scheduler': binaries.kubeScheduler,
      etcd: binaries.etcd,
      'kube-proxy': real.programs['kube-proxy'],
      etcdctl: real.programs.etcdctl,
      etcdutl: real.programs.etcdutl,
      agnhost: real.programs.agnhost,
      coredns: real.programs.coredns,
      'metrics-server': real.programs['metrics-server'],
      'kube-router': real.programs['kube-router'],
    },
    versions: {
      kubernetes: binaries.versions.kubernetes,
      etcd: binaries.versions.etcd,
      coredns: real.versions.coredns,
      metricsServer: real.versions.metricsServer,
      kubeRouter: real.versions.kubeRouter,
    },
  };
}

/**
 * The image catalogue in a registry storage directory, built once per
 * recipe, input binaries and Debian package versions into a cache entry
 * (about 30 s cold on two cores; half a second to find it warm).
 */
export async function ensureImages(options: EnsureImagesOptions): Promise<SandboxImages> {
  const log = options.log ?? (() => {});
  const inputs =
    'realBinaries' in options
      ? imageInputsFrom(options.binaries, options.realBinaries)
      : options.binaries;
  const root = options.cacheDir ?? cacheRoot();
  const recipes = imageRecipes(inputs.versions);
  const debianPackages = [...new Set(recipes.flatMap((r) => r.debianPackages))].sort();
  const key = await imagesCacheKey(inputs, debianPackages);
  const dir = await ensureEntry(
    root,
    key,
    { versions: inputs.versions, compression: LAYER_COMPRESSION },
    'sandbox images',
    'a cold build takes about 30 s',
    (staging, buildLog) => buildCatalogue(staging, buildLog, inputs, log),
    log,
  );
  const catalogue = JSON.parse(
    await readFile(join(dir, 'catalogue.json'), 'utf8'),
  ) as CatalogueEntry[];
  return {
    storageDir: join(dir, 'storage'),
    registryBinary: join(dir, 'bin', 'registry'),
    catalogue,
  };
}

/**
 * `images-<kubernetes>_<digest>`: the digest covers this folder's code (the
 * recipes), the versions, each input binary's size and mtime (a rebuild
 * changes them; hashing 700 MB on every start would cost seconds), and the
 * Debian candidate versions, so a security update rebuilds the images.
 */
async function imagesCacheKey(inputs: ImageInputs, debianPackages: string[]): Promise<string> {
  const digest = createHash('sha256');
  const here = dirname(fileURLToPath(import.meta.url));
  for (const file of (await readdir(here)).filter((f) => !/\.spec\.[jt]s$/.test(f)).sort())
    if (/\.[jt]s$/.test(file)) digest.update(file).update(await readFile(join(here, file)));
  digest.update(JSON.stringify({ versions: inputs.versions, compression: LAYER_COMPRESSION }));
  for (const [name, path] of Object.entries({
    ...inputs.programs,
    registry: inputs.registry,
  }).sort()) {
    const info = path ? await stat(path).catch(() => undefined) : undefined;
    digest.update(`${name}=${info ? `${info.size}:${info.mtimeMs}` : 'absent'}\n`);
  }
  digest.update(JSON.stringify(await DebianPackages.candidateVersions(debianPackages)));
  for (const pkg of HOST_PACKAGES)
    digest.update(`${pkg}=${await DebianPackages.hostVersion(pkg).catch(() => 'unknown')}`);
  return `images-${inputs.versions.kubernetes}_${digest.digest('hex').slice(0, 12)}`;
}

async function buildCatalogue(
  staging: string,
  buildLog: string,
  inputs: ImageInputs,
  log: (line: string) => void,
): Promise<void> {
  const out: WriteStream = createWriteStream(buildLog);
  const note = (line: string) => {
    out.write(`${line}\n`);
  };
  const work = join(staging, 'work');
  let registry: RunningRegistry | undefined;
  try {
    await mkdir(join(staging, 'bin'), { recursive: true });
    // A hard link when the binary cache is on the same filesystem: no copy of 50 MB.
    await link(inputs.registry, join(staging, 'bin', 'registry')).catch(() =>
      copyFile(inputs.registry, join(staging, 'bin', 'registry')),
    );
    registry = await startRegistry({
      binary: inputs.registry,
      storageDir: join(staging, 'storage'),
      runDir: join(work, 'registry'),
      log: note,
    });
    const ctx = new RecipeContext(work, inputs.programs, inputs.versions, note);
    const layout = new OciLayout(join(work, 'oci'), LAYER_COMPRESSION);
    const recipes = imageRecipes(inputs.versions);
    assertNoClashes(recipes.flatMap((r) => r.tags.map((t) => `${r.name}:${t}`)));
    const knownBlobs = new Map<string, string>();
    const catalogue: CatalogueEntry[] = [];
    for (const recipe of recipes) {
      const repository = parseReference(recipe.name).repository;
      const absent = recipe.needs.filter((p) => !inputs.programs[p]);
      const skipped =
        recipe.missing ?? (absent.length ? `no ${absent.join(', ')} binary given` : undefined);
      const entry: CatalogueEntry = {
        name: recipe.name,
        tags: recipe.tags,
        references: [],
        repository,
        builtFrom: recipe.builtFrom,
        really: recipe.really,
      };
      catalogue.push(entry);
      if (skipped) {
        entry.skipped = skipped;
        log(`image ${recipe.name} skipped: ${skipped}`);
        note(`skipped ${recipe.name}: ${skipped}`);
        continue;
      }
      const started = Date.now();
      const built = await recipe.build(ctx);
      const image = await layout.image(built.layers, {
        ...built.config,
        labels: {
          'org.opencontainers.image.description': recipe.really,
          'io.cka-sandbox.built-from': recipe.builtFrom,
          ...built.config.labels,
        },
      });
      const tags = [...new Set([...recipe.tags, ...(built.extraTags ?? [])])];
      await pushImage(registry.url, repository, tags, image, { knownBlobs });
      const versions = ctx.debian.versions();
      const packages = Object.fromEntries(
        recipe.debianPackages.filter((p) => versions[p]).map((p) => [p, versions[p]]),
      );
      Object.assign(entry, {
        tags,
        references: tags.map((tag) => fullReference(parseReference(`${recipe.name}:${tag}`))),
        digest: image.manifest.digest,
        size: image.config.size + image.layers.reduce((sum, l) => sum + l.size, 0),
        ...(Object.keys(packages).length ? { packages } : {}),
      });
      note(
        `pushed ${recipe.name}:${tags.join(',')} ${image.manifest.digest} in ${Date.now() - started} ms`,
      );
    }
    for (const pkg of HOST_PACKAGES)
      note(`host ${pkg} ${await DebianPackages.hostVersion(pkg).catch(() => 'unknown')}`);
    note(formatCatalogue(catalogue));
    await writeFile(join(staging, 'catalogue.json'), JSON.stringify(catalogue, null, 2) + '\n');
    await registry.stop();
    registry = undefined;
  } catch (error) {
    note(`failed: ${(error as Error).stack ?? String(error)}`);
    await registry?.stop();
    await new Promise((resolve) => out.end(resolve));
    throw new SandboxBuildError(
      `building the sandbox images failed: ${(error as Error).message} (full log: ${buildLog})`,
      await tailOf(buildLog, 40),
    );
  }
  await new Promise((resolve) => out.end(resolve));
  await rm(work, { recursive: true, force: true });
}

export interface StartImageRegistryOptions {
  /** From {@link ensureImages}. */
  storageDir: string;
  /** Its config and log go to `<runDir>/registry/`. */
  runDir: string;
  /** The address to listen on: the host's address on the cluster network (default 127.0.0.1). */
  host?: string;
  /** Default: the binary {@link ensureImages} keeps beside the storage. */
  binary?: string;
  log?: (line: string) => void;
}

/**
 * Serves a catalogue's storage read-only: pulls work, pushes are refused, and
 * the cache entry is never written, so sandboxes running side by side can
 * share it.
 */
export function startImageRegistry(options: StartImageRegistryOptions): Promise<RunningRegistry> {
  return startRegistry({
    binary: options.binary ?? join(dirname(options.storageDir), 'bin', 'registry'),
    storageDir: options.storageDir,
    runDir: join(options.runDir, 'registry'),
    host: options.host,
    readOnly: true,
    log: options.log,
  });
}

/** The upstream registries containerd is told to pull from the local one instead. */
export const MIRRORED_UPSTREAMS: Record<string, string> = {
  'docker.io': 'https://registry-1.docker.io',
  'registry.k8s.io': 'https://registry.k8s.io',
  'quay.io': 'https://quay.io',
};

/**
 * containerd's `certs.d` directory (its CRI `config_path`): for each
 * upstream a hosts.toml whose only host is the local registry, over plain
 * HTTP, for pull and resolve. No `override_path`: containerd then asks the
 * mirror for `/v2/<upstream's repository path>/…?ns=<upstream>`, which is
 * how the registry stores the images (see registry.ts). The upstream
 * `server` is never reached: a mirror that answers 404 (an unknown image)
 * makes containerd try it, and with no route out that fails as ErrImagePull.
 */
export async function writeMirrorConfig(
  certsDir: string,
  registryHostPorts: string | string[],
): Promise<string[]> {
  const written: string[] = [];
  for (const [upstream, server] of Object.entries(MIRRORED_UPSTREAMS)) {
    const dir = join(certsDir, upstream);
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'hosts.toml');
    await writeFile(path, mirrorHostsToml(server, registryHostPorts));
    written.push(path);
  }
  return written;
}

/** Mirrors are tried in order: an image one does not have (404) is asked of the next. */
export function mirrorHostsToml(server: string, registryHostPorts: string | string[]): string {
  const hosts = typeof registryHostPorts === 'string' ? [registryHostPorts] : registryHostPorts;
  return `server = "${server}"
${hosts.map((host) => `\n[host."http://${host}"]\n  capabilities = ["pull", "resolve"]\n`).join('')}`;
}

/**
 * A writable registry beside a cluster's read-only catalogue one: what is
 * pushed to it (an operator's own images) its nodes pull like catalogue
 * images. Its storage is under the run folder and goes with the cluster.
 */
export function startPushRegistry(options: {
  storageDir: string;
  runDir: string;
  host?: string;
  binary: string;
  log?: (line: string) => void;
}): Promise<RunningRegistry> {
  return startRegistry({
    binary: options.binary,
    storageDir: options.storageDir,
    runDir: join(options.runDir, 'push-registry'),
    host: options.host,
    readOnly: false,
    log: options.log,
  });
}
