import type { AnswerCheck } from '../check.schema.js';
import { evaluateCel } from '../cel.js';
import { patternMatches } from '../safe-regex.js';
import { celBindings, celFailure } from './cel-bindings.js';
import { type CheckEnv, fail, pass, UndecidableError, type Verdict } from './verdict.js';

/** Trimmed, inner whitespace collapsed, lower-cased unless the check is case-sensitive. */
export function normaliseAnswer(text: string, caseSensitive: boolean): string {
  const collapsed = text.trim().replace(/\s+/g, ' ');
  return caseSensitive ? collapsed : collapsed.toLowerCase();
}

/** The candidate's text answer against a literal, a pattern or a value computed from the cluster. */
export async function evaluateAnswer(check: AnswerCheck, env: CheckEnv): Promise<Verdict> {
  const given = env.answer?.trim() ? env.answer : undefined;
  if (given === undefined) return fail('no answer was submitted');
  const answer = normaliseAnswer(given, check.caseSensitive);
  const shown = JSON.stringify(normaliseAnswer(given, true));
  if (check.pattern !== undefined) {
    let matched: boolean;
    try {
      matched = patternMatches(check.pattern, answer, !check.caseSensitive);
    } catch (error) {
      throw new UndecidableError((error as Error).message);
    }
    return matched
      ? pass()
      : fail(`answered ${shown}, expected an answer matching /${check.pattern}/`);
  }
  let expected: unknown = check.equals;
  if (check.expression !== undefined) {
    const { bindings, missing } = await celBindings(check.objects, env);
    try {
      expected = evaluateCel(check.expression, bindings, check.variables);
    } catch (error) {
      return celFailure(error, missing);
    }
    if (expected === null || typeof expected === 'object')
      throw new UndecidableError(
        `expression must compute a string or number, got ${JSON.stringify(expected)}`,
      );
  }
  const wanted = normaliseAnswer(String(expected), check.caseSensitive);
  return answer === wanted
    ? pass()
    : fail(`answered ${shown}, expected ${JSON.stringify(String(expected))}`);
}
