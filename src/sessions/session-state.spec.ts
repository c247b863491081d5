import { DomainError } from '../errors/domain-error.js';
import {
  ALL_SESSION_STATES,
  assertTransition,
  canTransition,
  SessionState as S,
  sourcesOf,
  TRANSITIONS,
} from './session-state.js';

describe('the session state machine', () => {
  it('follows created → provisioning → ready → active → submitted | expired → grading → graded', () => {
    const path: [S, S][] = [
      [S.CREATED, S.PROVISIONING],
      [S.PROVISIONING, S.READY],
      [S.READY, S.ACTIVE],
      [S.ACTIVE, S.SUBMITTED],
      [S.ACTIVE, S.EXPIRED],
      [S.SUBMITTED, S.GRADING],
      [S.EXPIRED, S.GRADING],
      [S.GRADING, S.GRADED],
    ];
    for (const [from, to] of path) expect(canTransition(from, to)).toBe(true);
  });

  it('starts the clock only from ready, and abandons a ready session for good', () => {
    expect(canTransition(S.PROVISIONING, S.ACTIVE)).toBe(false);
    expect(canTransition(S.READY, S.ABANDONED)).toBe(true);
    expect(TRANSITIONS[S.ABANDONED]).toEqual([]);
  });

  it('has failure states with a way back', () => {
    expect(canTransition(S.PROVISIONING, S.PROVISIONING_FAILED)).toBe(true);
    expect(canTransition(S.PROVISIONING_FAILED, S.PROVISIONING)).toBe(true);
    expect(canTransition(S.GRADING, S.GRADING_FAILED)).toBe(true);
    expect(canTransition(S.GRADING_FAILED, S.GRADING)).toBe(true);
  });

  it('rejects everything else with ILLEGAL_TRANSITION (409)', () => {
    const allowed = new Set(
      Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`)),
    );
    let rejected = 0;
    for (const from of ALL_SESSION_STATES) {
      for (const to of ALL_SESSION_STATES) {
        if (allowed.has(`${from}>${to}`)) continue;
        rejected++;
        try {
          assertTransition(from, to);
          throw new Error(`${from} → ${to} was allowed`);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
          expect((error as DomainError).code).toBe('ILLEGAL_TRANSITION');
          expect((error as DomainError).status).toBe(409);
        }
      }
    }
    expect(rejected).toBe(ALL_SESSION_STATES.length ** 2 - allowed.size);
    // Nothing reopens an ended exam.
    for (const ended of [S.SUBMITTED, S.EXPIRED, S.GRADED])
      expect(canTransition(ended, S.ACTIVE)).toBe(false);
  });

  it('knows where a state can be reached from', () => {
    expect(sourcesOf(S.GRADING).sort()).toEqual(
      [S.EXPIRED, S.GRADED, S.GRADING_FAILED, S.SUBMITTED].sort(),
    );
  });
});
