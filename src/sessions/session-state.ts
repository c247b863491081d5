import { DomainError, ErrorCode } from '../errors/domain-error.js';

/**
 * The session lifecycle. The database row is the source of truth; every
 * change goes through {@link assertTransition} and a conditional UPDATE on the
 * expected current state, so two processes can never both move a session.
 */
export const SessionState = {
  CREATED: 'created',
  PROVISIONING: 'provisioning',
  PROVISIONING_FAILED: 'provisioning_failed',
  /** Built; the candidate reads the briefing. The clock starts at Begin. */
  READY: 'ready',
  /** Ready but never begun within READY_TIMEOUT_SECONDS: torn down, never graded. */
  ABANDONED: 'abandoned',
  ACTIVE: 'active',
  SUBMITTED: 'submitted',
  EXPIRED: 'expired',
  GRADING: 'grading',
  GRADING_FAILED: 'grading_failed',
  GRADED: 'graded',
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

export const ALL_SESSION_STATES = Object.values(SessionState);

const S = SessionState;
/** Allowed moves, from → to. Anything else is a 409 ILLEGAL_TRANSITION. */
export const TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  [S.CREATED]: [S.PROVISIONING],
  [S.PROVISIONING]: [S.READY, S.PROVISIONING_FAILED],
  // A trainer may retry a failed provisioning.
  [S.PROVISIONING_FAILED]: [S.PROVISIONING],
  [S.READY]: [S.ACTIVE, S.ABANDONED],
  [S.ABANDONED]: [],
  [S.ACTIVE]: [S.SUBMITTED, S.EXPIRED],
  [S.SUBMITTED]: [S.GRADING],
  [S.EXPIRED]: [S.GRADING],
  [S.GRADING]: [S.GRADED, S.GRADING_FAILED],
  // Regrading (after a grader fix, or a failed run) starts a new run.
  [S.GRADING_FAILED]: [S.GRADING],
  [S.GRADED]: [S.GRADING],
};

/** States that hold a place on a cluster (the caps on running sessions count these). */
export const RUNNING_STATES: readonly SessionState[] = [S.PROVISIONING, S.READY, S.ACTIVE];

/** States in which the candidate's exam time has ended. */
export const ENDED_STATES: readonly SessionState[] = [
  S.SUBMITTED,
  S.EXPIRED,
  S.GRADING,
  S.GRADING_FAILED,
  S.GRADED,
];

export function canTransition(from: SessionState, to: SessionState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: SessionState, to: SessionState): void {
  if (!canTransition(from, to)) {
    throw new DomainError(
      ErrorCode.ILLEGAL_TRANSITION,
      `A session cannot go from ${from} to ${to}`,
      {
        from,
        to,
        allowed: TRANSITIONS[from],
      },
    );
  }
}

/** The states from which `to` can be reached. */
export function sourcesOf(to: SessionState): SessionState[] {
  return ALL_SESSION_STATES.filter((from) => TRANSITIONS[from].includes(to));
}
