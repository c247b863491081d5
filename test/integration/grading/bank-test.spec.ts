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

  it('passes a question whose baseline and reference solution grade as stated', async () => {
    const { code, stdout } = await bankTest('solved');
    expect(stdout).toMatch(/^solved\s+0\/0\s+1\/1\s+[\d.]+\s+ok\s*$/m);
    expect(stdout).toContain('1 questions, 1 ok, 0 mismatched');
    expect(code).toBe(0);
  }, 120_000);

  it('fails, naming the check and why, when a solution misses or a setup already scores', async () => {
    const { code, stdout } = await bankTest();
    expect(code).toBe(1);
    expect(stdout).toMatch(/^half-solved\s+0\/0\s+1\/3\s+[\d.]+\s+MISMATCH/m);
    expect(stdout).toContain('after the solution: expected 3 points, got 1');
    expect(stdout).toMatch(/two \[failed\] ConfigMap two: data(\.key)?: expected/);
    expect(stdout).toMatch(/^wrong-baseline\s+1\/0\s+1\/1\s+[\d.]+\s+MISMATCH/m);
    expect(stdout).toContain('baseline: expected 0 points, got 1');
    expect(stdout).toMatch(/^solved\s+.*ok/m);
    expect(stdout).toContain('3 questions, 1 ok, 2 mismatched');
  }, 120_000);
});
