import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from './commands.js';

/**
 * The folders that are the node's own. Inside a node's mount namespace each
 * is a bind mount of the same path under the node's root, so kubeadm, the
 * kubelet, containerd and the static pods' hostPath volumes use the paths
 * they use on a real machine (`/etc/kubernetes/manifests`, `/var/lib/etcd`,
 * `/run/containerd/containerd.sock`…), and whatever is written under them
 * (an etcd snapshot in /root, a restored data dir in /var/lib) stays on the
 * node, while the host's own paths stay untouched. The rest of the file
 * system (/usr, /lib, /etc outside these) is the host's, read by the node's
 * programs (iptables, mount, the shell).
 */
export const NODE_DIRS = [
  'etc/kubernetes',
  'etc/containerd',
  'etc/cni/net.d',
  'opt',
  'usr/local/bin',
  'var/lib',
  'var/log',
  'run',
  'root',
  // Last: the node roots themselves live under the host's /tmp, and a bind
  // over /tmp hides them from any later mount's source.
  'tmp',
] as const;

/** Every cgroup v1 controller a kubelet accounts in; each node gets its own subtree. */
export const CGROUP_CONTROLLERS = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'blkio',
  'pids',
  'systemd',
] as const;
const CGROUP_FS = '/sys/fs/cgroup';

export interface NodeHostSpec {
  /** The node's name, also its hostname. */
  name: string;
  /** The node's folder on the host: the sources of its bind mounts. */
  root: string;
  /** The cgroup path (under every controller) its kubelet uses as cgroupRoot. */
  cgroupRoot: string;
  /**
   * Single host files the node has its own version of (/etc/hosts naming the
   * cluster's nodes, /etc/resolv.conf), by path; the content is written under
   * the node's root and bound over the host's file inside the node.
   */
  files?: Record<string, string>;
}

/**
 * A machine of the cluster without a VM: a process holding a mount, UTS and
 * network namespace of its own (the "node"), into which the node's daemons
 * are started with nsenter. Daemons run in `<cgroupRoot>/system`, pods under
 * `<cgroupRoot>/kubepods`, so the whole node is found and killed by its
 * cgroups even when the launcher was killed outright.
 */
export class NodeHost {
  private readonly exited: Promise<string>;

  private constructor(
    readonly spec: NodeHostSpec,
    private readonly holder: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      holder.once('exit', (code, signal) =>
        resolve(signal ? `killed by ${signal}` : `exit code ${code}`),
      ),
    );
  }

  /** Resolves when the node's namespace holder ends: the node is gone. */
  whenExited(): Promise<string> {
    return this.exited;
  }

  get pid(): number {
    return this.holder.pid!;
  }

  static async start(spec: NodeHostSpec): Promise<NodeHost> {
    for (const dir of NODE_DIRS) {
      await mkdir(join(spec.root, dir), { recursive: true });
      await mkdir(`/${dir}`, { recursive: true });
    }
    await createCgroups(spec.cgroupRoot);
    // No --fork: the holder is the namespaces' first process, and its pid is ours to enter.
    const holder = spawn(
      '/usr/bin/setpriv',
      [
        '--pdeathsig',
        'KILL',
        '--',
        'unshare',
        '--mount',
        '--uts',
        '--net',
        '--propagation',
        'private',
        '--',
        'sleep',
        'infinity',
      ],
      { stdio: 'ignore', detached: true },
    );
    const host = new NodeHost(spec, holder);
    // unshare has set up the namespaces once it has exec'd sleep.
    for (let i = 0; i < 100; i++) {
      const comm = await readFile(`/proc/${holder.pid}/comm`, 'utf8').catch(() => '');
      if (comm.trim() === 'sleep') break;
      if (holder.exitCode !== null)
        throw new Error(`the namespaces of node ${spec.name} could not be made`);
      await sleep(20);
    }
    await host.enterCgroup(holder.pid!, 'system');
    await host.exec(['hostname', spec.name]);
    // Files first: their sources are under the node root, which a bind over /tmp hides.
    for (const [path, content] of Object.entries(spec.files ?? {})) {
      const source = join(spec.root, 'files', path);
      await mkdir(join(source, '..'), { recursive: true });
      await writeFile(source, content);
      await host.exec(['mount', '--bind', source, path]);
    }
    for (const dir of NODE_DIRS)
      await host.exec(['mount', '--bind', join(spec.root, dir), `/${dir}`]);
    return host;
  }

  /** The nsenter prefix that runs a command inside this node. */
  enter(): string[] {
    return ['nsenter', '-t', String(this.pid), '-m', '-u', '-n', '--'];
  }

  /** Runs a command inside the node to completion. */
  exec(command: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    return runCommand([...this.enter(), ...command], options);
  }

  /** Moves a process into one of this node's cgroups (`system` for daemons). */
  async enterCgroup(pid: number, group: string): Promise<void> {
    for (const controller of CGROUP_CONTROLLERS) {
      const dir = join(CGROUP_FS, controller, this.spec.cgroupRoot, group);
      if (!existsSync(join(CGROUP_FS, controller))) continue;
      await mkdir(dir, { recursive: true });
      if (controller === 'cpuset') await inheritCpuset(dir);
      await writeFile(join(dir, 'cgroup.procs'), String(pid));
    }
  }

  /** Kills everything of the node (daemons, shims, containers) and removes its cgroups and mounts. */
  async destroy(): Promise<void> {
    await killCgroupTree(this.spec.cgroupRoot);
    this.holder.kill('SIGKILL');
    await removeCgroupTree(this.spec.cgroupRoot);
  }
}

