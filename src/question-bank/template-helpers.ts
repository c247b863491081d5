import { normalise, parseQuantity } from '../grading/quantity.js';

/**
 * Helpers for values a task derives from its variables ("one below the
 * highest priority", "twice the memory request", "the three namespaces,
 * comma-separated"). They are as strict as the variables: a wrong argument
 * count, a string where a number belongs, a division by zero or a quantity
 * that cannot be written exactly is a template error naming the helper, so
 * bank:lint reports it at the template's line instead of an exam showing
 * `NaN`.
 */

/** Where Handlebars says a call is: 1-based line, 0-based column. */
export interface CallLocation {
  start: { line: number; column: number };
  end: { line: number; column: number };
}

/** A helper used wrongly; renderString turns it into a TemplateError. */
export class HelperError extends Error {
  constructor(
    message: string,
    readonly loc: CallLocation | undefined,
    /** The 0-based argument that was undefined, so the caller can name the variable. */
    readonly undefinedArgument?: number,
    readonly helper?: string,
  ) {
    super(message);
    this.name = 'HelperError';
  }
}

interface HelperSpec {
  /** How a call is written, shown when the arguments are wrong: `sub a b`. */
  usage: string;
  /** What the arguments are, in a sentence: `2 numbers`, `2 or more numbers`. */
  takes: string;
  min: number;
  max: number;
  run(args: unknown[], fail: (problem: string) => never): unknown;
}

type Decimal = { coefficient: bigint; exponent: number };

const ANY = Number.POSITIVE_INFINITY;

const HELPERS: Readonly<Record<string, HelperSpec>> = {
  add: {
    usage: 'add a b',
    takes: '2 or more numbers',
    min: 2,
    max: ANY,
    run: (args, fail) => toNumber(numbers(args, fail).reduce(addDecimals), fail),
  },
  sub: {
    usage: 'sub a b',
    takes: '2 numbers',
    min: 2,
    max: 2,
    run: (args, fail) => {
      const [a, b] = numbers(args, fail);
      return toNumber(addDecimals(a, negate(b)), fail);
    },
  },
  mul: {
    usage: 'mul a b',
    takes: '2 or more numbers',
    min: 2,
    max: ANY,
    run: (args, fail) => toNumber(numbers(args, fail).reduce(multiplyDecimals), fail),
  },
  div: {
    usage: 'div a b',
    takes: '2 whole numbers',
    min: 2,
    max: 2,
    run: (args, fail) => {
      const [a, b] = integers(args, fail);
      if (b === 0) fail('division by zero (argument 2 is 0)');
      // Rounded toward zero, as CEL and Go divide integers.
      return Math.trunc(a / b) + 0;
    },
  },
  mod: {
    usage: 'mod a b',
    takes: '2 whole numbers',
    min: 2,
    max: 2,
    run: (args, fail) => {
      const [a, b] = integers(args, fail);
      if (b === 0) fail('division by zero (argument 2 is 0)');
      return (a % b) + 0;
    },
  },
  min: {
    usage: 'min a b',
    takes: '2 or more numbers',
    min: 2,
    max: ANY,
    run: (args, fail) => Math.min(...plainNumbers(args, fail)),
  },
  max: {
    usage: 'max a b',
    takes: '2 or more numbers',
    min: 2,
    max: ANY,
    run: (args, fail) => Math.max(...plainNumbers(args, fail)),
  },
  addQuantity: {
    usage: 'addQuantity "512Mi" "256Mi"',
    takes: '2 quantities',
    min: 2,
    max: 2,
    run: (args, fail) => {
      const [a, b] = args.map((arg, i) => quantity(arg, i, fail));
      return formatQuantity(addDecimals(a, b), a.format, fail);
    },
  },
  subQuantity: {
    usage: 'subQuantity "1Gi" "256Mi"',
    takes: '2 quantities',
    min: 2,
    max: 2,
    run: (args, fail) => {
      const [a, b] = args.map((arg, i) => quantity(arg, i, fail));
      return formatQuantity(addDecimals(a, negate(b)), a.format, fail);
    },
  },
  mulQuantity: {
    usage: 'mulQuantity "512Mi" 2',
    takes: 'a quantity and a number',
    min: 2,
    max: 2,
    run: (args, fail) => {
      const a = quantity(args[0], 0, fail);
      const [factor] = numbers(args.slice(1), fail, 1);
      return formatQuantity(multiplyDecimals(a, factor), a.format, fail);
    },
  },
  divQuantity: {
    usage: 'divQuantity "1Gi" 4',
    takes: 'a quantity and a number',
    min: 2,
    max: 2,
    run: (args, fail) => {
      const a = quantity(args[0], 0, fail);
      const [divisor] = numbers(args.slice(1), fail, 1);
      if (divisor.coefficient === 0n) fail('division by zero (argument 2 is 0)');
      const quotient = divideDecimals(a, divisor);
      if (!quotient) {
        return fail(
          `${String(args[0])} / ${String(args[1])} is not exact to 9 decimal places ` +
            '(a quantity cannot be written finer than 1n); choose values that divide evenly',
        );
      }
      return formatQuantity(quotient, a.format, fail);
    },
  },
  join: {
    usage: 'join ", " a b c',
    takes: 'a separator and 1 or more values',
    min: 2,
    max: ANY,
    run: (args, fail) => {
      const [separator, ...items] = args;
      if (typeof separator !== 'string') {
        return fail(`argument 1 (the separator) must be a string, got ${describe(separator)}`);
      }
      return items
        .flatMap((item, i) => {
          const values: unknown[] = Array.isArray(item) ? item : [item];
          return values.map((value) => {
            if (!['string', 'number', 'boolean'].includes(typeof value)) {
              fail(
                `argument ${i + 2} must be a string, number or list of them, got ${describe(value)}`,
              );
            }
            return String(value);
          });
        })
        .join(separator);
    },
  },
  upper: {
    usage: 'upper s',
    takes: '1 string',
    min: 1,
    max: 1,
    run: (args, fail) => text(args[0], fail).toUpperCase(),
  },
  lower: {
    usage: 'lower s',
    takes: '1 string',
    min: 1,
    max: 1,
    run: (args, fail) => text(args[0], fail).toLowerCase(),
  },
};

