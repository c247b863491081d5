import { compareQuantities, parseQuantity, type Quantity } from './quantity.js';
import { MAX_MATCHED_TEXT, patternMatches, patternProblem } from './safe-regex.js';

/**
 * The partial-object matcher behind `resource` and `count` checks: does a live
 * Kubernetes object contain what the question expects? It returns one
 * Mismatch per failing path, so that a candidate learns what was expected and
 * what was found instead of getting a bare cross.
 *
 * - Maps are partial: keys the API server or the candidate added are ignored.
 * - Lists are any-order subsets by default, because the API server injects
 *   tolerations, volumes and env; `lists: 'exact'` compares by position.
 * - Scalars compare the way Kubernetes reads them: `80` equals `"80"`
 *   (int-or-string) and `"1Gi"` equals `"1024Mi"` (quantities).
 * - A map whose keys all start with `$` is a set of operators.
 */

export interface Mismatch {
  /** Where, e.g. `spec.template.spec.containers[name=web].image`; empty for the root. */
  path: string;
  /** What the question wanted, rendered for people: `3`, `"db"`, `to match /^a/`. */
  expected: string;
  /** What the object had, rendered the same way; `nothing` when absent. */
  actual: string;
  /** The word joining expected and actual in a sentence; `got` unless stated. */
  verb?: 'got' | 'found';
}

export interface MatchOptions {
  lists?: 'subset' | 'exact';
}

/**
 * The expected object itself is wrong (unknown operator, bad regex…). That is
 * a bug in the question bank, not the candidate's failure, so it is thrown
 * rather than reported as a mismatch.
 */
export class MatchSpecError extends Error {
  constructor(
    /** Path of the first problem. */
    readonly path: string,
    /** The operator at fault, when one is. */
    readonly operator: string | undefined,
    /** Every problem found, formatted as validateMatchSpec does. */
    readonly problems: readonly string[],
  ) {
    super(`invalid match spec: ${problems.join('; ')}`);
    this.name = 'MatchSpecError';
  }
}

export const MATCH_OPERATORS = [
  '$regex',
  '$gte',
  '$lte',
  '$in',
  '$absent',
  '$exists',
  // Alternatives: a NetworkPolicy selector written with matchLabels or with
  // matchExpressions, a toleration with or without its effect.
  '$anyOf',
  // This list, and only this one, by position and length (`lists: exact` is the whole check).
  '$exact',
  // This map, with exactly these keys: "a ConfigMap with only these keys".
  '$exactKeys',
] as const;
type Operator = (typeof MATCH_OPERATORS)[number];

/**
 * Keys that identify a list element well enough to blame it by name in
 * feedback, first match wins: containers and env by name, conditions by type,
 * an Ingress path by its path, an Ingress rule by its host, a spread
 * constraint by its topology key.
 */
const IDENTITY_KEYS = [
  'name',
  'type',
  'key',
  'containerPort',
  'port',
  'mountPath',
  'devicePath',
  'path',
  'host',
  'ip',
  'topologyKey',
  'secretName',
] as const;

const NOTHING = 'nothing';
/** One value from the object or the question, cut to a readable line. */
const MAX_RENDERED = 120;
/** One alternative's difference inside an `$anyOf` failure. */
const MAX_ALTERNATIVE = 200;
/** A whole `$anyOf` failure, however many alternatives and however large the live map. */
const MAX_ANY_OF = 600;
/** Differences shown per alternative; the rest are counted. */
const DIFFERENCES_PER_ALTERNATIVE = 2;
/** Extra keys named by `$exactKeys`; the rest are counted. */
const MAX_NAMED_KEYS = 10;

type JsonMap = Record<string, unknown>;
type ListMode = NonNullable<MatchOptions['lists']>;

/**
 * Compares a live object with the expected partial object. An empty result
 * means it matches. Output follows the expected object's key order.
 * Throws MatchSpecError when `expected` itself is invalid.
 */
