import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '../database/columns.js';
import type { RunScore } from './score.js';

export type GradeRunStatus = 'running' | 'complete' | 'incomplete';

/**
 * One grading pass over a session. A regrade adds a run; the newest complete
 * run is the session's score. Results of a run are written in one transaction.
 */
@Entity('grade_runs')
@Index(['sessionId', 'startedAt'])
export class GradeRun {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 36 })
  sessionId: string;

  @Column({ type: 'varchar', length: 16 })
  status: GradeRunStatus;

  @InstantColumn()
  startedAt: Date;

  @InstantColumn({ nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'integer', default: 0 })
  pointsAwarded: number;

  @Column({ type: 'integer', default: 0 })
  pointsPossible: number;

  @Column({ type: 'boolean', nullable: true })
  passed: boolean | null;

  /** submit, expiry or regrade. */
  @Column({ type: 'varchar', length: 16, default: 'submit' })
  trigger: string;

  @Column({ type: 'integer', nullable: true })
  durationMs: number | null;

  /** Distinct API requests the run made (each object or list read once). */
  @Column({ type: 'integer', nullable: true })
  requests: number | null;

  /** Per task and per domain, percent, pass mark and time used, as scored by this run. */
  @Column({ type: 'simple-json', nullable: true })
  score: RunScore | null;

  /** Why the run is incomplete, if it is. */
  @Column({ type: 'text', nullable: true })
  note: string | null;
}
