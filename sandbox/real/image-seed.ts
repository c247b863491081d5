import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { acquireLock, processAlive } from '../build.js';
import { runCommand } from './commands.js';

/**
 * A containerd root holding the system images every node of a real cluster
 * runs (kubeadm's, the add-ons'), pulled once per image catalogue and planted
 * into each new node's /var/lib/containerd as hard links.
 *
 * Why: a node that pulls its own images unpacks its own copy of every
 * binary, and the kernel shares a program's pages only between processes
 * that map the same file. With a pulled copy per node, kube-proxy,
 * kube-router and CoreDNS on two nodes cost their code twice, and every
 * cluster on the machine pays for its own kube-apiserver's code (about half
 * of an idle cluster's memory is such file pages). Linked from one seed, all
 * nodes of all clusters map the same files, and no node spends its start
 * pulling.
 *
 * Why hard links are safe here: image layers are never written in place
 * (overlayfs writes a container's changes to its own upper folder, and
 * containerd removes a layer by unlinking), and the databases, the only files
 * containerd rewrites, are copied. Writing into a seeded file from a node
 * would change it for every cluster: the node shell mounts the folder
 * read-only, and a node in a user namespace (the engine's dedicated
 * clusters) owns its copies of the seed's folders but not the shared files,
 * which stay the machine root's. A node without one is the machine's root,
 * and trusted with it (SECURITY.md).
 */

/** The seed's folder for this catalogue, these images and this containerd setup. */
export function imageSeedDir(imagesStorageDir: string, images: string[], setup: string): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ images: [...images].sort(), setup }))
    .digest('hex')
    .slice(0, 12);
  return join(dirname(imagesStorageDir), `containerd-seed-${key}`);
}

/**
 * The seed at `dir`, made by `pull` when missing: `pull` fills the containerd
 * root it is given (a containerd that has stopped by the time it returns).
 * Made beside the final folder and renamed into place, so a seed is either
 * complete or absent; by one process at a time (a lock beside it), the
 * others waiting and then using it.
 */
export async function ensureImageSeed(
  dir: string,
  pull: (containerdRoot: string) => Promise<void>,
  log: (line: string) => void,
): Promise<string> {
  const used = async () => {
    // Its folder's time says when a start last used it (see pruneOtherSeeds).
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    return dir;
  };
  if (existsSync(dir)) return used();
  // One maker at a time: clusters started together on a fresh machine (a
  // pool's refill, bank:test's entries) would each pull and unpack every
  // system image at once, on the same cores, and overrun their start timeout.
  await mkdir(dirname(dir), { recursive: true });
  const release = await acquireLock(`${dir}.lock`, log, 'seeding the system images');
  try {
    if (existsSync(dir)) return await used();
    const started = Date.now();
    const partial = `${dir}.partial-${process.pid}-${Date.now()}`;
    try {
      await pull(partial);
      // The containerd instance's own id: each node makes its own.
      await rm(join(partial, 'io.containerd.grpc.v1.introspection'), {
        recursive: true,
        force: true,
      });
      await rename(partial, dir).catch(async (error: NodeJS.ErrnoException) => {
        if (!existsSync(dir)) throw error;
      });
      log(`system images seeded once for every node in ${dir} (${Date.now() - started} ms)`);
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  } finally {
    await release();
  }
  await pruneOtherSeeds(dir, log);
  return dir;
}

/** A seed no start has used for this long goes when another is made. */
export const SEED_PRUNE_AFTER_MS = 2 * 24 * 60 * 60 * 1000;

/**
 * Each seed holds every system image unpacked (about 1.2 GB), and a new
 * image list or containerd setup makes a new one beside the old in the same
 * catalogue. The others go once unused for two days (another checkout may
 * still start clusters from a recent one), as do the half-made seeds of
 * processes that died. Nodes planted from a seed keep working without it:
 * they hold hard links, not the folder.
 */
export async function pruneOtherSeeds(
  keep: string,
  log: (line: string) => void,
  now = Date.now(),
): Promise<void> {
  const parent = dirname(keep);
  for (const entry of await readdir(parent)) {
    const path = join(parent, entry);
    // A lock is its maker's (see acquireLock), whatever its age.
    if (!entry.startsWith('containerd-seed-') || path === keep || entry.endsWith('.lock')) continue;
    const partial = /\.partial-(\d+)-\d+$/.exec(entry);
    if (partial) {
      if (!processAlive(Number(partial[1]))) await rm(path, { recursive: true, force: true });
      continue;
    }
    const used = await stat(path).catch(() => undefined);
    if (used && now - used.mtimeMs > SEED_PRUNE_AFTER_MS) {
      log(`removing an image seed unused since ${used.mtime.toISOString()}: ${entry}`);
      await rm(path, { recursive: true, force: true });
    }
  }
}

/**
 * Plants the seed into a node's (empty or missing) containerd root: every
 * file a hard link into the seed, but containerd's databases, which are
 * copied. False (nothing planted) when the two are on different file
 * systems: the node then pulls its images itself.
 */
export async function plantImageSeed(seed: string, containerdRoot: string): Promise<boolean> {
  await mkdir(containerdRoot, { recursive: true });
  try {
    await runCommand(['cp', '-a', '--link', `${seed}/.`, containerdRoot], { timeoutMs: 60_000 });
  } catch (error) {
    if (!/Invalid cross-device link/i.test(String(error))) throw error;
    await rm(containerdRoot, { recursive: true, force: true });
    await mkdir(containerdRoot, { recursive: true });
    return false;
  }
  for (const file of await ownFiles(containerdRoot)) {
    await unlink(file);
    await copyFile(join(seed, file.slice(containerdRoot.length)), file);
  }
  return true;
}

/**
 * The files a node must own rather than share: everything but the image
 * blobs and the unpacked layers (containerd's databases, which it rewrites).
 */
async function ownFiles(root: string, dir = root): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const relative = path.slice(root.length + 1);
    if (SHARED.includes(relative)) continue;
    if (entry.isDirectory()) found.push(...(await ownFiles(root, path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

/** The seed's parts that are never written in place, shared by hard links. */
const SHARED = [
  'io.containerd.content.v1.content/blobs',
  'io.containerd.snapshotter.v1.overlayfs/snapshots',
];
