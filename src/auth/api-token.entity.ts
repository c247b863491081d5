import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '../database/columns.js';

export const StaffRole = { ADMIN: 'admin', TRAINER: 'trainer' } as const;
export type StaffRole = (typeof StaffRole)[keyof typeof StaffRole];

/** An API token of an admin or trainer; created by `npm run token:create`. */
@Entity('api_tokens')
export class ApiToken {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: StaffRole;

  /** SHA-256 of the token; the token is shown once, at creation. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn({ nullable: true })
  revokedAt: Date | null;
}
