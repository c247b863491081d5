import { readFileSync } from 'node:fs';

/**
 * Who started the sandbox CLI, and every process between it and us. npm, its
 * `sh -c` and tsx sit between a terminal (or scripts/start.sh) and the CLI; if
 * the one who ran `npm run sandbox` is killed outright, those wrappers are not
 * always killed with it, and the CLI's parent may live on. So the CLI watches
 * the whole chain up to the owner, and stops when any link of it ends.
 */
export interface ProcessLink {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat): tells a reused pid apart. */
  startTime: string;
  comm: string;
}

/** Reads one process's parent and identity, or undefined when it is gone. */
export type ProcessReader = (pid: number) => { ppid: number; link: ProcessLink } | undefined;

export const readProc: ProcessReader = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is parenthesised and may itself contain spaces or ')'.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // exited, not yet reaped
    return {
      ppid: Number(fields[1]),
      link: { pid, startTime: fields[19], comm: stat.slice(open + 1, close) },
    };
  } catch {
    return undefined;
  }
};

/** Process names of the launchers that sit between whoever ran the CLI and the CLI itself. */
const WRAPPER = /^(node|npm|npx|tsx|sh|dash|MainThread)(\s|$)/;

/**
 * The chain of processes from `parent` up to and including the owner: the
 * process with pid `ownerPid` when given (SANDBOX_OWNER_PID), otherwise the
 * first ancestor that is not a wrapper (the shell, the script or the test
 * runner that ran npm). Never includes pid 1 (init adopts orphans; it is
 * nobody's owner).
 */
export function ownerChain(
  parent: number,
  ownerPid: number | undefined,
  read: ProcessReader = readProc,
): ProcessLink[] {
  const chain: ProcessLink[] = [];
  let pid = parent;
  while (pid > 1) {
    const info = read(pid);
    if (!info) break;
    chain.push(info.link);
    if (ownerPid === undefined ? !WRAPPER.test(info.link.comm) : pid === ownerPid) break;
    pid = info.ppid;
  }
  if (ownerPid !== undefined && !chain.some((link) => link.pid === ownerPid)) {
    // Not an ancestor (started through something that detached): watch it anyway.
    const owner = read(ownerPid);
    if (owner) chain.push(owner.link);
  }
  return chain;
}

/** The first link of the chain that has ended (or whose pid now names another process). */
export function firstGone(
  chain: ProcessLink[],
  read: ProcessReader = readProc,
): ProcessLink | undefined {
  return chain.find((link) => read(link.pid)?.link.startTime !== link.startTime);
}

/**
 * Calls `onGone` once when any process between the CLI and its owner ends.
 * Polls every `intervalMs` (no kernel notification exists for a non-parent's death).
 */
export function watchOwner(
  ownerPid: number | undefined,
  onGone: (link: ProcessLink) => void,
  intervalMs = 250,
): ProcessLink[] {
  const chain = ownerChain(process.ppid, ownerPid);
  const timer = setInterval(() => {
    const gone = firstGone(chain);
    if (gone) {
      clearInterval(timer);
      onGone(gone);
    }
  }, intervalMs);
  timer.unref();
  return chain;
}
