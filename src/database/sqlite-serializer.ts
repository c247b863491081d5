import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';

/**
 * SQLite through better-sqlite3 is one connection per process, and TypeORM
 * awaits between the statements of a transaction. Without this, a statement
 * of another request could run inside someone else's open transaction (and be
 * rolled back with it), and a second transaction could not begin at all.
 *
 * So, for SQLite only: transactions run one at a time, and a statement outside
 * a transaction waits until no transaction is open. Statements issued inside a
 * transaction (recognised through AsyncLocalStorage) go straight through.
 */
export function serializeSqliteAccess(dataSource: DataSource): void {
  if (!['better-sqlite3', 'sqlite'].includes(dataSource.options.type)) return;
  const inTransaction = new AsyncLocalStorage<true>();
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work, work);
    tail = result.catch(() => undefined);
    return result;
  };

  // The driver hands every caller the same query runner; patch that one.
  const runner = dataSource.createQueryRunner();
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = ((...args: unknown[]) =>
    inTransaction.getStore()
      ? query(...args)
      : exclusive(() => query(...args))) as typeof runner.query;

  const transaction = dataSource.transaction.bind(dataSource) as (
    ...args: unknown[]
  ) => Promise<unknown>;
  dataSource.transaction = ((...args: unknown[]) =>
    exclusive(() =>
      inTransaction.run(true, () => transaction(...args)),
    )) as typeof dataSource.transaction;
}
