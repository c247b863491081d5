import {
  Environment,
  EvaluationError,
  Optional,
  ParseError,
  TypeError as CelTypeError,
  type ParseResult,
} from '@marcbachmann/cel-js';
import { compareQuantities, parseQuantity, type Quantity } from './quantity.js';
import { patternMatches } from './safe-regex.js';

/**
 * The one adapter to the CEL library. Expression checks are shaped like Kubernetes
 * ValidatingAdmissionPolicy rules: `expression`, `message` / `messageExpression` and named
 * `variables` (seen as `variables.<name>`). Callers pass and receive JSON-like values; the
 * library's ints (BigInt) never leave this file.
 */

export type CelErrorKind = 'compile' | 'evaluate';

/** A bad expression (`compile`) or one that failed on the given data (`evaluate`); one line. */
export class CelError extends Error {
  override readonly name = 'CelError';

  constructor(
    readonly kind: CelErrorKind,
    readonly expression: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CelVariable {
  name: string;
  expression: string;
}

export interface CelRule {
  expression: string;
  message?: string;
  messageExpression?: string;
  variables?: CelVariable[];
}

export interface CelRuleOutcome {
  passed: boolean;
  /** Set when the rule failed: what the candidate is shown. */
  message?: string;
  /** Why `messageExpression` was not used although given, for trainers (the rule still failed). */
  messageExpressionError?: string;
}

export interface CompiledCel {
  readonly expression: string;
  /** Evaluates against JSON-like bindings and returns a JSON-like value; throws CelError. */
  evaluate(bindings: Record<string, unknown>): unknown;
}

const OPTIONS = {
  // Kubernetes objects mix types freely (int-or-string ports, heterogeneous lists).
  homogeneousAggregateLiterals: false,
  // `object.?spec.?replicas.orValue(1)`, as in Kubernetes >= 1.29.
  enableOptionalTypes: true,
} as const;

/**
 * Kubernetes' CEL quantity library (the part graders need): `quantity("1Gi")`,
 * `isQuantity(s)`, and on a Quantity `compareTo`, `isGreaterThan`,
 * `isLessThan`, `asApproximateFloat`. Resource requests are strings with
 * units; comparing them as strings ranks "512Mi" above "1Gi".
 */
class CelQuantity {
  constructor(
    readonly value: Quantity,
    private readonly text: string,
  ) {}

  toString(): string {
    return this.text;
  }
}

function withQuantities(environment: Environment): Environment {
  const parse = (text: string): CelQuantity => {
    const value = parseQuantity(text);
    if (!value) throw new Error(`quantity: "${text}" is not a Kubernetes quantity`);
    return new CelQuantity(value, text);
  };
  const compare = (a: CelQuantity, b: CelQuantity) => compareQuantities(a.value, b.value);
  return environment
    .registerType('Quantity', CelQuantity)
    .registerFunction('quantity(string): Quantity', parse)
    .registerFunction(
      'isQuantity(string): bool',
      (text: string) => parseQuantity(text) !== undefined,
    )
    .registerFunction('Quantity.compareTo(Quantity): int', (a: CelQuantity, b: CelQuantity) =>
      BigInt(compare(a, b)),
    )
    .registerFunction(
      'Quantity.isGreaterThan(Quantity): bool',
      (a: CelQuantity, b: CelQuantity) => compare(a, b) > 0,
    )
    .registerFunction(
      'Quantity.isLessThan(Quantity): bool',
      (a: CelQuantity, b: CelQuantity) => compare(a, b) < 0,
    )
    .registerFunction(
      'Quantity.asApproximateFloat(): double',
      (a: CelQuantity) => Number(a.value.coefficient) * 10 ** a.value.exponent,
    );
}

/**
 * The library's `string.matches` runs JavaScript's backtracking RegExp, and
 * its built-ins cannot be replaced. So every `.matches(` call in a source is
 * parsed as `.re2find(` (same length: error positions stay right), a function
 * on RE2 (linear time, and the engine Kubernetes' CEL uses): a candidate's
 * field value cannot hold the event loop whatever the author's pattern.
 */
const LINEAR_MATCHES = 're2find';

function withLinearMatches(environment: Environment): Environment {
  return environment.registerFunction(
    `string.${LINEAR_MATCHES}(string): bool`,
    (text: string, pattern: string) => patternMatches(pattern, text),
  );
}

/**
 * Kubernetes' `base64.encode(bytes)` and `base64.decode(string)`: the library
 * has no namespaced functions, so the calls are parsed as `base64_encode(`
 * and `base64_decode(` (same length: error positions stay right).
 */
const BASE64_CALL = /^base64\.(encode|decode)(\s*)\(/;

function withBase64(environment: Environment): Environment {
  return environment
    .registerFunction('base64_encode(bytes): string', (value: Uint8Array) =>
      Buffer.from(value).toString('base64'),
    )
    .registerFunction('base64_decode(string): bytes', (text: string) => {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
        throw new Error(`base64.decode: "${text.slice(0, 20)}" is not base64`);
      }
      return new Uint8Array(Buffer.from(text, 'base64'));
    });
}

/** Where an identifier may start: not inside another name or after a dot. */
function atNameStart(source: string, i: number): boolean {
  return !/[A-Za-z0-9_.]/.test(source[i - 1] ?? '');
}

/** Just past the string literal (raw or not, single or triple quoted) that starts at `i`. */
function stringLiteralEnd(source: string, i: number): number {
  const c = source[i];
  const quote = source.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
  const raw = /[rR]/.test(source[i - 1] ?? '');
  let j = i + quote.length;
  while (j < source.length && !source.startsWith(quote, j)) j += !raw && source[j] === '\\' ? 2 : 1;
  return Math.min(source.length, j + quote.length);
}

/** The index of the `)` closing the `(` at `open`, skipping string literals; -1 when none. */
function closingParen(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '"' || c === "'") {
      i = stringLiteralEnd(source, i) - 1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/**
 * `source` in the library's dialect, outside string literals:
 * - `.matches(` calls are renamed (see LINEAR_MATCHES);
 * - `base64.encode(` / `base64.decode(` become the registered functions;
 * - `has(e[i].field)`, `has(e[i].a.field)` and `has(f(x).field)`, which
 *   Kubernetes accepts and the library's macro refuses, become
 *   `(e[i].?field).hasValue()` (the same test: present or not, an error if
 *   what precedes the field is missing).
 */
export function toLibraryDialect(source: string): string {
  let out = '';
  for (let i = 0; i < source.length;) {
    const c = source[i];
    if (c === '"' || c === "'") {
      // A string literal: copied as is.
      const end = stringLiteralEnd(source, i);
      out += source.slice(i, end);
      i = end;
      continue;
    }
    const rest = source.slice(i, i + 64);
    const call = /^\.(\s*)matches(\s*)\(/.exec(rest);
    if (call) {
      out += `.${call[1]}${LINEAR_MATCHES}${call[2]}(`;
      i += call[0].length;
      continue;
    }
    const base64 = atNameStart(source, i) ? BASE64_CALL.exec(rest) : null;
    if (base64) {
      out += `base64_${base64[1]}${base64[2]}(`;
      i += base64[0].length;
      continue;
    }
    const has = atNameStart(source, i) ? /^has(\s*)\(/.exec(rest) : null;
    if (has) {
      const open = i + has[0].length - 1;
      const close = closingParen(source, open);
      const operand = close > 0 ? source.slice(open + 1, close) : '';
      const selected = /^([\s\S]*?)\s*\.\s*([A-Za-z_]\w*)\s*$/.exec(operand);
      // Only where the library refuses: an index or a call somewhere before the field.
      if (selected && /[[(]/.test(selected[1])) {
        out += `(${toLibraryDialect(selected[1])}.?${selected[2]}).hasValue()`;
        i = close + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

// Bindings differ per check, so any identifier is accepted here and resolved at evaluation.
const runtime = withBase64(
  withLinearMatches(withQuantities(new Environment({ ...OPTIONS, unlistedVariablesAreDyn: true }))),
);
const lintBase = withBase64(withLinearMatches(withQuantities(new Environment(OPTIONS))));

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_CACHED_PROGRAMS = 1000;
const MAX_SNIPPET = 80;

class Program implements CompiledCel {
  constructor(
    readonly expression: string,
    private readonly fn: ParseResult,
  ) {}

  evaluate(bindings: Record<string, unknown>): unknown {
    return toPlain(this.run(toCelBindings(bindings)));
  }

  /** Evaluates against bindings already in CEL form; the result stays in CEL form. */
  run(scope: Record<string, unknown>, label?: string): unknown {
    try {
      return this.fn(scope);
    } catch (error) {
      // An error from a lazily evaluated variable already names that variable.
      if (error instanceof CelError) throw error;
      throw new CelError('evaluate', this.expression, describe(this.expression, error, label));
    }
  }
}

const programs = new Map<string, Program>();
const lintEnvironments = new Map<string, Environment>();

/** Parses and type-checks once per source; throws CelError `compile`. */
export function compileCel(expression: string): CompiledCel {
  return program(expression);
}

/**
 * For the bank linter: a one-line problem when the expression does not compile or uses a
 * top-level name outside `knownNames` (macro variables such as `c` in `all(c, ...)` are fine).
 */
export function checkCelSyntax(expression: string, knownNames: string[]): string | undefined {
  try {
    parseChecked(lintEnvironment(knownNames), expression, knownNames);
    return undefined;
  } catch (error) {
    if (error instanceof CelError) return error.message;
    throw error;
  }
}

/**
 * Evaluates `expression` with JSON-like `bindings` (whole numbers become CEL ints, others
 * doubles) and optional VAP-style `variables`; returns a JSON-like value (ints as numbers,
 * beyond 2^53 as decimal strings; timestamps as ISO strings; bytes as base64).
 */
export function evaluateCel(
  expression: string,
  bindings: Record<string, unknown>,
  variables: CelVariable[] = [],
): unknown {
  const main = program(expression);
  return toPlain(main.run(withVariables(toCelBindings(bindings), variables)));
}

/**
 * A ValidatingAdmissionPolicy validation: `expression` must yield a bool; when false the
 * message is `messageExpression`'s result, else `message`, else `failed: <expression>`.
 * Throws CelError when the rule cannot be decided (bad expression, missing field, non-bool).
 */
export function evaluateRule(rule: CelRule, bindings: Record<string, unknown>): CelRuleOutcome {
  const main = program(rule.expression);
  const scope = withVariables(toCelBindings(bindings), rule.variables ?? []);
  const result = main.run(scope);
  if (typeof result !== 'boolean') {
    throw new CelError(
      'evaluate',
      rule.expression,
      `expression must evaluate to a bool, got ${celTypeName(result)}`,
    );
  }
  if (result) return { passed: true };

  const fallback = rule.message?.trim() ? rule.message : `failed: ${rule.expression}`;
  if (rule.messageExpression === undefined) return { passed: false, message: fallback };
  try {
    const message = program(rule.messageExpression).run(scope);
    if (typeof message !== 'string') {
      throw new CelError(
        'evaluate',
        rule.messageExpression,
        `messageExpression must evaluate to a string, got ${celTypeName(message)}`,
      );
    }
    // As in Kubernetes: a blank or multi-line message is replaced by the static one.
    if (!message.trim() || /[\r\n]/.test(message)) {
      throw new CelError(
        'evaluate',
        rule.messageExpression,
        'messageExpression must yield a non-empty single line',
      );
    }
    return { passed: false, message };
  } catch (error) {
    if (!(error instanceof CelError)) throw error;
    return { passed: false, message: fallback, messageExpressionError: error.message };
  }
}

function program(expression: string): Program {
  const cached = programs.get(expression);
  if (cached) return cached;
  const compiled = new Program(expression, parseChecked(runtime, expression));
  if (programs.size >= MAX_CACHED_PROGRAMS) {
    programs.delete(programs.keys().next().value as string);
  }
  programs.set(expression, compiled);
  return compiled;
}

function parseChecked(env: Environment, expression: string, knownNames?: string[]): ParseResult {
  let fn: ParseResult;
  try {
    fn = env.parse(toLibraryDialect(expression));
  } catch (error) {
    throw new CelError('compile', expression, describe(expression, error));
  }
  // The type checker finds unknown functions and wrong operand types before any data is seen.
  const checked = fn.check();
  if (!checked.valid) {
    const error = checked.error;
    const message =
      knownNames && error?.code === 'unknown_variable'
        ? `${lowerFirst(error.summary)} (known: ${knownNames.join(', ') || 'none'})`
        : describe(expression, error);
    throw new CelError('compile', expression, message);
  }
  return fn;
}

function lintEnvironment(knownNames: string[]): Environment {
  const key = [...new Set(knownNames)].sort().join('\n');
  let env = lintEnvironments.get(key);
  if (!env) {
    env = lintBase.clone();
    for (const name of key ? key.split('\n') : []) env.registerVariable(name, 'dyn');
    lintEnvironments.set(key, env);
  }
  return env;
}

/**
 * Adds `variables` to the scope. Like Kubernetes, each variable is evaluated on first use
 * (so `has(...) && variables.x` guards work) at most once, and sees only those before it.
 */
function withVariables(
  scope: Record<string, unknown>,
  definitions: CelVariable[],
): Record<string, unknown> {
  if (definitions.length === 0) return scope;
  const variables: Record<string, unknown> = {};
  for (const { name, expression } of definitions) {
    const label = `variables.${name}`;
    if (!IDENTIFIER.test(name)) {
      throw new CelError('compile', expression, `${label}: not a valid variable name`);
    }
    if (Object.hasOwn(variables, name)) {
      throw new CelError('compile', expression, `${label}: declared twice`);
    }
    let compiled: Program;
    try {
      compiled = program(expression);
    } catch (error) {
      throw error instanceof CelError
        ? new CelError(error.kind, expression, `${label}: ${error.message}`)
        : error;
    }
    const earlier = Object.defineProperties({}, Object.getOwnPropertyDescriptors(variables));
    let memo: { value: unknown } | undefined;
    Object.defineProperty(variables, name, {
      enumerable: true,
      get: () => (memo ??= { value: compiled.run({ ...scope, variables: earlier }, label) }).value,
    });
  }
  return { ...scope, variables };
}

function toCelBindings(bindings: Record<string, unknown>): Record<string, unknown> {
  return toCel(bindings) as Record<string, unknown>;
}

/** JSON → CEL: whole numbers become ints (BigInt), the rest stay doubles. */
function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (isPlainObject(value)) {
    // fromEntries defines keys, so a JSON key "__proto__" stays an ordinary key.
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toCel(v)]),
    );
  }
  return value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** CEL → JSON-like. */
function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Set) return [...value].map(toPlain);
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(toPlain(k)), toPlain(v)]));
  }
  if (value instanceof Optional) return value.hasValue() ? toPlain(value.value()) : null;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
  }
  // uint wraps a BigInt; a duration prints as "90s", a type as "Type<int>".
  const primitive: unknown = value.valueOf();
  if (typeof primitive === 'bigint') return toPlain(primitive);
  const text = (value as { toString(): string }).toString();
  return /^Type<(.+)>$/.exec(text)?.[1] ?? text;
}

function celTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'bigint':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'object':
      if (Array.isArray(value) || value instanceof Set) return 'list';
      if (value instanceof Map || isPlainObject(value)) return 'map';
      if (value instanceof Uint8Array) return 'bytes';
      if (value instanceof Date) return 'timestamp';
      if (value instanceof Optional) return 'optional';
      return typeof value.valueOf() === 'bigint' ? 'uint' : value.constructor.name.toLowerCase();
    default:
      return typeof value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** One readable line: the library's summary plus where in the source it happened. */
function describe(expression: string, error: unknown, label?: string): string {
  return describeRaw(expression, error, label)
    .replaceAll(LINEAR_MATCHES, 'matches')
    .replaceAll(/base64_(encode|decode)/g, 'base64.$1');
}

function describeRaw(expression: string, error: unknown, label?: string): string {
  const prefix = label ? `${label}: ` : '';
  if (!isLibraryError(error)) {
    const text = error instanceof Error ? error.message : String(error);
    return prefix + oneLine(text.split('\n')[0] ?? '');
  }
  // The library's summary for an empty list says "size undefined".
  const summary = lowerFirst(error.summary)
    .replace(/^no such key: index out of bounds/, 'index out of bounds')
    .replace(/size undefined$/, 'size 0')
    .replace(/dyn<((?:[^<>]|<[^<>]*>)*)>/g, '$1');
  // The node spans the whole failing access (`object.spec.foo`); the range only its key.
  const range = error.node ?? error.range;
  if (!range) return prefix + summary;
  if (error instanceof ParseError || range.end <= range.start) {
    return `${prefix}${summary} at ${position(expression, range.start)}`;
  }
  return `${prefix}${summary} (in ${snippet(expression.slice(range.start, range.end))})`;
}

function isLibraryError(error: unknown): error is ParseError | EvaluationError | CelTypeError {
  return (
    error instanceof ParseError || error instanceof EvaluationError || error instanceof CelTypeError
  );
}

function position(expression: string, offset: number): string {
  const before = expression.slice(0, offset).split('\n');
  const column = (before.at(-1)?.length ?? 0) + 1;
  return before.length > 1 ? `line ${before.length}, column ${column}` : `column ${column}`;
}

function snippet(source: string): string {
  const text = oneLine(source);
  return text.length > MAX_SNIPPET ? `${text.slice(0, MAX_SNIPPET - 1)}…` : text;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}
