/**
 * One real-node cluster that outlives whoever asked for it: the engine's
 * sandbox cluster provider starts this detached, once per dedicated cluster,
 * and finds it again after its own restart through the state folder.
 *
 *   tsx sandbox/cluster-daemon.ts --dir <state folder> --nodes controlplane,node01 [--name k8s-c1] [--cpu-shares 256] [--user-namespaces]
 *   tsx sandbox/cluster-daemon.ts --check      (can this machine run real nodes? one line, exit 0/1)
 *
 * The state folder holds:
 * - `status.json`, rewritten whole on each change: `{ state: "starting" | "ready" | "failed" |
 *   "stopped", pid, nodes, userNamespaces, server?, error? }`;
 * - `admin.conf`, kubeadm's admin kubeconfig (kubernetes-admin, cluster-admin), for the
 *   candidate, and `super-admin.conf` (system:masters), the engine's, once ready;
 * - `control.sock`, one JSON request per connection, one JSON answer:
 *   `{ op: "exec", node, command: [...], timeoutMs, stdin? }` → `{ code, stdout, stderr }`
 *   (a command run as root inside the node), `{ op: "ping" }` → `{ ok: true }`,
 *   `{ op: "stop" }` → `{ ok: true }`, then the cluster stops and the daemon exits;
 * - `shell-<node>.sock` per node: `ssh <node>` from the candidate's terminal
 *   (see node-shell.ts for the framing) gets a root shell, or runs a command,
 *   on the node's own files, in a jail of its own;
 * - `daemon.log`, what the start logged.
 *
 * The cluster stops on SIGTERM, SIGINT or `stop`, and when a part it cannot
 * live without dies (state `failed`, with the part's last log lines). A
 * killed daemon takes its nodes with it (their holders die with their
 * parent), and the next sandbox start sweeps what is left.
 */
import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RUNS_DIR, sweepStaleRuns } from './launcher.js';
import { type RealSandbox, startRealSandbox } from './real/cluster.js';
import { serveNodeShells } from './real/node-shell.js';
import { checkRealNodeHost, RealNodeHostError } from './real/preflight.js';

export type DaemonState = 'starting' | 'ready' | 'failed' | 'stopped';

export interface DaemonStatus {
  state: DaemonState;
  pid: number;
  nodes: string[];
  /** The API server's URL, reachable from the machine. */
  server?: string;
  /** Seconds from the daemon's start to ready. */
  startSeconds?: number;
  /** Whether its nodes run in user namespaces (--user-namespaces). */
  userNamespaces: boolean;
  error?: string;
}

export interface ExecRequest {
  op: 'exec';
  node: string;
  command: string[];
  timeoutMs: number;
  stdin?: string;
}
export type DaemonRequest = ExecRequest | { op: 'ping' } | { op: 'stop' };