export function matchObject(
  expected: unknown,
  actual: unknown,
  options: MatchOptions = {},
): Mismatch[] {
  // Validate up front so a bank bug is reported whatever the live object looks like,
  // not only when the faulty branch happens to be reached.
  const problems = specProblems(expected, '');
  if (problems.length > 0) {
    const [first] = problems;
    throw new MatchSpecError(first.path, first.operator, problems.map(formatProblem));
  }
  return matchValue(expected, actual, '', options.lists ?? 'subset');
}

/** One line: `spec.replicas: expected 3, got 2`. */
export function formatMismatch(mismatch: Mismatch): string {
  const sentence = `expected ${mismatch.expected}, ${mismatch.verb ?? 'got'} ${mismatch.actual}`;
  return mismatch.path ? `${mismatch.path}: ${sentence}` : sentence;
}

/**
 * Problems with an expected object (unknown or malformed operators), each as
 * `path: problem`, for the bank linter. Empty when the spec is usable.
 */
export function validateMatchSpec(expected: unknown): string[] {
  return specProblems(expected, '').map(formatProblem);
}

// ---------------------------------------------------------------------------
// Matching

function matchValue(expected: unknown, actual: unknown, path: string, mode: ListMode): Mismatch[] {
  if (isOperatorMap(expected)) return matchOperators(expected, actual, path, mode);
  if (isAbsent(expected)) {
    return isAbsent(actual) ? [] : [mismatch(path, 'null', render(actual))];
  }
  if (Array.isArray(expected)) {
    return mode === 'exact'
      ? matchListExactly(expected, actual, path, mode)
      : matchListAsSubset(expected, actual, path, mode);
  }
  if (isMap(expected)) return matchMap(expected, actual, path, mode);
  return scalarEquals(expected, actual) ? [] : [mismatch(path, render(expected), render(actual))];
}

function matchMap(expected: JsonMap, actual: unknown, path: string, mode: ListMode): Mismatch[] {
  // An absent map is read as an empty one, so the feedback names the missing leaves
  // (`metadata.labels.tier: … got nothing`) and `null` / `$absent` leaves still pass.
  if (!isAbsent(actual) && !isMap(actual)) {
    return [mismatch(path, render(expected), render(actual))];
  }
  const live = isMap(actual) ? actual : {};
  return Object.keys(expected).flatMap((key) =>
    matchValue(
      expected[key],
      Object.hasOwn(live, key) ? live[key] : undefined,
      keyPath(path, key),
      mode,
    ),
  );
}

function matchListExactly(
  expected: unknown[],
  actual: unknown,
  path: string,
  mode: ListMode,
): Mismatch[] {
  const list = listOrMismatch(expected, actual, path);
  if (!Array.isArray(list)) return list.mismatches;
  if (list.length !== expected.length) {
    return [
      mismatch(
        path,
        `${render(expected)} (${count(expected.length)})`,
        `${render(list)} (${count(list.length)})`,
      ),
    ];
  }
  return expected.flatMap((element, i) => matchValue(element, list[i], `${path}[${i}]`, mode));
}

function matchListAsSubset(
  expected: unknown[],
  actual: unknown,
  path: string,
  mode: ListMode,
): Mismatch[] {
  const list = listOrMismatch(expected, actual, path);
  if (!Array.isArray(list)) return list.mismatches;
  const fits = expected.map((element) =>
    list.map((candidate) => matchValue(element, candidate, '', mode).length === 0),
  );
  const assignment = maximumMatching(fits, list.length);
  const taken = new Set(assignment.filter((j) => j !== undefined));
  return expected.flatMap((element, i) =>
    assignment[i] === undefined ? explainUnmatched(element, list, taken, path, mode) : [],
  );
}

/**
 * The actual value as a list, or the mismatch explaining why it is not one.
 * An absent list matches an empty expected one: the API server omits empty lists.
 */
function listOrMismatch(
  expected: unknown[],
  actual: unknown,
  path: string,
): unknown[] | { mismatches: Mismatch[] } {
  if (Array.isArray(actual)) return actual;
  if (isAbsent(actual) && expected.length === 0) return [];
  return { mismatches: [mismatch(path, render(expected), render(actual))] };
}

