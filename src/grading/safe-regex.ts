import { UndecidableError } from './kinds/verdict.js';
import { RE2JS } from 're2js';

/**
 * Every pattern the engine matches against what a candidate controls (an
 * answer, a field of their objects, a string in a CEL expression) goes through
 * RE2: matching takes time linear in the text, so no pattern and no input can
 * hold the event loop (JavaScript's backtracking RegExp took 13 s for a
 * 28-character answer against `^(a+)+$`, and every extra character doubled it).
 * RE2 has no backreferences or lookaround; `bank:lint` reports patterns that
 * use them.
 */

/** Longer texts are not matched at all (answers are capped at 20,000 characters on input). */
export const MAX_MATCHED_TEXT = 65_536;

export class PatternError extends Error {
  constructor(pattern: string, reason: string) {
    super(`/${pattern}/ is not a pattern the linear-time (RE2) engine accepts: ${reason}`);
    this.name = 'PatternError';
  }
}

export class TextTooLongError extends Error {
  constructor(length: number) {
    super(
      `a text of ${length} characters is longer than the ${MAX_MATCHED_TEXT} matched against patterns`,
    );
    this.name = 'TextTooLongError';
  }
}

const MAX_CACHED = 1000;
const cache = new Map<string, RE2JS>();

/** Compiles (once) or throws PatternError with RE2's reason. */
export function compilePattern(pattern: string, caseInsensitive = false): RE2JS {
  const key = `${caseInsensitive ? 'i' : '-'}${pattern}`;
  let compiled = cache.get(key);
  if (!compiled) {
    try {
      compiled = RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
    } catch (error) {
      throw new PatternError(
        pattern,
        (error as Error).message.replace(/^error parsing regexp: /, ''),
      );
    }
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, compiled);
  }
  return compiled;
}

/** Whether `pattern` matches anywhere in `text` (like RegExp.prototype.test), in linear time. */
export function patternMatches(pattern: string, text: string, caseInsensitive = false): boolean {
  if (text.length > MAX_MATCHED_TEXT) throw new TextTooLongError(text.length);
  return compilePattern(pattern, caseInsensitive).test(text);
}

/** Why RE2 refuses `pattern`, or undefined when it compiles (for bank:lint). */
export function patternProblem(pattern: string): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * RE2 over up to a megabyte (linear time, so no cap like the answer
 * checks'), with ^ and $ at line ends as in grep.
 */
export function multiLineMatch(pattern: string, text: string): boolean {
  try {
    return compilePattern(`(?m)${pattern}`).test(text);
  } catch (error) {
    throw new UndecidableError((error as Error).message);
  }
}