/** Handlebars' own helpers, which templates may also use. */
const BUILT_IN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup', 'log'];

/** Every helper name, ours first: a variable may not take one of these names. */
export const TEMPLATE_HELPER_NAMES: readonly string[] = [
  ...Object.keys(HELPERS),
  ...BUILT_IN_HELPERS,
];

export function isTemplateHelper(name: string): boolean {
  return Object.hasOwn(HELPERS, name);
}

interface HelperOptions {
  fn?: unknown;
  hash?: Record<string, unknown>;
  loc?: CallLocation;
}

/** The helpers as Handlebars functions: checks common to all, then the helper's own. */
export function handlebarsHelpers(): Record<string, (...params: unknown[]) => unknown> {
  return Object.fromEntries(
    Object.entries(HELPERS).map(([name, spec]) => [
      name,
      (...params: unknown[]) => {
        const options = params.pop() as HelperOptions;
        const fail: (problem: string, argument?: number) => never = (problem, argument) => {
          throw new HelperError(problem, options.loc, argument, name);
        };
        const write = `write {{${spec.usage}}}`;
        if (options.fn) fail(`${name} is not a block helper: ${write}`);
        const named = Object.keys(options.hash ?? {});
        if (named.length) {
          fail(
            `${name} takes no named arguments (got ${named.map((key) => `${key}=`).join(', ')}): ${write}`,
          );
        }
        const missing = params.findIndex((param) => param === undefined);
        if (missing >= 0) fail(`${name}: argument ${missing + 1} is not defined`, missing);
        if (params.length < spec.min || params.length > spec.max) {
          fail(
            `${name} takes ${spec.takes}, got ${params.length} argument${params.length === 1 ? '' : 's'}: ${write}`,
          );
        }
        return spec.run(params, (problem) => fail(`${name}: ${problem}`));
      },
    ]),
  );
}

// ---------------------------------------------------------------------------
// Arguments

function describe(value: unknown): string {
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value);
    return Number.isFinite(Number(value)) && value.trim() !== ''
      ? `the string ${quoted} (write ${value.trim()} without quotes)`
      : `the string ${quoted}`;
  }
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a map';
  return String(value);
}

/** Numbers as exact decimals, so that `add 0.1 0.2` is 0.3 and not 0.30000000000000004. */
function numbers(args: unknown[], fail: (problem: string) => never, offset = 0): Decimal[] {
  return plainNumbers(args, fail, offset).map((value) => {
    const parsed = parseQuantity(value);
    if (!parsed) fail(`argument ${offset + 1} is too large: ${value}`);
    return parsed;
  });
}

function plainNumbers(args: unknown[], fail: (problem: string) => never, offset = 0): number[] {
  return args.map((arg, i) => {
    if (typeof arg !== 'number' || !Number.isFinite(arg)) {
      fail(`argument ${offset + i + 1} must be a number, got ${describe(arg)}`);
    }
    return arg;
  });
}

