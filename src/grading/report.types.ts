import type { CheckStatus } from './check-result.entity.js';
import type { GradeRunStatus } from './grade-run.entity.js';

/** One check as the report shows it. */
export interface CheckReport {
  id: string;
  kind: string;
  description: string;
  status: CheckStatus;
  pointsAwarded: number;
  pointsPossible: number;
  /** Why it failed, was skipped or errored (empty when passed). */
  message: string;
  hint?: string;
  durationMs: number | null;
}

/** full: every point; partial: some; zero: none; incomplete: a check errored. */
export type TaskOutcome = 'full' | 'partial' | 'zero' | 'incomplete';

export interface TaskReport {
  position: number;
  /** How people count tasks: position + 1. */
  number: number;
  questionId: string;
  title: string;
  domain: string;
  domainName: string;
  /** The task text, rendered from Markdown (raw HTML off; see question-bank/markdown.ts). */
  taskHtml: string;
  pointsAwarded: number;
  pointsPossible: number;
  outcome: TaskOutcome;
  /** The candidate's text answer, if any. */
  answer: string | null;
  checks: CheckReport[];
  /** Only once the session has ended (a report exists only then). */
  solution?: { explanation: string; explanationHtml: string; commands: string[] };
  setupStatus: string;
  setupMessage: string | null;
}

/** One domain's share of a run's score (stored with the run). */
export interface DomainScore {
  domain: string;
  pointsAwarded: number;
  pointsPossible: number;
  percent: number;
}

export interface DomainReport extends DomainScore {
  domainName: string;
}

export interface RunSummary {
  runId: string;
  status: GradeRunStatus;
  startedAt: string;
  finishedAt: string | null;
  percent: number | null;
  passed: boolean | null;
  trigger: string;
}

/** A session's score report: the newest finished grade run, with the history of runs. */
export interface SessionReport {
  sessionId: string;
  examId: string;
  examTitle: string;
  candidateName: string | null;
  state: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Seconds between start and submit/expiry. */
  timeUsedSeconds: number | null;
  durationSeconds: number;
  run: RunSummary;
  /** complete: every check decided; incomplete: some errored even after retries. */
  complete: boolean;
  incompleteNote: string | null;
  pointsAwarded: number;
  pointsPossible: number;
  percent: number;
  passPercent: number;
  /** null while grading is incomplete: undecided checks decide no pass or fail. */
  passed: boolean | null;
  domains: DomainReport[];
  tasks: TaskReport[];
  history: RunSummary[];
}
