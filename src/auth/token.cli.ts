/**
 * `npm run token:create -- --role trainer --name alice`: creates a staff API
 * token and prints it once (only its hash is stored). Also:
 * `npm run token:revoke -- --id <uuid>`.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { configFromEnvironment } from '../config/load-env.js';
import { dataSourceOptions } from '../database/database.options.js';
import { runMigrations } from '../database/migrations-runner.js';
import { ApiToken, StaffRole } from './api-token.entity.js';
import { generateToken, hashToken, TokenPrefix } from './tokens.js';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { role: { type: 'string' }, name: { type: 'string' }, id: { type: 'string' } },
  });
  const config = configFromEnvironment();
  const ds = await new DataSource(dataSourceOptions(config.database)).initialize();
  try {
    // On a database no engine has started on yet; under the engines' lock.
    // Progress goes to stderr: stdout carries the token alone.
    if (config.database.migrationsRun)
      await runMigrations(ds, {
        info: (_, message) => console.error(message),
        warn: (_, message) => console.error(message),
      });
    const tokens = ds.getRepository(ApiToken);
    if (positionals[0] === 'revoke') {
      if (!values.id) throw new Error('usage: token:revoke -- --id <uuid>');
      const result = await tokens.update({ id: values.id }, { revokedAt: new Date() });
      if (!result.affected) throw new Error(`no token ${values.id}`);
      console.log(`revoked ${values.id}`);
      return;
    }
    const roles = Object.values(StaffRole) as string[];
    if (!values.role || !roles.includes(values.role) || !values.name?.trim()) {
      throw new Error(`usage: token:create -- --role ${roles.join('|')} --name <who>`);
    }
    const token = generateToken(TokenPrefix.STAFF);
    const id = randomUUID();
    await tokens.insert({
      id,
      name: values.name.trim(),
      role: values.role as StaffRole,
      tokenHash: hashToken(token),
      createdAt: new Date(),
      revokedAt: null,
    });
    console.error(
      `created ${values.role} token ${id} for ${values.name.trim()}; it is shown only now:`,
    );
    console.log(token);
  } finally {
    await ds.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
