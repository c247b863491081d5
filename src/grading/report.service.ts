import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, In } from 'typeorm';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { SessionQuestion } from '../sessions/session-question.entity.js';
import { Session } from '../sessions/session.entity.js';
import { CheckResult } from './check-result.entity.js';
import { GradeRun } from './grade-run.entity.js';
import { percentOf, scoreRun, timeUsedSeconds } from './score.js';
import type {
  CheckReport,
  RunSummary,
  SessionReport,
  TaskOutcome,
  TaskReport,
} from './report.types.js';

/**
 * Builds score reports from stored grade runs: the newest finished run is
 * the score; older runs are its history. Reports exist only once a session
 * has ended and been graded, so they may show checks and solutions.
 */
@Injectable()
export class ReportService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async report(sessionId: string): Promise<SessionReport> {
    const session = await this.dataSource.getRepository(Session).findOneBy({ id: sessionId });
    if (!session) throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
    const runs = await this.dataSource
      .getRepository(GradeRun)
      .find({ where: { sessionId }, order: { startedAt: 'DESC' } });
    const run = runs.find((r) => r.status !== 'running');
    if (!run) {
      throw new DomainError(
        ErrorCode.REPORT_NOT_READY,
        `Session ${sessionId} has no score yet (it is ${session.state})`,
        { state: session.state },
      );
    }
    const [questions, results] = await Promise.all([
      this.dataSource
        .getRepository(SessionQuestion)
        .find({ where: { sessionId }, order: { position: 'ASC' } }),
      this.dataSource.getRepository(CheckResult).find({ where: { gradeRunId: run.id } }),
    ]);
    return buildReport(session, questions, results, run, runs);
  }

  /** Reports of every graded session of an exam (or all exams), oldest first, for CSV export. */
  async cohort(filter: { examId?: string }): Promise<SessionReport[]> {
    const runs = await this.dataSource
      .getRepository(GradeRun)
      .find({ order: { startedAt: 'ASC' } });
    const sessionIds = [...new Set(runs.map((r) => r.sessionId))];
    if (!sessionIds.length) return [];
    const sessions = await this.dataSource.getRepository(Session).find({
      where: { id: In(sessionIds), ...(filter.examId ? { examId: filter.examId } : {}) },
      order: { createdAt: 'ASC' },
    });
    const reports: SessionReport[] = [];
    for (const session of sessions) reports.push(await this.report(session.id));
    return reports;
  }
}

export function buildReport(
  session: Session,
  questions: SessionQuestion[],
  results: CheckResult[],
  run: GradeRun,
  runs: GradeRun[],
): SessionReport {
  const tasks = questions.map((question) => taskReport(question, results));
  const complete = run.status === 'complete';
  const score = scoreRun(
    tasks.map((task, i) => ({ ...task, sessionQuestionId: questions[i].id })),
    { complete, passPercent: session.passPercent, timeUsedSeconds: timeUsedSeconds(session) },
  );
  return {
    sessionId: session.id,
    examId: session.examId,
    examTitle: session.examTitle,
    candidateName: session.candidateName,
    state: session.state,
    startedAt: session.startedAt?.toISOString() ?? null,
    endedAt: session.endedAt?.toISOString() ?? null,
    timeUsedSeconds: score.timeUsedSeconds,
    durationSeconds: session.durationSeconds,
    run: runSummary(run),
    complete,
    incompleteNote: complete ? null : run.note,
    pointsAwarded: score.pointsAwarded,
    pointsPossible: score.pointsPossible,
    percent: score.percent,
    passPercent: session.passPercent,
    passed: score.passed === true,
    domains: score.domains,
    tasks,
    history: runs.map(runSummary),
  };
}

function taskReport(question: SessionQuestion, results: CheckResult[]): TaskReport {
  const mine = new Map(
    results.filter((r) => r.sessionQuestionId === question.id).map((r) => [r.checkId, r]),
  );
  const checks: CheckReport[] = question.checks.map((check) => {
    const result = mine.get(check.id);
    const hint = (check as { hint?: string }).hint;
    return {
      id: check.id,
      kind: check.kind,
      description: check.description,
      status: result?.status ?? 'error',
      pointsAwarded: result?.pointsAwarded ?? 0,
      pointsPossible: result?.pointsPossible ?? check.points,
      message: result?.message ?? 'not graded in this run',
      ...(hint && result?.status !== 'passed' ? { hint } : {}),
      durationMs: result?.durationMs ?? null,
    };
  });
  const pointsAwarded = checks.reduce((sum, c) => sum + c.pointsAwarded, 0);
  const outcome: TaskOutcome = checks.some((c) => c.status === 'error')
    ? 'incomplete'
    : pointsAwarded >= question.weight
      ? 'full'
      : pointsAwarded > 0
        ? 'partial'
        : 'zero';
  return {
    position: question.position,
    questionId: question.questionId,
    title: question.title,
    domain: question.domain,
    pointsAwarded,
    pointsPossible: question.weight,
    outcome,
    answer: question.answer,
    checks,
    solution: question.solution,
    setupStatus: question.setupStatus,
    setupMessage: question.setupMessage,
  };
}

function runSummary(run: GradeRun): RunSummary {
  const decided = run.status === 'complete';
  return {
    runId: run.id,
    status: run.status,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    percent: decided ? percentOf(run.pointsAwarded, run.pointsPossible) : null,
    passed: run.passed,
    trigger: run.trigger,
  };
}
