import { ApiError, NetworkError } from './api.js';
import { formatIn, formatWallTime } from './format.js';

/** What to do next, for the errors a candidate can act on. */
const ADVICE: Record<string, string> = {
  INVITATION_INVALID: 'Check the code for typos: copy it from your invitation if you can.',
  INVITATION_USED: 'Each invitation is for one exam. Ask your trainer for a new code.',
  INVITATION_EXPIRED: 'Ask your trainer for a new code.',
  EXAM_NOT_OPEN: 'This exam needs an invitation code from a trainer.',
};

/** The sentence shown to the candidate for a failed request. */
export function describeError(error: unknown): string {
  if (error instanceof NetworkError) {
    return 'The exam server could not be reached. Check your connection and try again.';
  }
  if (error instanceof ApiError) {
    const parts = [error.message.endsWith('.') ? error.message : `${error.message}.`];
    const advice = ADVICE[error.code];
    if (advice) parts.push(advice);
    if (error.retryAfterSeconds !== null) {
      const at = Date.now() + error.retryAfterSeconds * 1000;
      parts.push(`Try again ${formatIn(error.retryAfterSeconds)} (at ${formatWallTime(at)}).`);
    }
    return parts.join(' ');
  }
  return error instanceof Error
    ? `Something went wrong: ${error.message}`
    : 'Something went wrong.';
}

export function isUnauthenticated(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}
