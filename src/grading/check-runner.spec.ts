import { describe, expect, it } from '@jest/globals';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { runChecks, type RunOptions, Semaphore, type TaskToGrade } from './check-runner.js';
import { ClusterReads } from './cluster-reads.js';
import { defineGrader, type Grader } from './grader-api.js';

/** Unit level: custom graders stand in for the cluster, so the runner's own rules show. */
const graders: Record<string, Grader> = {
  pass: defineGrader(async () => ({ passed: true })),
  fail: defineGrader(async () => ({ passed: false, message: 'nope' })),
  hang: defineGrader(() => new Promise(() => {})),
  nan: defineGrader(async () => ({ passed: false, points: Number.NaN })),
  half: defineGrader(async () => ({ passed: false, points: 1, message: 'half' })),
  flaky: defineGrader(async () => {
    throw new Error('boom');
  }),
};

function run(checks: TaskToGrade['checks'], options: Partial<RunOptions> = {}) {
  const reads = new ClusterReads({} as ClusterClient);
  return runChecks(
    [{ id: 't', questionId: 'q', cluster: 'main', variables: {}, answer: null, checks }],
    {
      readsFor: () => reads,
      loadGrader: async (name) => graders[name],
      concurrency: 2,
      settleFrom: 0,
      evaluationTimeoutMs: 100,
      ...options,
    },
  ).then((m) => Object.fromEntries(m.get('t')!.map((o) => [o.checkId, o])));
}

const custom = (id: string, grader: string, extra: object = {}) => ({
  id,
  kind: 'custom',
  grader,
  description: id,
  ...extra,
});

describe('Semaphore', () => {
  it('holds at most its size, and lets an urgent waiter go before earlier ordinary ones', async () => {
    const slots = new Semaphore(1);
    const order: string[] = [];
    await slots.acquire();
    const waiter = (name: string, urgent = false) =>
      slots.acquire(urgent).then(() => {
        order.push(name);
        slots.release();
      });
    const all = [waiter('first'), waiter('second'), waiter('chained', true)];
    // The slot is held: nobody gets in, however long they wait.
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    slots.release();
    await Promise.all(all);
    expect(order).toEqual(['chained', 'first', 'second']);
  });

  it('never lets more than its size in at once', async () => {
    const slots = new Semaphore(2);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        // Arriving one after another, while others leave: a slot counted twice would show.
        await new Promise((r) => setTimeout(r, i * 3));
        await slots.acquire(i % 3 === 0);
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 10));
        inside--;
        slots.release();
      }),
    );
    expect(most).toBe(2);
  });
});

