/** Stops the real-node sandbox of the realism suite (once). */
export default async function realTeardown() {
  const sandbox = globalThis.__ckaRealSandbox;
  globalThis.__ckaRealSandbox = undefined;
  if (sandbox) await (await sandbox).stop();
}
