import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { InstantColumn } from '../database/columns.js';

/** Audit trail of every state change: who or what moved the session, and why. */
@Entity('session_events')
@Index(['sessionId', 'at'])
export class SessionEvent {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 36 })
  sessionId: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  fromState: string | null;

  @Column({ type: 'varchar', length: 32 })
  toState: string;

  /** e.g. "submitted by candidate", "deadline passed (reconciler)". */
  @Column({ type: 'text' })
  reason: string;

  @InstantColumn()
  at: Date;
}
