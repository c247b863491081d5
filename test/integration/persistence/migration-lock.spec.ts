import 'reflect-metadata';
import { jest } from '@jest/globals';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { POSTGRES_MIGRATIONS } from '../../../migrations/postgres/index.js';
import { ConfigModule } from '../../../src/config/config.module.js';
import { loadConfig } from '../../../src/config/config.schema.js';
import { DatabaseModule } from '../../../src/database/database.module.js';
import { MIGRATION_LOCK_KEY } from '../../../src/database/migrations-runner.js';
import { createRootLogger, PinoNestLogger } from '../../../src/logging/logger.js';
import { LoggingModule } from '../../../src/logging/logging.module.js';
import { REPO_ROOT, scratchPostgresUrl } from '../../support/app.js';
import { eventually } from '../../support/eventually.js';

jest.setTimeout(120_000);

@Module({})
class DataLayerModule {}

/**
 * The engine's data layer as every process starts it (DatabaseModule with
 * DB_MIGRATIONS_RUN left at its default), its log lines collected.
 */
async function startDataLayer(
  url: string,
): Promise<{ context: INestApplicationContext; messages: string[] }> {
  const lines: string[] = [];
  const logger = createRootLogger('info', { write: (line: string) => void lines.push(line) });
  const config = loadConfig({ DATABASE_URL: url });
  const context = await NestFactory.createApplicationContext(
    {
      module: DataLayerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        DatabaseModule.forRoot(logger),
      ],
    },
    // Nest's own lines too: a failed attempt shows as "Unable to connect to the database. Retrying".
    { logger: new PinoNestLogger(logger), abortOnError: false },
  );
  return { context, messages: lines.map((l) => (JSON.parse(l) as { msg: string }).msg) };
}

/** How often each migration is recorded as applied. */
async function appliedCounts(dataSource: DataSource): Promise<Record<string, number>> {
  const rows = (await dataSource.query(
    'SELECT name, count(*)::int AS n FROM migrations GROUP BY name',
  )) as { name: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

const everyMigrationOnce = () =>
  Object.fromEntries(POSTGRES_MIGRATIONS.map((m) => [new m().name ?? m.name, 1]));

describe('migrations under the PostgreSQL advisory lock', () => {
  const contexts: INestApplicationContext[] = [];
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
  });

  it('six processes started at once on an empty database all start, and each migration runs once', async () => {
    const url = await scratchPostgresUrl();
    const started = await Promise.allSettled(Array.from({ length: 6 }, () => startDataLayer(url)));
    const layers = started.map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    });
    contexts.push(...layers.map((l) => l.context));

    // Each started at its first attempt (TypeORM's retry once hid the failures).
    for (const layer of layers)
      expect(layer.messages.filter((m) => /unable to connect|failed/i.test(m))).toEqual([]);
    const dataSource = layers[0].context.get<DataSource>(getDataSourceToken());
    expect(await appliedCounts(dataSource)).toEqual(everyMigrationOnce());
    // One applied them all; the others found the schema up to date.
    const outcomes = layers.map((l) =>
      l.messages.find((m) => m.startsWith('migrations applied') || m === 'schema up to date'),
    );
    expect(
      outcomes.filter((o) => o === `migrations applied: ${POSTGRES_MIGRATIONS.length}`),
    ).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'schema up to date')).toHaveLength(5);
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('processes and `migration:run` wait while the lock is held, and go on when its holder dies', async () => {
    const url = await scratchPostgresUrl();
    // Another process in the middle of migrating: it holds the lock on its connection.
    const holder = await new DataSource({ type: 'postgres', url }).initialize();
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);

    const layers = Array.from({ length: 3 }, () => startDataLayer(url));
    let cliOutput = '';
    const cli: ChildProcess = spawn(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'src/database/migration-cli.ts', 'run'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: url },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    cli.stdout!.on('data', (chunk: Buffer) => (cliOutput += chunk.toString()));
    cli.stderr!.on('data', (chunk: Buffer) => (cliOutput += chunk.toString()));
    const cliExit = new Promise<number | null>((resolve) => cli.once('exit', resolve));

    await eventually(
      'migration:run to say it waits',
      async () => cliOutput,
      (out) => out.includes('waiting for the migration lock held by another process'),
    );
    // Nothing is applied while the lock is held.
    const [{ exists }] = (await holder.query(
      "SELECT to_regclass('public.migrations') IS NOT NULL AS exists",
    )) as { exists: boolean }[];
    expect(exists).toBe(false);

    // Its connection closing (the holder's process dying) frees the lock.
    await holder.destroy();
    const started = await Promise.all(layers);
    contexts.push(...started.map((l) => l.context));
    expect(await cliExit).toBe(0);

    const outcomes = [
      ...started.map((l) =>
        l.messages.find((m) => m.startsWith('migrations applied') || m === 'schema up to date'),
      ),
      cliOutput.match(/^(migrations applied: \d+|schema up to date)/m)?.[0],
    ];
    expect(
      outcomes.filter((o) => o === `migrations applied: ${POSTGRES_MIGRATIONS.length}`),
    ).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'schema up to date')).toHaveLength(3);
    for (const layer of started)
      expect(layer.messages).toContain('waiting for the migration lock held by another process');
    const dataSource = started[0].context.get<DataSource>(getDataSourceToken());
    expect(await appliedCounts(dataSource)).toEqual(everyMigrationOnce());
  });
});
