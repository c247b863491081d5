import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { dataSourceOptions } from './database.options.js';
import { ENTITIES } from './entities.js';
import { runMigrations } from './migrations-runner.js';
import { serializeSqliteAccess } from './sqlite-serializer.js';

/**
 * The data source and every repository. Pending migrations are applied before
 * anything else can use the data source (unless DB_MIGRATIONS_RUN=false),
 * under the lock of migrations-runner.ts, so any number of processes may start
 * at once.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(logger: Logger): DynamicModule {
    const log = logger.child({ context: 'Migrations' });
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            ...dataSourceOptions(config.database),
            migrationsRun: config.database.migrationsRun,
            retryAttempts: 3,
            retryDelay: 1000,
          }),
          dataSourceFactory: async (options) => {
            // TypeORM's own migrationsRun would apply them without a lock.
            const dataSource = await new DataSource({
              ...options!,
              migrationsRun: false,
            }).initialize();
            try {
              if (options!.migrationsRun) await runMigrations(dataSource, log);
            } catch (error) {
              // Nest retries the factory: leave no pool open behind a failed attempt.
              await dataSource.destroy().catch(() => undefined);
              throw error;
            }
            serializeSqliteAccess(dataSource);
            return dataSource;
          },
        }),
        TypeOrmModule.forFeature(ENTITIES),
      ],
      exports: [TypeOrmModule],
    };
  }
}
