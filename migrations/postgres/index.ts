import { SessionAccessRevoked1796500000000 } from './1796500000000-session-access-revoked.js';
import { LeaseOwner1796400000000 } from './1796400000000-lease-owner.js';
import { DedicatedEnvironments1796286855210 } from './1796286855210-dedicated-environments.js';
import { SessionQuestionFiles1796236681437 } from './1796236681437-session-question-files.js';
import { SessionQuestionSetupSteps1796235949860 } from './1796235949860-session-question-setup-steps.js';
import { SessionReadyAndNotepad1796211495092 } from './1796211495092-session-ready-and-notepad.js';
import { SessionClientAddress1796210485636 } from './1796210485636-session-client-address.js';
import { SessionPodAllowances1796196952269 } from './1796196952269-session-pod-allowances.js';
import { GradeRunScore1795390313708 } from './1795390313708-grade-run-score.js';
import { GradeRunTrigger1795388607839 } from './1795388607839-grade-run-trigger.js';
import { Initial1795384372310 } from './1795384372310-initial.js';
import type { MigrationInterface } from 'typeorm';

/** Applied in this order; `npm run migration:generate` appends here. */
export const POSTGRES_MIGRATIONS: (new () => MigrationInterface)[] = [
  Initial1795384372310,
  GradeRunTrigger1795388607839,
  GradeRunScore1795390313708,
  SessionPodAllowances1796196952269,
  SessionClientAddress1796210485636,
  SessionReadyAndNotepad1796211495092,
  SessionQuestionSetupSteps1796235949860,
  SessionQuestionFiles1796236681437,
  DedicatedEnvironments1796286855210,
  LeaseOwner1796400000000,
  SessionAccessRevoked1796500000000,
];
