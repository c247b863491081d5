import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeHost } from './node-host.js';
import { NodeSupervisor } from './supervisor.js';

/** A node that is the test's own machine: no namespaces to enter, no cgroups of its own. */
function localHost(root: string): NodeHost {
  return {
    spec: {
      name: 'node01',
      root,
      cgroupRoot: '/cka-test-does-not-exist',
      logs: join(root, 'var/log/cka'),
    },
    enter: () => [],
  } as unknown as NodeHost;
}

async function ask(socket: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = connect(socket);
    let answer = '';
    client.on('data', (chunk) => (answer += chunk.toString()));
    client.on('end', () => resolve(answer));
    client.on('error', reject);
    // As socat does: the request, then our side closed while the answer is awaited.
    client.end(`${line}\n`);
  });
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('NodeSupervisor', () => {
  let root: string;
  let supervisor: NodeSupervisor;
  afterEach(async () => {
    await supervisor?.close();
    await rm(root, { recursive: true, force: true });
  });

  async function make(command: string[], restartSeconds = 0.2): Promise<NodeSupervisor> {
    root = await mkdtemp(join(tmpdir(), 'supervisor-'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(root, 'var/log/cka'), { recursive: true });
    supervisor = new NodeSupervisor(localHost(root));
    supervisor.define({ name: 'kubelet', command, restartSeconds });
    return supervisor;
  }

  it('starts, stops and restarts a service, with its output in the node log', async () => {
    const s = await make(['sh', '-c', 'echo started $$; exec sleep 60']);
    expect(s.status('kubelet').state).toBe('inactive');
    s.start('kubelet');
    await until(() => s.lastLines('kubelet').includes('started'));
    const first = s.status('kubelet');
    expect(first).toMatchObject({ state: 'active', restarts: 0 });
    await s.restart('kubelet');
    await until(() => s.lastLines('kubelet').split('started').length === 2);
    const second = s.status('kubelet');
    expect(second.state).toBe('active');
    expect(second.pid).not.toBe(first.pid);
    await s.stop('kubelet');
    expect(s.status('kubelet')).toMatchObject({ state: 'inactive', pid: undefined });
    // The log is appended across starts, as a journal keeps a unit's lines.
    const log = await readFile(s.logPath('kubelet'), 'utf8');
    expect(log.match(/started/g)).toHaveLength(2);
  });

  it('restarts a service that exits, as Restart=always does, until it is stopped', async () => {
    const s = await make(['sh', '-c', 'echo try; exit 3']);
    s.start('kubelet');
    await until(() => s.status('kubelet').restarts >= 2);
    expect(s.status('kubelet').lastExit).toBe('exit code 3');
    await s.stop('kubelet');
    const restarts = s.status('kubelet').restarts;
    await sleep(500);
    expect(s.status('kubelet')).toMatchObject({ state: 'inactive', restarts });
  });

  it('answers systemctl over its socket with systemctl exit codes', async () => {
    const s = await make(['sleep', '60']);
    const socket = join(root, 'supervisor.sock');
    await s.serve(socket);
    expect(await ask(socket, 'is-active kubelet')).toBe('inactive\nexit 3\n');
    expect(await ask(socket, 'start kubelet.service')).toBe('exit 0\n');
    await until(() => s.status('kubelet').state === 'active');
    expect(await ask(socket, 'is-active kubelet')).toBe('active\nexit 0\n');
    const status = await ask(socket, 'status kubelet');
    expect(status).toMatch(/^● kubelet.service\n/);
    expect(status).toMatch(/Active: active \(running\) since /);
    expect(status.endsWith('exit 0\n')).toBe(true);
    expect(await ask(socket, 'stop kubelet')).toBe('exit 0\n');
    expect(await ask(socket, 'status kubelet')).toMatch(/Active: inactive \(dead\)[^]*exit 3\n$/);
    expect(await ask(socket, 'restart nginx')).toBe(
      'Unit nginx.service could not be found.\nexit 5\n',
    );
    expect(await ask(socket, 'mask kubelet')).toMatch(/is not supported here[^]*exit 1\n$/);
  });
});
