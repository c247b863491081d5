import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { spawn as spawnPty } from 'node-pty';
import type { NodeHost } from './node-host.js';
import { CRICTL_CONFIG } from './node-config.js';

/**
 * `ssh <node>` without sshd: the candidate's terminal connects (through the
 * engine's relay) to a node's shell socket and gets a root shell on the
 * node, or runs one command there, as on a real machine.
 *
 * Frames both ways: a type byte, a 4-byte big-endian length, the payload.
 * Client to node: H (header, JSON: cols, rows, term, command or null, tty),
 * D (input), R (resize, JSON: cols, rows), C (input closed). Node to client:
 * O (output), E (error output, without a tty), X (exit, JSON: code).
 *
 * The shell runs in the node's namespaces (its network, hostname and file
 * system: /etc/kubernetes, /var/lib/kubelet, /var/lib/etcd, /var/log/pods,
 * the containerd and supervisor sockets), inside a bubblewrap jail of its
 * own: a PID namespace (no other process of the machine is visible or
 * signalled), no capabilities, the system's /usr read-only, a few /etc
 * files, and nothing else of the host (no engine files, no other node).
 */
export const FRAME = {
  header: 'H',
  input: 'D',
  resize: 'R',
  close: 'C',
  output: 'O',
  error: 'E',
  exit: 'X',
};

/** Host /etc entries a node shell sees (read-only); the node's own hosts and resolv.conf are bound there already. */
const ETC = [
  'passwd',
  'group',
  'nsswitch.conf',
  'ld.so.cache',
  'ssl',
  'ca-certificates',
  'alternatives',
  'bash.bashrc',
  'profile',
  'profile.d',
  'inputrc',
  'vim',
  'terminfo',
  'localtime',
  'hosts',
  'resolv.conf',
  'bash_completion.d',
  'os-release',
  'debian_version',
  'environment',
  'mime.types',
];
/** The node's own folders (see node-host.ts), writable as on the machine. */
const NODE_DIRS = [
  '/etc/kubernetes',
  '/etc/containerd',
  '/etc/cni',
  '/opt',
  '/var/lib',
  '/var/log',
  '/run',
  '/root',
  '/tmp',
];
const PATH = '/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_FRAME = 1024 * 1024;

function jail(): string[] {
  const ro = (path: string) => ['--ro-bind', path, path];
  // prettier-ignore
  return [
    'bwrap',
    '--unshare-pid', '--unshare-ipc', '--die-with-parent', '--cap-drop', 'ALL',
    ...ro('/usr'),
    '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin', '--symlink', 'usr/lib', '/lib',
    ...(existsSync('/usr/lib64') ? ['--symlink', 'usr/lib64', '/lib64'] : []),
    '--proc', '/proc', '--dev', '/dev',
    '--tmpfs', '/etc',
    ...ETC.filter((name) => existsSync(`/etc/${name}`)).flatMap((name) => ro(`/etc/${name}`)),
    ...NODE_DIRS.flatMap((dir) => ['--bind', dir, dir]),
    // Image layers are hard links shared by every node on the machine
    // (image-seed.ts): a write here would change them for all. crictl
    // reaches containerd through its socket, in /run.
    '--ro-bind-try', '/var/lib/containerd', '/var/lib/containerd',
    // The node's crictl settings (kept beside containerd's), where crictl looks for them.
    '--ro-bind-try', `/etc/containerd/${CRICTL_CONFIG}`, '/etc/crictl.yaml',
    '--remount-ro', '/etc',
    '--chdir', '/root',
    '--setenv', 'HOME', '/root', '--setenv', 'USER', 'root', '--setenv', 'LOGNAME', 'root',
    '--setenv', 'PATH', PATH, '--setenv', 'SHELL', '/bin/bash',
    '--',
  ];
}

interface Header {
  cols?: number;
  rows?: number;
  term?: string;
  command?: string | null;
  tty?: boolean;
}

/** Serves `ssh` to one node on a Unix socket only root may use (the engine relays it into one jail). */
export async function serveNodeShells(
  path: string,
  host: NodeHost,
  log: (line: string) => void,
): Promise<Server> {
  await rm(path, { force: true });
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    try {
      attach(socket, host);
    } catch (error) {
      log(`shell on ${host.spec.name}: ${(error as Error).message}`);
      socket.destroy();
    }
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(path, ready);
  });
  await chmod(path, 0o600);
  return server;
}

