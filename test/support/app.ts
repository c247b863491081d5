import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import { type DataSource, DataSource as PgDataSource } from 'typeorm';
import { createHttpApp } from '../../src/app.factory.js';
import { ApiToken, type StaffRole } from '../../src/auth/api-token.entity.js';
import { generateToken, hashToken, TokenPrefix } from '../../src/auth/tokens.js';
import { type AppConfig, loadConfig } from '../../src/config/config.schema.js';
import { createRootLogger } from '../../src/logging/logger.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const E2E_BANK = join(REPO_ROOT, 'test/fixtures/banks/e2e');

/** A fresh SQLite file and Redis key prefix: one isolated engine "installation". */
export async function isolatedEnv(
  overrides: Record<string, string> = {},
): Promise<Record<string, string>> {
  const redis = process.env.TEST_REDIS_URL;
  if (!redis)
    throw new Error('TEST_REDIS_URL is not set: run through the e2e/integration Jest projects');
  const dir = await mkdtemp(join(tmpdir(), 'engine-test-'));
  // The terminal's jails (other uids) reach their homes under it: searchable, not listable.
  await chmod(dir, 0o711);
  return {
    SQLITE_PATH: join(dir, 'engine.sqlite'),
    REDIS_URL: redis,
    QUEUE_PREFIX: `t-${randomBytes(4).toString('hex')}`,
    QUESTIONS_DIR: E2E_BANK,
    GRADERS_DIR: join(REPO_ROOT, 'graders'),
    LOG_LEVEL: 'silent',
    RECONCILE_INTERVAL_MS: '1000',
    JOB_BACKOFF_MS: '100',
    KUBECONFIG: process.env.SANDBOX_KUBECONFIG ?? '',
    // Every test client is 127.0.0.1: no request windows or per-client caps
    // unless a test sets them (test/e2e/limits.e2e-spec.ts).
    THROTTLE_PUBLIC: '0/60',
    THROTTLE_SESSION_START: '0/60',
    MAX_ACTIVE_SESSIONS: '0',
    MAX_ACTIVE_SESSIONS_PER_CLIENT: '0',
    // The terminal is off unless a test turns it on (test/e2e/terminal*.e2e-spec.ts).
    TERMINAL_ENABLED: 'false',
    TERMINAL_KUBECTL: process.env.SANDBOX_KUBECTL ?? '',
    TERMINAL_HELM: process.env.SANDBOX_HELM ?? '',
    TERMINAL_RECORDINGS_DIR: join(dir, 'recordings'),
    // Homes and sockets of this installation only (another test's engine sweeps its own).
    TERMINAL_RUN_DIR: join(dir, 'run'),
    ...overrides,
  };
}

/** A fresh database on the test PostgreSQL (dropped with the cluster after the run). */
export async function scratchPostgresUrl(): Promise<string> {
  const base = process.env.TEST_POSTGRES_URL;
  if (!base)
    throw new Error('TEST_POSTGRES_URL is not set: run through the e2e/integration Jest projects');
  const name = `e2e_${randomBytes(5).toString('hex')}`;
  const admin = new PgDataSource({ type: 'postgres', url: base });
  await admin.initialize();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.destroy();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  http: ReturnType<typeof request>;
  dataSource: DataSource;
  /** A staff bearer token of the given role, created directly in the database. */
  staffToken(role: StaffRole): Promise<string>;
  close(): Promise<void>;
}

/** The whole engine (HTTP and workers) on an ephemeral port, as `npm start` runs it. */
export async function startTestApp(
  env: Record<string, string>,
  logLines?: string[],
): Promise<TestApp> {
  const config = loadConfig(env);
  // With logLines, every JSON log line is collected there instead of printed.
  const logger = logLines
    ? createRootLogger('info', { write: (line: string) => void logLines.push(line) })
    : createRootLogger(env.LOG_LEVEL ?? 'silent');
  const app = await createHttpApp(config, logger, config.worker.enabled);
  const dataSource = app.get<DataSource>(getDataSourceToken());
  return {
    app,
    config,
    http: request(app.getHttpServer()),
    dataSource,
    async staffToken(role) {
      const token = generateToken(TokenPrefix.STAFF);
      await dataSource.getRepository(ApiToken).insert({
        id: randomUUID(),
        name: `test-${role}`,
        role,
        tokenHash: hashToken(token),
        createdAt: new Date(),
        revokedAt: null,
      });
      return token;
    },
    close: () => app.close(),
  };
}
