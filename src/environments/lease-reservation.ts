import { type DataSource, In, IsNull, type Repository } from 'typeorm';
import { lockForTransaction } from '../database/transaction-lock.js';
import { ClusterLease } from './cluster-lease.entity.js';

/** The states in which a lease's cluster exists (or is being made) and must be kept. */
export const LIVE_STATES = ['starting', 'warm', 'leased'] as const;

/**
 * Key of the PostgreSQL advisory lock held while a process decides whether
 * the machine has room for one more cluster and writes its lease ("ckapool"
 * in ASCII; the migration lock has another key).
 */
export const POOL_LOCK_KEY = '27984088936705900';

export interface RoomLimits {
  /** Clusters the provider says still fit (free memory), not counting those starting. */
  freeRoom: number;
  /** CLUSTER_MAX: live clusters at most; 0 for no cap. */
  maxClusters: number;
}

/** Clusters the machine can still take under `limits`, counting those being made. */
export async function countRoom(
  leases: Repository<ClusterLease>,
  provider: string,
  limits: RoomLimits,
): Promise<number> {
  // Free memory does not yet show the clusters still starting.
  const starting = await leases.count({ where: { provider, state: 'starting' } });
  const byMemory = limits.freeRoom - starting;
  if (!limits.maxClusters) return Math.max(0, byMemory);
  const live = await leases.count({ where: { provider, state: In([...LIVE_STATES]) } });
  return Math.max(0, Math.min(byMemory, limits.maxClusters - live));
}

/**
 * Writes `lease` (a new starting one) if the machine has room for one more
 * cluster and, when `stockBelow` is given, its shape has fewer than that many
 * unclaimed (warm or starting); else writes nothing and returns undefined.
 *
 * The look and the write are one step across every worker. Without it, two
 * workers that both see room for one (or a pool one short) both start a
 * cluster: past CLUSTER_MAX, or past free memory. The lock
 * (lockForTransaction) is held until the transaction commits, so the next
 * process's counts see this lease.
 */
export async function reserveLease(
  dataSource: DataSource,
  lease: ClusterLease,
  limits: RoomLimits & { stockBelow?: number },
): Promise<ClusterLease | undefined> {
  return dataSource.transaction(async (manager) => {
    await lockForTransaction(manager, POOL_LOCK_KEY);
    const leases = manager.getRepository(ClusterLease);
    if (limits.stockBelow !== undefined) {
      const stocked = await leases.count({
        where: {
          provider: lease.provider,
          shape: lease.shape,
          state: In(['warm', 'starting']),
          sessionId: IsNull(),
        },
      });
      if (stocked >= limits.stockBelow) return undefined;
    }
    if ((await countRoom(leases, lease.provider, limits)) < 1) return undefined;
    return leases.save(lease);
  });
}
