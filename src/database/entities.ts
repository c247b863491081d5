import { ApiToken } from '../auth/api-token.entity.js';
import { ClusterLease } from '../environments/cluster-lease.entity.js';
import { CheckResult } from '../grading/check-result.entity.js';
import { GradeRun } from '../grading/grade-run.entity.js';
import { Invitation } from '../invitations/invitation.entity.js';
import { SessionEvent } from '../sessions/session-event.entity.js';
import { SessionQuestion } from '../sessions/session-question.entity.js';
import { Session } from '../sessions/session.entity.js';

/** Every entity, listed explicitly: no globs, so the compiled app and tests agree. */
export const ENTITIES = [
  Session,
  SessionQuestion,
  SessionEvent,
  Invitation,
  ApiToken,
  GradeRun,
  CheckResult,
  ClusterLease,
];