function integers(args: unknown[], fail: (problem: string) => never): number[] {
  return plainNumbers(args, fail).map((value, i) => {
    if (!Number.isSafeInteger(value))
      fail(`argument ${i + 1} must be a whole number, got ${value}`);
    return value;
  });
}

function text(arg: unknown, fail: (problem: string) => never): string {
  if (typeof arg !== 'string') fail(`argument 1 must be a string, got ${describe(arg)}`);
  return arg;
}

// ---------------------------------------------------------------------------
// Exact decimals

function addDecimals(a: Decimal, b: Decimal): Decimal {
  const unit = Math.min(a.exponent, b.exponent);
  return normalise(
    a.coefficient * 10n ** BigInt(a.exponent - unit) +
      b.coefficient * 10n ** BigInt(b.exponent - unit),
    unit,
  );
}

function multiplyDecimals(a: Decimal, b: Decimal): Decimal {
  return normalise(a.coefficient * b.coefficient, a.exponent + b.exponent);
}

function negate(a: Decimal): Decimal {
  return { coefficient: -a.coefficient, exponent: a.exponent };
}

/** a / b when it has at most 9 decimal places (what a quantity can hold); undefined otherwise. */
function divideDecimals(a: Decimal, b: Decimal): Decimal | undefined {
  // a.c·10^a.e / (b.c·10^b.e) = (a.c·10^k / b.c) · 10^(a.e − b.e − k), for the k reaching nano.
  const k = Math.max(0, a.exponent - b.exponent + NANO);
  const scaled = a.coefficient * 10n ** BigInt(k);
  if (scaled % b.coefficient !== 0n) return undefined;
  return normalise(scaled / b.coefficient, a.exponent - b.exponent - k);
}

function toNumber(value: Decimal, fail: (problem: string) => never): number {
  const result = Number(`${value.coefficient}e${value.exponent}`) + 0;
  if (!Number.isFinite(result) || (Number.isInteger(result) && !Number.isSafeInteger(result))) {
    fail(`the result ${result} is too large to be exact`);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Quantities, written the way the API server writes them back

type QuantityFormat = 'binary' | 'decimal' | 'exponent';

/** The smallest exponent a quantity can hold (nano). */
const NANO = 9;
const DECIMAL_SUFFIXES: Readonly<Record<number, string>> = {
  [-9]: 'n',
  [-6]: 'u',
  [-3]: 'm',
  0: '',
  3: 'k',
  6: 'M',
  9: 'G',
  12: 'T',
  15: 'P',
  18: 'E',
};
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

function quantity(
  arg: unknown,
  index: number,
  fail: (problem: string) => never,
): Decimal & { format: QuantityFormat } {
  const parsed =
    typeof arg === 'string' || typeof arg === 'number' ? parseQuantity(arg) : undefined;
  if (!parsed) {
    fail(
      `argument ${index + 1} must be a quantity such as "512Mi", "250m" or 2, got ${describe(arg)}`,
    );
  }
  const written = String(arg);
  const format: QuantityFormat = written.endsWith('i')
    ? 'binary'
    : /\d[eE][+-]?\d+$/.test(written)
      ? 'exponent'
      : 'decimal';
  return { coefficient: parsed.coefficient, exponent: parsed.exponent, format };
}

/**
 * Kubernetes' canonical form (resource.Quantity.String): in the first
 * operand's format; binary (`1536Mi`) only for whole numbers from 1024 on,
 * otherwise decimal with the largest suffix that keeps the number whole
 * (`1500`, `250m`, `1200k`).
 */
export function formatQuantity(
  value: Decimal,
  format: QuantityFormat,
  fail: (problem: string) => never,
): string {
  if (value.coefficient === 0n) return '0';
  if (value.exponent < -NANO) fail('the result is finer than 1n, which a quantity cannot hold');
  if (format === 'binary' && value.exponent >= 0) {
    let whole = value.coefficient * 10n ** BigInt(value.exponent);
    if (whole >= 1024n || whole <= -1024n) {
      let power = 0;
      while (power < BINARY_SUFFIXES.length - 1 && whole % 1024n === 0n) {
        whole /= 1024n;
        power++;
      }
      return `${whole}${BINARY_SUFFIXES[power]}`;
    }
  }
  const exponent = Math.min(18, Math.floor(value.exponent / 3) * 3);
  const mantissa = value.coefficient * 10n ** BigInt(value.exponent - exponent);
  if (format === 'exponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  return `${mantissa}${DECIMAL_SUFFIXES[exponent]}`;
}
