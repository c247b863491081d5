import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '../database/columns.js';
import type { Session } from './session.entity.js';

/**
 * A rendered check as stored (JSON). Only the fields every kind has are
 * typed here; the kind-specific ones travel along untyped for the grader.
 */
export interface StoredCheck {
  id: string;
  kind: string;
  points: number;
  description: string;
}

export type SetupStatus = 'pending' | 'applied' | 'failed';

export interface SetupWait {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  condition: string;
  timeout: number;
}

/** One rendered setup step, run in order by provisioning (see the question format). */
export type SetupStep =
  | { apply: string }
  | { wait: SetupWait }
  | { kubectl: string[]; timeout: number }
  /** A script run as root on a node host of a dedicated cluster. */
  | { run: string; on: string; timeout: number };

/** A file the question ships into the candidate's home, rendered; `path` is relative to the home. */
export interface QuestionFile {
  path: string;
  content: string;
  executable: boolean;
}

export interface StoredSolution {
  explanation: string;
  commands: string[];
}

/**
 * A question as issued to one candidate: the drawn variables and everything
 * rendered from them, frozen at session start so later bank edits cannot
 * change an exam in progress. The candidate's answer, flag and note live here
 * too: they are one per question per session, and the session view reads them
 * together.
 */
@Entity('session_questions')
@Index(['sessionId', 'position'], { unique: true })
@Index(['sessionId', 'questionId'], { unique: true })
export class SessionQuestion {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 36 })
  sessionId: string;

  @ManyToOne('Session', 'questions', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'sessionId' })
  session?: Session;

  @Column({ type: 'integer' })
  position: number;

  @Column({ type: 'varchar', length: 100 })
  questionId: string;

  /** Digest of the question file it was rendered from. */
  @Column({ type: 'varchar', length: 64 })
  questionDigest: string;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'varchar', length: 40 })
  domain: string;

  @Column({ type: 'integer' })
  weight: number;

  @Column({ type: 'varchar', length: 63 })
  cluster: string;

  @Column({ type: 'simple-json' })
  variables: Record<string, string | number | boolean>;

  /** Markdown shown to the candidate. */
  @Column({ type: 'text' })
  task: string;

  /** Rendered setup manifests (YAML) of a question issued before setupSteps; empty since. */
  @Column({ type: 'text' })
  setup: string;

  /** Rendered checks: hidden from the candidate until the session ends. */
  @Column({ type: 'simple-json' })
  checks: StoredCheck[];

  /** Rendered reference solution: hidden until the session ends. */
  @Column({ type: 'simple-json' })
  solution: StoredSolution;

  /** Bounded waits after `setup` of a question issued before setupSteps; empty since. */
  @Column({ type: 'simple-json', default: '[]' })
  setupWaits: SetupWait[];

  /**
   * The rendered setup, in order: apply, wait, kubectl. Empty for questions
   * issued before it existed, which run `setup` then `setupWaits`.
   */
  @Column({ type: 'simple-json', default: '[]' })
  setupSteps: SetupStep[];

  /** Rendered files for the candidate's terminal home (and bank:test's solutions). */
  @Column({ type: 'simple-json', default: '[]' })
  files: QuestionFile[];

  /** pending → applied | failed, with what went wrong: shown to candidate and trainers. */
  @Column({ type: 'varchar', length: 16, default: 'pending' })
  setupStatus: SetupStatus;

  @Column({ type: 'text', nullable: true })
  setupMessage: string | null;

  @Column({ type: 'text', nullable: true })
  answer: string | null;

  @Column({ type: 'boolean', default: false })
  flagged: boolean;

  @Column({ type: 'text', nullable: true })
  note: string | null;

  @InstantColumn({ nullable: true })
  answeredAt: Date | null;
}
