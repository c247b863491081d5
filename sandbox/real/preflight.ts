import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { runCommand, tryCommand } from './commands.js';
import { CGROUP_CONTROLLERS } from './node-host.js';

export class RealNodeHostError extends Error {
  constructor(message: string) {
    super(`this machine cannot run real sandbox nodes: ${message}`);
    this.name = 'RealNodeHostError';
  }
}

/** Programs a real node needs on the host, with the Debian package that has each. */
const HOST_PROGRAMS: [string, string][] = [
  ['/usr/bin/setpriv', 'util-linux'],
  ['/usr/bin/unshare', 'util-linux'],
  ['/usr/bin/nsenter', 'util-linux'],
  ['/usr/sbin/ip', 'iproute2'],
  ['/usr/sbin/iptables', 'iptables'],
  ['/usr/sbin/ipset', 'ipset'],
  ['/usr/sbin/conntrack', 'conntrack'],
  ['/usr/bin/socat', 'socat'],
];

/**
 * What a real node needs of the machine, each missing piece explained in one
 * line before anything is started: root, cgroup v1 controllers, overlayfs,
 * network namespaces with veth and bridge links, bridge netfilter, and the
 * host programs.
 */
export async function checkRealNodeHost(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new RealNodeHostError('it must run as root (namespaces, mounts, cgroups, interfaces)');
  for (const [path, pkg] of HOST_PROGRAMS)
    if (!existsSync(path))
      throw new RealNodeHostError(`${path} is missing (Debian package ${pkg})`);
  const missing = CGROUP_CONTROLLERS.filter(
    (c) => c !== 'systemd' && !existsSync(`/sys/fs/cgroup/${c}/cgroup.procs`),
  );
  if (missing.length)
    throw new RealNodeHostError(
      `the cgroup v1 controllers ${missing.join(', ')} are not mounted under /sys/fs/cgroup (the kubelet runs on cgroup v1 here)`,
    );
  const filesystems = await readFile('/proc/filesystems', 'utf8');
  if (!/\boverlay\b/.test(filesystems))
    throw new RealNodeHostError(
      'the kernel has no overlay filesystem (containerd snapshots need it)',
    );
  const probe = `cka-probe-${process.pid}`;
  try {
    await runCommand(['ip', 'netns', 'add', probe]).catch((error: Error) => {
      throw new RealNodeHostError(`network namespaces cannot be made (${error.message})`);
    });
    await runCommand([
      'ip',
      '-n',
      probe,
      'link',
      'add',
      'p0',
      'type',
      'veth',
      'peer',
      'name',
      'p1',
    ]).catch((error: Error) => {
      throw new RealNodeHostError(`veth links cannot be made (${error.message})`);
    });
    await runCommand(['ip', '-n', probe, 'link', 'add', 'b0', 'type', 'bridge']).catch(
      (error: Error) => {
        throw new RealNodeHostError(`bridges cannot be made (${error.message})`);
      },
    );
  } finally {
    await tryCommand(['ip', 'netns', 'del', probe]);
  }
  // Built into some kernels (this one), a module on others.
  if (!existsSync('/proc/sys/net/bridge') && existsSync('/usr/sbin/modprobe'))
    await tryCommand(['modprobe', 'br_netfilter']);
  if (!existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables'))
    throw new RealNodeHostError(
      'bridge netfilter (br_netfilter) is not available: Service traffic between pods on one node would bypass kube-proxy',
    );
}

/** The inotify limits several clusters on one machine need (kind asks for the same). */
const INOTIFY_LIMITS: Record<string, number> = {
  'fs/inotify/max_user_instances': 8192,
  'fs/inotify/max_user_watches': 524_288,
};

/**
 * Raises the machine's inotify limits where they are lower. Every node's
 * kubelet, containerd, kube-proxy, CoreDNS and controllers open inotify
 * instances, all charged to root, and the kernel's default of 128 instances
 * is used up by about four clusters: the next cluster's kube-proxy then dies
 * with "too many open files" and its start times out. Left raised when the
 * cluster stops (others may still run; a higher limit costs nothing unused).
 */
export async function raiseInotifyLimits(log: (line: string) => void): Promise<void> {
  for (const [key, wanted] of Object.entries(INOTIFY_LIMITS)) {
    const path = `/proc/sys/${key}`;
    const current = Number((await readFile(path, 'utf8')).trim());
    if (current >= wanted) continue;
    // A read-only /proc/sys (a container) still runs one or two clusters.
    await writeFile(path, String(wanted)).catch((error: Error) =>
      log(
        `${key.replaceAll('/', '.')} is ${current} and cannot be raised (${error.message}): more than about four clusters at once need sysctl -w ${key.replaceAll('/', '.')}=${wanted}`,
      ),
    );
  }
}
