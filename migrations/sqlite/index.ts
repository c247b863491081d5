import { SessionAccessRevoked1796500000000 } from './1796500000000-session-access-revoked.js';
import { LeaseOwner1796400000000 } from './1796400000000-lease-owner.js';
import { DedicatedEnvironments1796286851961 } from './1796286851961-dedicated-environments.js';
import { SessionQuestionFiles1796236664143 } from './1796236664143-session-question-files.js';
import { SessionQuestionSetupSteps1796235939397 } from './1796235939397-session-question-setup-steps.js';
import { SessionReadyAndNotepad1796211490994 } from './1796211490994-session-ready-and-notepad.js';
import { SessionClientAddress1796210474912 } from './1796210474912-session-client-address.js';
import { SessionPodAllowances1796196948154 } from './1796196948154-session-pod-allowances.js';
import { GradeRunScore1795390312495 } from './1795390312495-grade-run-score.js';
import { GradeRunTrigger1795388606778 } from './1795388606778-grade-run-trigger.js';
import { Initial1795384371336 } from './1795384371336-initial.js';
import type { MigrationInterface } from 'typeorm';

/** Applied in this order; `npm run migration:generate` appends here. */
export const SQLITE_MIGRATIONS: (new () => MigrationInterface)[] = [
  Initial1795384371336,
  GradeRunTrigger1795388606778,
  GradeRunScore1795390312495,
  SessionPodAllowances1796196948154,
  SessionClientAddress1796210474912,
  SessionReadyAndNotepad1796211490994,
  SessionQuestionSetupSteps1796235939397,
  SessionQuestionFiles1796236664143,
  DedicatedEnvironments1796286851961,
  LeaseOwner1796400000000,
  SessionAccessRevoked1796500000000,
];
