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
  /**
   * The folder on the host for the logs of the node's daemons (the
   * supervisor's, which journalctl reads): the machine root's, outside the
   * node's root, and bound read-only at /var/log/cka in the node. The
   * launcher writes these files as the machine's root, so they must never be
   * reached through a folder the node owns (a symlink planted there would
   * send its writes anywhere on the machine).
   */
  logs: string;
  /**
   * Run the node in a user namespace of its own: its root is `first` on
   * the machine, its ids 0..count-1 are first..first+count-1. Root on such a
   * node (a privileged pod, a hostPath volume, a static pod, the node shell)
   * has its powers over the node's namespaces only, and owns no file of the
   * machine's. Unset: the node's root is the machine's (trusted candidates).
   */
  ids?: IdRange;
}

/** A range of uids and gids of the machine, mapped from 0 inside a node's user namespace. */
export interface IdRange {
  first: number;
  count: number;
}

/**
 * A machine of the cluster without a VM: a process holding a mount, UTS and
 * network namespace of its own (the "node"; with `ids`, user, PID and IPC
 * namespaces too), into which the node's daemons are started with nsenter.
 * Daemons run in `<cgroupRoot>/system`, pods under `<cgroupRoot>/kubepods`,
 * so the whole node is found and killed by its cgroups even when the
 * launcher was killed outright.
 */
export class NodeHost {
  private readonly exited: Promise<string>;

