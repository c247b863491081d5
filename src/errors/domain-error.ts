/**
 * Stable, machine-readable error codes. Clients switch on these, so a code is
 * never renamed or reused; add new ones instead.
 */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  EXAM_NOT_FOUND: 'EXAM_NOT_FOUND',
  EXAM_NOT_OPEN: 'EXAM_NOT_OPEN',
  QUESTION_NOT_IN_SESSION: 'QUESTION_NOT_IN_SESSION',
  INVITATION_INVALID: 'INVITATION_INVALID',
  INVITATION_USED: 'INVITATION_USED',
  INVITATION_EXPIRED: 'INVITATION_EXPIRED',
  SESSION_NOT_FOUND: 'SESSION_NOT_FOUND',
  SESSION_NOT_ACTIVE: 'SESSION_NOT_ACTIVE',
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  ILLEGAL_TRANSITION: 'ILLEGAL_TRANSITION',
  CONFLICT: 'CONFLICT',
  REPORT_NOT_READY: 'REPORT_NOT_READY',
  REGRADE_UNAVAILABLE: 'REGRADE_UNAVAILABLE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  SESSION_LIMIT_REACHED: 'SESSION_LIMIT_REACHED',
  AT_CAPACITY: 'AT_CAPACITY',
  CROSS_ORIGIN_REFUSED: 'CROSS_ORIGIN_REFUSED',
  TERMINAL_UNAVAILABLE: 'TERMINAL_UNAVAILABLE',
  RECORDING_NOT_FOUND: 'RECORDING_NOT_FOUND',
  SESSION_NOT_ENDED: 'SESSION_NOT_ENDED',
  ENVIRONMENT_UNAVAILABLE: 'ENVIRONMENT_UNAVAILABLE',
  KUBECONFIG_NOT_OFFERED: 'KUBECONFIG_NOT_OFFERED',
  INVITATION_REQUIRED: 'INVITATION_REQUIRED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status each code maps to (one global filter applies it). */
export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  EXAM_NOT_FOUND: 404,
  EXAM_NOT_OPEN: 403,
  QUESTION_NOT_IN_SESSION: 404,
  INVITATION_INVALID: 404,
  INVITATION_USED: 409,
  INVITATION_EXPIRED: 410,
  SESSION_NOT_FOUND: 404,
  SESSION_NOT_ACTIVE: 409,
  SESSION_EXPIRED: 409,
  ILLEGAL_TRANSITION: 409,
  CONFLICT: 409,
  REPORT_NOT_READY: 409,
  REGRADE_UNAVAILABLE: 409,
  TOO_MANY_REQUESTS: 429,
  SESSION_LIMIT_REACHED: 429,
  AT_CAPACITY: 503,
  CROSS_ORIGIN_REFUSED: 403,
  TERMINAL_UNAVAILABLE: 503,
  RECORDING_NOT_FOUND: 404,
  SESSION_NOT_ENDED: 409,
  ENVIRONMENT_UNAVAILABLE: 503,
  KUBECONFIG_NOT_OFFERED: 403,
  INVITATION_REQUIRED: 403,
  INTERNAL: 500,
};

/** A failure the caller can understand and act on; never a bug. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return HTTP_STATUS_OF[this.code];
  }
}

/** One invalid field of a request: a dotted path and what is wrong with it. */
export interface FieldProblem {
  path: string;
  message: string;
}

export class ValidationFailedError extends DomainError {
  constructor(readonly problems: FieldProblem[]) {
    super(
      ErrorCode.VALIDATION_FAILED,
      `Invalid request: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      { problems },
    );
  }
}
