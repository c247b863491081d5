import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ClusterProvider,
  ClusterProviderStatus,
  ClusterShape,
  ExecOptions,
  ExecResult,
  NodeShellEndpoint,
  ProvidedCluster,
} from './cluster-provider.js';

/** What sandbox/cluster-daemon.ts writes to status.json (its contract with this adapter). */
interface DaemonStatus {
  state: 'starting' | 'ready' | 'failed' | 'stopped';
  pid: number;
  nodes: string[];
  server?: string;
  startSeconds?: number;
  /** Absent in the status of a daemon older than the setting: its nodes ran as root. */
  userNamespaces?: boolean;
  error?: string;
}

export interface SandboxProviderOptions {
  /** The repository checkout whose sandbox/ starts the clusters (it needs its dev dependencies). */
  repoDir: string;
  /** One state folder per cluster under it. */
  clustersDir: string;
  /** What one idle cluster costs, to tell how many more fit (bytes). */
  clusterBytes: number;
  /** Memory kept free for the engine and everything else (bytes). */
  reserveBytes: number;
  /** The longest a cluster may take to start. */
  startTimeoutMs: number;
  /** Each cluster's CPU weight (cgroup cpu.shares); unset: a process's. */
  cpuShares?: number;
  /** Each node in a user namespace of its own (RealSandboxOptions.userNamespaces). */
  userNamespaces?: boolean;
}

export class ClusterStartError extends Error {
  constructor(id: string, reason: string) {
    super(`cluster ${id} did not start: ${reason}`);
    this.name = 'ClusterStartError';
  }
}

/**
 * Real-node sandbox clusters on this machine, each run by its own detached
 * `sandbox/cluster-daemon.ts` so that it outlives an engine restart; the
 * engine finds it again through its state folder (status.json, admin.conf,
 * control.sock) and talks to its nodes through the control socket.
 */
export class SandboxClusterProvider implements ClusterProvider {
  readonly name = 'sandbox';

  constructor(private readonly options: SandboxProviderOptions) {}

  private dirOf(id: string): string {
    if (!/^[a-z0-9-]{1,64}$/.test(id)) throw new Error(`bad cluster id "${id}"`);
    return join(this.options.clustersDir, id);
  }

  /**
   * The clusters folder, made if missing and refused unless it is a real
   * folder of this user that nobody else may write: its contents decide
   * which process the engine signals, which socket it trusts with node
   * commands and which credentials it uses.
   */
  private async secureClustersDir(): Promise<void> {
    const dir = this.options.clustersDir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await lstat(dir);
    const uid = process.getuid?.() ?? info.uid;
    if (!info.isDirectory() || info.uid !== uid || (info.mode & 0o022) !== 0)
      throw new Error(
        `refusing the clusters folder ${dir}: it must be a folder of uid ${uid} that no one else may write (it is ${info.isSymbolicLink() ? 'a symbolic link' : `uid ${info.uid}, mode ${(info.mode & 0o777).toString(8)}`})`,
      );
  }

  /**
   * How a daemon is run: this engine's Node with tsx as a loader, one
   * process. tsx's own command line is a second Node process (about 27 MiB
   * of PSS) kept alive only to relay signals, for every cluster.
   */
  private daemonCommand(args: string[]): [string, string[]] {
    return [
      process.execPath,
      ['--import', 'tsx', join(this.options.repoDir, 'sandbox', 'cluster-daemon.ts'), ...args],
    ];
  }

  /** The machine's fitness for real nodes does not change while the engine runs: asked once. */
  private preflight?: Promise<{ ok: boolean; line: string }>;

  async status(): Promise<ClusterProviderStatus> {
    this.preflight ??= new Promise((done) =>
      execFile(
        ...this.daemonCommand(['--check']),
        { cwd: this.options.repoDir, timeout: 60_000 },
        (error, stdout) =>
          done({ ok: !error, line: stdout.trim() || (error?.message ?? 'no answer') }),
      ),
    );
    const check = await this.preflight;
    if (!check.ok) return { available: false, reason: check.line, room: 0 };
    const available = await availableBytes();
    return {
      available: true,
      room: Math.max(
        0,
        Math.floor((available - this.options.reserveBytes) / this.options.clusterBytes),
      ),
    };
  }

  async create(shape: ClusterShape, id: string): Promise<ProvidedCluster> {
    await this.secureClustersDir();
    const dir = this.dirOf(id);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const out = openSync(join(dir, 'daemon.out'), 'a', 0o600);
    let exited: string | undefined;
    try {
      const child = spawn(
        ...this.daemonCommand([
          '--dir',
          dir,
          '--nodes',
          shape.nodes.join(','),
          ...(this.options.cpuShares ? ['--cpu-shares', String(this.options.cpuShares)] : []),
          ...(this.options.userNamespaces ? ['--user-namespaces'] : []),
        ]),
        { cwd: this.options.repoDir, detached: true, stdio: ['ignore', out, out] },
      );
      child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
      child.unref();
    } finally {
      closeSync(out);
    }
    const deadline = Date.now() + this.options.startTimeoutMs;
    for (;;) {
      const status = await readStatus(dir);
      if (status?.state === 'ready') return this.describe(id, dir, status);
      if (status?.state === 'failed' || status?.state === 'stopped')
        throw new ClusterStartError(id, status.error ?? status.state);
      if (exited)
        throw new ClusterStartError(id, `its daemon ended (${exited}): ${await tail(dir)}`);
      if (Date.now() > deadline) {
        await this.destroy({
          id,
          kubeconfig: '',
          candidateKubeconfig: '',
          nodes: shape.nodes,
          handle: { dir },
        });
        throw new ClusterStartError(
          id,
          `not ready after ${Math.round(this.options.startTimeoutMs / 1000)} s`,
        );
      }
      await sleep(250);
    }
  }

