import type { DataSource } from 'typeorm';

/**
 * Key of the PostgreSQL advisory lock every process takes before it looks at
 * the migrations table: "ckamigr" in ASCII. Advisory locks are per database,
 * so installations on other databases of the same server never wait for each
 * other.
 */
export const MIGRATION_LOCK_KEY = '27984088885978994';

/** How often a process waiting for the lock says it still waits. */
const STILL_WAITING_EVERY_MS = 10_000;

/** What the runner reports; a pino logger fits, and the CLI passes a console one. */
export interface MigrationLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * Applies pending migrations, safe to call from any number of processes at
 * once. TypeORM's own `migrationsRun` reads the migrations table and then
 * applies what it found missing without any lock, so processes started
 * together on an empty PostgreSQL database each ran the same migration and
 * all but one failed ("column … already exists"). Here, on PostgreSQL, the
 * whole read-and-apply is held under one session-level advisory lock: the
 * first process applies everything, the others wait and then find the schema
 * up to date. A process that dies holding the lock loses its connection and
 * with it the lock; each migration is its own transaction, so the next one
 * carries on from the last migration committed.
 *
 * SQLite needs no lock: it is one engine process (split API and worker
 * processes are a PostgreSQL deployment; see README "Production").
 *
 * Returns the names of the migrations this call applied.
 */
export async function runMigrations(dataSource: DataSource, log: MigrationLog): Promise<string[]> {
  const applied = await withMigrationLock(dataSource, log, async () =>
    (await dataSource.runMigrations()).map((m) => m.name),
  );
  if (applied.length) log.info({ migrations: applied }, `migrations applied: ${applied.length}`);
  else log.info({}, 'schema up to date');
  return applied;
}

/**
 * Runs `work` while this process holds the migration lock (PostgreSQL), or
 * directly (SQLite). The lock lives on a connection of its own, taken from the
 * pool for the duration, so the migrations run on another one as usual.
 */
export async function withMigrationLock<T>(
  dataSource: DataSource,
  log: MigrationLog,
  work: () => Promise<T>,
): Promise<T> {
  if (dataSource.options.type !== 'postgres') return work();
  const lockConnection = dataSource.createQueryRunner();
  await lockConnection.connect();
  try {
    const [{ locked }] = (await lockConnection.query(
      'SELECT pg_try_advisory_lock($1::bigint) AS locked',
      [MIGRATION_LOCK_KEY],
    )) as { locked: boolean }[];
    if (!locked) {
      const since = Date.now();
      log.info({}, 'waiting for the migration lock held by another process');
      const stillWaiting = setInterval(
        () =>
          log.warn(
            { waitedMs: Date.now() - since },
            'still waiting for the migration lock held by another process',
          ),
        STILL_WAITING_EVERY_MS,
      );
      try {
        await lockConnection.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      } finally {
        clearInterval(stillWaiting);
      }
      log.info({ waitedMs: Date.now() - since }, 'migration lock acquired');
    }
    try {
      return await work();
    } finally {
      // Failing here means the connection broke, and the server dropped the
      // lock with it: not worth hiding the outcome of the work for.
      await lockConnection
        .query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY])
        .catch((error: unknown) => log.warn({ err: error }, 'releasing the migration lock failed'));
    }
  } finally {
    await lockConnection.release();
  }
}
