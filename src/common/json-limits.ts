import type { NextFunction, Request, Response } from 'express';
import { ValidationFailedError } from '../errors/domain-error.js';

/**
 * Limits on JSON request bodies. The largest legitimate body is an answer of
 * 20,000 characters (a note of 5,000 beside it); 128 KiB leaves room for
 * escaped non-ASCII text. Deep nesting is refused before validation sees it:
 * a 240 KB body of nested arrays cost 0.4 s of the event loop and overflowed
 * class-transformer's stack (a 500); no request of this API nests deeper than
 * a few levels.
 */
export const JSON_BODY_LIMIT = '128kb';
export const MAX_JSON_DEPTH = 16;

/** The deepest nesting of objects and arrays in a parsed value, counted without recursion. */
export function jsonDepth(value: unknown, stopAbove = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) {
      deepest = here;
      if (deepest > stopAbove) return deepest;
    }
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, here]);
    }
  }
  return deepest;
}

/** Express middleware after the JSON parser: a body nested too deep is a 400 naming the limit. */
export function refuseDeepJson(req: Request, _res: Response, next: NextFunction): void {
  if (jsonDepth(req.body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    next(
      new ValidationFailedError([
        {
          path: 'body',
          message: `nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`,
        },
      ]),
    );
    return;
  }
  next();
}
