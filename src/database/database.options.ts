import type { DataSourceOptions } from 'typeorm';
import { POSTGRES_MIGRATIONS } from '../../migrations/postgres/index.js';
import { SQLITE_MIGRATIONS } from '../../migrations/sqlite/index.js';
import type { AppConfig } from '../config/config.schema.js';
import { ENTITIES } from './entities.js';

/**
 * TypeORM options shared by the app, the worker and the migration CLI. The
 * only place where SQLite and PostgreSQL differ (besides migrations/).
 */
export function dataSourceOptions(database: AppConfig['database']): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    // The schema changes only through reviewed migrations.
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each' as const,
  };
  if (database.type === 'sqlite') {
    return {
      ...common,
      type: 'better-sqlite3',
      database: database.path,
      migrations: SQLITE_MIGRATIONS,
      // WAL lets the HTTP process read while a worker process writes; wait
      // instead of failing when the file is briefly locked.
      enableWAL: true,
      timeout: 5000,
      prepareDatabase: (db: { pragma(sql: string): unknown }) => {
        db.pragma('foreign_keys = ON');
      },
    };
  }
  return {
    ...common,
    type: 'postgres',
    url: database.url,
    migrations: POSTGRES_MIGRATIONS,
    extra: { max: 10 },
  };
}
