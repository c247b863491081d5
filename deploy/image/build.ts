/**
 * The engine's container image, built without Docker:
 *
 *   npm run build && npm run image:build [-- options]
 *
 *   --out DIR          the OCI image layout (default .scratch/engine-image)
 *   --archive FILE     also a tarball of it (`ctr images import`, `podman load`, `docker load`)
 *   --push URL         also push it to a registry (http://host:port), as --repository
 *   --repository NAME  default cka-engine; the tag is package.json's version and `latest`
 *   --kubectl PATH     default: the sandbox's kubectl (built from sandbox/modules)
 *   --rootfs-only DIR  only assemble the file system into DIR (the Dockerfile's step)
 *
 * The file system is assembled by {@link assembleRootfs}, which the
 * Dockerfile's build stage runs too; the runtime settings (user, working
 * directory, environment, ports, health check, labels, entrypoint, command)
 * are read from the Dockerfile's last stage. So both ways give one layer
 * with the same files and one configuration with the same settings; the
 * bytes differ only by file times (Docker keeps them, this writes 0) and by
 * where Node and kubectl come from (see deploy/image/README.md).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, lchown, lstat, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureSandboxBinaries } from '../../sandbox/build.js';
import { DebianPackages } from '../../sandbox/images/debian.js';
import { OciLayout, type OciImage, writeImageArchive } from '../../sandbox/images/oci.js';
import { pushImage } from '../../sandbox/images/registry.js';
import {
  MULTIARCH_LIB_DIRS,
  resolveInTree,
  RootFs,
  sharedLibraries,
} from '../../sandbox/images/rootfs.js';
import { finalStage } from './dockerfile.js';

const run = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The image's user: not root, and no name any base image already uses. */
export const ENGINE_USER = { name: 'cka-engine', uid: 10001, gid: 10001 } as const;
/** Where the app lives in the image (the Dockerfile's WORKDIR). */
export const APP_DIR = '/app';
/** The one directory the user writes to without a volume (SQLite, recordings). */
export const DATA_DIR = '/app/data';

/**
 * Debian 12 packages of the libraries Node and the native modules load
 * (glibc comes from the build host, itself Debian 12: see debian.ts).
 */
export const DEBIAN_PACKAGES = ['libstdc++6', 'libgcc-s1'];

/** What of the repository the built app reads at run time. */
export const APP_PATHS = ['package.json', 'dist', 'questions', 'graders'];

export interface AssembleOptions {
  /** An empty (or absent) directory to fill. */
  rootfs: string;
  /** The kubectl to put in /usr/local/bin. */
  kubectl: string;
  /** The Node binary to put in /usr/local/bin (default: the one running this). */
  node?: string;
  /** The repository with a built dist/ (default: this one). */
  repo?: string;
  /** Scratch space for Debian packages (default: a sibling of rootfs). */
  workDir?: string;
  log?: (line: string) => void;
}

export interface AssembledRootfs {
  rootfs: string;
  /** Debian package → version of everything unpacked for the libraries. */
  debianPackages: Record<string, string>;
  /** Image paths of the shared libraries copied for Node and the native modules. */
  libraries: string[];
  /** `node_modules/…` paths of the production packages copied. */
  modules: string[];
}

/**
 * The image's whole file system: Node and kubectl in /usr/local/bin, the
 * shared libraries they and the native modules load (Debian's layout,
 * merged /usr), /etc/passwd and /etc/group with root, nobody and the engine's
 * user, /tmp, and the app in /app (package.json, dist/, questions/, graders/,
 * the production dependencies of package-lock.json), everything owned by
 * root but /app/data (the user's). Run as root: it sets owners.
 */
