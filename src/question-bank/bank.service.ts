import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import {
  formatProblem,
  type LoadedExam,
  type LoadedQuestion,
  loadBank,
  type QuestionBank,
} from './bank.loader.js';
import type { QuestionFile, SetupStep } from '../sessions/session-question.entity.js';
import type { AlternativeSolutionSpec, CheckSpec, MistakeSpec } from './question.schema.js';
import { renderQuestionFiles } from './question-files.js';
import { renderSetupSteps } from './setup-steps.js';
import { renderDeep, renderString } from './templates.js';
import { drawVariables } from './variables.js';

export class BankInvalidError extends Error {
  constructor(readonly lines: string[]) {
    super(
      `The question bank is invalid (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
    this.name = 'BankInvalidError';
  }
}

/** A question rendered for one candidate. */
export interface RenderedQuestion {
  question: LoadedQuestion;
  variables: Record<string, string | number | boolean>;
  task: string;
  /** The setup in order (a setup string and its setupWaits become one apply step and wait steps). */
  setupSteps: SetupStep[];
  /** The files for the candidate's home, rendered (verbatim ones as written). */
  files: QuestionFile[];
  checks: CheckSpec[];
  solution: { explanation: string; commands: string[] };
  /**
   * The alternative solutions and known mistakes, rendered for bank:test,
   * which runs each in a candidate of its own. A session never stores them:
   * candidates only ever see `solution`.
   */
  solutions: AlternativeSolutionSpec[];
  mistakes: MistakeSpec[];
}

/**
 * The loaded bank. It is checked once at start-up, and the server refuses to
 * start on any problem, printing all of them.
 */
@Injectable()
export class BankService implements OnModuleInit {
  private bank!: QuestionBank;
  private readonly logger: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'BankService' });
  }

  async onModuleInit(): Promise<void> {
    const bank = await loadBank(this.config.bank);
    if (bank.problems.length)
      throw new BankInvalidError(bank.problems.map((p) => formatProblem(p)));
    this.bank = bank;
    this.logger.info(
      { questions: bank.questions.size, exams: bank.exams.size },
      'question bank loaded',
    );
  }

  exams(): LoadedExam[] {
    return [...this.bank.exams.values()];
  }

  exam(id: string): LoadedExam | undefined {
    return this.bank.exams.get(id);
  }

  question(id: string): LoadedQuestion | undefined {
    return this.bank.questions.get(id);
  }

  questions(): LoadedQuestion[] {
    return [...this.bank.questions.values()];
  }

  /**
   * Draws the candidate's variables and renders everything from them. On a
   * shared cluster a namespace variable is `<prefix>-<logical>`; in a
   * dedicated environment (the candidate's own clusters) it keeps its plain name.
   */
  render(
    question: LoadedQuestion,
    seed: string,
    prefix: string,
    environment: 'shared' | 'dedicated' = 'shared',
  ): RenderedQuestion {
    const { spec } = question;
    const variables = {
      // Built in: cluster-scoped names a candidate creates must start with it.
      prefix,
      ...drawVariables(spec.vars, seed, spec.id, (logical) =>
        environment === 'dedicated' ? logical : `${prefix}-${logical}`,
      ),
    };
    return {
      question,
      variables,
      task: String(renderString(spec.task, variables)),
      setupSteps: renderSetupSteps(spec, variables),
      files: renderQuestionFiles(spec.files, variables),
      checks: renderDeep(spec.checks, variables),
      solution: renderDeep(spec.solution, variables),
      solutions: renderDeep(spec.solutions, variables),
      mistakes: renderDeep(spec.mistakes, variables),
    };
  }
}
