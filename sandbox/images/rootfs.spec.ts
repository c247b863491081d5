import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInTree, RootFs, sharedLibraries } from './rootfs.js';

describe('RootFs', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'rootfs-spec-'));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  it('sets modes explicitly, whatever the umask', async () => {
    const root = new RootFs(join(work, 'root'));
    mkdirSync(root.dir);
    const umask = process.umask(0o077);
    try {
      await root.mkdir('/tmp', 0o1777);
      await root.file('/etc/app/conf', 'x');
      await root.file('/usr/local/bin/run', '#!/bin/sh\n', 0o755);
    } finally {
      process.umask(umask);
    }
    expect(lstatSync(root.path('/tmp')).mode & 0o7777).toBe(0o1777);
    expect(lstatSync(root.path('/etc')).mode & 0o7777).toBe(0o755);
    expect(lstatSync(root.path('/etc/app/conf')).mode & 0o7777).toBe(0o644);
    expect(lstatSync(root.path('/usr/local/bin/run')).mode & 0o7777).toBe(0o755);
  });

  it('copies a program with the libraries ldd names, in a merged-/usr layout', async () => {
    const tree = join(work, 'tree');
    mkdirSync(join(tree, 'usr/bin'), { recursive: true });
    copyFileSync('/usr/bin/ls', join(tree, 'usr/bin/ls'));
    symlinkSync('ls', join(tree, 'usr/bin/dir-alias'));
    const root = new RootFs(join(work, 'root'));
    mkdirSync(root.dir);
    const libraries = await root.copyWithLibraries(tree, ['/usr/bin/ls', '/usr/bin/dir-alias']);
    expect(libraries).toEqual(
      expect.arrayContaining([
        '/usr/lib/x86_64-linux-gnu/libc.so.6',
        '/usr/lib64/ld-linux-x86-64.so.2',
      ]),
    );
    expect(readlinkSync(root.path('/usr/bin/dir-alias'))).toBe('ls');
    expect(readlinkSync(root.path('/lib'))).toBe('usr/lib');
    expect(readlinkSync(root.path('/lib64'))).toBe('usr/lib64');
    // Real files, not links back into the host.
    expect(lstatSync(root.path('/usr/lib/x86_64-linux-gnu/libc.so.6')).isFile()).toBe(true);
  });
});

describe('sharedLibraries', () => {
  it('prefers libraries in the given path over the host', async () => {
    const work = await mkdtemp(join(tmpdir(), 'ldd-spec-'));
    try {
      const libs = await sharedLibraries(['/usr/bin/ls'], []);
      const libc = libs.find((l) => l.endsWith('/libc.so.6'))!;
      mkdirSync(join(work, 'lib'));
      copyFileSync(libc, join(work, 'lib', 'libc.so.6'));
      const again = await sharedLibraries(['/usr/bin/ls'], [join(work, 'lib')]);
      expect(again).toContain(join(work, 'lib', 'libc.so.6'));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('names the library that is nowhere to be found', async () => {
    const work = await mkdtemp(join(tmpdir(), 'ldd-spec-'));
    try {
      writeFileSync(join(work, 'dep.c'), 'int f(void) { return 0; }\n');
      writeFileSync(join(work, 'needs.c'), 'int f(void);\nint g(void) { return f(); }\n');
      const gcc = (args: string[]) => execFileSync('gcc', ['-shared', '-fPIC', ...args]);
      gcc(['-o', join(work, 'libdep.so'), join(work, 'dep.c')]);
      gcc(['-o', join(work, 'libneeds.so'), join(work, 'needs.c'), '-L', work, '-ldep']);
      rmSync(join(work, 'libdep.so'));
      await expect(sharedLibraries([join(work, 'libneeds.so')], [])).rejects.toThrow(
        /libraries not found for .*libneeds\.so: libdep\.so => not found/,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('resolveInTree', () => {
  it('follows absolute links relative to the tree, not the host', async () => {
    const tree = await mkdtemp(join(tmpdir(), 'tree-spec-'));
    try {
      mkdirSync(join(tree, 'lib/x86_64-linux-gnu'), { recursive: true });
      writeFileSync(join(tree, 'lib/x86_64-linux-gnu/ld.so.real'), 'loader');
      mkdirSync(join(tree, 'lib64'));
      symlinkSync('/lib/x86_64-linux-gnu/ld.so.real', join(tree, 'lib64/ld.so'));
      symlinkSync('lib', join(tree, 'alias'));
      expect(await resolveInTree(tree, '/lib64/ld.so')).toBe(
        join(tree, 'lib/x86_64-linux-gnu/ld.so.real'),
      );
      expect(await resolveInTree(tree, '/alias/x86_64-linux-gnu/ld.so.real')).toBe(
        join(tree, 'lib/x86_64-linux-gnu/ld.so.real'),
      );
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});
