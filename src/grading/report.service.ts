import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { domainName, renderMarkdown } from '../question-bank/markdown.js';
import { CANDIDATE_SETUP_FAILURE } from '../sessions/candidate-messages.js';
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

  /**
   * `audience: 'candidate'` hides why a check could not be decided (cluster
   * addresses, grader internals): trainers see it, candidates are told a
   * trainer will review it.
   */
  async report(
    sessionId: string,
    audience: 'candidate' | 'staff' = 'staff',
  ): Promise<SessionReport> {
    const session = await this.dataSource.getRepository(Session).findOneBy({ id: sessionId });
    if (!session) throw new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
    const runs = await this.dataSource
      .getRepository(GradeRun)
      .find({ where: { sessionId }, order: { startedAt: 'DESC' } });
    // The newest complete run is the score; a newer incomplete one (a regrade
    // that could not finish) shows in the history and does not replace it.
    const run =
      runs.find((r) => r.status === 'complete') ?? runs.find((r) => r.status !== 'running');
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
    const report = buildReport(session, questions, results, run, runs);
    return audience === 'candidate' ? forCandidate(report) : report;
  }

  /** Reports of every graded session of an exam (or all exams), oldest first, for CSV export. */
  async cohort(filter: { examId?: string }): Promise<SessionReport[]> {
    const query = this.dataSource
      .getRepository(Session)
      .createQueryBuilder('s')
      .select('s.id', 'id')
      .where('EXISTS (SELECT 1 FROM grade_runs r WHERE r."sessionId" = s.id)')
      .orderBy('s."createdAt"', 'ASC');
    if (filter.examId) query.andWhere('s."examId" = :examId', { examId: filter.examId });
    const ids = (await query.getRawMany<{ id: string }>()).map((row) => row.id);
    const reports: SessionReport[] = [];
    for (const id of ids) reports.push(await this.report(id));
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
    passed: score.passed,
    domains: score.domains.map((d) => ({ ...d, domainName: domainName(d.domain) })),
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
    number: question.position + 1,
    questionId: question.questionId,
    title: question.title,
    domain: question.domain,
    domainName: domainName(question.domain),
    taskHtml: renderMarkdown(question.task),
    pointsAwarded,
    pointsPossible: question.weight,
    outcome,
    answer: question.answer,
    checks,
    solution: question.solution && {
      ...question.solution,
      explanationHtml: renderMarkdown(question.solution.explanation),
    },
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

/** Undecided checks keep their detail for trainers; candidates read that a trainer will look. */
export const UNDECIDED_FOR_CANDIDATE =
  'This check could not be decided automatically; a trainer will review it.';

/**
 * The report as a candidate reads it: why a check could not be decided and
 * why a task's setup failed are for trainers (they name cluster addresses,
 * objects and grader internals); the candidate reads that it happened.
 */
export function forCandidate(report: SessionReport): SessionReport {
  return {
    ...report,
    incompleteNote: report.incompleteNote === null ? null : UNDECIDED_FOR_CANDIDATE,
    tasks: report.tasks.map((task) => ({
      ...task,
      setupMessage: task.setupMessage === null ? null : CANDIDATE_SETUP_FAILURE,
      checks: task.checks.map((check) =>
        check.status === 'error' ? { ...check, message: UNDECIDED_FOR_CANDIDATE } : check,
      ),
    })),
  };
}