export async function assembleRootfs(options: AssembleOptions): Promise<AssembledRootfs> {
  const log = options.log ?? (() => {});
  const repo = options.repo ?? REPO_ROOT;
  for (const required of ['dist/src/main.js', 'dist/src/worker.js', 'dist/web/index.html'])
    if (!existsSync(join(repo, required)))
      throw new Error(`${required} is missing: run \`npm run build\` first`);
  if (process.getuid?.() !== 0)
    throw new Error(
      'assembling the image needs root (files are owned by root, /app/data by the user)',
    );
  if (existsSync(options.rootfs) && (await readdir(options.rootfs)).length)
    throw new Error(`${options.rootfs} is not empty`);
  const root = new RootFs(options.rootfs);
  await mkdir(options.rootfs, { recursive: true, mode: 0o755 });

  const { name, uid, gid } = ENGINE_USER;
  await root.file(
    '/etc/passwd',
    `root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n${name}:x:${uid}:${gid}:CKA exam engine:${APP_DIR}:/usr/sbin/nologin\n`,
  );
  await root.file('/etc/group', `root:x:0:\nnogroup:x:65534:\n${name}:x:${gid}:\n`);
  await root.file('/etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
  await root.mkdir('/root', 0o700);
  await root.mkdir('/tmp', 0o1777);

  const node = options.node ?? process.execPath;
  await root.copy(node, '/usr/local/bin/node', 0o755);
  await root.copy(options.kubectl, '/usr/local/bin/kubectl', 0o755);

  log('copying the app and its production dependencies');
  for (const path of APP_PATHS)
    await cp(join(repo, path), root.path(`${APP_DIR}/${path}`), {
      recursive: true,
      verbatimSymlinks: true,
    });
  const modules = await copyProductionModules(repo, root.path(APP_DIR));

  log(`unpacking Debian packages: ${DEBIAN_PACKAGES.join(' ')}`);
  const debian = new DebianPackages(options.workDir ?? `${options.rootfs}.debian`, log);
  const tree = await debian.unpack(DEBIAN_PACKAGES);
  const elves = [root.path('/usr/local/bin/node'), ...(await nativeModules(root.path(APP_DIR)))];
  const libraries = await copyLibraries(
    root,
    tree,
    await sharedLibraries(
      elves,
      MULTIARCH_LIB_DIRS.map((d) => join(tree, d)),
    ),
  );

  // Everything root's (whoever ran the copies), then the user's one directory.
  await run('chown', ['-R', '--no-dereference', '0:0', options.rootfs]);
  await root.mkdir(DATA_DIR, 0o750);
  await lchown(root.path(DATA_DIR), uid, gid);
  return { rootfs: options.rootfs, debianPackages: debian.versions(), libraries, modules };
}

/**
 * The packages of package-lock.json that production needs: not `dev`, and not
 * `devOptional` either (an optional peer that only the dev tree installs:
 * typescript, 24 MB), each copied without its nested node_modules (those are
 * entries of their own). Optional packages for other platforms are absent
 * from the checkout and skipped.
 */
export async function copyProductionModules(repo: string, appDir: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(repo, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean; link?: boolean }>;
  };
  const copied: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || entry.dev || entry.devOptional || entry.link) continue;
    const from = join(repo, path);
    if (!existsSync(from)) continue;
    const nested = join(from, 'node_modules');
    await cp(from, join(appDir, path), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) => source !== nested && !source.startsWith(nested + sep),
    });
    copied.push(path);
  }
  return copied.sort();
}

/** Every ELF `.node` addon under `dir` (other platforms' prebuilt ones are not ELF). */
async function nativeModules(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.node')) continue;
    const path = join(entry.parentPath, entry.name);
    const handle = await open(path, 'r');
    const magic = Buffer.alloc(4);
    await handle.read(magic, 0, 4, 0);
    await handle.close();
    if (magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) found.push(path);
  }
  return found.sort();
}

/** Each library at its Debian path, /lib and /lib64 as links into /usr (merged /usr). */
async function copyLibraries(root: RootFs, tree: string, libraries: string[]): Promise<string[]> {
  const copied: string[] = [];
  for (const library of libraries) {
    const inTree = library.startsWith(tree + '/');
    const original = inTree ? library.slice(tree.length) : library;
    const imagePath = /^\/lib(64)?\//.test(original) ? `/usr${original}` : original;
    if (await lstat(root.path(imagePath)).catch(() => undefined)) continue;
    await root.copy(inTree ? await resolveInTree(tree, original) : library, imagePath);
    copied.push(imagePath);
  }
  for (const [link, target] of [
    ['/lib', 'usr/lib'],
    ['/lib64', 'usr/lib64'],
  ]) {
    await root.mkdir(`/${target}`);
    if (!(await lstat(root.path(link)).catch(() => undefined))) await root.symlink(link, target);
  }
  return copied.sort();
}

