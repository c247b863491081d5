import { describe, expect, it } from '@jest/globals';
import { compareQuantities, parseQuantity, type Quantity } from './quantity.js';

function q(text: string | number): Quantity {
  const parsed = parseQuantity(text);
  if (!parsed) throw new Error(`${String(text)} did not parse`);
  return parsed;
}

function same(a: string | number, b: string | number): boolean {
  return compareQuantities(q(a), q(b)) === 0;
}

describe('parseQuantity', () => {
  it.each([
    ['1Gi', 1024n ** 3n, 0],
    ['1024Mi', 1024n ** 3n, 0],
    ['128974848', 128974848n, 0],
    ['500m', 5n, -1],
    ['0.5', 5n, -1],
    ['.5', 5n, -1],
    ['5.', 5n, 0],
    ['2k', 2n, 3],
    ['1e3', 1n, 3],
    ['1E3', 1n, 3],
    ['1e-3', 1n, -3],
    ['1e+21', 1n, 21],
    ['1M', 1n, 6],
    ['1E', 1n, 18],
    ['1Ei', 1024n ** 6n, 0],
    ['100n', 1n, -7],
    ['250u', 25n, -5],
    ['-2', -2n, 0],
    ['+2', 2n, 0],
    ['0', 0n, 0],
    ['0Gi', 0n, 0],
    ['0.000', 0n, 0],
  ])('reads %s exactly', (text, coefficient, exponent) => {
    expect(q(text)).toMatchObject({ coefficient, exponent });
  });

  it('normalises so one value has one representation', () => {
    expect(q('1000m')).toEqual({ ...q('1'), suffixed: true });
    expect(q('1.500')).toEqual(q('1.5'));
  });

  it('knows whether a unit or exponent was written', () => {
    expect(q('1Gi').suffixed).toBe(true);
    expect(q('500m').suffixed).toBe(true);
    expect(q('1e3').suffixed).toBe(true);
    expect(q('1000').suffixed).toBe(false);
    expect(q('0.5').suffixed).toBe(false);
  });

  it('takes numbers, as YAML gives them, as bare values', () => {
    expect(q(0.5)).toEqual({ ...q('500m'), suffixed: false });
    expect(q(1e21)).toEqual({ ...q('1e21'), suffixed: false });
    expect(q(0.1).exponent).toBe(-1);
    expect(parseQuantity(Number.NaN)).toBeUndefined();
    expect(parseQuantity(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it.each([
    '',
    'Gi',
    '1 Gi',
    ' 1',
    '1gi',
    '1KI',
    '1K',
    '1e',
    '1e1.5',
    '1.2.3',
    'abc',
    '1Gib',
    'v1.30',
    '0x10',
    'Infinity',
    '1e1001',
  ])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('compareQuantities', () => {
  it('equates the forms the API server rewrites', () => {
    expect(same('1Gi', '1024Mi')).toBe(true);
    expect(same('0.5', '500m')).toBe(true);
    expect(same('1000m', '1')).toBe(true);
    expect(same('2k', '2000')).toBe(true);
    expect(same('1e3', '1k')).toBe(true);
    expect(same('1M', '1000000')).toBe(true);
    expect(same('1.5Gi', '1536Mi')).toBe(true);
    expect(same('128974848', '129e6')).toBe(false);
    expect(same('128974848', '123Mi')).toBe(true);
    expect(same(0.5, '500m')).toBe(true);
  });

  it('keeps binary and decimal units apart', () => {
    expect(same('1Gi', '1G')).toBe(false);
    expect(compareQuantities(q('1G'), q('1Gi'))).toBe(-1);
    expect(compareQuantities(q('1Ki'), q('1k'))).toBe(1);
  });

  it('orders across scales and signs', () => {
    expect(compareQuantities(q('999m'), q('1'))).toBe(-1);
    expect(compareQuantities(q('1001m'), q('1'))).toBe(1);
    expect(compareQuantities(q('-1'), q('1m'))).toBe(-1);
    expect(compareQuantities(q('-1'), q('-2'))).toBe(1);
    expect(compareQuantities(q('0'), q('-0.001'))).toBe(1);
    expect(compareQuantities(q('512Mi'), q('1Gi'))).toBe(-1);
    expect(compareQuantities(q('1e-1000'), q('0'))).toBe(1);
    expect(compareQuantities(q('1e1000'), q('9e999'))).toBe(1);
  });

  it('is exact where floating point is not', () => {
    // 2^63 + 1 bytes is not representable as a double.
    expect(compareQuantities(q('9223372036854775809'), q('8Ei'))).toBe(1);
    expect(compareQuantities(q('9223372036854775808'), q('8Ei'))).toBe(0);
  });
});
