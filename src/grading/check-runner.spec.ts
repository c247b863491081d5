import { describe, expect, it } from '@jest/globals';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { runChecks, type RunOptions, type TaskToGrade } from './check-runner.js';
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

describe('runChecks', () => {
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
});
