import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { type Sandbox, startSandbox } from '../../sandbox/launcher.js';
import { realNode } from '../support/real-cluster.js';

const run = promisify(execFile);

/**
 * A second real cluster beside the suite's: each has its own network,
 * nodes and control plane, neither reaches the other, and stopping one
 * leaves nothing of it on the host.
 */
jest.setTimeout(300_000);

describe('two real sandboxes side by side', () => {
  let second: Sandbox;
  beforeAll(async () => {
    second = await startSandbox({
      nodes: 'real',
      workers: 0,
      log: (line) => process.stderr.write(`[second real sandbox] ${line}\n`),
    });
  });
  afterAll(() => second?.stop());

  async function kubectl2(args: string[]): Promise<string> {
    const { stdout } = await run(second.binaries.kubectl, [
      '--kubeconfig',
      second.kubeconfigPath,
      ...args,
    ]);
    return stdout;
  }

  it('have their own API servers, nodes and networks', async () => {
    expect(second.server).not.toBe(`https://${realNode('controlplane').address}:6443`);
    expect(await kubectl2(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).toBe(
      'controlplane',
    );
    const [node] = second.real!.nodes;
    const reach = (address: string) =>
      node.exec(['timeout', '3', 'bash', '-c', `echo > /dev/tcp/${address}/6443`]).then(
        () => 'reached',
        () => 'unreachable',
      );
    expect(await reach(node.address)).toBe('reached');
    expect(await reach(realNode('controlplane').address)).toBe('unreachable');
    expect(await reach(realNode('node01').address)).toBe('unreachable');
  });

  it('leaves nothing behind when one stops: processes, cgroups, namespaces, interfaces', async () => {
    const { switchNamespace, hostInterface } = second.real!.network;
    const cgroup = `/sys/fs/cgroup/pids${second.real!.nodes[0].host.spec.cgroupRoot}`;
    expect(existsSync(cgroup)).toBe(true);
    await second.stop();
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(switchNamespace);
    expect((await run('ip', ['-o', 'link', 'show'])).stdout).not.toContain(hostInterface);
    expect(existsSync(cgroup)).toBe(false);
    expect(existsSync(second.runDir)).toBe(false);
    // The suite's own cluster is untouched.
    const { stdout } = await run(process.env.REAL_KUBECTL!, [
      '--kubeconfig',
      process.env.REAL_KUBECONFIG!,
      'get',
      'nodes',
      '-o',
      'name',
    ]);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(3);
  });
});
