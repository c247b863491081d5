import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/app.js';
import { runToExit } from '../../support/processes.js';

/** bank:test as trainers run it: a table, and a non-zero exit on any mismatch, with the reasons. */
describe('npm run bank:test', () => {
  const bankTest = (...args: string[]) =>
    runToExit(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'),
        join(REPO_ROOT, 'test/bank-test/cli.ts'),
        '--kubeconfig',
        process.env.SANDBOX_KUBECONFIG!,
        '--kubectl',
        process.env.SANDBOX_KUBECTL!,
        '--questions',
        join(REPO_ROOT, 'test/fixtures/banks/bank-test'),
        ...args,
      ],
      120_000,
    );

  it('passes a question whose baseline, alternative solution and known mistake grade as stated', async () => {
    const { code, stdout } = await bankTest('solved');
    expect(stdout).toMatch(/^question\s+entry\s+baseline\s+expected\s+score\s+seconds\s+result$/m);
    expect(stdout).toMatch(/^solved\s+solution\s+0\/0\s+1\/1\s+1\/1\s+[\d.]+\s+ok$/m);
    expect(stdout).toMatch(/^solved\s+solutions\[declarative\]\s+-\s+1\/1\s+1\/1\s+[\d.]+\s+ok$/m);
    expect(stdout).toMatch(/^solved\s+mistakes\[misspelt\]\s+-\s+<=0\/1\s+0\/1\s+[\d.]+\s+ok$/m);
    expect(stdout).toMatch(
      /^3 entries of 1 question \(1 reference, 1 alternative, 1 mistake\): 3 ok, 0 mismatched, [\d.]+ s$/m,
    );
    expect(code).toBe(0);
  }, 120_000);

  it('fails, naming the entry, the check and why, when a solution misses, a mistake scores too much or a setup already scores', async () => {
    const { code, stdout } = await bankTest();
    expect(code).toBe(1);
    expect(stdout).toMatch(/^half-solved\s+solution\s+0\/0\s+3\/3\s+1\/3\s+[\d.]+\s+MISMATCH/m);
    expect(stdout).toContain('after solution: expected 3 points, got 1');
    expect(stdout).toMatch(/two \[failed\] ConfigMap two: data(\.key)?: expected/);
    // An alternative whose command fails says which one, and is graded all the same.
    expect(stdout).toMatch(
      /^half-solved\s+solutions\[fails-to-run\]\s+-\s+3\/3\s+1\/3\s+[\d.]+\s+MISMATCH/m,
    );
    expect(stdout).toContain('solutions[fails-to-run] failed: command 2 exited 1: false');
    // A mistake that scores more than its maxPoints names the checks that gave the points.
    expect(stdout).toMatch(
      /^half-solved\s+mistakes\[not-a-mistake\]\s+-\s+<=1\/3\s+3\/3\s+[\d.]+\s+MISMATCH/m,
    );
    expect(stdout).toContain('after mistakes[not-a-mistake]: expected at most 1 points, got 3');
    expect(stdout).toMatch(/^ {4}two \+2$/m);
    expect(stdout).toMatch(/^wrong-baseline\s+solution\s+1\/0\s+1\/1\s+1\/1\s+[\d.]+\s+MISMATCH/m);
    expect(stdout).toContain('baseline: expected 0 points, got 1');
    expect(stdout).toMatch(/^solved\s+mistakes\[misspelt\]\s+.*ok$/m);
    expect(stdout).toMatch(
      /^7 entries of 3 questions \(3 reference, 2 alternatives, 2 mistakes\): 3 ok, 4 mismatched/m,
    );
  }, 120_000);

  it('runs only the reference solutions with --only-reference, and solves late with --solve-after', async () => {
    const { code, stdout } = await bankTest('--only-reference', '--solve-after', '3', 'solved');
    expect(code).toBe(0);
    const row = /^solved\s+solution\s+0\/0\s+1\/1\s+1\/1\s+([\d.]+)\s+ok$/m.exec(stdout);
    expect(Number(row?.[1])).toBeGreaterThanOrEqual(3);
    expect(stdout).not.toContain('solutions[');
    expect(stdout).not.toContain('mistakes[');
    expect(stdout).toContain(
      '1 entry of 1 question (1 reference, 0 alternatives, 0 mistakes): 1 ok',
    );
  }, 120_000);
});
