import { ValidationFailedError } from '../errors/domain-error.js';
import { jsonDepth, MAX_JSON_DEPTH, refuseDeepJson } from './json-limits.js';

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
  return value;
};

describe('jsonDepth', () => {
  it('counts nesting of objects and arrays', () => {
    expect(jsonDepth('x')).toBe(0);
    expect(jsonDepth(null)).toBe(0);
    expect(jsonDepth({ a: 1 })).toBe(1);
    expect(jsonDepth({ a: [{ b: [] }], c: {} })).toBe(4);
  });

  it('stops counting once past the bound, without recursion on a very deep value', () => {
    expect(jsonDepth(nested(200_000), 16)).toBe(17);
  });
});

describe('refuseDeepJson', () => {
  const run = (body: unknown) => {
    let passed: unknown = 'not called';
    refuseDeepJson({ body } as never, {} as never, (error?: unknown) => (passed = error));
    return passed;
  };

  it(`lets ${MAX_JSON_DEPTH} levels through and refuses one more as a validation error on "body"`, () => {
    expect(run(nested(MAX_JSON_DEPTH))).toBeUndefined();
    const error = run(nested(MAX_JSON_DEPTH + 1));
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).problems[0].path).toBe('body');
  });
});
