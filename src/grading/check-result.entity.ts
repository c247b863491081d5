import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'error';

/** The outcome of one check of one question in one grade run, with its reason. */
@Entity('check_results')
@Index(['gradeRunId', 'sessionQuestionId', 'checkId'], { unique: true })
export class CheckResult {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 36 })
  gradeRunId: string;

  @Column({ type: 'varchar', length: 36 })
  sessionQuestionId: string;

  @Column({ type: 'varchar', length: 100 })
  checkId: string;

  @Column({ type: 'varchar', length: 16 })
  status: CheckStatus;

  @Column({ type: 'integer' })
  pointsAwarded: number;

  @Column({ type: 'integer' })
  pointsPossible: number;

  /** Expected vs found, or why the check was skipped or errored. */
  @Column({ type: 'text' })
  message: string;

  @Column({ type: 'integer', nullable: true })
  durationMs: number | null;
}
