/**
 * `npm start`: the REST API, and the queue workers unless WORKER_ENABLED=false
 * (run those separately with `npm run start:worker`).
 */
import { createHttpApp } from './app.factory.js';
import { runEntryPoint } from './entry-point.js';

await runEntryPoint(async (config, logger) => {
  const app = await createHttpApp(config, logger, config.worker.enabled);
  await app.listen(config.http.port, config.http.host);
  logger.info(
    { url: `http://${config.http.host}:${config.http.port}`, worker: config.worker.enabled },
    'listening',
  );
});
