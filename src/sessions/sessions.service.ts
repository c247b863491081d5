import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { SessionTokenCache } from '../auth/session-token-cache.js';
import { generateToken, hashToken, TokenPrefix } from '../auth/tokens.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig, EnvironmentsConfig } from '../config/config.schema.js';
import { DomainError, ErrorCode } from '../errors/domain-error.js';
import { ExamsService } from '../exams/exams.service.js';
import { Invitation } from '../invitations/invitation.entity.js';
import { DedicatedEnvironments } from '../environments/dedicated-environments.service.js';
import { ProvisioningService } from '../provisioning/provisioning.service.js';
import { BankService } from '../question-bank/bank.service.js';
import { domainName, renderMarkdown } from '../question-bank/markdown.js';
import { JobName } from '../queue/jobs.js';
import { rawSelect } from '../database/raw-select.js';
import {
  clusterResourcesOf,
  namespacesOf,
  podAllowancesOf,
  newSessionPrefix,
  sessionQuestionRows,
} from './issued-questions.js';
import { SessionEvent } from './session-event.entity.js';
import { SessionLifecycleService } from './session-lifecycle.service.js';
import { type QuestionFile, SessionQuestion } from './session-question.entity.js';
import { refuseOverCaps, reserveSessionPlace } from './session-caps.js';
import { CANDIDATE_SETUP_FAILURE } from './candidate-messages.js';
import { ENDED_STATES, SessionState } from './session-state.js';
import { Session } from './session.entity.js';
import type {
  ListSessionsQuery,
  QuestionView,
  SaveAnswerDto,
  SessionSummaryView,
  SessionView,
  StartSessionDto,
  StartedSessionView,
} from './sessions.dto.js';

/**
 * Whether a dedicated exam's clusters would give an anonymous candidate this
 * machine: the sandbox provider's nodes run as its root unless they run in
 * user namespaces (SECURITY.md), and only the operator may say every
 * candidate is trusted with that.
 */
export function dedicatedNeedsInvitation(environments: EnvironmentsConfig): boolean {
  return (
    environments.provider === 'sandbox' &&
    !environments.sandboxUserNamespaces &&
    !environments.sandboxTrustedCandidates
  );
}

