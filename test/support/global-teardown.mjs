/** Stops the sandbox the global setup started (stop is idempotent across projects). */
export default async function globalTeardown() {
  const sandbox = await globalThis.__ckaSandbox;
  await sandbox?.stop();
}
