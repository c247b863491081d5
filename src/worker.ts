/** `npm run start:worker`: the queue workers and the reconciler, without HTTP. */
import { createWorkerContext } from './app.factory.js';
import { runEntryPoint } from './entry-point.js';

await runEntryPoint(async (config, logger) => {
  await createWorkerContext(config, logger);
  logger.info('worker started');
});
