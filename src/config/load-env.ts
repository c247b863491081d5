import { existsSync } from 'node:fs';
import { type AppConfig, loadConfig } from './config.schema.js';

/**
 * Reads an optional .env file (variables already set win) and validates the
 * environment. Used by every entry point: server, worker and CLI commands.
 */
export function configFromEnvironment(envFile = '.env'): AppConfig {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return loadConfig(process.env);
}
