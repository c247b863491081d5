import type { Logger } from 'pino';
import { type AppConfig, ConfigValidationError } from './config/config.schema.js';
import { configFromEnvironment } from './config/load-env.js';
import { createRootLogger } from './logging/logger.js';
import { BankInvalidError } from './question-bank/bank.service.js';

/** How long a graceful stop may take before the process exits anyway. */
const STOP_BOUND_MS = 4000;

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
  // A stop is graceful but bounded: whatever hangs in it (a queue waiting for
  // a Redis that went down with us) must not keep the process, its port or its
  // terminals' relays alive. Nothing is lost by exiting: the database holds the
  // state, and every shell dies with the process.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        logger.warn({ signal, afterMs: STOP_BOUND_MS }, 'stopping took too long; exiting now');
        process.exit(1);
      }, STOP_BOUND_MS).unref();
    });
  }
  try {
    await start(config, logger);
  } catch (error) {
    if (error instanceof BankInvalidError) process.stderr.write(`${error.message}\n`);
    else logger.fatal({ err: error }, 'start-up failed');
    process.exit(1);
  }
}
