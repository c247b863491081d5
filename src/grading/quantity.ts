/**
 * Kubernetes resource quantities (`1Gi`, `500m`, `1e3`, `128974848`) as exact
 * values. The API server rewrites what the candidate typed into a canonical
 * form (`1024Mi` comes back as `1Gi`, `0.5` as `500m`), so the grader must
 * compare values, never text. Floating point would make `0.1 + 0.2`-style
 * noise and lose precision on byte counts, so a value is kept as a BigInt
 * coefficient times a power of ten: binary suffixes are whole multipliers and
 * every decimal form is a power of ten, so this is exact for the whole grammar.
 */
export interface Quantity {
  /** value = coefficient × 10^exponent; normalised, so equal values have equal fields. */
  readonly coefficient: bigint;
  readonly exponent: number;
  /** The text carried a unit suffix or an exponent (`1Gi`, `500m`, `1e3`), not a bare number. */
  readonly suffixed: boolean;
}

/**
 * The grammar of k8s.io/apimachinery resource.Quantity: a signed decimal
 * number, then a binary-SI suffix, a decimal-SI suffix or an exponent. `E`
 * alone is exa, `E3` is an exponent; lower-case `e` is only ever an exponent.
 */
const QUANTITY =
  /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

const DECIMAL_SI: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

const BINARY_SI: Readonly<Record<string, number>> = {
  Ki: 1,
  Mi: 2,
  Gi: 3,
  Ti: 4,
  Pi: 5,
  Ei: 6,
};

/** Beyond this a "quantity" is a typo or an attack on BigInt, not a resource size. */
const MAX_EXPONENT = 1000;

/**
 * Parses a quantity string (or a number, as YAML gives `cpu: 0.5`);
 * undefined when it is not one.
 */
export function parseQuantity(value: string | number): Quantity | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    // String() gives the shortest round-tripping decimal ("0.1", "1e+21"), which the grammar covers.
    const parsed = parseQuantityText(String(value));
    return parsed && { ...parsed, suffixed: false };
  }
  return parseQuantityText(value);
}

function parseQuantityText(text: string): Quantity | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, sign, number, exponentDigits, suffix] = match;
  const [whole, fraction = ''] = number.split('.');
  let coefficient = BigInt(whole + fraction || '0');
  // Subtract rather than negate: -0 would make equal quantities unequal under deep equality.
  let exponent = 0 - fraction.length;
  if (exponentDigits !== undefined) {
    const shift = Number(exponentDigits);
    if (Math.abs(shift) > MAX_EXPONENT) return undefined;
    exponent += shift;
  } else if (suffix !== undefined && suffix in BINARY_SI) {
    coefficient *= 1024n ** BigInt(BINARY_SI[suffix]);
  } else if (suffix !== undefined) {
    exponent += DECIMAL_SI[suffix];
  }
  if (sign === '-') coefficient = -coefficient;
  return {
    ...normalise(coefficient, exponent),
    suffixed: exponentDigits !== undefined || suffix !== undefined,
  };
}

/** Moves trailing zeros into the exponent so that one value has one representation. */
export function normalise(coefficient: bigint, exponent: number): Omit<Quantity, 'suffixed'> {
  if (coefficient === 0n) return { coefficient, exponent: 0 };
  while (coefficient % 10n === 0n) {
    coefficient /= 10n;
    exponent++;
  }
  return { coefficient, exponent };
}

export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  // Scale both coefficients to the smaller exponent so they are integers of one unit.
  const unit = Math.min(a.exponent, b.exponent);
  const left = a.coefficient * 10n ** BigInt(a.exponent - unit);
  const right = b.coefficient * 10n ** BigInt(b.exponent - unit);
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
