import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '../database/columns.js';

/** A single-use code a trainer hands to one candidate to start one exam. */
@Entity('invitations')
export class Invitation {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** SHA-256 of the code; the code is shown once, to the trainer. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64 })
  codeHash: string;

  @Column({ type: 'varchar', length: 100 })
  examId: string;

  @Column({ type: 'varchar', length: 200 })
  candidateName: string;

  @Column({ type: 'varchar', length: 36 })
  createdBy: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  expiresAt: Date;

  @InstantColumn({ nullable: true })
  usedAt: Date | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  sessionId: string | null;
}
