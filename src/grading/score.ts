import type { DomainScore } from './report.types.js';

/** One task's points in a run. */
export interface TaskScore {
  sessionQuestionId: string;
  questionId: string;
  domain: string;
  pointsAwarded: number;
  pointsPossible: number;
}

/**
 * A run's score as stored with it: per task, per domain, in total, against
 * the pass mark, and the candidate's time, so a run read years later says
 * what it said on the day.
 */
export interface RunScore {
  tasks: TaskScore[];
  domains: DomainScore[];
  pointsAwarded: number;
  pointsPossible: number;
  percent: number;
  passPercent: number;
  /** null while the run is incomplete: no pass or fail on undecided checks. */
  passed: boolean | null;
  timeUsedSeconds: number | null;
}

/** Percent with one decimal. */
export function percentOf(awarded: number, possible: number): number {
  return possible ? Math.round((awarded * 1000) / possible) / 10 : 0;
}

/** Seconds from the start of the exam to its end (submit or deadline). */
export function timeUsedSeconds(session: {
  startedAt: Date | null;
  endedAt: Date | null;
}): number | null {
  if (!session.startedAt || !session.endedAt) return null;
  return Math.max(0, Math.round((session.endedAt.getTime() - session.startedAt.getTime()) / 1000));
}

export function scoreRun(
  tasks: TaskScore[],
  options: { complete: boolean; passPercent: number; timeUsedSeconds: number | null },
): RunScore {
  const domains = new Map<string, DomainScore>();
  for (const task of tasks) {
    const domain = domains.get(task.domain) ?? {
      domain: task.domain,
      pointsAwarded: 0,
      pointsPossible: 0,
      percent: 0,
    };
    domain.pointsAwarded += task.pointsAwarded;
    domain.pointsPossible += task.pointsPossible;
    domain.percent = percentOf(domain.pointsAwarded, domain.pointsPossible);
    domains.set(task.domain, domain);
  }
  const pointsAwarded = tasks.reduce((sum, t) => sum + t.pointsAwarded, 0);
  const pointsPossible = tasks.reduce((sum, t) => sum + t.pointsPossible, 0);
  return {
    tasks,
    domains: [...domains.values()],
    pointsAwarded,
    pointsPossible,
    percent: percentOf(pointsAwarded, pointsPossible),
    passPercent: options.passPercent,
    passed: options.complete ? pointsAwarded * 100 >= options.passPercent * pointsPossible : null,
    timeUsedSeconds: options.timeUsedSeconds,
  };
}
