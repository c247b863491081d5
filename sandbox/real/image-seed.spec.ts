import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureImageSeed,
  imageSeedDir,
  plantImageSeed,
  SEED_PRUNE_AFTER_MS,
} from './image-seed.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'image-seed-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A containerd root as a pull leaves it, in miniature. */
async function fakePull(root: string): Promise<void> {
  const layer = join(root, 'io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs/usr/local/bin');
  await mkdir(layer, { recursive: true });
  await writeFile(join(layer, 'kube-proxy'), 'binary');
  const blobs = join(root, 'io.containerd.content.v1.content/blobs/sha256');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(blobs, 'abc'), 'blob');
  await writeFile(join(root, 'io.containerd.snapshotter.v1.overlayfs/metadata.db'), 'snapshots');
  await mkdir(join(root, 'io.containerd.metadata.v1.bolt'), { recursive: true });
  await writeFile(join(root, 'io.containerd.metadata.v1.bolt/meta.db'), 'images');
  await mkdir(join(root, 'io.containerd.grpc.v1.introspection'), { recursive: true });
  await writeFile(join(root, 'io.containerd.grpc.v1.introspection/uuid'), 'instance');
}

describe('image seed', () => {
  it('is pulled by one start when several make it at once, the others waiting for it', async () => {
    const seed = imageSeedDir(join(dir, 'images-v1/storage'), ['a'], 'config');
    let pulls = 0;
    const pull = async (root: string) => {
      pulls++;
      await new Promise((r) => setTimeout(r, 100));
      await fakePull(root);
    };
    const said: string[] = [];
    const made = await Promise.all(
      [1, 2, 3].map(() => ensureImageSeed(seed, pull, (line) => said.push(line))),
    );
    expect(made).toEqual([seed, seed, seed]);
    expect(pulls).toBe(1);
    expect(
      said.some((line) => /waiting for another process .* seeding the system images/.test(line)),
    ).toBe(true);
    expect(existsSync(`${seed}.lock`)).toBe(false);
    // The waiters look again every 2 s.
  }, 20_000);

  it('is made once per image list and setup, complete or not at all', async () => {
    const storage = join(dir, 'images-v1/storage');
    const seed = imageSeedDir(storage, ['b', 'a'], 'config');
    expect(imageSeedDir(storage, ['a', 'b'], 'config')).toBe(seed);
    expect(imageSeedDir(storage, ['a', 'b'], 'other config')).not.toBe(seed);
    expect(imageSeedDir(storage, ['a'], 'config')).not.toBe(seed);

    const halfPulled = async (root: string) => {
      await fakePull(root);
      throw new Error('registry down');
    };
    await expect(ensureImageSeed(seed, halfPulled, () => {})).rejects.toThrow('registry down');
    expect(existsSync(seed)).toBe(false);
    expect(await readdir(join(dir, 'images-v1'))).toEqual([]);

    let pulls = 0;
    const pull = async (root: string) => {
      pulls++;
      await fakePull(root);
    };
    await ensureImageSeed(seed, pull, () => {});
    await ensureImageSeed(seed, pull, () => {});
    expect(pulls).toBe(1);
    // The instance id is each node's own.
    expect(existsSync(join(seed, 'io.containerd.grpc.v1.introspection'))).toBe(false);
  });

  it('makes old seeds of the catalogue go once unused for two days, and half-made ones of dead processes', async () => {
    const seed = (name: string) => join(dir, `containerd-seed-${name}`);
    const ago = async (path: string, ms: number) => {
      const then = new Date(Date.now() - ms);
      await utimes(path, then, then);
    };
    await mkdir(seed('stale'), { recursive: true });
    await ago(seed('stale'), SEED_PRUNE_AFTER_MS + 60_000);
    await mkdir(seed('recent'), { recursive: true });
    await ago(seed('recent'), SEED_PRUNE_AFTER_MS - 60_000);
    // Used again today by another checkout's start: it stays.
    await mkdir(seed('used-again'), { recursive: true });
    await ago(seed('used-again'), SEED_PRUNE_AFTER_MS + 60_000);
    await ensureImageSeed(seed('used-again'), fakePull, () => {});
    // pid 2^22 + 1 is above Linux's pid_max: no such process.
    await mkdir(`${seed('new')}.partial-4194305-1`, { recursive: true });
    await mkdir(`${seed('new')}.partial-${process.pid}-1`, { recursive: true });
    await mkdir(join(dir, 'storage'), { recursive: true });
    await ago(join(dir, 'storage'), SEED_PRUNE_AFTER_MS + 60_000);

    const removed: string[] = [];
    await ensureImageSeed(seed('new'), fakePull, (line) => removed.push(line));
    expect((await readdir(dir)).sort()).toEqual(
      [
        'containerd-seed-new',
        `containerd-seed-new.partial-${process.pid}-1`,
        'containerd-seed-recent',
        'containerd-seed-used-again',
        'storage',
      ].sort(),
    );
    expect(removed.filter((l) => l.startsWith('removing'))).toEqual([
      expect.stringContaining('containerd-seed-stale'),
    ]);
  });

  it('is planted as hard links, except the databases, which each node owns', async () => {
    const seed = join(dir, 'seed');
    await ensureImageSeed(seed, fakePull, () => {});
    const node = join(dir, 'node/var/lib/containerd');
    expect(await plantImageSeed(seed, node)).toBe(true);

    const shared = 'io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs/usr/local/bin/kube-proxy';
    expect((await stat(join(node, shared))).ino).toBe((await stat(join(seed, shared))).ino);
    const blob = 'io.containerd.content.v1.content/blobs/sha256/abc';
    expect((await stat(join(node, blob))).ino).toBe((await stat(join(seed, blob))).ino);

    for (const db of [
      'io.containerd.snapshotter.v1.overlayfs/metadata.db',
      'io.containerd.metadata.v1.bolt/meta.db',
    ]) {
      expect((await stat(join(node, db))).ino).not.toBe((await stat(join(seed, db))).ino);
      await writeFile(join(node, db), 'changed by this node');
      expect(await readFile(join(seed, db), 'utf8')).not.toBe('changed by this node');
    }
  });
});
