import { type ProcessLink, type ProcessReader, firstGone, ownerChain, readProc } from './owner.js';

/** A process table: pid → [ppid, comm, startTime]. */
function table(rows: Record<number, [number, string, string?]>): ProcessReader {
  return (pid) => {
    const row = rows[pid];
    if (!row) return undefined;
    return { ppid: row[0], link: { pid, comm: row[1], startTime: row[2] ?? `t${pid}` } };
  };
}

// init → sshd → bash (terminal) → bash (start.sh) → npm → sh → node (tsx) → node (cli)
const tree = table({
  10: [1, 'sshd'],
  20: [10, 'bash'],
  30: [20, 'start.sh'],
  40: [30, 'npm run sandbo'],
  50: [40, 'sh'],
  60: [50, 'node'],
});

const pids = (chain: ProcessLink[]) => chain.map((l) => l.pid);

describe('ownerChain', () => {
  it('without an owner pid, stops at the first ancestor that is not npm, sh or node', () => {
    expect(pids(ownerChain(60, undefined, tree))).toEqual([60, 50, 40, 30]);
  });

  it('with an owner pid, goes up to exactly that process', () => {
    expect(pids(ownerChain(60, 20, tree))).toEqual([60, 50, 40, 30, 20]);
    expect(pids(ownerChain(60, 40, tree))).toEqual([60, 50, 40]);
  });

  it('an owner that is not an ancestor is watched beside the whole chain, never init', () => {
    const withStranger = table({ 10: [1, 'sshd'], 20: [10, 'bash'], 99: [1, 'bash'] });
    expect(pids(ownerChain(20, 99, withStranger))).toEqual([20, 10, 99]);
  });

  it('a parent that is already gone gives an empty chain', () => {
    expect(ownerChain(12345, undefined, tree)).toEqual([]);
  });
});

describe('firstGone', () => {
  const chain = ownerChain(60, undefined, tree);

  it('is undefined while every link lives', () => {
    expect(firstGone(chain, tree)).toBeUndefined();
  });

  it('names the link that exited', () => {
    const scriptKilled = table({
      10: [1, 'sshd'],
      40: [1, 'npm run sandbo'],
      50: [40, 'sh'],
      60: [50, 'node'],
    });
    expect(firstGone(chain, scriptKilled)).toMatchObject({ pid: 30, comm: 'start.sh' });
  });

  it('sees a reused pid as gone (its start time differs)', () => {
    const reused = table({
      30: [1, 'bash', 'later'],
      40: [30, 'npm'],
      50: [40, 'sh'],
      60: [50, 'node'],
    });
    expect(firstGone(chain, reused)).toMatchObject({ pid: 30 });
  });
});

describe('readProc', () => {
  it('reads this process: its parent, its name and a start time', () => {
    const me = readProc(process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(me?.link.startTime).toMatch(/^\d+$/);
    expect(me?.link.comm.length).toBeGreaterThan(0);
  });

  it('is undefined for a pid that does not exist', () => {
    expect(readProc(2 ** 22 + 1)).toBeUndefined();
  });
});
