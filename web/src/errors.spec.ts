import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ApiError, NetworkError } from './api.js';
import { describeError, isUnauthenticated } from './errors.js';
import { formatWallTime } from './format.js';

const apiError = (
  status: number,
  code: string,
  message: string,
  retryAfterSeconds: number | null = null,
) => new ApiError(status, code, message, {}, retryAfterSeconds);

describe('describeError', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date(2030, 4, 1, 14, 59, 30) });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('tells the candidate to check the connection when the server could not be reached', () => {
    expect(describeError(new NetworkError(new TypeError('fetch failed')))).toBe(
      'The exam server could not be reached. Check your connection and try again.',
    );
  });

  it('gives the server’s message, with what to do next for errors the candidate can fix', () => {
    expect(describeError(apiError(404, 'INVITATION_INVALID', 'Unknown invitation code'))).toBe(
      'Unknown invitation code. Check the code for typos: copy it from your invitation if you can.',
    );
    expect(describeError(apiError(409, 'INVITATION_USED', 'This code was used.'))).toBe(
      'This code was used. Each invitation is for one exam. Ask your trainer for a new code.',
    );
  });

  it('gives only the message for other errors', () => {
    expect(describeError(apiError(409, 'SESSION_NOT_ACTIVE', 'The exam is over'))).toBe(
      'The exam is over.',
    );
  });

  it('says when to try again after a rate limit, in seconds and by the candidate’s clock', () => {
    const message = describeError(apiError(429, 'TOO_MANY_REQUESTS', 'Too many attempts', 45));
    // 14:59:30 + 45 s: by the candidate's own clock, at 15:00.
    const at = formatWallTime(new Date(2030, 4, 1, 15, 0, 15).getTime());
    expect(at).not.toBe(formatWallTime(Date.now()));
    expect(message).toBe(`Too many attempts. Try again in 45 seconds (at ${at}).`);
  });

  it('says "in about N minutes" for longer waits', () => {
    expect(describeError(apiError(429, 'TOO_MANY_REQUESTS', 'Too many attempts', 300))).toMatch(
      /^Too many attempts\. Try again in about 5 minutes \(at .+\)\.$/,
    );
  });

  it('falls back to a generic sentence for anything else', () => {
    expect(describeError(new Error('boom'))).toBe('Something went wrong: boom');
    expect(describeError('boom')).toBe('Something went wrong.');
    expect(describeError(undefined)).toBe('Something went wrong.');
  });
});

describe('isUnauthenticated', () => {
  it('is true only for a 401 from the API', () => {
    expect(isUnauthenticated(apiError(401, 'UNAUTHENTICATED', 'Sign in'))).toBe(true);
    expect(isUnauthenticated(apiError(403, 'FORBIDDEN', 'No'))).toBe(false);
    expect(isUnauthenticated(new NetworkError(null))).toBe(false);
    expect(isUnauthenticated(Object.assign(new Error('x'), { status: 401 }))).toBe(false);
  });
});
