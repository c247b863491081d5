import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tryCommand } from './commands.js';
import { networkNames, removeInboundFence } from './network.js';
import { killCgroupTree, removeCgroupTree } from './node-host.js';

/**
 * What a real cluster leaves on the host while it runs, recorded in its run
 * folder before anything is made, so that the next launcher can remove all
 * of it when this one was killed (SIGKILL, a crash, the machine's OOM killer):
 * processes and cgroups (`/cka/<tag>`), the switch namespace and uplink, the
 * network lock, and the kernel settings the kubelet changes for the whole
 * machine.
 */
export interface RealRunRecord {
  tag: string;
  /** The cgroup subtree of every node of the run. */
  cgroupRoot: string;
  /** The network's lock folder, once an index was claimed. */
  networkLock?: string;
  /** Machine-wide sysctls as they were before the kubelets started. */
  sysctls: Record<string, string>;
}

const RECORD = 'real-run.json';

/**
 * Kernel settings the kubelet sets for the whole machine (not per network
 * namespace) at start: restored when the cluster stops.
 */
export const MACHINE_SYSCTLS = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'];

export async function recordRealRun(runDir: string, record: RealRunRecord): Promise<void> {
  await writeFile(join(runDir, RECORD), JSON.stringify(record, null, 2));
}

export async function readMachineSysctls(): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const key of MACHINE_SYSCTLS)
    values[key] = (await readFile(join('/proc/sys', key), 'utf8')).trim();
  return values;
}

export async function restoreMachineSysctls(values: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(values))
    await writeFile(join('/proc/sys', key), value).catch(() => undefined);
}

/** Removes everything a real run recorded in `runDir` (its launcher is gone); idempotent. */
export async function removeRealLeftovers(runDir: string): Promise<void> {
  const path = join(runDir, RECORD);
  if (!existsSync(path)) return;
  const record = JSON.parse(await readFile(path, 'utf8')) as RealRunRecord;
  await killCgroupTree(record.cgroupRoot).catch(() => undefined);
  await removeCgroupTree(record.cgroupRoot);
  // The shared parent goes when this was the last run in it (rmdir refuses otherwise).
  await removeCgroupTree(record.cgroupRoot.split('/').slice(0, -1).join('/') || '/', false);
  const names = networkNames(record.tag);
  await removeInboundFence(names);
  await tryCommand(['ip', 'link', 'del', names.hostInterface]);
  await tryCommand(['ip', 'netns', 'del', names.switchNamespace]);
  if (record.networkLock) await rm(record.networkLock, { recursive: true, force: true });
  await restoreMachineSysctls(record.sysctls);
  // Container roots are overlay mounts made in the nodes' namespaces; with the
  // namespaces gone they are gone, and the folders can be removed.
  await rm(path, { force: true });
}