describe('runChecks', () => {
  /** These graders, with a failing check looked at again every 10 ms while the cluster acts. */
  const whileBusy = (named: Record<string, Grader>): Partial<RunOptions> => ({
    loadGrader: async (name) => named[name],
    settleFrom: Date.now(),
    pollIntervalMs: 10,
    activity: async () => 'busy',
    namespaces: [],
  });

  /** Graders that record the order they are looked at in, each taking `ms`; `failing` never pass. */
  const recorder = (ms: number, failing: string[] = []) => {
    const order: string[] = [];
    const loadGrader = async (name: string) =>
      defineGrader(async () => {
        order.push(name);
        await new Promise((r) => setTimeout(r, ms));
        return { passed: !failing.includes(name), message: 'not yet' };
      });
    return { order, loadGrader };
  };

  it('evaluates a check whose prerequisite passed before checks still waiting to start', async () => {
    const { order, loadGrader } = recorder(5);
    await run(
      [
        custom('a', 'a'),
        ...['c', 'd', 'e'].map((id) => custom(id, id)),
        // Queued last, behind c…e, until a passes.
        custom('b', 'b', { requires: ['a'] }),
      ],
      { loadGrader, concurrency: 1 },
    );
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('lets a chained check go first only on its first look, not each time it polls', async () => {
    const { order, loadGrader } = recorder(20, ['b']);
    await run(
      [
        custom('a', 'a'),
        // Fails for a second, looked at again every 30 ms.
        custom('b', 'b', { requires: ['a'], timeout: 1 }),
        ...['c', 'd', 'e', 'f'].map((id) => custom(id, id)),
      ],
      { loadGrader, concurrency: 1, settleFrom: Date.now(), pollIntervalMs: 30 },
    );
    // b's second look queues behind c…f, which were waiting before it.
    expect(order.slice(0, 7)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'b']);
  });

  it('looks at a chained check while its prerequisite is still being looked at', async () => {
    const events: string[] = [];
    const timed = (name: string, ms: number) =>
      defineGrader(async () => {
        events.push(`${name} starts`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`${name} ends`);
        return { passed: true };
      });
    const chain: Record<string, Grader> = { slow: timed('a', 60), quick: timed('b', 10) };
    const r = await run([custom('a', 'slow'), custom('b', 'quick', { requires: ['a'] })], {
      loadGrader: async (name) => chain[name],
    });
    // b overlapped a, and its pass counts only once a passed.
    expect(events).toEqual(['a starts', 'b starts', 'b ends', 'a ends']);
    expect(r.b).toMatchObject({ status: 'passed', pointsAwarded: 1 });
  });

  it('looks again at a chained check whose prerequisite passed only on a later look, and decides on that', async () => {
    let aLooks = 0;
    const settling: Record<string, Grader> = {
      // Passes on its third look, once the cluster has settled.
      a: defineGrader(async () => {
        aLooks++;
        await new Promise((r) => setTimeout(r, 5));
        return { passed: aLooks >= 3, message: 'not yet' };
      }),
      // A "denied" check: passes only while a's state does not hold yet.
      b: defineGrader(async () => ({ passed: aLooks < 3, message: 'got through' })),
    };
    const r = await run(
      [custom('a', 'a', { timeout: 5 }), custom('b', 'b', { requires: ['a'], timeout: 0 })],
      whileBusy(settling),
    );
    expect(r.a.status).toBe('passed');
    expect(r.b).toMatchObject({ status: 'failed', message: 'got through' });
  });

  it('stops looking at a chained check once its prerequisite failed, and skips it', async () => {
    const looks = { a: 0, b: 0 };
    const counting: Record<string, Grader> = {
      a: defineGrader(async () => {
        looks.a++;
        await new Promise((r) => setTimeout(r, 50));
        return { passed: false, message: 'a fails' };
      }),
      b: defineGrader(async () => {
        looks.b++;
        return { passed: false, message: 'not yet' };
      }),
    };
    const r = await run(
      // b would be looked at every 10 ms for 5 s; a decides after one look.
      [custom('a', 'a', { timeout: 0 }), custom('b', 'b', { requires: ['a'], timeout: 5 })],
      whileBusy(counting),
    );
    expect(r.b).toMatchObject({
      status: 'skipped',
      message: 'skipped: requires "a", which failed',
    });
    const looksAtSkip = looks.b;
    await new Promise((r) => setTimeout(r, 100));
    // Looked at while a was (about 5 looks in a's 50 ms), not after it failed.
    expect(looksAtSkip).toBeGreaterThan(0);
    expect(looks.b - looksAtSkip).toBeLessThanOrEqual(1);
    expect(looks.a).toBe(1);
  });

  it('scores passed, failed and partial credit, keeping the order of the checks', async () => {
    const r = await run([
      custom('a', 'pass', { points: 2 }),
      custom('b', 'fail'),
      custom('c', 'half', { points: 3 }),
    ]);
    expect(Object.keys(r)).toEqual(['a', 'b', 'c']);
    expect(r.a).toMatchObject({ status: 'passed', pointsAwarded: 2, pointsPossible: 2 });
    expect(r.b).toMatchObject({ status: 'failed', pointsAwarded: 0, message: 'nope' });
    expect(r.c).toMatchObject({ status: 'failed', pointsAwarded: 1, message: 'half' });
  });

  it('skips a check whose prerequisite failed or errored, saying which', async () => {
    const r = await run([
      custom('a', 'fail'),
      custom('b', 'pass', { requires: ['a'] }),
      custom('c', 'flaky'),
      custom('d', 'pass', { requires: ['c'] }),
    ]);
    expect(r.b).toMatchObject({
      status: 'skipped',
      message: 'skipped: requires "a", which failed',
    });
    expect(r.d.message).toBe('skipped: requires "c", which could not be decided');
  });

  it('makes a grader that never answers, throws or returns NaN points an error, never a failure', async () => {
    const r = await run([custom('hang', 'hang'), custom('throws', 'flaky'), custom('nan', 'nan')]);
    expect(r.hang).toMatchObject({ status: 'error', pointsAwarded: 0 });
    expect(r.hang.message).toMatch(/did not finish timed out after 100 ms/);
    expect(r.throws.message).toBe('could not decide: grader flaky failed: boom');
    expect(r.nan.message).toMatch(/returned points NaN/);
  });

  it('makes a cluster it cannot reach, and a check invalid for its kind, errors', async () => {
    const noCluster = await run([custom('a', 'pass')], {
      readsFor: () => {
        throw new Error('no cluster "other" is configured');
      },
    });
    expect(noCluster.a).toMatchObject({
      status: 'error',
      message: 'could not decide: no cluster "other" is configured',
    });
    const invalid = await run([{ id: 'x', kind: 'resource', description: 'x' }]);
    expect(invalid.x.status).toBe('error');
    expect(invalid.x.message).toMatch(/^check "x" is invalid: /);
  });

  describe('looking again at a failing check', () => {
    // Fails twice, then passes: a state the cluster is still moving towards.
    const settling = () => {
      let calls = 0;
      return defineGrader(async () => ({ passed: ++calls > 2, message: `look ${calls}` }));
    };
    const now = () => Date.now();

    it('looks again while the cluster is acting on the task, and passes when it gets there', async () => {
      graders.settling = settling();
      const asked: string[][] = [];
      const r = await run([custom('a', 'settling', { timeout: 10 })], {
        settleFrom: now(),
        pollIntervalMs: 10,
        namespaces: ['s1-app', 's1-other'],
        activity: async (_alias, namespaces) => {
          asked.push(namespaces);
          return 'Pod web-1: waiting for the scheduler';
        },
      });
      expect(r.a.status).toBe('passed');
      expect(asked.length).toBe(2);
      expect(asked[0]).toEqual([]); // the task's variables name none of the session's namespaces
    });

    it('decides at once when nothing is under way, however long the timeout', async () => {
      graders.settling = settling();
      const started = Date.now();
      const r = await run([{ ...custom('a', 'settling', { timeout: 60 }) }], {
        settleFrom: now(),
        pollIntervalMs: 10,
        activity: async () => undefined,
      });
      expect(r.a).toMatchObject({ status: 'failed', message: 'look 1' });
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it("asks about the task's own namespaces, found among its variables", async () => {
      graders.settling = settling();
      const asked: string[][] = [];
      const reads = new ClusterReads({} as ClusterClient);
      await runChecks(
        [
          {
            id: 't',
            questionId: 'q',
            cluster: 'main',
            variables: { ns: 's1-app', app: 'web', n: 3 },
            answer: null,
            checks: [custom('a', 'settling', { timeout: 10 })],
          },
        ],
        {
          readsFor: () => reads,
          loadGrader: async (name) => graders[name],
          concurrency: 2,
          settleFrom: now(),
          pollIntervalMs: 10,
          namespaces: ['s1-app', 's1-other'],
          activity: async (_alias, namespaces) => {
            asked.push(namespaces);
            return undefined;
          },
        },
      );
      expect(asked).toEqual([['s1-app']]);
    });

    it('stops at the timeout even while the cluster keeps acting', async () => {
      graders.fail = defineGrader(async () => ({ passed: false, message: 'nope' }));
      const r = await run([custom('a', 'fail', { timeout: 1 })], {
        settleFrom: now(),
        pollIntervalMs: 50,
        activity: async () => 'always busy',
      });
      expect(r.a).toMatchObject({ status: 'failed', message: 'nope' });
      expect(r.a.durationMs).toBeGreaterThanOrEqual(800);
      expect(r.a.durationMs).toBeLessThan(3_000);
    });
  });
});