/**
 * Assigns each expected element a distinct actual element (Kuhn's augmenting
 * paths). A greedy first fit would let a loose expected element take the only
 * actual element a stricter one could match, failing a correct answer.
 * Returns, per expected element, the index of its actual element.
 */
function maximumMatching(fits: boolean[][], actualCount: number): (number | undefined)[] {
  const owner = Array.from<number | undefined>({ length: actualCount });
  const augment = (i: number, seen: Set<number>): boolean => {
    for (let j = 0; j < actualCount; j++) {
      if (!fits[i][j] || seen.has(j)) continue;
      seen.add(j);
      const current = owner[j];
      if (current === undefined || augment(current, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < fits.length; i++) augment(i, new Set());
  const assignment = Array.from<number | undefined>({ length: fits.length });
  owner.forEach((i, j) => {
    if (i !== undefined) assignment[i] = j;
  });
  return assignment;
}

/**
 * Feedback for an expected element no actual element matched. If an actual
 * element has the same name (or port, key, path…), the candidate almost
 * certainly meant that one, so its deep differences are the useful feedback
 * (`paths[path=/api].pathType: expected "Exact", got "Prefix"`). An element
 * with nothing to identify it (an Ingress rule without a host) is blamed by
 * position when one free actual element is clearly the closest.
 */
function explainUnmatched(
  element: unknown,
  list: unknown[],
  taken: ReadonlySet<number>,
  path: string,
  mode: ListMode,
): Mismatch[] {
  for (const { label, index } of sameIdentity(element, list, taken)) {
    const deep = matchValue(element, list[index], `${path}[${label}]`, mode);
    // A namesake that matches fully is already used by another expected element.
    if (deep.length > 0) return deep;
  }
  const closest = hasIdentity(element) ? undefined : closestFree(element, list, taken, mode);
  if (closest !== undefined) return matchValue(element, list[closest], `${path}[${closest}]`, mode);
  return [
    {
      path,
      expected: `an element matching ${render(element)}`,
      actual: `none among ${list.length}`,
      verb: 'found',
    },
  ];
}

function hasIdentity(element: unknown): boolean {
  if (!isMap(element)) return false;
  return IDENTITY_KEYS.some((key) => {
    const value = Object.hasOwn(element, key) ? element[key] : undefined;
    return isScalar(value) && value !== null;
  });
}

/**
 * The free actual element sharing the most expected leaves with a plain map
 * element, when exactly one shares the most and it shares something: the
 * element the candidate evidently meant. Sharing nothing (an injected token
 * volume against the expected config volume) blames nobody.
 */
function closestFree(
  element: unknown,
  list: unknown[],
  taken: ReadonlySet<number>,
  mode: ListMode,
): number | undefined {
  if (!isMap(element) || isOperatorMap(element)) return undefined;
  let best: number | undefined;
  let bestScore = 0;
  let tied = false;
  list.forEach((candidate, index) => {
    if (taken.has(index) || !isMap(candidate)) return;
    const score = sharedLeaves(element, candidate, mode);
    if (score > bestScore) [best, bestScore, tied] = [index, score, false];
    else if (score === bestScore && score > 0) tied = true;
  });
  return tied ? undefined : best;
}

/** How many expected leaves (scalars and operator sets) the actual value satisfies. */
function sharedLeaves(expected: unknown, actual: unknown, mode: ListMode): number {
  if (isOperatorMap(expected)) return matchValue(expected, actual, '', mode).length ? 0 : 1;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return 0;
    return expected.reduce<number>(
      (sum, item) =>
        sum + Math.max(0, ...actual.map((candidate) => sharedLeaves(item, candidate, mode))),
      0,
    );
  }
  if (isMap(expected)) {
    if (!isMap(actual)) return 0;
    return Object.keys(expected).reduce(
      (sum, key) =>
        sum +
        sharedLeaves(expected[key], Object.hasOwn(actual, key) ? actual[key] : undefined, mode),
      0,
    );
  }
  return !isAbsent(expected) && scalarEquals(expected, actual) ? 1 : 0;
}

/** Actual elements sharing an identifying key's value with `element`, unassigned ones first. */
function sameIdentity(
  element: unknown,
  list: unknown[],
  taken: ReadonlySet<number>,
): { label: string; index: number }[] {
  if (!isMap(element) || isOperatorMap(element)) return [];
  for (const key of IDENTITY_KEYS) {
    const wanted = Object.hasOwn(element, key) ? element[key] : undefined;
    if (!isScalar(wanted) || wanted === null) continue;
    const indexes = list
      .map((candidate, index) => ({ candidate, index }))
      .filter(({ candidate }) => isMap(candidate) && scalarEquals(wanted, candidate[key]))
      .map(({ index }) => index);
    if (indexes.length === 0) continue;
    const ordered = [
      ...indexes.filter((i) => !taken.has(i)),
      ...indexes.filter((i) => taken.has(i)),
    ];
    return ordered.map((index) => ({ label: `${key}=${String(wanted)}`, index }));
  }
  return [];
}

// ---------------------------------------------------------------------------
// Operators

function matchOperators(
  operators: JsonMap,
  actual: unknown,
  path: string,
  mode: ListMode,
): Mismatch[] {
  return Object.entries(operators).flatMap(([operator, operand]) => {
    if (operator === '$anyOf') return matchAnyOf(operand as unknown[], actual, path, mode);
    if (operator === '$exact') return matchListExactly(operand as unknown[], actual, path, 'exact');
    if (operator === '$exactKeys') return matchExactKeys(operand as JsonMap, actual, path, mode);
    const failure = checkOperator(operator as Operator, operand, actual);
    return failure === undefined ? [] : [mismatch(path, failure, render(actual))];
  });
}

/** The map's values as expected, and no key beyond the expected ones (named when there are). */
function matchExactKeys(
  expected: JsonMap,
  actual: unknown,
  path: string,
  mode: ListMode,
): Mismatch[] {
  const keys = Object.keys(expected);
  const extra = isMap(actual)
    ? Object.keys(actual).filter((key) => !Object.hasOwn(expected, key))
    : [];
  return [
    ...(extra.length
      ? [
          mismatch(
            path,
            `only the key${keys.length === 1 ? '' : 's'} ${keys.join(', ') || '(none)'}`,
            `also ${nameSome(extra)}`,
          ),
        ]
      : []),
    ...matchMap(expected, actual, path, mode),
  ];
}

/** `a, b, c`, or the first few and how many more: a ConfigMap may hold hundreds of keys. */
function nameSome(keys: string[]): string {
  const named = keys.slice(0, MAX_NAMED_KEYS).join(', ');
  const more = keys.length - MAX_NAMED_KEYS;
  return truncate(more > 0 ? `${named} and ${more} more` : named, MAX_RENDERED * 2);
}

/**
 * Passes when one alternative matches; otherwise says, briefly, how each one
 * differs, by field relative to the alternatives' place. The live value
 * itself is never printed: on `metadata` it would be annotations and
 * managedFields, not feedback.
 */
function matchAnyOf(
  alternatives: unknown[],
  actual: unknown,
  path: string,
  mode: ListMode,
): Mismatch[] {
  const failures: Mismatch[][] = [];
  for (const alternative of alternatives) {
    const differences = matchValue(alternative, actual, path, mode);
    if (!differences.length) return [];
    failures.push(differences);
  }
  const detail = failures
    .map((differences, i) => `(${i + 1}) ${summarise(differences, path)}`)
    .join('; ');
  return [
    {
      path,
      expected: `one of ${alternatives.length} alternatives`,
      actual: `none: ${truncate(detail, MAX_ANY_OF)}`,
      verb: 'found',
    },
  ];
}

/** The first differences of one alternative, paths relative to `base`, cut to one short line. */
function summarise(differences: Mismatch[], base: string): string {
  const shown = differences
    .slice(0, DIFFERENCES_PER_ALTERNATIVE)
    .map((difference) =>
      formatMismatch({ ...difference, path: relativePath(difference.path, base) }),
    );
  const more = differences.length - shown.length;
  return truncate(
    more > 0 ? `${shown.join('; ')} (and ${more} more)` : shown.join('; '),
    MAX_ALTERNATIVE,
  );
}

/** `labels.app` for `metadata.labels.app` under `metadata`; `[0].x` stays bracketed. */
function relativePath(path: string, base: string): string {
  if (!base) return path;
  if (path === base) return '';
  if (path.startsWith(`${base}.`)) return path.slice(base.length + 1);
  if (path.startsWith(`${base}[`)) return path.slice(base.length);
  return path;
}

/** What the operator expected, rendered, when `actual` fails it. */
function checkOperator(operator: Operator, operand: unknown, actual: unknown): string | undefined {
  switch (operator) {
    case '$regex':
      return matchesRegex(operand as string, actual) ? undefined : `to match /${String(operand)}/`;
    // NaN (not a number or quantity) fails both comparisons.
    case '$gte':
      return compareWith(actual, operand) >= 0 ? undefined : `≥ ${renderBound(operand)}`;
    case '$lte':
      return compareWith(actual, operand) <= 0 ? undefined : `≤ ${renderBound(operand)}`;
    case '$in':
      return (operand as unknown[]).some((option) => scalarOrAbsentEquals(option, actual))
        ? undefined
        : `one of ${render(operand)}`;
    case '$absent':
      return presence(operand !== true, actual);
    case '$exists':
      return presence(operand === true, actual);
    default: // $anyOf, $exact and $exactKeys are matched as structures, above.
      return undefined;
  }
}

function matchesRegex(pattern: string, actual: unknown): boolean {
  if (typeof actual !== 'string' && typeof actual !== 'number') return false;
  const text = String(actual);
  // Longer than anything a task asks to match: a failure, not a grader error.
  return text.length <= MAX_MATCHED_TEXT && patternMatches(pattern, text);
}

/** -1 / 0 / 1 as quantities; NaN when the actual value is not a number or quantity. */
function compareWith(actual: unknown, bound: unknown): number {
  const value = asQuantity(actual);
  const limit = asQuantity(bound);
  return value && limit ? compareQuantities(value, limit) : NaN;
}

function presence(mustBePresent: boolean, actual: unknown): string | undefined {
  if (mustBePresent) return isAbsent(actual) ? 'to be present' : undefined;
  return isAbsent(actual) ? undefined : 'to be absent';
}

function scalarOrAbsentEquals(option: unknown, actual: unknown): boolean {
  return option === null ? isAbsent(actual) : scalarEquals(option, actual);
}

// ---------------------------------------------------------------------------
// Scalars

/**
 * Kubernetes-aware equality of two scalars. Numbers equal numeric strings
 * (int-or-string ports). Quantities compare by value when a unit or exponent
 * is written on either side or one side is a number; two bare numeric
 * strings compare as text, because such strings are as often versions
 * (`"1.30"` is not `"1.3"`) as amounts. Booleans never equal strings:
 * `"true"` in a live object is a string field and a different answer.
 */
function scalarEquals(expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  if (!isNumeric(expected) || !isNumeric(actual)) return false;
  const left = parseQuantity(expected);
  const right = parseQuantity(actual);
  if (!left || !right) return false;
  const bothText = typeof expected === 'string' && typeof actual === 'string';
  if (bothText && !left.suffixed && !right.suffixed) return false;
  return compareQuantities(left, right) === 0;
}

function asQuantity(value: unknown): Quantity | undefined {
  return isNumeric(value) ? parseQuantity(value) : undefined;
}

function isNumeric(value: unknown): value is string | number {
  return typeof value === 'string' || typeof value === 'number';
}

// ---------------------------------------------------------------------------
// Validation of the expected object

interface SpecProblem {
  path: string;
  operator?: string;
  message: string;
}

function specProblems(expected: unknown, path: string): SpecProblem[] {
  if (Array.isArray(expected)) {
    return expected.flatMap((element, i) => specProblems(element, `${path}[${i}]`));
  }
  if (!isMap(expected)) return [];
  const keys = Object.keys(expected);
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length === 0) {
    return keys.flatMap((key) => specProblems(expected[key], keyPath(path, key)));
  }
  if (operators.length < keys.length) {
    return [
      {
        path,
        operator: operators[0],
        message: `mixes operators (${operators.join(', ')}) with plain keys; put the operators on a field of their own`,
      },
    ];
  }
  return [
    ...operators.flatMap((operator) => operandProblems(operator, expected[operator], path)),
    ...contradictions(expected, path),
  ];
}

function operandProblems(operator: string, operand: unknown, path: string): SpecProblem[] {
  const problem = (message: string): SpecProblem[] => [{ path, operator, message }];
  switch (operator) {
    case '$regex':
      if (typeof operand !== 'string') return problem('$regex needs a string pattern');
      return regexProblem(operand).flatMap(problem);
    case '$gte':
    case '$lte':
      return asQuantity(operand)
        ? []
        : problem(`${operator} needs a number or quantity, got ${render(operand)}`);
    case '$in':
      if (!Array.isArray(operand)) return problem(`$in needs a list, got ${render(operand)}`);
      return operand.flatMap((option, i) =>
        isScalar(option) ? [] : problem(`$in[${i}] must be a scalar, got ${render(option)}`),
      );
    case '$absent':
    case '$exists':
      return typeof operand === 'boolean'
        ? []
        : problem(`${operator} needs true or false, got ${render(operand)}`);
    case '$anyOf':
      if (!Array.isArray(operand) || operand.length < 2)
        return problem(`$anyOf needs a list of at least two alternatives, got ${render(operand)}`);
      return operand.flatMap((alternative, i) => specProblems(alternative, `${path}.$anyOf[${i}]`));
    case '$exact':
      if (!Array.isArray(operand)) return problem(`$exact needs a list, got ${render(operand)}`);
      return specProblems(operand, path);
    case '$exactKeys':
      if (!isMap(operand)) return problem(`$exactKeys needs a map, got ${render(operand)}`);
      return specProblems(operand, path);
    default:
      return problem(`unknown operator ${operator} (known: ${MATCH_OPERATORS.join(', ')})`);
  }
}

function regexProblem(pattern: string): string[] {
  const problem = patternProblem(pattern);
  return problem ? [`$regex ${problem}`] : [];
}

/** Operator sets no value can satisfy: always a bank bug, and invisible until graded. */
function contradictions(operators: JsonMap, path: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const low = asQuantity(operators.$gte);
  const high = asQuantity(operators.$lte);
  if (low && high && compareQuantities(low, high) > 0) {
    problems.push({ path, operator: '$gte', message: '$gte is above $lte: nothing can match' });
  }
  const mustBeAbsent = operators.$absent === true || operators.$exists === false;
  const mustBePresent =
    operators.$absent === false ||
    operators.$exists === true ||
    ['$regex', '$gte', '$lte'].some((operator) => Object.hasOwn(operators, operator));
  if (mustBeAbsent && mustBePresent) {
    problems.push({ path, message: 'requires the value to be both absent and present' });
  }
  return problems;
}

function formatProblem(problem: SpecProblem): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

// ---------------------------------------------------------------------------
// Shapes, paths and rendering

function isMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOperatorMap(value: unknown): value is JsonMap {
  if (!isMap(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

/** Kubernetes omits null and empty fields, so null and absent are the same answer. */
function isAbsent(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** `spec.replicas`, or `metadata.labels["app.kubernetes.io/name"]` when a key has dots. */
function keyPath(path: string, key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

function mismatch(path: string, expected: string, actual: string): Mismatch {
  return { path, expected, actual };
}

function count(n: number): string {
  return n === 1 ? '1 element' : `${n} elements`;
}

/** Strings quoted, numbers bare, structures as compact JSON cut to one readable line. */
function render(value: unknown): string {
  if (value === undefined) return NOTHING;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return truncate(JSON.stringify(value) ?? typeof value, MAX_RENDERED);
}

/** At most `max` characters, an ellipsis marking a cut (never inside a surrogate pair). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = Array.from(text.slice(0, max)).slice(0, -1).join('');
  return `${cut}…`;
}

/** A bound reads best bare: `≥ 3`, `≥ 1Gi`. */
function renderBound(bound: unknown): string {
  return typeof bound === 'string' ? bound : render(bound);
}
