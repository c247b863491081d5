import type { Logger } from 'pino';
import { type AppConfig, ConfigValidationError } from './config/config.schema.js';
import { configFromEnvironment } from './config/load-env.js';
import { createRootLogger } from './logging/logger.js';
import { BankInvalidError } from './question-bank/bank.service.js';

/**
 * Validates the configuration, then starts. A bad configuration or bank stops
 * the process with one readable message listing every problem (exit 1).
 */
export async function runEntryPoint(
  start: (config: AppConfig, logger: Logger) => Promise<void>,
): Promise<void> {
  let config: AppConfig;
  try {
    config = configFromEnvironment();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createRootLogger(config.log.level);
  try {
    await start(config, logger);
  } catch (error) {
    if (error instanceof BankInvalidError) process.stderr.write(`${error.message}\n`);
    else logger.fatal({ err: error }, 'start-up failed');
    process.exit(1);
  }
}
