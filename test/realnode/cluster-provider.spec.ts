import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ensureSandboxBinaries } from '../../sandbox/build.js';
import type { ProvidedCluster } from '../../src/environments/cluster-provider.js';
import {
  ClusterStartError,
  SandboxClusterProvider,
} from '../../src/environments/sandbox-cluster.provider.js';

const run = promisify(execFile);

/**
 * The sandbox cluster provider: a dedicated cluster is a detached daemon of
 * its own, found again by a new provider (as after an engine restart),
 * reached through its control socket, and destroyed without a trace.
 */
jest.setTimeout(300_000);

const GIB = 1024 ** 3;

describe('the sandbox cluster provider', () => {
  let clustersDir: string;
  const made: ProvidedCluster[] = [];
  const provider = (dir: string) =>
    new SandboxClusterProvider({
      repoDir: resolve('.'),
      clustersDir: dir,
      clusterBytes: 1.2 * GIB,
      reserveBytes: 2 * GIB,
      startTimeoutMs: 240_000,
      cpuShares: 300,
    });

  afterAll(async () => {
    for (const cluster of made) await provider(clustersDir).destroy(cluster);
    if (clustersDir) await rm(clustersDir, { recursive: true, force: true });
  });

  it('starts a cluster that outlives its provider, runs commands on its nodes, and destroys it', async () => {
    clustersDir = await mkdtemp(join(tmpdir(), 'cka-clusters-'));
    const first = provider(clustersDir);
    const status = await first.status();
    expect(status).toMatchObject({ available: true });
    expect(status.room).toBeGreaterThanOrEqual(1);

    const cluster = await first.create({ nodes: ['controlplane', 'node01'] }, 'provider-test');
    made.push(cluster);
    expect(cluster.nodes).toEqual(['controlplane', 'node01']);
    const kubeconfig = join(clustersDir, 'kubeconfig-copy');
    await writeFile(kubeconfig, cluster.kubeconfig);
    const { kubectl } = await ensureSandboxBinaries({});
    const nodes = await run(kubectl, [
      '--kubeconfig',
      kubeconfig,
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
    ]);
    expect(nodes.stdout.trim()).toBe('controlplane=True node01=True');

    // A new provider, as after an engine restart, finds it and reaches its nodes.
    const again = provider(clustersDir);
    expect(await again.list()).toEqual(['provider-test']);
    const found = await again.find(cluster);
    expect(found?.kubeconfig).toBe(cluster.kubeconfig);
    expect(await again.exec(cluster, 'node01', ['hostname'], { timeoutMs: 10_000 })).toEqual({
      code: 0,
      stdout: 'node01\n',
      stderr: '',
    });
    expect(
      await again.exec(cluster, 'controlplane', ['systemctl', 'is-active', 'kubelet'], {
        timeoutMs: 10_000,
      }),
    ).toMatchObject({ code: 0, stdout: 'active\n' });
    // The node's own files, and a failing command's exit code and output.
    expect(
      (
        await again.exec(cluster, 'controlplane', ['ls', '/etc/kubernetes/manifests'], {
          timeoutMs: 10_000,
        })
      ).stdout.split('\n'),
    ).toEqual(expect.arrayContaining(['etcd.yaml', 'kube-apiserver.yaml', 'kube-scheduler.yaml']));
    expect(
      await again.exec(cluster, 'node01', ['sh', '-c', 'echo oops >&2; exit 3'], {
        timeoutMs: 10_000,
      }),
    ).toEqual({ code: 3, stdout: '', stderr: 'oops\n' });
    expect(
      await again.exec(cluster, 'node01', ['cat'], { timeoutMs: 10_000, stdin: 'piped' }),
    ).toMatchObject({ code: 0, stdout: 'piped' });
    await expect(again.exec(cluster, 'node09', ['true'], { timeoutMs: 10_000 })).rejects.toThrow(
      /no node node09 in this cluster/,
    );

    // The whole cluster (every node's daemons and pods) has the CPU weight asked for.
    const handle = cluster.handle as { pid: number; dir: string };
    const groups = new Set(
      (await descendants(handle.pid))
        .map((pid) => cpuCgroup(pid))
        .filter((g) => g.startsWith('/cka/')),
    );
    const bases = new Set([...groups].map((g) => g.split('/').slice(0, 3).join('/')));
    expect(bases.size).toBe(1);
    const [base] = bases;
    expect((await readFile(`/sys/fs/cgroup/cpu${base}/cpu.shares`, 'utf8')).trim()).toBe('300');

    await again.destroy(cluster);
    made.pop();
    expect(() => process.kill(handle.pid, 0)).toThrow();
    expect(existsSync(handle.dir)).toBe(false);
    expect(await again.find(cluster)).toBeUndefined();
    expect(await again.list()).toEqual([]);
  });

  it('says why a cluster could not start', async () => {
    clustersDir ??= await mkdtemp(join(tmpdir(), 'cka-clusters-'));
    await expect(
      provider(clustersDir).create({ nodes: ['Not_A_Node'] }, 'provider-bad'),
    ).rejects.toThrow(ClusterStartError);
    await expect(
      provider(clustersDir).create({ nodes: ['Not_A_Node'] }, 'provider-bad'),
    ).rejects.toThrow(/--nodes must be node names/);
  });
});

/** Every process under `pid` (children of each of its threads, recursively). */
async function descendants(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const children = (
    await Promise.all(
      tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')),
    )
  )
    .join(' ')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return [...children, ...(await Promise.all(children.map(descendants))).flat()];
}

/** The process's cgroup in the cpu controller (cgroup v1), or '' if gone. */
function cpuCgroup(pid: number): string {
  try {
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const line = lines.find((l) => l.split(':')[1]?.split(',').includes('cpu'));
    return line?.split(':')[2] ?? '';
  } catch {
    return '';
  }
}