/** Candidate sessions: start, read, answer, submit; and the staff's view of them. */
@Injectable()
export class SessionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @InjectRepository(SessionQuestion) private readonly questions: Repository<SessionQuestion>,
    @InjectRepository(SessionEvent) private readonly events: Repository<SessionEvent>,
    @InjectRepository(Invitation) private readonly invitations: Repository<Invitation>,
    private readonly exams: ExamsService,
    private readonly bank: BankService,
    private readonly lifecycle: SessionLifecycleService,
    private readonly provisioning: ProvisioningService,
    private readonly dedicated: DedicatedEnvironments,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessionTokens: SessionTokenCache,
  ) {}

  /**
   * Starts a session from an invitation (single use) or an open exam: picks
   * the questions, draws the candidate's variables, freezes the rendered tasks
   * and queues provisioning. The exam timer starts when provisioning is done.
   */
  async start(dto: StartSessionDto, clientAddress: string): Promise<StartedSessionView> {
    const client = clientAddress.slice(0, 64); // as the column holds it
    let invitation: Invitation | null = null;
    let examId: string;
    let candidateName: string;
    if (dto.invitationCode !== undefined) {
      invitation = await this.invitations.findOneBy({ codeHash: hashToken(dto.invitationCode) });
      if (!invitation)
        throw new DomainError(ErrorCode.INVITATION_INVALID, 'No such invitation code');
      if (invitation.usedAt) {
        const resumed = invitation.sessionId ? await this.resume(invitation.sessionId) : null;
        if (resumed) return resumed;
        throw new DomainError(ErrorCode.INVITATION_USED, 'This invitation has already been used');
      }
      if (invitation.expiresAt.getTime() < Date.now()) {
        throw new DomainError(ErrorCode.INVITATION_EXPIRED, 'This invitation has expired', {
          expiredAt: invitation.expiresAt.toISOString(),
        });
      }
      examId = invitation.examId;
      candidateName = invitation.candidateName;
    } else {
      examId = dto.examId!;
      candidateName = dto.candidateName!;
    }
    const exam = this.exams.get(examId);
    if (!invitation && !exam.spec.open) {
      throw new DomainError(ErrorCode.EXAM_NOT_OPEN, `Exam "${examId}" needs an invitation`, {
        examId,
      });
    }

    if (exam.spec.environment === 'dedicated') {
      const environments = this.config.environments;
      if (!invitation && dedicatedNeedsInvitation(environments))
        throw new DomainError(
          ErrorCode.INVITATION_REQUIRED,
          `Exam "${examId}" runs on clusters of this server's own, which only invited candidates may take`,
          { examId },
        );
      const { available, reason } = await this.dedicated.availability();
      if (!available)
        throw new DomainError(
          ErrorCode.ENVIRONMENT_UNAVAILABLE,
          `Exam "${examId}" needs clusters of its own, and none can be made here: ${reason}`,
          { examId },
        );
    }
    await refuseOverCaps(this.dataSource.manager, this.config.limits, invitation ? null : client);

    const token = generateToken(TokenPrefix.SESSION);
    for (let attempt = 1; ; attempt++) {
      try {
        const sessionId = await this.create(exam.spec.id, candidateName, invitation, token, client);
        await this.lifecycle.enqueueSafely(JobName.PROVISION_SESSION, { sessionId });
        return {
          sessionToken: token,
          session: await this.view(sessionId, { kind: 'candidate', sessionId }),
        };
      } catch (error) {
        // A prefix collision (unique index) is rare; draw another.
        if (
          attempt < 3 &&
          error instanceof QueryFailedError &&
          /unique|duplicate/i.test(error.message) &&
          /prefix/i.test(error.message)
        )
          continue;
        throw error;
      }
    }
  }

  /**
   * The same invitation code entered again (another browser, a lost cookie)
   * while the session is not yet graded: the session continues there with a
   * new token, and the old one stops working (here at once, in other API
   * processes within seconds). Null once graded: the code is spent.
   */
  private async resume(sessionId: string): Promise<StartedSessionView | null> {
    const session = await this.sessions.findOne({
      where: { id: sessionId },
      select: { id: true, state: true, tokenHash: true },
    });
    if (!session || session.state === SessionState.GRADED) return null;
    const token = generateToken(TokenPrefix.SESSION);
    const rotated = await this.sessions.update(
      { id: sessionId, tokenHash: session.tokenHash },
      { tokenHash: hashToken(token) },
    );
    if (rotated.affected !== 1)
      throw new DomainError(
        ErrorCode.CONFLICT,
        'The session was resumed elsewhere at the same moment; retry',
      );
    this.sessionTokens.forget(session.tokenHash);
    await this.events.insert({
      sessionId,
      fromState: session.state,
      toState: session.state,
      reason: 'resumed with the invitation code (the previous token no longer works)',
      at: new Date(),
    });
    return {
      sessionToken: token,
      session: await this.view(sessionId, { kind: 'candidate', sessionId }),
    };
  }

  private async create(
    examId: string,
    candidateName: string,
    invitation: Invitation | null,
    token: string,
    client: string,
  ): Promise<string> {
    const exam = this.exams.get(examId);
    const id = randomUUID();
    const seed = randomBytes(16).toString('hex');
    const prefix = newSessionPrefix();
    const rendered = this.exams
      .selectQuestions(exam, seed)
      .map((q) => this.bank.render(q, seed, prefix, exam.spec.environment));
    const namespaces = namespacesOf(rendered);
    const now = new Date();

    await this.dataSource.transaction(async (manager) => {
      await reserveSessionPlace(manager, this.config.limits, invitation ? null : client);
      if (invitation) {
        const claimed = await manager
          .createQueryBuilder()
          .update(Invitation)
          .set({ usedAt: now, sessionId: id })
          .where('id = :id AND "usedAt" IS NULL', { id: invitation.id })
          .execute();
        if (claimed.affected !== 1)
          throw new DomainError(ErrorCode.INVITATION_USED, 'This invitation has already been used');
      }
      await manager.insert(Session, {
        id,
        examId,
        examTitle: exam.spec.title,
        environment: exam.spec.environment,
        dedicatedClusters: exam.spec.clusters ?? [],
        candidateName,
        invitationId: invitation?.id ?? null,
        clientAddress: client,
        prefix,
        namespaces,
        namespaceLimits: exam.spec.namespaceLimits,
        clusterResources: clusterResourcesOf(rendered),
        podAllowances: podAllowancesOf(rendered),
        state: SessionState.CREATED,
        failureReason: null,
        tokenHash: hashToken(token),
        seed,
        durationSeconds: Math.max(1, Math.round(exam.spec.durationMinutes * 60)),
        passPercent: exam.spec.passPercent,
        createdAt: now,
        readyUntil: null,
        notepad: null,
        startedAt: null,
        deadline: null,
        endedAt: null,
        accessRevokedAt: null,
        gradedAt: null,
        tornDownAt: null,
      });
      await manager.insert(SessionQuestion, sessionQuestionRows(id, rendered));
      const how = invitation ? `from invitation ${invitation.id}` : 'open exam';
      await manager.insert(SessionEvent, {
        sessionId: id,
        fromState: null,
        toState: SessionState.CREATED,
        reason: `started (${how})`,
        at: now,
      });
      await this.lifecycle.transitionIn(
        manager,
        id,
        SessionState.PROVISIONING,
        'provisioning queued',
      );
    });
    return id;
  }

  /**
   * One session as its reader may see it. Candidates see only their own
   * (anything else is "not found", so ids cannot be probed), and the checks
   * and solutions only once it has been graded.
   */
  async view(sessionId: string, principal: Principal): Promise<SessionView> {
    if (principal.kind === 'candidate' && principal.sessionId !== sessionId)
      throw notFound(sessionId);
    // Candidates poll this all exam long, hence plain SQL (see rawSelect), and
    // during the exam the large hidden columns stay unread.
    const [session] = await rawSelect(
      this.dataSource,
      Session,
      'SELECT * FROM sessions WHERE id = :id',
      { id: sessionId },
    );
    if (!session) throw notFound(sessionId);
    const staff = principal.kind === 'staff';
    // Not at the end itself: the candidate's access to the cluster is revoked
    // just after it (AccessRevocationService), and a solution read in between
    // could still be applied (a kubeconfig kept from the exam, a shell's last
    // second). A grade finished means the access was revoked before it.
    const reveal = staff || Boolean(session.gradedAt);
    const columns = [
      'id',
      'position',
      'questionId',
      'title',
      'domain',
      'weight',
      'cluster',
      'task',
      'setupStatus',
      'setupMessage',
      'answer',
      'flagged',
      'note',
      'answeredAt',
      // Read always (small): whether a task takes a text answer is seen in them.
      'checks',
      ...(reveal ? ['solution'] : []),
      ...(staff ? ['variables'] : []),
    ];
    const questions = await rawSelect(
      this.dataSource,
      SessionQuestion,
      `SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM session_questions WHERE "sessionId" = :sessionId ORDER BY position`,
      { sessionId },
    );
    const now = Date.now();
    const view: SessionView = {
      id: session.id,
      examId: session.examId,
      examTitle: session.examTitle,
      candidateName: session.candidateName,
      state: session.state,
      failureReason: staff ? session.failureReason : candidateFailureOf(session),
      durationSeconds: session.durationSeconds,
      passPercent: session.passPercent,
      createdAt: session.createdAt.toISOString(),
      readyUntil: session.state === SessionState.READY ? iso(session.readyUntil) : null,
      startedAt: iso(session.startedAt),
      deadline: iso(session.deadline),
      endedAt: iso(session.endedAt),
      accessRevokedAt: iso(session.accessRevokedAt),
      remainingSeconds:
        session.state === SessionState.ACTIVE && session.deadline
          ? Math.max(0, Math.floor((session.deadline.getTime() - now) / 1000))
          : session.deadline
            ? 0
            : null,
      serverTime: new Date(now).toISOString(),
      notepad: session.notepad,
      environment: session.environment,
      queuePosition: await this.queuePositionOf(session),
      // The tasks themselves from Begin on, when the clock runs: before, the
      // briefing shows how many tasks and points, and nobody gets reading time.
      questions: questions.map((q) =>
        questionView(q, { reveal, staff, tasks: staff || Boolean(session.startedAt) }),
      ),
    };
    if (staff) {
      const events = await this.events.find({ where: { sessionId }, order: { id: 'ASC' } });
      view.events = events.map((e) => ({
        from: e.fromState,
        to: e.toState,
        reason: e.reason,
        at: e.at.toISOString(),
      }));
    }
    return view;
  }

  /**
   * Saves the candidate's answer, flag and note for one task. The write is
   * conditional, in the same statement, on the session being active with its
   * deadline ahead, so nothing is accepted after the deadline even if the
   * expiry job has not run yet.
   */
  async saveAnswer(
    sessionId: string,
    questionId: string,
    dto: SaveAnswerDto,
  ): Promise<QuestionView> {
    const now = new Date();
    const patch: Pick<SessionQuestion, 'answeredAt'> &
      Partial<Pick<SessionQuestion, 'answer' | 'flagged' | 'note'>> = {
      answeredAt: now,
    };
    if (dto.answer !== undefined) patch.answer = dto.answer;
    if (dto.flagged !== undefined) patch.flagged = dto.flagged;
    if (dto.note !== undefined) patch.note = dto.note;
    const result = await this.questions
      .createQueryBuilder()
      .update(SessionQuestion)
      .set(patch)
      .where('"sessionId" = :sessionId AND "questionId" = :questionId', { sessionId, questionId })
      .andWhere(
        '"sessionId" IN (SELECT id FROM sessions WHERE id = :sessionId AND state = :active AND deadline > :now)',
        {
          active: SessionState.ACTIVE,
          now: now.getTime(),
        },
      )
      .execute();
    if (result.affected !== 1) await this.refuseUnlessOpen(sessionId, questionId, now);
    const saved = await this.questions.findOneByOrFail({ sessionId, questionId });
    return questionView(saved, { reveal: false, staff: false, tasks: true });
  }

  /**
   * Starts the clock: the candidate has read the briefing in a ready
   * environment. Idempotent (a second tab's Begin returns the running
   * session); refused while the environment is still being built.
   */
  async begin(sessionId: string): Promise<SessionView> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session) throw notFound(sessionId);
    if (session.state === SessionState.READY) {
      if (session.readyUntil && session.readyUntil.getTime() <= Date.now()) {
        await this.lifecycle.expireIfDue(sessionId, 'not begun in time (noticed at Begin)');
        throw new DomainError(
          ErrorCode.SESSION_EXPIRED,
          'The time to begin this exam is over; start a new session',
          { readyUntil: session.readyUntil.toISOString() },
        );
      }
      const startedAt = new Date();
      const deadline = new Date(startedAt.getTime() + session.durationSeconds * 1000);
      await this.lifecycle.transition(sessionId, SessionState.ACTIVE, 'begun; timer started', {
        startedAt,
        deadline,
      });
      await this.lifecycle.scheduleExpiry(sessionId, deadline);
    } else if (session.state !== SessionState.ACTIVE) {
      throw new DomainError(
        session.state === SessionState.PROVISIONING
          ? ErrorCode.SESSION_NOT_ACTIVE
          : ErrorCode.SESSION_EXPIRED,
        session.state === SessionState.PROVISIONING
          ? 'The exam environment is still being prepared'
          : `This session cannot begin (${session.state})`,
        { state: session.state },
      );
    }
    return this.view(sessionId, { kind: 'candidate', sessionId });
  }

  /** Saves the notepad (one per session), on the same terms as answers. */
  async saveNotepad(
    sessionId: string,
    notepad: string,
  ): Promise<{ notepad: string; savedAt: string }> {
    const now = new Date();
    const result = await this.sessions
      .createQueryBuilder()
      .update(Session)
      .set({ notepad })
      .where('id = :sessionId AND state = :active AND deadline > :now', {
        sessionId,
        active: SessionState.ACTIVE,
        now: now.getTime(),
      })
      .execute();
    if (result.affected !== 1) await this.refuseUnlessOpen(sessionId, undefined, now);
    return { notepad, savedAt: now.toISOString() };
  }

  /** Ends the exam early at the candidate's request and queues grading. */
  async submit(sessionId: string): Promise<SessionView> {
    const now = new Date();
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session) throw notFound(sessionId);
    if (session.state === SessionState.ACTIVE && session.deadline && session.deadline <= now) {
      await this.refuseUnlessOpen(sessionId, undefined, now);
    }
    await this.lifecycle.transition(
      sessionId,
      SessionState.SUBMITTED,
      'submitted by the candidate',
      { endedAt: now },
    );
    await this.lifecycle.enqueueEndOfExam(sessionId);
    return this.view(sessionId, { kind: 'candidate', sessionId });
  }

  /** A dedicated session still provisioning without its clusters waits in line for room. */
  private async queuePositionOf(session: Session): Promise<number | null> {
    if (session.environment !== 'dedicated' || session.state !== SessionState.PROVISIONING)
      return null;
    const held = await this.dedicated.leasesHeld(session.id);
    if (held >= session.dedicatedClusters.length) return null;
    return this.dedicated.queuePosition(session);
  }

  /**
   * The candidate's kubeconfig as a download (fresh bound tokens), only while
   * the exam is running, and only in a shared environment: a dedicated one is
   * reached through the terminal alone, as on the real exam.
   */
  async downloadKubeconfig(sessionId: string): Promise<string> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (session?.environment === 'dedicated')
      throw new DomainError(
        ErrorCode.KUBECONFIG_NOT_OFFERED,
        "This exam's clusters are reached through the terminal only",
      );
    return this.kubeconfig(sessionId);
  }

  /** The candidate's kubeconfig, only while the exam is running (the terminal's). */
  async kubeconfig(sessionId: string): Promise<string> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session) throw notFound(sessionId);
    if (
      session.state !== SessionState.ACTIVE ||
      !session.deadline ||
      session.deadline.getTime() <= Date.now()
    ) {
      await this.refuseUnlessOpen(sessionId, undefined, new Date());
    }
    if (session.environment === 'dedicated') return this.dedicated.candidateKubeconfig(session);
    return this.provisioning.kubeconfig(session);
  }

  /** A dedicated session's node shells (`ssh <node>` in the terminal); none in a shared one. */
  async nodeShells(
    sessionId: string,
  ): Promise<{ cluster: string; node: string; socket: string }[]> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (session?.environment !== 'dedicated') return [];
    return this.dedicated.nodeShells(session);
  }

  /** The files the session's questions ship into the candidate's home, in question order. */
  async homeFiles(sessionId: string): Promise<QuestionFile[]> {
    const rows = await this.questions.find({
      where: { sessionId },
      order: { position: 'ASC' },
      select: { id: true, position: true, files: true },
    });
    return rows.flatMap((row) => row.files);
  }

  async list(query: ListSessionsQuery): Promise<{ items: SessionSummaryView[]; total: number }> {
    const [rows, total] = await this.sessions.findAndCount({
      where: {
        ...(query.state ? { state: query.state } : {}),
        ...(query.examId ? { examId: query.examId } : {}),
      },
      order: { createdAt: 'DESC' },
      take: query.limit ?? 50,
      skip: query.offset ?? 0,
    });
    return {
      total,
      items: rows.map((s) => ({
        id: s.id,
        examId: s.examId,
        candidateName: s.candidateName,
        state: s.state,
        createdAt: s.createdAt.toISOString(),
        deadline: iso(s.deadline),
      })),
    };
  }

  /**
   * Throws why the session takes no more writes (or kubeconfigs): not started,
   * ended, or past its deadline, in which case it is expired here and now.
   */
  private async refuseUnlessOpen(
    sessionId: string,
    questionId: string | undefined,
    now: Date,
  ): Promise<never> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (!session) throw notFound(sessionId);
    if (session.state === SessionState.ACTIVE && session.deadline && session.deadline <= now) {
      await this.lifecycle.expireIfDue(sessionId, 'deadline passed (noticed on a write)');
      throw new DomainError(
        ErrorCode.SESSION_EXPIRED,
        'The exam time is over; nothing more is accepted',
        {
          deadline: session.deadline.toISOString(),
        },
      );
    }
    if (session.state !== SessionState.ACTIVE) {
      throw new DomainError(
        ENDED_STATES.includes(session.state)
          ? ErrorCode.SESSION_EXPIRED
          : ErrorCode.SESSION_NOT_ACTIVE,
        ENDED_STATES.includes(session.state)
          ? 'The exam has ended; nothing more is accepted'
          : `The exam has not started yet (${session.state})`,
        { state: session.state },
      );
    }
    throw new DomainError(
      ErrorCode.QUESTION_NOT_IN_SESSION,
      `Question "${questionId}" is not part of this session`,
      { questionId },
    );
  }
}

