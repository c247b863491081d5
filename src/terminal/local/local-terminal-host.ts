import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  copyFile,
  lchown,
  lstat,
  mkdir,
  open as openFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { type IPty, spawn } from 'node-pty';
import type { Logger } from 'pino';
import type { TerminalConfig } from '../../config/config.schema.js';
import { homePathProblem } from '../../question-bank/question-files.js';
import type {
  HomeFile,
  Shell,
  ShellExit,
  ShellSpec,
  TerminalHost,
  TerminalHostStatus,
} from '../terminal-host.js';
import { ApiRelay, type RelayTarget } from './api-relay.js';
import { NODE_SHELLS_FILE, nodeShellIndex, sshClientScript } from './ssh-client.js';
import { CGROUP_ROOT, cgroupsUsable, ShellCgroup, sweepCgroups } from './cgroups.js';
import {
  bashrc,
  groupFile,
  HOME_FILES,
  hostsFile,
  initScript,
  JAIL_ETC_DIR,
  JAIL_RELAY_DIR,
  JAIL_USER,
  jailKubeconfig,
  passwdFile,
} from './jail-environment.js';

const run = promisify(execFile);
/** What the jail takes from the host's /etc, read-only (the rest of /etc is generated). */
const HOST_ETC = [
  'alternatives',
  'inputrc',
  'vim',
  'nanorc',
  'ld.so.cache',
  'localtime',
  'nsswitch.conf',
  'bash_completion.d',
  'terminfo',
];
const CGROUP_PARENT = 'cka-terminal';
const UID_RANGE = 1_000_000;

/**
 * Shells on the engine's own host, each in a bubblewrap jail:
 * - its own user, mount, PID, IPC, UTS, cgroup and network namespaces
 *   (`--unshare-all`), nested user namespaces disabled, no capabilities;
 * - the system's /usr read-only (with /usr/local hidden but for kubectl and helm),
 *   a generated /etc, private /tmp and home of a fixed size, /proc of its own
 *   PID namespace: no engine file, no other candidate, no host process is visible;
 * - only loopback for network, with one relay per API server of the
 *   candidate's kubeconfig ({@link ApiRelay});
 * - as root: an outer uid of its own per session, and a cgroup per shell for
 *   pids, memory, CPU and a freezer to kill every process at once.
 *
 * `--die-with-parent` plus the PID namespace end every process of a shell
 * when the engine dies, even by SIGKILL; cgroups left by a killed engine are
 * swept on the next start.
 */
