// Plain JavaScript on purpose: Jest imports global setup natively, outside its
// transform pipeline, so the TypeScript launcher is loaded through tsx.
import { tsImport } from 'tsx/esm/api';

/**
 * Starts one sandbox cluster for the whole test run and hands its admin
 * kubeconfig to the test workers through the environment (they are spawned
 * after this runs). The integration and e2e projects share it through
 * globalThis, as Jest runs both setups in its main process. Set
 * SANDBOX_KUBECONFIG and SANDBOX_KUBECTL to use a sandbox that is already
 * running (`npm run sandbox`) instead.
 */
export default async function globalSetup() {
  if (process.env.SANDBOX_KUBECONFIG && !globalThis.__ckaSandbox) {
    if (!process.env.SANDBOX_KUBECTL) {
      throw new Error('SANDBOX_KUBECONFIG is set but SANDBOX_KUBECTL (path of its kubectl) is not');
    }
    return;
  }
  if (!globalThis.__ckaSandbox) {
    const { startSandbox } = await tsImport('../sandbox/launcher.ts', import.meta.url);
    globalThis.__ckaSandbox = startSandbox({
      log: (line) => process.stderr.write(`[sandbox] ${line}\n`),
    });
  }
  const sandbox = await globalThis.__ckaSandbox;
  process.env.SANDBOX_KUBECONFIG = sandbox.kubeconfigPath;
  process.env.SANDBOX_KUBECTL = sandbox.binaries.kubectl;
}
