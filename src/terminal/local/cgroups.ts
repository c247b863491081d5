import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Limits for one shell through cgroup v1 (this machine's kind): `pids` holds a
 * fork bomb, `memory` the shell's processes and its tmpfs pages, `cpu` its
 * weight, `freezer` lets every process be stopped before it is killed (a
 * bomb cannot fork faster than it is swept). Per-process rlimits cannot do
 * this: RLIMIT_NPROC counts per user, and a shell raises its own soft limits.
 */
export const CGROUP_ROOT = '/sys/fs/cgroup';
const CONTROLLERS = ['pids', 'memory', 'cpu', 'freezer'] as const;

export interface CgroupLimits {
  pidsMax: number;
  memoryBytes: number;
  cpuShares: number;
}

/** Whether this process can make cgroups (root on a cgroup v1 host with the controllers mounted). */
export function cgroupsUsable(): boolean {
  return (
    process.getuid?.() === 0 &&
    CONTROLLERS.every((c) => existsSync(join(CGROUP_ROOT, c, 'cgroup.procs')))
  );
}

/** One shell's group in every controller, under `<controller>/<parent>/<name>`. */
export class ShellCgroup {
  readonly dirs: string[];

  constructor(
    readonly parent: string,
    readonly name: string,
  ) {
    this.dirs = CONTROLLERS.map((c) => join(CGROUP_ROOT, c, parent, name));
  }

  async create(limits: CgroupLimits): Promise<void> {
    for (const dir of this.dirs) await mkdir(dir, { recursive: true });
    const [pids, memory, cpu] = this.dirs;
    await writeFile(join(pids, 'pids.max'), String(limits.pidsMax));
    await writeFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // With swap accounting on, swap counts too (else a shell could swap past its limit).
    const swap = join(memory, 'memory.memsw.limit_in_bytes');
    if (existsSync(swap)) await writeFile(swap, String(limits.memoryBytes)).catch(() => undefined);
    await writeFile(join(cpu, 'cpu.shares'), String(limits.cpuShares));
  }

  async processes(): Promise<number[]> {
    return pidsIn(this.dirs[0]);
  }

  async memoryBytes(): Promise<number> {
    const text = await readFile(join(this.dirs[1], 'memory.usage_in_bytes'), 'utf8').catch(
      () => '0',
    );
    return Number(text.trim()) || 0;
  }

  /** Freezes the group, SIGKILLs every process, thaws it, and waits until it is empty. */
  async killAll(timeoutMs = 5000): Promise<number[]> {
    return killGroup(this.dirs[3], this.dirs[0], timeoutMs);
  }

  /** Removes the (empty) groups; a group that still has processes stays and is reported. */
  async remove(): Promise<void> {
    for (const dir of this.dirs) await rmdir(dir).catch(() => undefined);
  }
}

async function pidsIn(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid > 0);
}

async function killGroup(freezer: string, pids: string, timeoutMs: number): Promise<number[]> {
  const state = join(freezer, 'freezer.state');
  const until = Date.now() + timeoutMs;
  let left = await pidsIn(pids);
  while (left.length && Date.now() < until) {
    await writeFile(state, 'FROZEN').catch(() => undefined);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    // A frozen task receives SIGKILL on thaw.
    await writeFile(state, 'THAWED').catch(() => undefined);
    await sleep(20);
    left = await pidsIn(pids);
  }
  return left;
}

/**
 * Kills and removes every shell group under `<controller>/<parent>/<child>`
 * whose child name `stale` picks (left by a previous run of the engine).
 */
export async function sweepCgroups(
  parent: string,
  stale: (child: string) => boolean,
): Promise<string[]> {
  const swept: string[] = [];
  const pidsParent = join(CGROUP_ROOT, 'pids', parent);
  const children = await readdir(pidsParent, { withFileTypes: true }).catch(() => []);
  for (const child of children) {
    if (!child.isDirectory() || !stale(child.name)) continue;
    for (const group of await readdir(join(pidsParent, child.name), { withFileTypes: true })) {
      if (!group.isDirectory()) continue;
      const cgroup = new ShellCgroup(join(parent, child.name), group.name);
      await cgroup.killAll();
      await cgroup.remove();
    }
    for (const c of CONTROLLERS)
      await rmdir(join(CGROUP_ROOT, c, parent, child.name)).catch(() => undefined);
    swept.push(child.name);
  }
  return swept;
}