function notFound(sessionId: string): DomainError {
  return new DomainError(ErrorCode.SESSION_NOT_FOUND, `No session ${sessionId}`);
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

/**
 * What a candidate is told about a failure: what happened and what to do, never
 * the internal reason (cluster addresses, object names, API errors), which
 * trainers see in full.
 */
function candidateFailureOf(session: Session): string | null {
  if (!session.failureReason) return null;
  if (session.state === SessionState.PROVISIONING_FAILED)
    return 'Your exam environment could not be prepared, so your timer never started. A trainer can see why; start again, or ask for a new invitation.';
  if (session.state === SessionState.GRADING_FAILED)
    return 'Grading could not be completed; a trainer will review it and can grade again.';
  return 'Something went wrong with this session; a trainer can see why.';
}

function questionView(
  q: SessionQuestion,
  options: { reveal: boolean; staff: boolean; tasks: boolean },
): QuestionView {
  const view: QuestionView = {
    position: q.position,
    questionId: q.questionId,
    title: options.tasks ? q.title : '',
    domain: q.domain,
    weight: q.weight,
    cluster: q.cluster,
    task: options.tasks ? q.task : '',
    taskHtml: options.tasks ? renderMarkdown(q.task) : '',
    domainName: domainName(q.domain),
    answerable: q.checks.some((check) => check.kind === 'answer'),
    setupStatus: q.setupStatus,
    // Raw API server text names internal objects and addresses: trainers only.
    setupMessage: options.staff || !q.setupMessage ? q.setupMessage : CANDIDATE_SETUP_FAILURE,
    answer: q.answer,
    flagged: q.flagged,
    note: q.note,
    answeredAt: iso(q.answeredAt),
  };
  if (options.reveal) {
    view.checks = q.checks.map((c) => ({
      id: c.id,
      kind: c.kind,
      points: c.points,
      description: c.description,
    }));
    view.solution = q.solution;
  }
  if (options.staff) view.variables = q.variables;
  return view;
}