async function createCgroups(root: string): Promise<void> {
  for (const controller of CGROUP_CONTROLLERS) {
    if (!existsSync(join(CGROUP_FS, controller))) continue;
    // Each level of a cpuset must hold cpus and mems before a process (or child) may join.
    let dir = join(CGROUP_FS, controller);
    for (const part of root.split('/').filter(Boolean)) {
      dir = join(dir, part);
      await mkdir(dir, { recursive: true });
      if (controller === 'cpuset') await inheritCpuset(dir);
    }
  }
}

async function inheritCpuset(dir: string): Promise<void> {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const mine = (await readFile(join(dir, file), 'utf8')).trim();
    // A pseudo-file: read and written whole (copy_file_range would write nothing).
    if (!mine) await writeFile(join(dir, file), await readFile(join(dir, '..', file), 'utf8'));
  }
}

/** Every pid in a cgroup subtree (one controller is enough: every process is in each). */
async function pidsUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  pids.push(...procs.split('\n').filter(Boolean).map(Number));
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries)
    if (entry.isDirectory()) pids.push(...(await pidsUnder(join(dir, entry.name))));
  return pids;
}

/**
 * Freezes the subtree (nothing forks while it is swept), SIGKILLs every
 * process in it, thaws it, and waits until it is empty.
 */
export async function killCgroupTree(root: string, timeoutMs = 10_000): Promise<void> {
  const freezer = join(CGROUP_FS, 'freezer', root);
  const pidsDir = join(CGROUP_FS, 'pids', root);
  if (!existsSync(pidsDir)) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await pidsUnder(pidsDir);
    if (!pids.length) return;
    await writeFile(join(freezer, 'freezer.state'), 'FROZEN').catch(() => undefined);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await writeFile(join(freezer, 'freezer.state'), 'THAWED').catch(() => undefined);
    if (Date.now() > deadline)
      throw new Error(`processes ${pids.join(', ')} of ${root} survive SIGKILL`);
    await sleep(100);
  }
}

/**
 * Removes a (now empty) cgroup subtree in every controller, deepest first;
 * with `recursive` false only the group itself, if it has no children.
 */
export async function removeCgroupTree(root: string, recursive = true): Promise<void> {
  if (root === '/') return;
  const remove = async (dir: string): Promise<void> => {
    if (recursive) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) if (entry.isDirectory()) await remove(join(dir, entry.name));
    }
    await rmdir(dir).catch(() => undefined);
  };
  for (const controller of CGROUP_CONTROLLERS) await remove(join(CGROUP_FS, controller, root));
}
