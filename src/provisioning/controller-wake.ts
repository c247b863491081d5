import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterClient } from '../cluster/cluster-client.js';

/** Written on a woken workload; its value is when. */
export const WOKEN_ANNOTATION = 'cka.engine/woken-at';
const WAKE_FIELD_MANAGER = 'cka-exam-engine-wake';

type Workload = KubernetesObject & {
  spec?: { replicas?: number };
  status?: {
    replicas?: number;
    desiredNumberScheduled?: number;
    currentNumberScheduled?: number;
    conditions?: { type: string; status: string }[];
  };
};

/** Workloads whose controllers retry failed pod creations with an exponential back-off. */
const KINDS = [
  { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
] as const;

/**
 * At the end of a session, wakes every workload controller that is short of
 * pods in the session's namespaces, so a fix made late scores like one made
 * early.
 *
 * Why: when a controller cannot create pods (a missing ServiceAccount, an
 * admission refusal), it retries with a back-off that doubles up to about
 * 16 minutes. A candidate who fixes the cause late in the exam would be
 * graded before the next retry, though the same fix made early had long
 * taken effect. Any change to the object makes its controller look again at
 * once, so one annotation, written by the engine after the freeze, is all it
 * takes. Nothing the candidate made changes meaning: metadata only, no
 * generation bump, and only for workloads that are short.
 *
 * Returns the workloads woken, as `Kind namespace/name`.
 */
export async function wakeShortWorkloads(
  cluster: ClusterClient,
  namespaces: readonly string[],
  now = new Date(),
): Promise<string[]> {
  const woken: string[] = [];
  for (const namespace of namespaces) {
    for (const { apiVersion, kind } of KINDS) {
      const items = await cluster.list<Workload>(apiVersion, kind, { namespace });
      const short = items.filter((w) => isShort(kind, w));
      if (!short.length) continue;
      await cluster.apply(
        short.map((w) => ({
          apiVersion,
          kind,
          metadata: {
            name: w.metadata!.name,
            namespace,
            annotations: { [WOKEN_ANNOTATION]: now.toISOString() },
          },
        })),
        WAKE_FIELD_MANAGER,
      );
      woken.push(...short.map((w) => `${kind} ${namespace}/${w.metadata!.name}`));
    }
  }
  return woken;
}

/** Whether a workload has fewer pods than it wants (so its controller may be backed off). */
export function isShort(kind: string, workload: Workload): boolean {
  const status = workload.status ?? {};
  if (kind === 'DaemonSet')
    return (status.currentNumberScheduled ?? 0) < (status.desiredNumberScheduled ?? 0);
  return (status.replicas ?? 0) < (workload.spec?.replicas ?? 1);
}