  private constructor(
    readonly spec: NodeHostSpec,
    private readonly holder: ChildProcess,
    /** The process whose namespaces are the node's (the holder, or its child as PID 1 of the node). */
    private readonly inside: number,
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

  /** The pid to enter the node's namespaces by. */
  get pid(): number {
    return this.inside;
  }

  static async start(spec: NodeHostSpec): Promise<NodeHost> {
    for (const dir of NODE_DIRS) {
      await mkdir(join(spec.root, dir), { recursive: true });
      await mkdir(`/${dir}`, { recursive: true });
    }
    await mkdir(spec.logs, { recursive: true });
    await mkdir(join(spec.root, 'var/log/cka'), { recursive: true });
    await createCgroups(spec.cgroupRoot, spec.ids);
    if (!spec.ids) {
      // No --fork: the holder is the namespaces' first process, and its pid is ours to enter.
      const holder = spawnHolder(['unshare', '--mount', ...NODE_NAMESPACES]);
      try {
        const host = new NodeHost(spec, holder, await sleeping(spec, holder, [holder.pid!]));
        await host.enterCgroup(holder.pid!, 'system');
        await host.exec(['hostname', spec.name]);
        await layOut(spec, (command) => host.exec(command));
        return host;
      } catch (error) {
        holder.kill('SIGKILL');
        throw error;
      }
    }
    // In a user namespace, the file system is laid out first, by the
    // machine's root in a mount namespace of its own, and the node's
    // namespaces are made inside that one: its mounts then reach the node
    // locked together, so the node's root (who may mount and unmount in its
    // own namespace) cannot unmount the node's folders or the hidden parts
    // of the machine to see what is under them.
    const layout = spawnHolder([
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sleep',
      'infinity',
    ]);
    let holder: ChildProcess | undefined;
    try {
      const layoutPid = await sleeping(spec, layout, [layout.pid!]);
      await layOut(spec, (command) =>
        runCommand(['nsenter', '-t', String(layoutPid), '-m', '--', ...command]),
      );
      // The node also gets a PID namespace: a hostPID pod's /proc must be of a
      // PID namespace its user namespace owns (and it should see the node's
      // processes, not the machine's), and an IPC one. Its first process, the
      // one to enter, is unshare's child.
      //
      // The namespaces are made by the range's first id, not by the machine's
      // root: a process keeps the ids it had when it entered a user
      // namespace, and one of the machine's root inside the node (its PID 1,
      // say) could be traced by the node's root, who has every capability
      // there, and made to write the machine's root-owned files as their
      // owner. Changing ids clears the parent-death signal: set it after.
      const id = String(spec.ids.first);
      // prettier-ignore
      holder = spawnHolder([
        'nsenter', '-t', String(layoutPid), '-m', '--',
        '/usr/bin/setpriv', '--reuid', id, '--regid', id, '--clear-groups', '--',
        '/usr/bin/setpriv', '--pdeathsig', 'KILL', '--',
        'unshare', '--user', '--pid', '--ipc', '--fork', '--kill-child', '--mount-proc',
        ...NODE_NAMESPACES,
      ]);
      const unshare = holder;
      const inside = await sleeping(spec, holder, async () =>
        (
          await readFile(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').catch(
            () => '',
          )
        )
          .split(/\s+/)
          .filter(Boolean)
          .map(Number),
      );
      await mapIds(inside, spec.ids);
      const host = new NodeHost(spec, holder, inside);
      await host.enterCgroup(holder.pid!, 'system');
      await host.enterCgroup(inside, 'system');
      await host.exec(['hostname', spec.name]);
      return host;
    } catch (error) {
      holder?.kill('SIGKILL');
      throw error;
    } finally {
      // Its mount namespace lives on in the node's (copied); the holder is not needed.
      layout.kill('SIGKILL');
    }
  }

  /** The nsenter prefix that runs a command inside this node. */
  enter(): string[] {
    if (!this.spec.ids) return ['nsenter', '-t', String(this.pid), '-m', '-u', '-n', '--'];
    // Two steps. The first enters the user namespace and the others but the
    // PID one, and becomes the node's root (uid 0 inside, the range's first
    // id outside) before anything runs in the node. The second, now that
    // root, enters the node's PID namespace (its PID 1, in the node's /proc)
    // and forks into it: no process of the machine's root is ever inside.
    // A signal to nsenter does not reach its child: the child dies with it
    // instead, so that stopping a daemon (systemctl stop) or a command's
    // timeout ends what runs inside.
    // prettier-ignore
    return [
      'nsenter', '-t', String(this.pid), '-U', '-m', '-u', '-n', '-i', '--',
      'nsenter', '-t', '1', '-p', '--',
      '/usr/bin/setpriv', '--pdeathsig', 'KILL', '--',
    ];
  }

  /**
   * Gives paths under the node's root to the node's root user (a no-op
   * without a user namespace). Files the launcher writes into the node are
   * the machine root's, which the node cannot write (or, were they private,
   * read). Hard links into the machine's caches (binaries, image layers)
   * are skipped: they are every cluster's, and must stay the machine's.
   */
  async own(...paths: string[]): Promise<void> {
    if (!this.spec.ids || !paths.length) return;
    const id = String(this.spec.ids.first);
    await runCommand(
      [
        'find',
        ...paths,
        '(',
        '-type',
        'd',
        '-o',
        '-links',
        '1',
        ')',
        '-exec',
        'chown',
        '-h',
        `${id}:${id}`,
        '{}',
        '+',
      ],
      { timeoutMs: 60_000 },
    );
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

/** What every node has of its own besides its mounts: a hostname, a network, and private mount propagation. */
const NODE_NAMESPACES = ['--uts', '--net', '--propagation', 'private', '--', 'sleep', 'infinity'];

function spawnHolder(command: string[]): ChildProcess {
  return spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', ...command], {
    stdio: 'ignore',
    detached: true,
  });
}

/** The pid (one of `candidates`) that runs sleep: the namespaces are set up once it does. */
async function sleeping(
  spec: NodeHostSpec,
  holder: ChildProcess,
  candidates: number[] | (() => Promise<number[]>),
): Promise<number> {
  for (let i = 0; i < 100; i++) {
    for (const pid of Array.isArray(candidates) ? candidates : await candidates()) {
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
      if (comm.trim() === 'sleep') return pid;
    }
    if (holder.exitCode !== null) break;
    await sleep(20);
  }
  holder.kill('SIGKILL');
  throw new Error(`the namespaces of node ${spec.name} could not be made`);
}

/** Top-level folders of the machine a node in a user namespace sees: the system's, and its own. */
const SYSTEM_DIRS = [
  'bin',
  'sbin',
  'lib',
  'lib32',
  'lib64',
  'libx32',
  'usr',
  'etc',
  'dev',
  'proc',
  'sys',
];

/**
 * The node's file system, made with `run` (a command in the node's mount
 * namespace): its own files and folders bound over the machine's (see
 * NODE_DIRS), and its daemons' logs read-only. In a user namespace, the rest
 * of the machine is hidden too: every top-level folder but the system's and
 * the node's, and /var's but the node's, get an empty read-only tmpfs
 * (/var/tmp a small writable one), top-level files an empty one, so the
 * engine's files (its checkout, database, caches) are not there to read,
 * whatever their mode; /proc and /dev/shm get instances of their own.
 */
async function layOut(
  spec: NodeHostSpec,
  run: (command: string[]) => Promise<unknown>,
): Promise<void> {
  // Files first: their sources are under the node root, which a bind over /tmp hides.
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    const source = join(spec.root, 'files', path);
    await mkdir(join(source, '..'), { recursive: true });
    await writeFile(source, content);
    await run(['mount', '--bind', source, path]);
  }
  for (const dir of NODE_DIRS) {
    await run(['mount', '--bind', join(spec.root, dir), `/${dir}`]);
    // Before /tmp's bind, which hides the source (see NODE_DIRS).
    if (dir === 'var/log') {
      await run(['mount', '--bind', spec.logs, '/var/log/cka']);
      await run(['mount', '-o', 'remount,bind,ro', '/var/log/cka']);
    }
  }
  if (spec.ids) {
    const tmpfs = (path: string, options: string) =>
      run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', path]);
    const empty = 'ro,mode=755,size=4k';
    const scratch = 'mode=1777,size=64m,nosuid,nodev';
    const own = new Set([...SYSTEM_DIRS, ...NODE_DIRS.map((dir) => dir.split('/')[0])]);
    const hide = async (parent: string, keep: Set<string>) => {
      for (const entry of await readdir(parent, { withFileTypes: true })) {
        const path = join(parent, entry.name);
        if (keep.has(entry.name)) continue;
        if (path === '/var/tmp') await tmpfs(path, scratch);
        else if (entry.isDirectory()) await tmpfs(path, empty);
        else if (entry.isFile()) await run(['mount', '--bind', '/dev/null', path]);
      }
    };
    await hide('/', own);
    // The node mounts its own /proc (its PID namespace's) and may unmount
    // it: what is under it shows only the processes it may trace anyway.
    await run([
      'mount',
      '-t',
      'proc',
      '-o',
      'hidepid=invisible,nosuid,nodev,noexec',
      'proc',
      '/proc',
    ]);
    // The machine's /dev/shm and message queues are everyone's: files left
    // there would outlive the cluster and pass between clusters.
    if (existsSync('/dev/shm')) await tmpfs('/dev/shm', scratch);
    if (existsSync('/dev/mqueue')) await tmpfs('/dev/mqueue', empty);
    await hide(
      '/var',
      new Set(NODE_DIRS.filter((dir) => dir.startsWith('var/')).map((dir) => dir.slice(4))),
    );
  }
}

