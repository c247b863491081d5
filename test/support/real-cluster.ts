import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';

const run = promisify(execFile);

export interface RealNodeInfo {
  name: string;
  /** A process in the node's namespaces (nsenter's target). */
  pid: number;
  /** The node's host root on the machine. */
  root: string;
  address: string;
  /** The nsenter prefix into the node's namespaces (its user and PID ones too, where it has them). */
  enter: string[];
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite in the realnode Jest project`);
  return value;
}

export function realNodes(): RealNodeInfo[] {
  return JSON.parse(requiredEnv('REAL_NODES')) as RealNodeInfo[];
}

export function realNode(name: string): RealNodeInfo {
  const node = realNodes().find((n) => n.name === name);
  if (!node) throw new Error(`no real node ${name}`);
  return node;
}

/** kubectl as the cluster's admin; rejects with stderr on a non-zero exit. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = run(
    requiredEnv('REAL_KUBECTL'),
    ['--kubeconfig', requiredEnv('REAL_KUBECONFIG'), ...args],
    {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

/** A shell command as root on a node (its mounts, hostname and network), like `ssh node01`. */
export async function onNode(name: string, command: string, timeoutMs = 60_000): Promise<string> {
  const node = realNode(name);
  const [nsenter, ...enter] = node.enter;
  const { stdout } = await run(
    nsenter,
    [
      ...enter,
      'env',
      'PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
      'KUBECONFIG=/etc/kubernetes/admin.conf',
      'ETCDCTL_API=3',
      'sh',
      '-c',
      command,
    ],
    { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/** Creates a namespace and waits for its default ServiceAccount (pods need it). */
export async function createNamespace(ns: string): Promise<void> {
  await kubectl(['create', 'namespace', ns]);
  await eventually(
    'the default ServiceAccount',
    () => kubectl(['-n', ns, 'get', 'serviceaccount', 'default', '-o', 'name']),
    (out) => out.trim() === 'serviceaccount/default',
  );
}

/**
 * A TCP relay in a node's network namespace, listening on the node's address
 * (which this machine reaches on the cluster network) and forwarding each
 * connection to `host:port` as the node sees it: a ClusterIP (through the
 * node's kube-proxy rules, a backend picked per connection), a pod IP, or
 * the machine's own address. Ends with this process.
 */
export async function relayOnNode(
  nodeName: string,
  host: string,
  port: number,
): Promise<{ url: string; address: string; port: number; stop: () => void }> {
  const node = realNode(nodeName);
  const child = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      'nsenter',
      '-t',
      String(node.pid),
      '-n',
      '--',
      process.execPath,
      '-e',
      `const net = require('node:net');
       const server = net.createServer((s) => {
         const u = net.connect(${port}, ${JSON.stringify(host)});
         s.pipe(u).pipe(s);
         s.on('error', () => u.destroy());
         u.on('error', () => s.destroy());
       });
       server.listen(0, ${JSON.stringify(node.address)}, () => console.log(server.address().port));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const listening = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
    child.once('exit', (code) => reject(new Error(`the relay on ${nodeName} exited (${code})`)));
  });
  return {
    url: `http://${node.address}:${listening}`,
    address: node.address,
    port: listening,
    stop: () => void child.kill('SIGKILL'),
  };
}
