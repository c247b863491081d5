import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { DedicatedEnvironments } from '../environments/dedicated-environments.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { SessionEvent } from '../sessions/session-event.entity.js';
import { SessionLifecycleService } from '../sessions/session-lifecycle.service.js';
import { SessionQuestion } from '../sessions/session-question.entity.js';
import { SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';
import { CheckResult } from './check-result.entity.js';
import type { TaskToGrade } from './check-runner.js';
import { CheckEvaluator } from './check-evaluator.js';
import { GradeRun } from './grade-run.entity.js';
import { scoreRun, timeUsedSeconds } from './score.js';

/**
 * Why a session is graded: its end (submit or expiry) or a trainer's regrade.
 * Read from the session's move into grading when the run is stored (in the
 * same transaction), not from the job: the reconciler may have enqueued it,
 * and a regrade asked for while an earlier job was still finishing is
 * answered by that job's run (reading the same frozen cluster).
 */
export type GradeTrigger = 'submit' | 'expiry' | 'regrade';

/** Some check could not be decided; the job is retried before the run is stored as incomplete. */
export class GradingIncompleteError extends Error {
  constructor(readonly undecided: { questionId: string; checkId: string; message: string }[]) {
    super(
      `${undecided.length} check${undecided.length === 1 ? '' : 's'} could not be decided: ` +
        undecided.map((u) => `${u.questionId}/${u.checkId}: ${u.message}`).join('; '),
    );
    this.name = 'GradingIncompleteError';
  }
}

/**
 * Scores sessions against the live cluster: every check of every task with
 * the session's variables, and the result stored as one grade run, together
 * with the session's move to graded, in one transaction (a worker dying
 * mid-run stores nothing, and the retried job stores one consistent run).
 */
@Injectable()
export class GradingService {
  private readonly logger: Logger;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly evaluator: CheckEvaluator,
    private readonly lifecycle: SessionLifecycleService,
    private readonly dedicated: DedicatedEnvironments,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'Grading' });
  }

  /**
   * Grades a session that is in `grading`. When a check cannot be decided and
   * `lastAttempt` is false, throws {@link GradingIncompleteError} so the job
   * is retried; on the last attempt the run is stored as incomplete and the
   * session goes to grading_failed (trainers see why and can regrade).
   */
  async gradeSession(sessionId: string, options: { lastAttempt: boolean }): Promise<GradeRun> {
    const session = await this.dataSource.getRepository(Session).findOneByOrFail({ id: sessionId });
    const questions = await this.dataSource
      .getRepository(SessionQuestion)
      .find({ where: { sessionId }, order: { position: 'ASC' } });
    const startedAt = new Date();
    const evaluation = await this.evaluator.evaluate(
      questions.map(taskOf),
      (session.endedAt ?? startedAt).getTime(),
      {
        namespaces: session.namespaces,
        prefix: session.prefix,
        ...(await this.dedicated.gradingScope(session)),
      },
    );
    const undecided = questions.flatMap((q) =>
      (evaluation.outcomes.get(q.id) ?? [])
        .filter((o) => o.status === 'error')
        .map((o) => ({ questionId: q.questionId, checkId: o.checkId, message: o.message })),
    );
    if (undecided.length && !options.lastAttempt) throw new GradingIncompleteError(undecided);

    const complete = undecided.length === 0;
    const score = scoreRun(
      questions.map((q) => ({
        sessionQuestionId: q.id,
        questionId: q.questionId,
        domain: q.domain,
        pointsAwarded: (evaluation.outcomes.get(q.id) ?? []).reduce(
          (sum, o) => sum + o.pointsAwarded,
          0,
        ),
        pointsPossible: q.weight,
      })),
      { complete, passPercent: session.passPercent, timeUsedSeconds: timeUsedSeconds(session) },
    );
    const { pointsAwarded, pointsPossible } = score;
    const run: GradeRun = Object.assign(new GradeRun(), {
      id: randomUUID(),
      sessionId,
      status: complete ? 'complete' : 'incomplete',
      trigger: 'submit' satisfies GradeTrigger, // set in the transaction below
      startedAt,
      finishedAt: new Date(),
      pointsAwarded,
      pointsPossible,
      passed: score.passed,
      score,
      durationMs: evaluation.durationMs,
      requests: evaluation.requests,
      note: complete ? null : new GradingIncompleteError(undecided).message,
    });
    const results = questions.flatMap((q) =>
      (evaluation.outcomes.get(q.id) ?? []).map((o) =>
        Object.assign(new CheckResult(), {
          id: randomUUID(),
          gradeRunId: run.id,
          sessionQuestionId: q.id,
          checkId: o.checkId,
          status: o.status,
          pointsAwarded: o.pointsAwarded,
          pointsPossible: o.pointsPossible,
          message: o.message,
          durationMs: o.durationMs,
        }),
      ),
    );
    await this.dataSource.transaction(async (manager) => {
      run.trigger = await triggerIn(manager, sessionId);
      await manager.insert(GradeRun, run);
      // Chunked: PostgreSQL and SQLite both cap the parameters of one statement.
      for (let i = 0; i < results.length; i += 100)
        await manager.insert(CheckResult, results.slice(i, i + 100));
      await this.lifecycle.transitionIn(
        manager,
        sessionId,
        complete ? SessionState.GRADED : SessionState.GRADING_FAILED,
        complete
          ? `graded: ${pointsAwarded}/${pointsPossible} (${run.trigger})`
          : `grading incomplete: ${run.note}`,
        { gradedAt: run.finishedAt },
      );
    });
    this.logger.info(
      {
        sessionId,
        runId: run.id,
        status: run.status,
        points: `${pointsAwarded}/${pointsPossible}`,
        ms: evaluation.durationMs,
        requests: evaluation.requests,
      },
      'session graded',
    );
    return run;
  }
}

/** How the session came into grading: the state it left on its newest move there. */
async function triggerIn(manager: EntityManager, sessionId: string): Promise<GradeTrigger> {
  const into = await manager.findOne(SessionEvent, {
    where: { sessionId, toState: SessionState.GRADING },
    order: { id: 'DESC' },
  });
  if (into?.fromState === SessionState.SUBMITTED) return 'submit';
  if (into?.fromState === SessionState.EXPIRED) return 'expiry';
  return 'regrade';
}

/** A stored session question as the check runner takes it. */
export function taskOf(question: SessionQuestion): TaskToGrade {
  return {
    id: question.id,
    questionId: question.questionId,
    cluster: question.cluster,
    variables: question.variables,
    answer: question.answer,
    checks: question.checks as unknown as TaskToGrade['checks'],
  };
}
