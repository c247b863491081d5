import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';

const run = promisify(execFile);

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run this suite through the integration Jest project`);
  return value;
}

/** Admin kubeconfig of the sandbox the global setup started. */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(requiredEnv('SANDBOX_KUBECONFIG'));
  return kc;
}

/** The same cluster, authenticated with a bearer token instead. */
export function tokenKubeConfig(token: string, namespace?: string): KubeConfig {
  const admin = adminKubeConfig();
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'token-user', token }],
    contexts: [{ name: 'token', cluster: cluster.name, user: 'token-user', namespace }],
    currentContext: 'token',
  });
  return kc;
}

/** Runs the sandbox's own kubectl with the admin kubeconfig unless another is given. */
export async function kubectl(
  args: string[],
  kubeconfig = requiredEnv('SANDBOX_KUBECONFIG'),
): Promise<{ stdout: string; stderr: string }> {
  return run(requiredEnv('SANDBOX_KUBECTL'), args, {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    timeout: 30_000,
  });
}

/** A namespace with a unique name; delete it with `deleteNamespace`. */
export async function createTestNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await adminKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'cka-test': 'true' } } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await adminKubeConfig().makeApiClient(CoreV1Api).deleteNamespace({ name }).catch(ignoreNotFound);
}

/** Creates arbitrary manifests in order (the objects API picks the right endpoint). */
export async function createObjects<T extends KubernetesObject>(
  ...objects: T[]
): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(adminKubeConfig());
  const created: KubernetesObject[] = [];
  for (const object of objects) created.push(await api.create(object));
  return created;
}

export function ignoreNotFound(error: unknown): void {
  if (error instanceof ApiException && error.code === 404) return;
  throw error;
}

/** The HTTP status of a failed API call, or undefined if it did not fail that way. */
export async function statusOf(call: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}
