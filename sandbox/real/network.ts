import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../build.js';
import { runCommand, tryCommand } from './commands.js';

/**
 * One real cluster's network, like a rack's: a switch (a bridge in a network
 * namespace of its own) with every node's `eth0` on it, and the host on it
 * through a veth pair, so the engine and the tests reach the API server and
 * NodePorts at the nodes' addresses while nothing of the cluster's routing,
 * iptables or kube-proxy rules touches the host's namespace. Each cluster
 * has its own /24 (172.31.<index>.0/24 unless SANDBOX_REAL_NET says another
 * /16): the host is .1, node i is .10+i.
 */
export interface ClusterNetwork {
  index: number;
  /** The switch's network namespace (`ip netns` name). */
  switchNamespace: string;
  /** The host's end of the uplink. */
  hostInterface: string;
  hostAddress: string;
  prefixLength: 24;
  /** The address of node `i` (0 = the first control plane). */
  nodeAddress(i: number): string;
  /** Plugs a node's network namespace (the pid of a process in it) into the switch as its eth0. */
  attach(i: number, pid: number): Promise<void>;
  /** Lets the nodes open connections to this TCP port of the host's address (an image registry). */
  allowInbound(port: number): Promise<void>;
  /** Removes the switch, the uplink and the lock (idempotent). */
  destroy(): Promise<void>;
}

const MAX_CLUSTERS = 250;

/** The /16 the clusters' /24s come from, as its first two octets. */
function base(): string {
  const net = process.env.SANDBOX_REAL_NET ?? '172.31.0.0/16';
  const match = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(net);
  if (!match) throw new Error(`SANDBOX_REAL_NET must be a /16 like 172.31.0.0/16, not "${net}"`);
  return `${match[1]}.${match[2]}`;
}

/** Interface names are at most 15 bytes: a short tag of the run keeps them unique. */
export function networkNames(tag: string) {
  return {
    switchNamespace: `cka-${tag}`,
    hostInterface: `cka${tag}h`,
    uplink: 'uplink',
    inboundChain: `CKA-IN-${tag}`,
  };
}

/**
 * The host's filter for a cluster's uplink: a chain of its own, jumped
 * to for packets that come in on the uplink, that answers the connections
 * the host opened (the engine's to the API server, NodePorts), lets through
 * the ports `allowInbound` names (the image registries) and refuses
 * everything else. A node's root is the cluster-admin's, and the uplink
 * reaches every service of this machine that listens on all its addresses.
 * Refused, not dropped: a node's DNS asks the host's address, and gives up at
 * once (as before, when nothing there answered).
 */
async function fenceInbound(names: ReturnType<typeof networkNames>): Promise<void> {
  const chain = names.inboundChain;
  await runCommand(['iptables', '-w', '-N', chain]);
  await runCommand([
    'iptables',
    '-w',
    '-A',
    chain,
    '-m',
    'conntrack',
    '--ctstate',
    'ESTABLISHED,RELATED',
    '-j',
    'ACCEPT',
  ]);
  await runCommand(['iptables', '-w', '-A', chain, '-j', 'REJECT']);
  await runCommand(['iptables', '-w', '-I', 'INPUT', '-i', names.hostInterface, '-j', chain]);
  // Nor is anything routed through the host, to or from the uplink (another
  // cluster's network, the host's LAN), on a host that forwards packets.
  for (const direction of FORWARDS)
    await runCommand([
      'iptables',
      '-w',
      '-I',
      'FORWARD',
      direction,
      names.hostInterface,
      '-j',
      'REJECT',
    ]);
}

const FORWARDS = ['-i', '-o'];

/** Removes a cluster's INPUT filter (idempotent: a killed launcher's may be half made or gone). */
export async function removeInboundFence(names: ReturnType<typeof networkNames>): Promise<void> {
  const chain = names.inboundChain;
  while (
    await tryCommand(['iptables', '-w', '-D', 'INPUT', '-i', names.hostInterface, '-j', chain])
  );
  for (const direction of FORWARDS)
    while (
      await tryCommand([
        'iptables',
        '-w',
        '-D',
        'FORWARD',
        direction,
        names.hostInterface,
        '-j',
        'REJECT',
      ])
    );
  await tryCommand(['iptables', '-w', '-F', chain]);
  await tryCommand(['iptables', '-w', '-X', chain]);
}

/**
 * Claims a free index (a lock directory holding our pid, taken over when its
 * owner is gone) and builds the network. On failure, what was made is removed.
 */
