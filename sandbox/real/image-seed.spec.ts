import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImageSeed, imageSeedDir, plantImageSeed } from './image-seed.js';

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