const PATH = '/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin';
/** A request line longer than this is refused (a script and its input fit easily). */
const MAX_REQUEST_BYTES = 1024 * 1024;
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    nodes: { type: 'string', default: 'controlplane,node01' },
    name: { type: 'string', default: 'kubernetes' },
    'cpu-shares': { type: 'string' },
    'user-namespaces': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  if (values.check) {
    try {
      await checkRealNodeHost();
      process.stdout.write('ok\n');
    } catch (error) {
      process.stdout.write(
        `${error instanceof RealNodeHostError ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    }
    return;
  }
  if (!values.dir) throw new Error('--dir <state folder> is required');
  const dir = resolve(values.dir);
  const nodes = values.nodes.split(',').filter(Boolean);
  if (!nodes.length || nodes.some((n) => !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(n)))
    throw new Error(`--nodes must be node names separated by commas, got "${values.nodes}"`);
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'daemon.log');
  const log = (line: string) =>
    appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
  const started = Date.now();
  let status: DaemonStatus = {
    state: 'starting',
    pid: process.pid,
    nodes,
    userNamespaces: values['user-namespaces'],
  };
  const publish = async (next: Partial<DaemonStatus>) => {
    status = { ...status, ...next };
    const temporary = join(dir, `status.json.${process.pid}`);
    await writeFile(temporary, JSON.stringify(status, null, 2), { mode: 0o600 });
    await rename(temporary, join(dir, 'status.json'));
  };
  await publish({});

  let cluster: RealSandbox | undefined;
  let server: Server | undefined;
  const shellServers: Server[] = [];
  let ending = false;
  const end = async (state: 'failed' | 'stopped', error?: string) => {
    if (ending) return;
    ending = true;
    log(`stopping (${error ?? state})`);
    server?.close();
    for (const shells of shellServers) shells.close();
    await cluster?.stop().catch((e: Error) => log(`stop: ${e.message}`));
    await rm(join(dir, 'control.sock'), { force: true });
    await publish({ state, error });
    process.exit(state === 'failed' ? 1 : 0);
  };
  // One bad connection (a node shell, a request) must not take the cluster down.
  process.on('uncaughtException', (error) => log(`uncaught: ${error.stack ?? error.message}`));
  process.on('SIGTERM', () => void end('stopped'));
  process.on('SIGINT', () => void end('stopped'));
  // Detached from any terminal: a hang-up means nothing here.
  process.on('SIGHUP', () => undefined);

  try {
    await sweepStaleRuns();
    const shares = values['cpu-shares'];
    cluster = await startRealSandbox({
      nodes,
      clusterName: values.name,
      runsDir: RUNS_DIR,
      cpuShares: shares === undefined ? undefined : Number(shares),
      userNamespaces: values['user-namespaces'],
      log,
    });
  } catch (error) {
    await end('failed', (error as Error).message);
    return;
  }
  if (ending) return;
  await copyFile(cluster.kubeconfigPath, join(dir, 'admin.conf'));
  await copyFile(
    join(cluster.nodes[0].root, 'etc/kubernetes/super-admin.conf'),
    join(dir, 'super-admin.conf'),
  );
  server = await serveControl(join(dir, 'control.sock'), cluster, () => void end('stopped'));
  for (const node of cluster.nodes)
    shellServers.push(await serveNodeShells(join(dir, `shell-${node.name}.sock`), node.host, log));
  await publish({
    state: 'ready',
    server: cluster.server,
    startSeconds: Math.round((Date.now() - started) / 100) / 10,
  });
  log(`ready: ${nodes.join(', ')} at ${cluster.server}`);
  const death = await cluster.whenComponentDies();
  await end('failed', `${death.component} exited (${death.exit}); last lines:\n${death.logTail}`);
}

async function serveControl(path: string, cluster: RealSandbox, stop: () => void): Promise<Server> {
  await rm(path, { force: true });
  const server = createServer((socket) => void answer(socket, cluster, stop));
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(path, ready);
  });
  // Root only: a node's commands run as root.
  await chmod(path, 0o600);
  return server;
}

async function answer(socket: Socket, cluster: RealSandbox, stop: () => void): Promise<void> {
  const reply = (body: unknown): void => {
    socket.end(`${JSON.stringify(body)}\n`);
  };
  socket.on('error', () => undefined);
  // Not `for await`: leaving that loop early destroys the socket before the answer.
  const line = await new Promise<string | undefined>((done) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) done(buffered.slice(0, end));
      else if (buffered.length > MAX_REQUEST_BYTES) done(undefined);
    });
    socket.on('end', () => done(buffered || undefined));
  });
  if (line === undefined) return reply({ error: 'a request is one JSON object on one line' });
  let request: DaemonRequest;
  try {
    request = JSON.parse(line) as DaemonRequest;
  } catch {
    return reply({ error: 'a request is one JSON object on one line' });
  }
  if (request.op === 'ping') return reply({ ok: true });
  if (request.op === 'stop') {
    reply({ ok: true });
    stop();
    return;
  }
  if (request.op !== 'exec') return reply({ error: `unknown op` });
  const node = cluster.nodes.find((n) => n.name === request.node);
  if (!node) return reply({ error: `no node ${String(request.node)} in this cluster` });
  if (!Array.isArray(request.command) || !request.command.length)
    return reply({ error: 'command is a non-empty list of arguments' });
  reply(await execInNode(node.host.enter(), request));
}

function execInNode(
  enter: string[],
  request: ExecRequest,
): Promise<{ code: number; stdout: string; stderr: string; timedOut?: boolean }> {
  return new Promise((done) => {
    const command = [...enter, 'env', `PATH=${PATH}`, 'HOME=/root', ...request.command];
    const child = execFile(
      command[0],
      command.slice(1),
      {
        timeout: Math.max(1, Math.min(request.timeoutMs, 600_000)),
        maxBuffer: MAX_OUTPUT_BYTES,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        if (!error) return done({ code: 0, stdout, stderr });
        const failure = error as NodeJS.ErrnoException & {
          code?: number | string;
          killed?: boolean;
        };
        done({
          code: typeof failure.code === 'number' ? failure.code : 1,
          stdout,
          stderr: stderr || failure.message,
          timedOut: failure.killed === true,
        });
      },
    );
    child.stdin?.end(request.stdin ?? '');
  });
}

main().catch((error: Error) => {
  // The message last: whoever started the daemon shows the end of its output.
  process.stderr.write(`${error.stack ?? ''}\n${error.message}\n`);
  process.exit(1);
});