/**
 * Writes a user namespace's id maps from outside (the machine's root may map
 * any range; unshare's --map-users would need newuidmap). setgroups stays
 * allowed: the mapper is privileged, and the node's root may drop groups.
 */
async function mapIds(pid: number, ids: IdRange): Promise<void> {
  const line = `0 ${ids.first} ${ids.count}\n`;
  await writeFile(`/proc/${pid}/uid_map`, line);
  await writeFile(`/proc/${pid}/gid_map`, line);
}

async function createCgroups(root: string, ids?: IdRange): Promise<void> {
  for (const controller of CGROUP_CONTROLLERS) {
    if (!existsSync(join(CGROUP_FS, controller))) continue;
    // Each level of a cpuset must hold cpus and mems before a process (or child) may join.
    let dir = join(CGROUP_FS, controller);
    for (const part of root.split('/').filter(Boolean)) {
      dir = join(dir, part);
      await mkdir(dir, { recursive: true });
      if (controller === 'cpuset') await inheritCpuset(dir);
    }
    // A node in a user namespace makes its pods' groups under its own (the
    // kubelet's cgroup root) and moves processes into them: the group and
    // its files are its root's. Its limits, set in the parent, stay the machine's.
    if (ids) await runCommand(['chown', '-R', `${ids.first}:${ids.first}`, dir]);
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
