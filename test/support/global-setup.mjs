// Plain JavaScript on purpose: Jest imports global setup natively, outside its
// transform pipeline, so the TypeScript helpers are loaded through tsx.
import { tsImport } from 'tsx/esm/api';

/**
 * Starts, once per test run, the real services the integration and e2e
 * suites use: the sandbox cluster, Redis and PostgreSQL. Their addresses reach
 * the test workers through the environment (workers are spawned after this).
 * The two projects share them through globalThis, as Jest runs both setups in
 * its main process. Already running ones can be used instead by setting
 * SANDBOX_KUBECONFIG + SANDBOX_KUBECTL (+ SANDBOX_HELM), TEST_REDIS_URL, TEST_POSTGRES_URL.
 */
export default async function globalSetup() {
  globalThis.__ckaServices ??= startAll();
  const services = await globalThis.__ckaServices;
  Object.assign(process.env, services.env);
}

async function startAll() {
  const log = (line) => process.stderr.write(`[test services] ${line}\n`);
  const { startSandbox } = await tsImport('../../sandbox/launcher.ts', import.meta.url);
  const { startRedis, startPostgres } = await tsImport('./services.ts', import.meta.url);
  const started = [];
  const env = {};
  const tasks = [];
  if (!process.env.SANDBOX_KUBECONFIG) {
    tasks.push(
      startSandbox({ log }).then((sandbox) => {
        started.push(sandbox);
        env.SANDBOX_KUBECONFIG = sandbox.kubeconfigPath;
        env.SANDBOX_KUBECTL = sandbox.binaries.kubectl;
        env.SANDBOX_HELM = sandbox.binaries.helm;
      }),
    );
  } else if (!process.env.SANDBOX_KUBECTL) {
    throw new Error('SANDBOX_KUBECONFIG is set but SANDBOX_KUBECTL (path of its kubectl) is not');
  }
  if (!process.env.TEST_REDIS_URL) {
    tasks.push(
      startRedis().then((redis) => {
        started.push(redis);
        env.TEST_REDIS_URL = redis.url;
        log(`redis ${redis.url}`);
      }),
    );
  }
  if (!process.env.TEST_POSTGRES_URL) {
    tasks.push(
      startPostgres().then((postgres) => {
        started.push(postgres);
        env.TEST_POSTGRES_URL = postgres.url;
        log(`postgres ${postgres.url}`);
      }),
    );
  }
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return { env, stop: () => Promise.all(started.map((s) => s.stop())) };
}
