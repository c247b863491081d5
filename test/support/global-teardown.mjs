/** Stops what the global setup started (once, however many projects ran). */
export default async function globalTeardown() {
  const services = globalThis.__ckaServices;
  globalThis.__ckaServices = undefined;
  if (services) await (await services).stop();
}
