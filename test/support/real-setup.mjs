// Plain JavaScript on purpose, like global-setup.mjs: loaded outside Jest's transform.
import { tsImport } from 'tsx/esm/api';

/**
 * Starts, once per test run, one real-node sandbox (a kubeadm control plane
 * and two real workers) for the realism suite. Its nodes' supervisors live in
 * this process, so `systemctl` on a node works while the tests run. The tests
 * find it through REAL_KUBECONFIG, REAL_KUBECTL, REAL_PUSH_REGISTRY (a writable
 * registry the nodes pull from) and REAL_NODES (name, pid of the node's namespaces, root, address).
 */
export default async function realSetup() {
  globalThis.__ckaRealSandbox ??= start();
  const sandbox = await globalThis.__ckaRealSandbox;
  Object.assign(process.env, {
    REAL_KUBECONFIG: sandbox.kubeconfigPath,
    REAL_KUBECTL: sandbox.binaries.kubectl,
    REAL_RUN_DIR: sandbox.runDir,
    REAL_PUSH_REGISTRY: sandbox.real.pushRegistryUrl,
    REAL_NODES: JSON.stringify(
      sandbox.real.nodes.map((n) => ({
        name: n.name,
        pid: n.host.pid,
        root: n.root,
        address: n.address,
        enter: n.host.enter(),
      })),
    ),
  });
}

async function start() {
  const log = (line) => process.stderr.write(`[real sandbox] ${line}\n`);
  const { startSandbox } = await tsImport('../../sandbox/launcher.ts', import.meta.url);
  // The nodes in user namespaces, as the engine's dedicated clusters run; REAL_USER_NAMESPACES=0: as the machine's root.
  const userNamespaces = process.env.REAL_USER_NAMESPACES !== '0';
  return startSandbox({ nodes: 'real', workers: 2, pushRegistry: true, userNamespaces, log });
}
