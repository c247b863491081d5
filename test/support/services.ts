import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Component } from '../../sandbox/component.js';
import { freePort } from '../../sandbox/http.js';
import { waitFor } from '../../sandbox/wait.js';

const run = promisify(execFile);

/** A throwaway server started for a test run; `stop` removes its data too. */
export interface TestService {
  url: string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

/**
 * redis-server on a free loopback port (or `port`: to start one again where a
 * stopped one was), in memory only.
 */
export async function startRedis(options: { port?: number } = {}): Promise<TestService> {
  const dir = await mkdtemp(join(tmpdir(), 'test-redis-'));
  const port = options.port ?? (await freePort());
  const redis = new Component(
    'redis-server',
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    join(dir, 'redis.log'),
  );
  await waitFor('redis-server to accept connections', 15_000, [redis], () => portOpen(port));
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The newest PostgreSQL server binaries installed from Debian packages. */
function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length)
    throw new Error('PostgreSQL server is not installed (Debian package postgresql)');
  return join(root, versions[0], 'bin');
}

/**
 * A private PostgreSQL cluster on a free loopback port (trust auth, no
 * fsync). PostgreSQL refuses to run as root, so as root it runs as the
 * postgres user, switched by setpriv without a forking wrapper (the parent-death
 * signal must reach the server itself).
 */
export async function startPostgres(): Promise<TestService> {
  const bin = postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'test-postgres-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  let uid = 0;
  let gid = 0;
  if (asRoot) {
    const ids = await run('id', ['-u', 'postgres']).catch(() => undefined);
    if (!ids)
      throw new Error('running as root needs the postgres system user (Debian package postgresql)');
    uid = Number(ids.stdout.trim());
    gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await mkdir(data);
    await chown(dir, uid, gid);
    await chown(data, uid, gid);
  }
  const asPostgres = (binary: string) =>
    asRoot
      ? ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--', binary]
      : [binary];
  const setpriv = '/usr/bin/setpriv';
  await run(setpriv, [
    ...asPostgres(join(bin, 'initdb')),
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  const port = await freePort();
  // Component adds --pdeathsig; the privilege switch goes in as arguments to setpriv's target.
  const server = new Component(
    'postgres',
    asRoot ? setpriv : join(bin, 'postgres'),
    [
      ...(asRoot ? asPostgres(join(bin, 'postgres')) : []),
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    join(dir, 'postgres.log'),
  );
  await waitFor('postgres to accept connections', 30_000, [server], async () => {
    const open = await portOpen(port);
    if (open !== true) return open;
    const ready = await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]).catch(
      (e: Error) => e,
    );
    return ready instanceof Error ? ready.message : true;
  });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop(10_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