export class LocalTerminalHost implements TerminalHost {
  private readonly root = process.getuid?.() === 0;
  private readonly instance = instanceName(process.pid);
  private readonly instanceDir: string;
  private readonly homesDir: string;
  private readonly etcDir: string;
  private useCgroups = false;
  private kubectl?: string;
  /** kubectl where the jail's users can read it (the configured one may be in root's home). */
  private jailKubectl?: string;
  /** helm, likewise, when one is configured. */
  private jailHelm?: string;
  private readonly relays = new Map<string, Promise<ApiRelay[]>>();
  private readonly shells = new Map<string, Set<LocalShell>>();
  private opening: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: TerminalConfig,
    private readonly logger: Logger,
  ) {
    this.instanceDir = join(config.runDir, 'i', this.instance);
    this.homesDir = join(config.runDir, 'homes');
    this.etcDir = join(this.instanceDir, 'etc');
  }

  async start(): Promise<TerminalHostStatus> {
    const missing = ['bwrap', 'socat', 'setsid', ...(this.root ? ['setpriv'] : [])].filter(
      (tool) => !onPath(tool),
    );
    if (missing.length) {
      return {
        available: false,
        reason: `missing ${missing.join(', ')} (Debian: apt-get install bubblewrap socat util-linux)`,
      };
    }
    this.kubectl = this.config.kubectl ?? onPath('kubectl');
    if (!this.kubectl || !existsSync(this.kubectl)) {
      return {
        available: false,
        reason: `no kubectl for the shell (${this.config.kubectl ?? 'none on PATH'}); set TERMINAL_KUBECTL`,
      };
    }
    if (this.config.helm && !existsSync(this.config.helm)) {
      return {
        available: false,
        reason: `no helm at ${this.config.helm} (TERMINAL_HELM); point it at a helm binary or unset it`,
      };
    }
    this.useCgroups = cgroupsUsable();
    await this.sweep();
    for (const dir of [this.config.runDir, join(this.config.runDir, 'i'), this.homesDir]) {
      await mkdir(dir, { recursive: true });
      // The jail's user must traverse to its home and sockets, and list nothing.
      await chmod(dir, 0o711);
    }
    // A Unix socket's path has at most 107 bytes: <run>/i/<instance>/<session id>/api-N.sock.
    const longest =
      this.sessionDir('00000000-0000-0000-0000-000000000000').length + '/api-9.sock'.length;
    if (longest > 107) {
      return {
        available: false,
        reason: `TERMINAL_RUN_DIR (${this.config.runDir}) is too long for the relay sockets' paths; choose a shorter one`,
      };
    }
    await mkdir(this.instanceDir, { recursive: true, mode: 0o711 });
    await chmod(this.instanceDir, 0o711);
    await this.writeEtc();
    this.jailKubectl = await this.shareBinary('kubectl', this.kubectl);
    if (this.config.helm) this.jailHelm = await this.shareBinary('helm', this.config.helm);
    const probe = spawnSync('/bin/bash', this.command(this.config.uidBase, [], ['/bin/true']), {
      env: {},
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (probe.status !== 0) {
      return {
        available: false,
        reason: `bubblewrap cannot make a jail here (are user namespaces on, and every folder above TERMINAL_RUN_DIR searchable by other users?): ${(probe.stderr || probe.error?.message || '').trim()}`,
      };
    }
    this.logger.info(
      {
        kubectl: this.kubectl,
        helm: this.config.helm ?? null,
        cgroups: this.useCgroups,
        runDir: this.config.runDir,
        root: this.root,
      },
      'terminal host ready',
    );
    if (!this.useCgroups) {
      this.logger.warn(
        'terminal shells run without cgroup limits (pids, memory, CPU): run the engine as root on a cgroup v1 host for them',
      );
    }
    return { available: true };
  }

  /**
   * A copy of a program (kubectl, helm) in the run folder (which the jails'
   * users can traverse), named by the original's path, size and time, so
   * engines share it and a new build replaces it.
   */
  private async shareBinary(name: string, source: string): Promise<string> {
    const info = await stat(source);
    const key = createHash('sha256')
      .update(`${source}|${info.size}|${info.mtimeMs}`)
      .digest('hex')
      .slice(0, 16);
    const dir = join(this.config.runDir, 'bin');
    const target = join(dir, `${name}-${key}`);
    if (!existsSync(target)) {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      const partial = `${target}.${process.pid}.part`;
      await copyFile(source, partial);
      await chmod(partial, 0o755);
      await rename(partial, target);
    }
    return target;
  }

  /** The read-only files every jail shares: /etc, the init script, kubectl's and helm's completion. */
  private async writeEtc(): Promise<void> {
    await mkdir(this.etcDir, { recursive: true, mode: 0o755 });
    const completion = (program: string | undefined) => {
      if (!program) return '';
      const result = spawnSync(program, ['completion', 'bash'], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      return result.status === 0 ? result.stdout : '';
    };
    const files: Record<string, string> = {
      passwd: passwdFile(),
      group: groupFile(),
      hosts: hostsFile(this.config.hostname),
      hostname: `${this.config.hostname}\n`,
      'bash.bashrc': bashrc(),
      init: initScript(),
      ssh: sshClientScript(),
      'kubectl-completion.bash': completion(this.kubectl),
      'helm-completion.bash': completion(this.config.helm),
    };
    for (const [name, text] of Object.entries(files)) {
      const executable = name === 'init' || name === 'ssh';
      await writeFile(join(this.etcDir, name), text, { mode: executable ? 0o755 : 0o644 });
    }
  }

  async open(spec: ShellSpec): Promise<Shell> {
    // One at a time: a uid is chosen and its home mounted before the next looks.
    const previous = this.opening;
    let done!: () => void;
    this.opening = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      return await this.openNow(spec);
    } finally {
      done();
    }
  }

  private async openNow(spec: ShellSpec): Promise<Shell> {
    // The engine writes into the home as root: nothing of an earlier shell may run meanwhile.
    await this.killLeftovers(spec.sessionId);
    const uid = await this.uidOf(spec.sessionId);
    const home = await this.prepareHome(spec.sessionId, uid, spec.files);
    const { text, relays } = jailKubeconfig(spec.kubeconfig);
    await writeOwned(join(home, '.kube'), undefined, uid, 0o700);
    await writeOwned(join(home, '.kube', 'config'), text, uid, 0o600);
    const sockets = await this.relaysOf(spec.sessionId, [
      ...relays.map((r, i) => ({ name: `api-${i}.sock`, target: r.target })),
      // Short names: a Unix socket's path has at most 107 bytes.
      // A root shell on a node: the session's jail alone may connect.
      ...(spec.nodeShells ?? []).map((n, i) => ({
        name: `n${i}.sock`,
        target: { path: n.socket },
        owner: this.root ? { uid, gid: uid } : undefined,
      })),
    ]);
    await writeFile(
      join(this.sessionDir(spec.sessionId), NODE_SHELLS_FILE),
      nodeShellIndex(spec.nodeShells ?? []),
      { mode: 0o644 },
    );
    const relayArgs = relays.map(
      (r, i) => `${r.port}=${JAIL_RELAY_DIR}/${basename(sockets[i].path)}`,
    );

    let cgroup: ShellCgroup | undefined;
    if (this.useCgroups) {
      cgroup = new ShellCgroup(
        join(CGROUP_PARENT, this.instance),
        `${spec.sessionId}-${Date.now().toString(36)}`,
      );
      await cgroup.create({
        pidsMax: this.config.pidsMax,
        memoryBytes: this.config.memoryBytes,
        cpuShares: this.config.cpuShares,
      });
    }
    const args = this.command(uid, cgroup?.dirs ?? [], [`${JAIL_ETC_DIR}/init`, ...relayArgs], {
      home,
      sessionDir: this.sessionDir(spec.sessionId),
    });
    // A bare environment: nothing of the engine's (database URLs, tokens) reaches the jail.
    const pty = spawn('/bin/bash', args, {
      name: 'xterm-256color',
      cols: spec.cols,
      rows: spec.rows,
      cwd: '/',
      env: {
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
        HOME: JAIL_USER.home,
        USER: JAIL_USER.name,
        LOGNAME: JAIL_USER.name,
        SHELL: '/bin/bash',
        PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      },
      encoding: null,
    });
    const shell = new LocalShell(pty, cgroup);
    let set = this.shells.get(spec.sessionId);
    if (!set) this.shells.set(spec.sessionId, (set = new Set()));
    set.add(shell);
    shell.onExit(() => {
      set.delete(shell);
      void shell.kill();
    });
    return shell;
  }

  /**
   * The wrapper run in the PTY (bash): join the shell's cgroups (as root,
   * before anything can fork), close every inherited descriptor above 2, drop
   * to the session's uid, then bwrap. The closing matters: node-pty's child
   * inherits the engine's open descriptors, the other shells' PTY masters
   * among them, which would let this shell type into and read another
   * candidate's terminal (node-pty issue 657).
   */
  private command(
    uid: number,
    cgroupDirs: string[],
    jailCommand: string[],
    mounts?: { home: string; sessionDir: string },
  ): string[] {
    const join = [
      'n=$1; shift',
      'while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 97; shift; n=$((n-1)); done',
      'for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done',
      'exec "$@"',
    ].join('\n');
    const drop = this.root
      ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--no-new-privs', '--']
      : [];
    return [
      '-c',
      join,
      'cka-jail',
      String(cgroupDirs.length),
      ...cgroupDirs,
      ...drop,
      'bwrap',
      ...this.bwrapArgs(mounts),
      ...jailCommand,
    ];
  }

  private bwrapArgs(mounts?: { home: string; sessionDir: string }): string[] {
    const ro = (source: string, target = source) => ['--ro-bind', source, target];
    const etc = (name: string, target = `/etc/${name}`) => ro(join(this.etcDir, name), target);
    const hostEtc = HOST_ETC.filter((name) => existsSync(join('/etc', name))).flatMap((name) =>
      ro(join('/etc', name)),
    );
    const tmpfs = (target: string) => ['--size', String(this.config.homeBytes), '--tmpfs', target];
    // prettier-ignore
    return [
      '--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent',
      '--uid', String(JAIL_USER.uid), '--gid', String(JAIL_USER.gid),
      '--hostname', this.config.hostname,
      ...ro('/usr'),
      '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin', '--symlink', 'usr/lib', '/lib',
      ...(existsSync('/usr/lib64') ? ['--symlink', 'usr/lib64', '/lib64'] : []),
      // /usr/local holds what the host installed by hand: only kubectl (and helm) show.
      ...tmpfs('/usr/local'),
      ...ro(this.jailKubectl ?? this.kubectl!, '/usr/local/bin/kubectl'),
      ...(this.jailHelm ? ro(this.jailHelm, '/usr/local/bin/helm') : []),
      ...etc('ssh', '/usr/local/bin/ssh'),
      '--proc', '/proc',
      '--dev', '/dev',
      ...tmpfs('/tmp'),
      ...tmpfs('/etc'),
      ...hostEtc,
      ...etc('passwd'), ...etc('group'), ...etc('hosts'), ...etc('hostname'), ...etc('bash.bashrc'),
      ...etc('init', `${JAIL_ETC_DIR}/init`),
      ...etc('kubectl-completion.bash', `${JAIL_ETC_DIR}/kubectl-completion.bash`),
      ...etc('helm-completion.bash', `${JAIL_ETC_DIR}/helm-completion.bash`),
      ...this.config.extraBinds.flatMap((b) => ro(b.source, b.target)),
      ...(mounts ? ['--bind', mounts.home, JAIL_USER.home, ...ro(mounts.sessionDir, JAIL_RELAY_DIR)] : []),
      // The jail's root, /etc and /usr/local are tmpfs the jail's user owns: read-only from here on.
      '--remount-ro', '/etc', '--remount-ro', '/usr/local', '--remount-ro', '/',
      '--chdir', mounts ? JAIL_USER.home : '/',
      '--',
    ];
  }
  /**
   * The session's home: a size-limited tmpfs of its own (as root), kept
   * across its shells. A new home gets the questions' files; a later shell
   * finds the home as the candidate left it.
   */
  private async prepareHome(sessionId: string, uid: number, files: HomeFile[]): Promise<string> {
    const home = join(this.homesDir, sessionId);
    const fresh = !existsSync(home);
    await mkdir(home, { recursive: true, mode: 0o700 });
    if (this.root && !(await isMountPoint(home))) {
      await run('mount', [
        '-t',
        'tmpfs',
        '-o',
        `size=${this.config.homeBytes},uid=${uid},gid=${uid},mode=0700,nosuid,nodev`,
        `cka-home-${sessionId.slice(0, 8)}`,
        home,
      ]);
    }
    if (fresh) {
      for (const [name, text] of Object.entries(HOME_FILES)) {
        await writeOwned(join(home, name), text, uid, 0o644);
      }
      await writeHomeFiles(home, files, uid, (path, reason) =>
        this.logger.warn({ sessionId, path, reason }, 'a question file was not written'),
      );
    }
    return home;
  }

  private sessionDir(sessionId: string): string {
    return join(this.instanceDir, sessionId);
  }

  /** The session's relays, one per API server; started with its first shell, kept until release. */
  /**
   * The session's relays: one per API server (`api-<i>.sock`, reached by
   * the jail's loopback listeners) and one per node shell
   * (`node-<cluster>-<node>.sock`, what `ssh` connects to).
   */
  private relaysOf(
    sessionId: string,
    wanted: { name: string; target: RelayTarget; owner?: { uid: number; gid: number } }[],
  ): Promise<ApiRelay[]> {
    const describe = (t: RelayTarget) => ('path' in t ? t.path : `${t.host}:${t.port}`);
    const key = `${sessionId}|${wanted.map((w) => `${w.name}=${describe(w.target)}`).join(',')}`;
    let relays = this.relays.get(key);
    if (!relays) {
      relays = (async () => {
        // Another set of servers (a new kubeconfig) replaces the old relays.
        for (const [other, started] of this.relays) {
          if (other.startsWith(`${sessionId}|`) && other !== key) {
            this.relays.delete(other);
            for (const relay of await started.catch(() => [])) await relay.close();
          }
        }
        const dir = this.sessionDir(sessionId);
        await mkdir(dir, { recursive: true, mode: 0o711 });
        await chmod(dir, 0o711);
        return Promise.all(
          wanted.map((w) => ApiRelay.listen(join(dir, w.name), w.target, { owner: w.owner })),
        );
      })();
      this.relays.set(key, relays);
      relays.catch(() => this.relays.delete(key));
    }
    return relays;
  }

  async processes(sessionId: string): Promise<number[]> {
    const pids: number[] = [];
    for (const shell of this.shells.get(sessionId) ?? []) pids.push(...(await shell.processes()));
    return pids;
  }

  async release(sessionId: string): Promise<void> {
    for (const shell of this.shells.get(sessionId) ?? []) await shell.kill();
    this.shells.delete(sessionId);
    for (const [key, started] of this.relays) {
      if (!key.startsWith(`${sessionId}|`)) continue;
      this.relays.delete(key);
      for (const relay of await started.catch(() => [])) await relay.close();
    }
    await rm(this.sessionDir(sessionId), { recursive: true, force: true });
    const home = join(this.homesDir, sessionId);
    if (this.root && (await isMountPoint(home))) {
      await run('umount', ['-l', home]).catch((error: Error) =>
        this.logger.warn({ sessionId, err: error.message }, 'could not unmount a home'),
      );
    }
    await rm(home, { recursive: true, force: true });
  }

  async retained(): Promise<string[]> {
    return readdir(this.homesDir).catch(() => []);
  }

  async close(): Promise<void> {
    await Promise.all([...this.shells.values()].flatMap((set) => [...set].map((s) => s.kill())));
    for (const started of this.relays.values()) {
      for (const relay of await started.catch(() => [])) await relay.close();
    }
    this.relays.clear();
    await rm(this.instanceDir, { recursive: true, force: true });
    if (this.useCgroups) await sweepCgroups(CGROUP_PARENT, (child) => child === this.instance);
  }

  /** Cgroups and instance folders of engine processes that are gone (killed, crashed). */
  private async sweep(): Promise<void> {
    const stale = (name: string) => name !== this.instance && !instanceAlive(name);
    if (this.useCgroups) {
      const swept = await sweepCgroups(CGROUP_PARENT, stale);
      if (swept.length) this.logger.info({ instances: swept }, 'swept shells of an earlier engine');
    }
    const instances = join(this.config.runDir, 'i');
    for (const name of await readdir(instances).catch(() => [])) {
      if (stale(name)) await rm(join(instances, name), { recursive: true, force: true });
    }
  }

  /**
   * Each session's shells run as an outer uid of their own (as root): the
   * owner of its home once it has one (so it holds across restarts), else the
   * first free one from a hash of the session id, skipping the uids of the
   * other homes.
   */
  private async uidOf(sessionId: string): Promise<number> {
    if (!this.root) return process.getuid?.() ?? 0;
    const home = join(this.homesDir, sessionId);
    if (await isMountPoint(home)) return (await stat(home)).uid;
    const taken = new Set<number>();
    for (const other of await readdir(this.homesDir).catch(() => [])) {
      const path = join(this.homesDir, other);
      if (other !== sessionId && (await isMountPoint(path))) taken.add((await stat(path)).uid);
    }
    let n = createHash('sha256').update(sessionId).digest().readUInt32BE(0) % UID_RANGE;
    while (taken.has(this.config.uidBase + n)) n = (n + 1) % UID_RANGE;
    return this.config.uidBase + n;
  }

  /** Kills what is left of the session's earlier shells; refuses to go on if anything survives. */
  private async killLeftovers(sessionId: string): Promise<void> {
    for (const shell of this.shells.get(sessionId) ?? []) await shell.kill();
    if (!this.useCgroups) return;
    const parent = join(CGROUP_PARENT, this.instance);
    const groups = await readdir(join(CGROUP_ROOT, 'pids', parent)).catch(() => []);
    for (const name of groups.filter((g) => g.startsWith(`${sessionId}-`))) {
      const cgroup = new ShellCgroup(parent, name);
      const left = await cgroup.killAll();
      if (left.length) {
        throw new Error(`processes ${left.join(', ')} of an earlier shell of ${sessionId} survive`);
      }
      await cgroup.remove();
    }
  }
}

class LocalShell implements Shell {
  private exited = false;
  private killing?: Promise<void>;
  private readonly exitListeners: ((exit: ShellExit) => void)[] = [];

  constructor(
    private readonly pty: IPty,
    private readonly cgroup?: ShellCgroup,
  ) {
    pty.onExit(({ exitCode }) => {
      this.exited = true;
      for (const listener of this.exitListeners) listener({ code: exitCode });
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  onData(listener: (chunk: Buffer) => void): void {
    // With `encoding: null` node-pty hands out Buffers (its typings say string).
    this.pty.onData((data) => listener(data as unknown as Buffer));
  }

  onExit(listener: (exit: ShellExit) => void): void {
    this.exitListeners.push(listener);
  }

  write(data: Buffer): void {
    if (!this.exited) this.pty.write(data);
  }

  pendingInput(): number {
    // node-pty queues writes the kernel's buffer does not take yet, without a
    // bound and without a public size; its private queue is read defensively.
    const queue = (this.pty as unknown as { _writeStream?: { _writeQueue?: unknown } })._writeStream
      ?._writeQueue;
    if (!Array.isArray(queue)) return 0;
    let bytes = 0;
    for (const task of queue as { buffer?: Buffer; offset?: number }[]) {
      bytes += (task.buffer?.byteLength ?? 0) - (task.offset ?? 0);
    }
    return bytes;
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.pty.resize(cols, rows);
  }

  pause(): void {
    if (!this.exited) this.pty.pause();
  }

  resume(): void {
    if (!this.exited) this.pty.resume();
  }

  async processes(): Promise<number[]> {
    if (this.cgroup) return this.cgroup.processes();
    return this.exited ? [] : [this.pty.pid];
  }

  kill(): Promise<void> {
    this.killing ??= (async () => {
      if (!this.exited) {
        try {
          this.pty.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
      if (this.cgroup) {
        await this.cgroup.killAll();
        await this.cgroup.remove();
      }
    })();
    return this.killing;
  }
}

/** `<pid>-<start time>`: names this engine process uniquely across PID reuse. */
function instanceName(pid: number): string {
  return `${pid}-${startTimeOf(pid) ?? 0}`;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name (which may hold spaces, inside parentheses).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function instanceAlive(name: string): boolean {
  const [pid, start] = name.split('-');
  return startTimeOf(Number(pid)) === start;
}

function onPath(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    if (existsSync(join(dir, tool))) return join(dir, tool);
  }
  return undefined;
}

async function isMountPoint(path: string): Promise<boolean> {
  try {
    const [self, parent] = await Promise.all([stat(path), stat(join(path, '..'))]);
    return self.dev !== parent.dev;
  } catch {
    return false;
  }
}

/**
 * The questions' files, each under the home at its relative path, in
 * folders made as needed, all owned by the session's uid (the candidate may
 * change them). A path that would leave the home, or that an earlier file
 * already took, is skipped: lint refuses both, this guards the stored rows.
 */
async function writeHomeFiles(
  home: string,
  files: HomeFile[],
  uid: number,
  skipped: (path: string, reason: string) => void,
): Promise<void> {
  const taken = new Set<string>(Object.keys(HOME_FILES));
  for (const file of files) {
    const problem = homePathProblem(file.path);
    if (problem) {
      skipped(file.path, problem);
      continue;
    }
    const parts = file.path.split('/');
    const clash =
      parts.map((_, i) => parts.slice(0, i + 1).join('/')).find((p) => taken.has(p)) ??
      (taken.has(`${file.path}/`) ? `${file.path}/` : undefined);
    if (clash) {
      skipped(file.path, `${clash} is already written`);
      continue;
    }
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!taken.has(`${dir}/`)) await writeOwned(join(home, dir), undefined, uid, 0o755);
      taken.add(`${dir}/`);
    }
    await writeOwned(join(home, file.path), file.content, uid, file.executable ? 0o755 : 0o644);
    taken.add(file.path);
  }
}

/**
 * Writes a file (or makes a folder when `text` is undefined) in the
 * candidate's home, owned by the jail's outer uid. The engine may be root and
 * the home is the candidate's: whatever they left at `path` (a symlink to
 * the engine's database, a folder) is removed first, and the new file is
 * created exclusively, so nothing is ever written through a link. No shell of
 * the session runs while this happens, so nothing can swap it in between.
 */
async function writeOwned(
  path: string,
  text: string | undefined,
  uid: number,
  mode: number,
): Promise<void> {
  const root = process.getuid?.() === 0;
  const existing = await lstat(path).catch(() => undefined);
  if (text === undefined) {
    if (existing && !existing.isDirectory()) await rm(path, { force: true });
    if (!existing?.isDirectory()) await mkdir(path, { mode });
    // lchown: never the target of a link put there in between.
    if (root) await lchown(path, uid, uid);
    return;
  }
  if (existing) await rm(path, { recursive: true, force: true });
  // Exclusive create refuses a link at the path; mode and owner go on the open file.
  const file = await openFile(path, 'wx', mode);
  try {
    await file.writeFile(text);
    await file.chmod(mode);
    if (root) await file.chown(uid, uid);
  } finally {
    await file.close();
  }
}
