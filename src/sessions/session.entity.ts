import { Column, Entity, Index, OneToMany, PrimaryColumn, VersionColumn } from 'typeorm';
import { InstantColumn } from '../database/columns.js';
import type { NamespaceLimits } from '../question-bank/question.schema.js';
import type { SessionQuestion } from './session-question.entity.js';
import type { SessionState } from './session-state.js';

/** One candidate's attempt at one exam. */
@Entity('sessions')
@Index(['state', 'deadline'])
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  examId: string;

  @Column({ type: 'varchar', length: 200 })
  examTitle: string;

  /**
   * Where the candidate works, from the exam when the session began: `shared`
   * (namespaces on the operator's clusters) or `dedicated` (clusters of their
   * own, leased for the session; see ClusterLease).
   */
  @Column({ type: 'varchar', length: 16, default: 'shared' })
  environment: 'shared' | 'dedicated';

  /** A dedicated session's clusters, as its exam declared them when it began (alias, nodes). */
  @Column({ type: 'simple-json', default: '[]' })
  dedicatedClusters: { alias: string; nodes: string[] }[];

  @Column({ type: 'varchar', length: 200 })
  candidateName: string;

  @Column({ type: 'varchar', length: 36, nullable: true })
  invitationId: string | null;

  /**
   * The address the session was started from (as TRUST_PROXY resolves it),
   * for the cap on open-exam sessions per client. Null for sessions from
   * before it was kept.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  clientAddress: string | null;

  /**
   * Short unique name prefix of everything created for this session in the
   * cluster: namespace `<prefix>-<logical>`, cluster-scoped objects `<prefix>-...`.
   */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 12 })
  prefix: string;

  /** The candidate's namespaces (physical names), in the order the questions use them. */
  @Column({ type: 'simple-json', default: '[]' })
  namespaces: string[];

  /** The exam's ResourceQuota and LimitRange for each candidate namespace. */
  @Column({ type: 'simple-json', default: '{}' })
  namespaceLimits: Partial<NamespaceLimits>;

  /**
   * Namespace → what its pods may do beyond the shared fence, because a
   * question using that namespace allows it (`allow:` in the question).
   */
  @Column({ type: 'simple-json', default: '{}' })
  podAllowances: Record<string, string[]>;

  /** Cluster-scoped resources the questions grant (names fenced by the session prefix). */
  @Column({ type: 'simple-json', default: '[]' })
  clusterResources: string[];

  @Column({ type: 'varchar', length: 32 })
  state: SessionState;

  /** Why the session is in a failed state (shown to trainers and the candidate). */
  @Column({ type: 'text', nullable: true })
  failureReason: string | null;

  /** SHA-256 of the candidate's session token; the token itself is never stored. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash: string;

  /** Seeds the per-candidate variables, so a session can be re-rendered exactly. */
  @Column({ type: 'varchar', length: 64 })
  seed: string;

  @Column({ type: 'integer' })
  durationSeconds: number;

  @Column({ type: 'integer' })
  passPercent: number;

  @InstantColumn()
  createdAt: Date;

  /**
   * While `ready` (environment built, briefing shown): by when the candidate
   * must press Begin, after which the session is abandoned and torn down.
   */
  @InstantColumn({ nullable: true })
  readyUntil: Date | null;

  /** When the timer started (the candidate pressed Begin). */
  @InstantColumn({ nullable: true })
  startedAt: Date | null;

  /** Server-side end of the exam; writes after it are rejected. */
  @InstantColumn({ nullable: true })
  deadline: Date | null;

  /** The candidate's notepad for the whole exam (notes per task are on the questions). */
  @Column({ type: 'text', nullable: true })
  notepad: string | null;

  /** When the candidate submitted or the deadline expired the session. */
  @InstantColumn({ nullable: true })
  endedAt: Date | null;

  /**
   * When the candidate's access to the clusters was closed after the end
   * (see AccessRevocationService); null while it may still be open.
   */
  @InstantColumn({ nullable: true })
  accessRevokedAt: Date | null;

  @InstantColumn({ nullable: true })
  gradedAt: Date | null;

  /** When everything the session created in the cluster was removed. */
  @InstantColumn({ nullable: true })
  tornDownAt: Date | null;

  @VersionColumn()
  version: number;

  @OneToMany('SessionQuestion', 'session')
  questions?: SessionQuestion[];
}
