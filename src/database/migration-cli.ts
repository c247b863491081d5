/**
 * Migrations for the configured database (SQLite by default, PostgreSQL when
 * DATABASE_URL is set):
 *
 *   npm run migration:run                 apply pending migrations
 *   npm run migration:revert              undo the last one
 *   npm run migration:show                list applied and pending
 *   npm run migration:generate -- Name    write migrations/<db>/<ts>-name.ts from
 *                                         the entity changes, and register it
 *
 * Generate once per database: with no DATABASE_URL for SQLite (a scratch file
 * is used), then with DATABASE_URL pointing at an empty scratch PostgreSQL
 * database.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.schema.js';
import { configFromEnvironment } from '../config/load-env.js';
import { dataSourceOptions } from './database.options.js';
import { type MigrationLog, runMigrations, withMigrationLock } from './migrations-runner.js';

const MIGRATIONS_ROOT = new URL('../../migrations/', import.meta.url);

/** Plain lines for a person at a terminal: the message, then its fields. */
const consoleLog: MigrationLog = {
  info: (fields, message) => console.log(withFields(message, fields)),
  warn: (fields, message) => console.error(withFields(message, fields)),
};

function withFields(message: string, fields: object): string {
  const entries = Object.entries(fields);
  return entries.length ? `${message} ${JSON.stringify(Object.fromEntries(entries))}` : message;
}

async function withDataSource<T>(
  database: AppConfig['database'],
  use: (ds: DataSource) => Promise<T>,
): Promise<T> {
  const ds = new DataSource(dataSourceOptions(database));
  await ds.initialize();
  try {
    return await use(ds);
  } finally {
    await ds.destroy();
  }
}

async function generate(config: AppConfig, name: string): Promise<void> {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name))
    throw new Error('name must be alphanumeric, e.g. AddGradeRuns');
  let scratch: string | undefined;
  let database = config.database;
  if (database.type === 'sqlite') {
    scratch = await mkdtemp(join(tmpdir(), 'migration-generate-'));
    database = { ...database, path: join(scratch, 'scratch.sqlite') };
  }
  try {
    const { up, down } = await withDataSource(database, async (ds) => {
      await ds.runMigrations();
      const sql = await ds.driver.createSchemaBuilder().log();
      return { up: sql.upQueries, down: sql.downQueries.reverse() };
    });
    if (up.length === 0) {
      console.log(`no schema changes for ${database.type}`);
      return;
    }
    const timestamp = Date.now();
    const className = `${name}${timestamp}`;
    const fileBase = `${timestamp}-${name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
    const quote = (q: { query: string; parameters?: unknown[] }) =>
      `    await queryRunner.query(${JSON.stringify(q.query)}${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`;
    const source = `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${up.map(quote).join('\n')}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${down.map(quote).join('\n')}
  }
}
`;
    const dir = new URL(`${database.type}/`, MIGRATIONS_ROOT);
    await writeFile(new URL(`${fileBase}.ts`, dir), source);
    const indexUrl = new URL('index.ts', dir);
    const index = await readFile(indexUrl, 'utf8');
    const listName = database.type === 'sqlite' ? 'SQLITE_MIGRATIONS' : 'POSTGRES_MIGRATIONS';
    const updated = `import { ${className} } from './${fileBase}.js';\n${index}`.replace(
      new RegExp(`(${listName}.*?= \\[)([^\\]]*)\\]`),
      (_, head: string, items: string) =>
        `${head}${items.trim() ? `${items.trim().replace(/,$/, '')}, ` : ''}${className}]`,
    );
    await writeFile(indexUrl, updated);
    console.log(`wrote migrations/${database.type}/${fileBase}.ts (${up.length} statements)`);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const config = configFromEnvironment();
  switch (command) {
    case 'run':
      // The same lock as the engine's start-up: safe beside starting processes.
      await withDataSource(config.database, (ds) => runMigrations(ds, consoleLog));
      return;
    case 'revert':
      await withDataSource(config.database, (ds) =>
        withMigrationLock(ds, consoleLog, () => ds.undoLastMigration()),
      );
      console.log('reverted the last migration');
      return;
    case 'show':
      await withDataSource(config.database, async (ds) => {
        const pending = await ds.showMigrations();
        console.log(pending ? 'there are pending migrations' : 'up to date');
      });
      return;
    case 'generate':
      if (!name) throw new Error('usage: npm run migration:generate -- <Name>');
      await generate(config, name);
      return;
    default:
      throw new Error('usage: migration-cli run | revert | show | generate <Name>');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
