import { Column, Entity, Index, PrimaryColumn, VersionColumn } from 'typeorm';
import { InstantColumn } from '../database/columns.js';

/**
 * - starting: the provider is making it (for the pool, or for a session that could not wait);
 * - warm: ready, in the pool, nobody's;
 * - leased: a session's (sessionId, alias);
 * - released: destroyed after its session, or found gone; kept as history;
 * - failed: it never became ready, or died; destroyed.
 */
export type ClusterLeaseState = 'starting' | 'warm' | 'leased' | 'released' | 'failed';

/**
 * One dedicated cluster the engine asked a provider for, from its start to
 * its destruction. The database, not the provider, is the record of which
 * cluster belongs to which session: after a restart the engine finds each
 * live lease's cluster again through the provider, and destroys any cluster
 * the provider holds that no live lease names.
 */
@Entity('cluster_leases')
@Index(['state', 'shape'])
@Index(['sessionId'])
export class ClusterLease {
  /** Also the provider's id for the cluster. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 32 })
  provider: string;

  /** The nodes, comma-separated, control plane first (shapeKey): clusters of one shape are interchangeable. */
  @Column({ type: 'varchar', length: 200 })
  shape: string;

  @Column({ type: 'varchar', length: 16 })
  state: ClusterLeaseState;

  @Column({ type: 'varchar', length: 36, nullable: true })
  sessionId: string | null;

  /** The exam's alias for it (k8s-c1): the candidate's kubeconfig context. */
  @Column({ type: 'varchar', length: 63, nullable: true })
  alias: string | null;

  /**
   * What the provider needs to find the cluster again (its nodes and its
   * own handle); never its credentials, which the provider hands out again.
   */
  @Column({ type: 'simple-json', nullable: true })
  handle: { nodes: string[]; provider: Record<string, unknown> } | null;

  @Column({ type: 'text', nullable: true })
  failureReason: string | null;

  /**
   * The engine process making the cluster (host:pid:nonce), while it is
   * `starting`: another worker's reconcile leaves a start alone while its
   * maker's heartbeat is fresh, and treats it as cut off once it is stale.
   */
  @Column({ type: 'varchar', length: 120, nullable: true })
  owner: string | null;

  /** Renewed by the owner while the cluster starts (see LEASE_HEARTBEAT_MS). */
  @InstantColumn({ nullable: true })
  heartbeatAt: Date | null;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn({ nullable: true })
  readyAt: Date | null;

  @InstantColumn({ nullable: true })
  leasedAt: Date | null;

  @InstantColumn({ nullable: true })
  releasedAt: Date | null;

  /** TypeORM's row version (claims are conditional updates on `state`, see ClusterPoolService.claim). */
  @VersionColumn()
  version: number;
}