  private async describe(id: string, dir: string, status: DaemonStatus): Promise<ProvidedCluster> {
    return {
      id,
      kubeconfig: await readFile(join(dir, 'super-admin.conf'), 'utf8'),
      candidateKubeconfig: await readFile(join(dir, 'admin.conf'), 'utf8'),
      nodes: status.nodes,
      handle: { dir, pid: status.pid, server: status.server, startSeconds: status.startSeconds },
      ...((status.userNamespaces ?? false) !== (this.options.userNamespaces ?? false) && {
        stale: status.userNamespaces
          ? 'its nodes run in user namespaces, and this engine runs them as root'
          : "its nodes run as the machine's root, and this engine runs them in user namespaces",
      }),
    };
  }

  async find(cluster: ProvidedCluster): Promise<ProvidedCluster | undefined> {
    const dir = this.dirOf(cluster.id);
    await this.secureClustersDir();
    const status = await readStatus(dir);
    if (status?.state !== 'ready' || !daemonOf(status.pid, dir)) return undefined;
    try {
      await this.request(dir, { op: 'ping' }, 5_000);
    } catch {
      return undefined;
    }
    return this.describe(cluster.id, dir, status);
  }

  async exec(
    cluster: ProvidedCluster,
    node: string,
    command: string[],
    options: ExecOptions,
  ): Promise<ExecResult> {
    const answer = (await this.request(
      this.dirOf(cluster.id),
      { op: 'exec', node, command, timeoutMs: options.timeoutMs, stdin: options.stdin },
      options.timeoutMs + 10_000,
    )) as Partial<ExecResult> & { error?: string };
    if (answer.error) throw new Error(`node ${node} of cluster ${cluster.id}: ${answer.error}`);
    return { code: answer.code ?? 1, stdout: answer.stdout ?? '', stderr: answer.stderr ?? '' };
  }

  nodeShells(cluster: ProvidedCluster): NodeShellEndpoint[] {
    const dir = this.dirOf(cluster.id);
    return cluster.nodes.map((node) => ({ node, socket: join(dir, `shell-${node}.sock`) }));
  }

  async destroy(cluster: ProvidedCluster): Promise<void> {
    const dir = this.dirOf(cluster.id);
    await this.secureClustersDir();
    const status = await readStatus(dir);
    // Only this cluster's daemon: after a reboot the pid may be anyone's.
    if (status && daemonOf(status.pid, dir)) {
      try {
        process.kill(status.pid, 'SIGTERM');
      } catch {
        // Gone between the check and the signal.
      }
      // Stopping a cluster takes a few seconds (kubelets, containers, the network).
      const deadline = Date.now() + 60_000;
      while (alive(status.pid) && Date.now() < deadline) await sleep(200);
      if (alive(status.pid)) process.kill(status.pid, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  }

  async list(): Promise<string[]> {
    await this.secureClustersDir();
    const entries = await readdir(this.options.clustersDir, { withFileTypes: true }).catch(
      () => [],
    );
    return entries
      .filter((e) => e.isDirectory() && /^[a-z0-9-]{1,64}$/.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  /** One request to a cluster's daemon over its control socket. */
  private request(dir: string, body: unknown, timeoutMs: number): Promise<unknown> {
    return new Promise((done, fail) => {
      const path = join(dir, 'control.sock');
      if (!existsSync(path)) return fail(new Error(`no control socket in ${dir}`));
      const socket = connect(path);
      let text = '';
      const timer = setTimeout(() => {
        socket.destroy();
        fail(new Error(`no answer from the cluster daemon in ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', (error) => {
        clearTimeout(timer);
        fail(error);
      });
      socket.on('end', () => {
        clearTimeout(timer);
        try {
          done(JSON.parse(text));
        } catch {
          fail(new Error(`the cluster daemon answered no JSON: ${text.slice(0, 200)}`));
        }
      });
      socket.write(`${JSON.stringify(body)}\n`);
    });
  }
}

async function readStatus(dir: string): Promise<DaemonStatus | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'status.json'), 'utf8')) as DaemonStatus;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is the daemon of the cluster in `dir` (its command line names the folder). */
function daemonOf(pid: number, dir: string): boolean {
  if (!Number.isInteger(pid) || pid < 2) return false;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.some((a) => a.endsWith('cluster-daemon.ts')) && args.includes(dir);
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function tail(dir: string): Promise<string> {
  const text = await readFile(join(dir, 'daemon.out'), 'utf8').catch(() => '');
  return text.trim().split('\n').at(-1) || 'no output';
}

/** MemAvailable from /proc/meminfo, in bytes. */
async function availableBytes(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  const kib = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1];
  return kib ? Number(kib) * 1024 : 0;
}
