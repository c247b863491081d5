import {
  MAX_MATCHED_TEXT,
  PatternError,
  patternMatches,
  patternProblem,
  TextTooLongError,
} from './safe-regex.js';
import { lintCheck } from './check-lint.js';
import { evaluateAnswer } from './kinds/answer.js';
import { matchObject } from './match.js';

describe('patternMatches (RE2)', () => {
  it('matches like RegExp.test: anywhere unless anchored, case-insensitive on request', () => {
    expect(patternMatches('v1\\.3\\d', 'Server v1.36.3')).toBe(true);
    expect(patternMatches('^v1', 'Server v1')).toBe(false);
    expect(patternMatches('^server', 'SERVER', true)).toBe(true);
    expect(patternMatches('^server', 'SERVER')).toBe(false);
  });

  it('answers a catastrophic pattern on a long input (JavaScript RegExp would not return)', () => {
    // `^(a+)+$` against a run of a's that ends in b: 2^n steps when backtracking.
    expect(patternMatches('^(a+)+$', `${'a'.repeat(5_000)}b`)).toBe(false);
    expect(patternMatches('^(a|aa)*c$', `${'a'.repeat(5_000)}b`)).toBe(false);
    expect(patternMatches('^(a+)+$', 'a'.repeat(5_000))).toBe(true);
  });

  it('refuses backreferences and lookaround with RE2 reason', () => {
    expect(() => patternMatches('(a)\\1', 'aa')).toThrow(PatternError);
    expect(patternProblem('a(?=b)')).toMatch(/RE2.*unsupported Perl syntax/);
    expect(patternProblem('^[a-z]+$')).toBeUndefined();
  });

  it('does not match texts longer than the cap', () => {
    expect(() => patternMatches('a', 'a'.repeat(MAX_MATCHED_TEXT + 1))).toThrow(TextTooLongError);
  });
});

describe('where patterns are used', () => {
  it('an answer check with a catastrophic pattern fails the answer without freezing', async () => {
    const verdict = await evaluateAnswer(
      {
        kind: 'answer',
        pattern: '^(a+)+$',
        caseSensitive: false,
        objects: {},
        variables: [],
      } as never,
      { answer: `${'a'.repeat(10_000)}!` } as never,
    );
    expect(verdict).toMatchObject({ passed: false });
  });

  it('$regex on a field uses RE2 too', () => {
    expect(
      matchObject({ name: { $regex: '^(a+)+$' } }, { name: `${'a'.repeat(5_000)}b` }),
    ).toHaveLength(1);
  });

  it('bank:lint reports a pattern RE2 refuses, in an answer and in CEL matches()', () => {
    expect(lintCheck({ kind: 'answer', id: 'a', description: 'd', pattern: '(x)\\1' })).toEqual([
      expect.objectContaining({ path: ['pattern'], rule: 'pattern' }),
    ]);
    const problems = lintCheck({
      kind: 'expr',
      id: 'e',
      description: 'd',
      objects: { cm: { apiVersion: 'v1', resourceKind: 'ConfigMap', name: 'c' } },
      expression: "cm.data.v.matches('(?=x)y') && cm.data.w.matches('^(a+)+$')",
    });
    expect(problems).toEqual([
      expect.objectContaining({
        path: ['expression'],
        rule: 'pattern',
        message: expect.stringMatching(
          /matches\(\): \/\(\?=x\)y\/ is not a pattern the linear-time \(RE2\) engine accepts/,
        ),
      }),
    ]);
  });
});