export interface BuildOptions {
  /** The OCI layout to write (default .scratch/engine-image). */
  out?: string;
  archive?: string;
  push?: string;
  repository?: string;
  kubectl?: string;
  /** The repository with a built dist/ to take the app from (default: this one). */
  repo?: string;
  /** The tag besides `latest` (default: package.json's version). */
  tag?: string;
  /** Keep the assembled file system beside the layout (tests run it). */
  keepRootfs?: boolean;
  log?: (line: string) => void;
}

export interface BuiltImage {
  image: OciImage;
  references: string[];
  /** Bytes of the configuration and the layer as stored (uncompressed). */
  size: number;
  rootfs?: string;
  assembled: AssembledRootfs;
  seconds: number;
}

/** Assembles the file system and writes it as an OCI image with the Dockerfile's settings. */
export async function buildEngineImage(options: BuildOptions = {}): Promise<BuiltImage> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const out = resolve(options.out ?? join(REPO_ROOT, '.scratch/engine-image'));
  const dockerfile = finalStage(await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  const wanted = dockerfile.args.NODE_VERSION;
  if (wanted && process.versions.node !== wanted)
    throw new Error(
      `the Dockerfile's Node is ${wanted}, this build runs ${process.versions.node}: run it with the project's Node (scripts/lib.sh use_node)`,
    );
  const kubectl = options.kubectl ?? (await ensureSandboxBinaries({ log })).kubectl;
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const work = `${out}.work`;
  await rm(work, { recursive: true, force: true });
  try {
    const assembled = await assembleRootfs({
      rootfs: join(work, 'rootfs'),
      workDir: join(work, 'debian'),
      kubectl,
      repo: options.repo,
      log,
    });
    log('writing the layer');
    const layout = new OciLayout(out);
    const image = await layout.image(
      [
        {
          root: assembled.rootfs,
          createdBy: `COPY --from=build /rootfs/ / # deploy/image/build.ts`,
          keepOwners: true,
        },
      ],
      dockerfile.config,
    );
    const version =
      options.tag ??
      (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
        .version;
    const repository = options.repository ?? 'cka-engine';
    const references = [`${repository}:${version}`, `${repository}:latest`];
    await layout.writeIndex([{ image, references }]);
    if (options.archive) await writeImageArchive(image, references, resolve(options.archive));
    if (options.push) {
      log(`pushing to ${options.push}/${repository}`);
      await pushImage(options.push, repository, [version, 'latest'], image);
    }
    let rootfs: string | undefined;
    if (options.keepRootfs) {
      rootfs = `${out}.rootfs`;
      await rm(rootfs, { recursive: true, force: true });
      await run('mv', [assembled.rootfs, rootfs]);
    }
    return {
      image,
      references,
      size: image.config.size + image.layers.reduce((sum, l) => sum + l.size, 0),
      rootfs,
      assembled: { ...assembled, rootfs: rootfs ?? assembled.rootfs },
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = /^--([a-z-]+)$/.exec(argv[i]);
    if (!flag) throw new Error(`unexpected argument ${argv[i]}`);
    if (flag[1] === 'keep-rootfs') values[flag[1]] = 'true';
    else if (i + 1 < argv.length) values[flag[1]] = argv[++i];
    else throw new Error(`--${flag[1]} needs a value`);
  }
  return values;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`[image] ${line}\n`);
  if (args['rootfs-only']) {
    if (!args.kubectl) throw new Error('--rootfs-only needs --kubectl');
    const assembled = await assembleRootfs({
      rootfs: resolve(args['rootfs-only']),
      workDir: `${resolve(args['rootfs-only'])}.debian`,
      kubectl: resolve(args.kubectl),
      log,
    });
    await rm(`${assembled.rootfs}.debian`, { recursive: true, force: true });
    log(
      `assembled ${assembled.rootfs}: ${assembled.modules.length} packages, libraries ${assembled.libraries.join(' ')}`,
    );
    return;
  }
  const built = await buildEngineImage({
    out: args.out,
    archive: args.archive,
    push: args.push,
    repository: args.repository,
    kubectl: args.kubectl,
    keepRootfs: args['keep-rootfs'] === 'true',
    log,
  });
  process.stdout.write(
    `${JSON.stringify(
      {
        layout: relative(process.cwd(), built.image.layout) || '.',
        references: built.references,
        manifest: built.image.manifest.digest,
        sizeMiB: Math.round((built.size / 1024 / 1024) * 10) / 10,
        seconds: built.seconds,
        debianPackages: built.assembled.debianPackages,
      },
      null,
      2,
    )}\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