export async function createClusterNetwork(tag: string, locksDir: string): Promise<ClusterNetwork> {
  const prefix = base();
  await mkdir(locksDir, { recursive: true });
  const index = await claimIndex(locksDir, prefix);
  const names = networkNames(tag);
  const hostAddress = `${prefix}.${index}.1`;
  const lock = join(locksDir, `net-${index}`);
  const network: ClusterNetwork = {
    index,
    switchNamespace: names.switchNamespace,
    hostInterface: names.hostInterface,
    hostAddress,
    prefixLength: 24,
    nodeAddress: (i) => `${prefix}.${index}.${10 + i}`,
    attach: async (i, pid) => {
      const outside = `n${i}`;
      // Created in the node's namespace as eth0, its peer moved onto the switch.
      await runCommand([
        'ip',
        'link',
        'add',
        'eth0',
        'netns',
        String(pid),
        'type',
        'veth',
        'peer',
        'name',
        `${tag}n${i}`,
      ]);
      await runCommand(['ip', 'link', 'set', `${tag}n${i}`, 'netns', names.switchNamespace]);
      const sw = ['ip', '-n', names.switchNamespace];
      await runCommand([...sw, 'link', 'set', `${tag}n${i}`, 'name', outside]);
      await runCommand([...sw, 'link', 'set', outside, 'master', 'br0', 'up']);
      const node = ['nsenter', '-t', String(pid), '-n', 'ip'];
      await runCommand([...node, 'addr', 'add', `${network.nodeAddress(i)}/24`, 'dev', 'eth0']);
      await runCommand([...node, 'link', 'set', 'eth0', 'up']);
      await runCommand([...node, 'link', 'set', 'lo', 'up']);
      // Service addresses need a route before kube-proxy's DNAT rewrites them.
      await runCommand([...node, 'route', 'add', 'default', 'via', hostAddress]);
    },
    allowInbound: async (port) => {
      await runCommand([
        'iptables',
        '-w',
        '-I',
        names.inboundChain,
        '1',
        '-p',
        'tcp',
        '-d',
        hostAddress,
        '--dport',
        String(port),
        '-j',
        'ACCEPT',
      ]);
    },
    destroy: async () => {
      await removeInboundFence(names);
      await tryCommand(['ip', 'link', 'del', names.hostInterface]);
      await tryCommand(['ip', 'netns', 'del', names.switchNamespace]);
      await rm(lock, { recursive: true, force: true });
    },
  };
  try {
    await runCommand(['ip', 'netns', 'add', names.switchNamespace]);
    const sw = ['ip', '-n', names.switchNamespace];
    await runCommand([...sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await runCommand([...sw, 'link', 'set', 'br0', 'up']);
    await runCommand([...sw, 'link', 'set', 'lo', 'up']);
    await runCommand([
      'ip',
      'link',
      'add',
      names.hostInterface,
      'type',
      'veth',
      'peer',
      'name',
      names.uplink,
      'netns',
      names.switchNamespace,
    ]);
    await runCommand([...sw, 'link', 'set', names.uplink, 'master', 'br0', 'up']);
    await fenceInbound(names);
    // No IPv6 on the uplink: the filter is IPv4's, and a link-local address
    // would reach every service listening on all of the host's IPv6 ones.
    if (existsSync(`/proc/sys/net/ipv6/conf/${names.hostInterface}`))
      await writeFile(`/proc/sys/net/ipv6/conf/${names.hostInterface}/disable_ipv6`, '1');
    await runCommand(['ip', 'addr', 'add', `${hostAddress}/24`, 'dev', names.hostInterface]);
    await runCommand(['ip', 'link', 'set', names.hostInterface, 'up']);
    return network;
  } catch (error) {
    await network.destroy();
    throw error;
  }
}

async function claimIndex(locksDir: string, prefix: string): Promise<number> {
  const used = await runCommand(['ip', '-o', '-4', 'addr', 'show']);
  for (let index = 0; index < MAX_CLUSTERS; index++) {
    // Someone else's network (a VPN, another tool) on that /24: leave it alone.
    if (used.includes(` ${prefix}.${index}.`)) continue;
    const lock = join(locksDir, `net-${index}`);
    try {
      await mkdir(lock);
    } catch {
      const owner = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
      if (owner && processAlive(owner)) continue;
      // A dead owner's network was swept (or will be); its index is free again.
      await rm(lock, { recursive: true, force: true });
      try {
        await mkdir(lock);
      } catch {
        continue;
      }
    }
    await writeFile(join(lock, 'pid'), String(process.pid));
    return index;
  }
  throw new Error(
    `no free /24 for another real cluster in ${prefix}.0.0/16 (${MAX_CLUSTERS} in use)`,
  );
}
