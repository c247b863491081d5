import { execFile } from 'node:child_process';
import {
  chmod,
  copyFile,
  mkdir,
  readlink,
  realpath,
  symlink,
  writeFile,
  lstat,
} from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian (and so the images) keep amd64 libraries. */
export const MULTIARCH_LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu'];

/**
 * A directory that becomes one image layer. Every mode is set explicitly,
 * so the layer does not depend on the umask of whoever builds it.
 */
export class RootFs {
  constructor(readonly dir: string) {}

  /** The host path of an image path. */
  path(imagePath: string): string {
    return join(this.dir, imagePath);
  }

  async mkdir(imagePath: string, mode = 0o755): Promise<void> {
    const parts = imagePath.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const path = this.path(parts.slice(0, i).join('/'));
      const existing = await lstat(path).catch(() => undefined);
      if (existing?.isDirectory() || existing?.isSymbolicLink()) continue;
      await mkdir(path);
      await chmod(path, i === parts.length ? mode : 0o755);
    }
    await chmod(this.path(imagePath), mode);
  }

  async file(imagePath: string, content: string | Buffer, mode = 0o644): Promise<void> {
    await this.mkdir(posix.dirname(imagePath));
    await writeFile(this.path(imagePath), content);
    await chmod(this.path(imagePath), mode);
  }

  async symlink(imagePath: string, target: string): Promise<void> {
    await this.mkdir(posix.dirname(imagePath));
    await symlink(target, this.path(imagePath));
  }

  /** Copies a host file's content (following symlinks) to `imagePath`. */
  async copy(hostPath: string, imagePath: string, mode?: number): Promise<void> {
    await this.mkdir(posix.dirname(imagePath));
    const target = this.path(imagePath);
    await copyFile(hostPath, target);
    await chmod(target, mode ?? (await lstat(await realpath(hostPath))).mode & 0o7777);
  }

  /**
   * Copies a file from an unpacked package tree as it is there: a symlink
   * stays a symlink (Debian's relative links keep working in the image).
   */
  async copyFrom(tree: string, imagePath: string): Promise<void> {
    const source = join(tree, imagePath);
    const info = await lstat(source);
    if (info.isSymbolicLink()) await this.symlink(imagePath, await readlink(source));
    else await this.copy(source, imagePath, info.mode & 0o7777);
  }

  /**
   * Copies programs and shared objects with every library `ldd` says they
   * load (and the dynamic loader), each at its path in Debian's layout with
   * /lib and /lib64 as links into /usr, as a merged-/usr Debian has them.
   * Libraries are looked for in `tree` (unpacked packages) first, then on the
   * host, which is Debian 12 like the packages.
   */
  async copyWithLibraries(tree: string, imagePaths: string[]): Promise<string[]> {
    for (const imagePath of imagePaths) await this.copyFrom(tree, imagePath);
    const libraries = await sharedLibraries(
      imagePaths.map((p) => join(tree, p)),
      MULTIARCH_LIB_DIRS.map((d) => join(tree, d)),
    );
    const copied: string[] = [];
    for (const library of libraries) {
      const inTree = library.startsWith(tree + '/');
      const imagePath = mergedUsr(inTree ? library.slice(tree.length) : library);
      if (await lstat(this.path(imagePath)).catch(() => undefined)) continue;
      const source = inTree ? await resolveInTree(tree, library.slice(tree.length)) : library;
      await this.copy(source, imagePath);
      copied.push(imagePath);
    }
    if (copied.length) await this.mergedUsrLinks();
    return copied.sort();
  }

  private async mergedUsrLinks(): Promise<void> {
    for (const [link, target] of [
      ['lib', 'usr/lib'],
      ['lib64', 'usr/lib64'],
    ]) {
      if (!(await lstat(this.path(link)).catch(() => undefined))) {
        await this.mkdir(target);
        await symlink(target, this.path(link));
      }
    }
  }
}

function mergedUsr(path: string): string {
  return /^\/lib(64)?\//.test(path) ? `/usr${path}` : path;
}

/**
 * The shared libraries and loader of ELF files according to ldd, with
 * `libraryPath` searched first (LD_LIBRARY_PATH). A library nowhere to be
 * found is an error naming it: the image would not start.
 */
export async function sharedLibraries(files: string[], libraryPath: string[]): Promise<string[]> {
  const { stdout } = await run('ldd', files, {
    env: { ...process.env, LD_LIBRARY_PATH: libraryPath.join(':'), LC_ALL: 'C' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    // ldd fails on static programs ("not a dynamic executable"); their lines say so.
    if (
      error.stdout !== undefined &&
      /not a dynamic executable|statically linked/.test(error.stdout + (error.stderr ?? ''))
    )
      return { stdout: error.stdout };
    throw new Error(`ldd ${files.join(' ')} failed: ${error.stderr ?? error.message}`);
  });
  const found = new Set<string>();
  const missing: string[] = [];
  for (const line of stdout.split('\n')) {
    const resolved = /^\s+\S+ => (\/\S+) \(0x/.exec(line);
    const loader = /^\s+(\/\S+) \(0x/.exec(line);
    if (resolved) found.add(resolved[1]);
    else if (loader) found.add(loader[1]);
    else if (/=> not found/.test(line)) missing.push(line.trim());
  }
  if (missing.length)
    throw new Error(`libraries not found for ${files.join(', ')}: ${missing.join('; ')}`);
  return [...found].sort();
}

/**
 * The real file behind a path inside an unpacked tree, following symlinks
 * (absolute ones relative to the tree, as they are in the image).
 */
export async function resolveInTree(tree: string, path: string): Promise<string> {
  let current = posix.normalize(path);
  for (let hops = 0; hops < 40; hops++) {
    const parts = current.split('/').filter(Boolean);
    let resolvedPrefix = '/';
    let changed = false;
    for (let i = 0; i < parts.length; i++) {
      const candidate = posix.join(resolvedPrefix, parts[i]);
      const info = await lstat(join(tree, candidate)).catch(() => undefined);
      if (info?.isSymbolicLink()) {
        const target = await readlink(join(tree, candidate));
        const base = target.startsWith('/') ? target : posix.join(posix.dirname(candidate), target);
        current = posix.normalize(posix.join(base, ...parts.slice(i + 1)));
        changed = true;
        break;
      }
      resolvedPrefix = candidate;
    }
    if (!changed) return join(tree, current);
  }
  throw new Error(`too many symlinks resolving ${path} in ${tree}`);
}
