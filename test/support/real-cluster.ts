import { execFile } from 'node:child_process';
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
  const { stdout } = await run(
    'nsenter',
    [
      '-t',
      String(node.pid),
      '-m',
      '-u',
      '-n',
      '--',
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
