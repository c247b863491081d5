import type { EntityManager } from 'typeorm';

/**
 * Makes the rest of `manager`'s transaction one step for every process that
 * takes the same `key` (a bigint as a string). PostgreSQL: an advisory lock
 * held until the transaction commits or rolls back. SQLite is one process,
 * whose transactions already run one at a time (serializeSqliteAccess), so
 * nothing is taken there.
 *
 * With `waitSeconds`, gives up after that long (PostgreSQL's lock_timeout)
 * and returns false; without, waits as long as it takes.
 */
export async function lockForTransaction(
  manager: EntityManager,
  key: string,
  options: { waitSeconds?: number } = {},
): Promise<boolean> {
  if (manager.connection.options.type !== 'postgres') return true;
  if (options.waitSeconds !== undefined)
    await manager.query(`SET LOCAL lock_timeout = '${Math.ceil(options.waitSeconds)}s'`);
  try {
    await manager.query('SELECT pg_advisory_xact_lock($1::bigint)', [key]);
    return true;
  } catch (error) {
    const failed = error as { code?: string; driverError?: { code?: string } };
    // 55P03 lock_not_available: lock_timeout ran out.
    if (options.waitSeconds === undefined || (failed.driverError?.code ?? failed.code) !== '55P03')
      throw error;
    return false;
  }
}