function frame(type: string, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

function attach(socket: Socket, host: NodeHost): void {
  let buffered = Buffer.alloc(0);
  let session:
    | {
        write(data: Buffer): void;
        resize(cols: unknown, rows: unknown): void;
        close(): void;
        kill(): void;
      }
    | undefined;
  const send = (type: string, payload: Buffer | string) => {
    if (!socket.destroyed) socket.write(frame(type, payload));
  };
  const exit = (code: number) => {
    send(FRAME.exit, JSON.stringify({ code }));
    socket.end();
  };
  socket.on('data', (chunk: Buffer) => {
    // Whatever a client sends ends its own connection at worst, never the daemon.
    try {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5) {
        const type = buffered.toString('latin1', 0, 1);
        const length = buffered.readUInt32BE(1);
        if (length > MAX_FRAME) return socket.destroy();
        if (buffered.length < 5 + length) break;
        const payload = buffered.subarray(5, 5 + length);
        buffered = buffered.subarray(5 + length);
        if (!session) {
          if (type !== FRAME.header) return socket.destroy();
          session = start(parseHeader(payload), host, send, exit);
        } else if (type === FRAME.input) session.write(payload);
        else if (type === FRAME.resize) {
          const size = JSON.parse(payload.toString('utf8')) as { cols?: unknown; rows?: unknown };
          session.resize(size.cols, size.rows);
        } else if (type === FRAME.close) session.close();
      }
    } catch {
      session?.kill();
      socket.destroy();
    }
  });
  socket.on('close', () => session?.kill());
}

function parseHeader(payload: Buffer): Header {
  const raw = JSON.parse(payload.toString('utf8')) as unknown;
  if (typeof raw !== 'object' || raw === null) throw new Error('bad header');
  const header = raw as Record<string, unknown>;
  if (header.command !== undefined && header.command !== null && typeof header.command !== 'string')
    throw new Error('bad command');
  return {
    cols: typeof header.cols === 'number' ? header.cols : undefined,
    rows: typeof header.rows === 'number' ? header.rows : undefined,
    term: typeof header.term === 'string' ? header.term : undefined,
    command: typeof header.command === 'string' ? header.command : null,
    tty: header.tty === true,
  };
}

function start(
  header: Header,
  host: NodeHost,
  send: (type: string, payload: Buffer | string) => void,
  exit: (code: number) => void,
) {
  const bash = header.command ? ['/bin/bash', '-lc', header.command] : ['/bin/bash', '-l'];
  const command = [...host.enter(), ...jail(), ...bash];
  const clamp = (n: unknown, fallback: number) =>
    typeof n === 'number' && n >= 1 && n <= 1000 ? Math.floor(n) : fallback;
  const env = {
    PATH,
    TERM: /^[\w.-]{1,40}$/.test(header.term ?? '') ? header.term! : 'xterm-256color',
    LANG: 'C.UTF-8',
  };
  if (header.tty) {
    const pty = spawnPty(command[0], command.slice(1), {
      name: env.TERM,
      cols: clamp(header.cols, 80),
      rows: clamp(header.rows, 24),
      cwd: '/',
      env,
      // Bytes as they come: a character split across two reads stays whole for the client.
      encoding: null,
    });
    let ended = false;
    pty.onData((data: string | Buffer) => send(FRAME.output, Buffer.from(data)));
    pty.onExit(({ exitCode }) => {
      ended = true;
      exit(exitCode);
    });
    return {
      write: (data: Buffer) => !ended && pty.write(data as unknown as string),
      resize: (cols: unknown, rows: unknown) =>
        !ended && pty.resize(clamp(cols, 80), clamp(rows, 24)),
      close: () => !ended && pty.write('\x04'),
      kill: () => !ended && pty.kill('SIGKILL'),
    };
  }
  const child = spawn(command[0], command.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.on('data', (data: Buffer) => send(FRAME.output, data));
  child.stderr.on('data', (data: Buffer) => send(FRAME.error, data));
  child.on('error', () => exit(255));
  child.on('close', (code, signal) => exit(code ?? (signal ? 128 + 9 : 255)));
  child.stdin.on('error', () => undefined);
  return {
    write: (data: Buffer) => child.stdin.write(data),
    resize: (_cols: unknown, _rows: unknown) => undefined,
    close: () => child.stdin.end(),
    kill: () => child.kill('SIGKILL'),
  };
}
