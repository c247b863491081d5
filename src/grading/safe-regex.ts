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
 * A quantified group that itself holds a quantifier (`(a+)+`, `(\w*x?)*`,
 * `(a|b+){2,}`): the shape that makes a backtracking engine take exponential
 * time. RE2 does not care; CEL's `matches()` runs on JavaScript's RegExp, so
 * bank:lint refuses this shape there. A heuristic: it may flag a harmless
 * pattern, which can always be rewritten without the nesting.
 */
export function backtrackingRisk(pattern: string): string | undefined {
  // For each open group: whether a quantifier appeared inside it.
  const open: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') open.push(false);
    else if (c === ')') {
      const quantifiedInside = open.pop() ?? false;
      const next = pattern[i + 1];
      const quantifiedOutside = next === '*' || next === '+' || next === '{';
      if (quantifiedInside && quantifiedOutside)
        return `a repeated group holds a repetition itself (at character ${i + 1}): exponential time on a backtracking engine`;
      if (quantifiedInside && open.length) open[open.length - 1] = true;
    } else if ((c === '*' || c === '+' || c === '{') && open.length) {
      open[open.length - 1] = true;
    }
  }
  return undefined;
}
