import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { mapLimit } from '../common/map-limit.js';

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

/**
 * Lists of one kind in flight at once, per namespace (the three kinds and
 * the pods go side by side): a dedicated exam's namespaces times three
 * kinds, one after another, took most of a second of the end's critical path.
 */
const WAKE_CONCURRENCY = 8;

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
  options: WakeOptions & { now?: Date } = {},
): Promise<string[]> {
  const now = options.now ?? new Date();
  const woken = await settleAll(
    KINDS.map(async ({ apiVersion, kind }) => {
      const items = await listIn<Workload>(cluster, apiVersion, kind, namespaces, options);
      const short = items.filter((w) => isShort(kind, w));
      if (!short.length) return [];
      await cluster.apply(
        short.map((w) => ({
          apiVersion,
          kind,
          metadata: {
            name: w.metadata!.name,
            namespace: w.metadata!.namespace,
            annotations: { [WOKEN_ANNOTATION]: now.toISOString() },
          },
        })),
        WAKE_FIELD_MANAGER,
      );
      return short.map((w) => `${kind} ${w.metadata!.namespace}/${w.metadata!.name}`);
    }),
  );
  return woken.flat();
}

/**
 * Every promise to its end, then the results, or the first failure: a caller
 * that goes on after a failure (grading after the wake) must not race work
 * still under way.
 */
export async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** Where the wake looks. */
export interface WakeOptions {
  /**
   * One list per kind for the whole cluster, kept to `namespaces`, instead
   * of one per namespace: for a cluster that is the session's own (a
   * dedicated one), where nothing else's objects make the list long.
   */
  clusterWide?: boolean;
}

/** Objects of a kind in `namespaces`: a list in each (eight at a time), or one of the cluster. */
async function listIn<T extends KubernetesObject>(
  cluster: ClusterClient,
  apiVersion: string,
  kind: string,
  namespaces: readonly string[],
  options: WakeOptions,
): Promise<T[]> {
  if (options.clusterWide) {
    const wanted = new Set(namespaces);
    return (await cluster.list<T>(apiVersion, kind)).filter((o) =>
      wanted.has(o.metadata?.namespace ?? ''),
    );
  }
  const lists = await mapLimit(namespaces, WAKE_CONCURRENCY, (namespace) =>
    cluster.list<T>(apiVersion, kind, { namespace }),
  );
  return lists.flat();
}

/** Whether a workload has fewer pods than it wants (so its controller may be backed off). */
export function isShort(kind: string, workload: Workload): boolean {
  const status = workload.status ?? {};
  if (kind === 'DaemonSet')
    return (status.currentNumberScheduled ?? 0) < (status.desiredNumberScheduled ?? 0);
  return (status.replicas ?? 0) < (workload.spec?.replicas ?? 1);
}

type PodView = KubernetesObject & {
  metadata?: {
    ownerReferences?: { kind: string; uid?: string; controller?: boolean }[];
    deletionTimestamp?: unknown;
  };
  status?: {
    containerStatuses?: ContainerStatusView[];
    initContainerStatuses?: ContainerStatusView[];
  };
};
interface TerminationView {
  reason?: string;
  startedAt?: Date | string;
  finishedAt?: Date | string;
}
interface ContainerStatusView {
  restartCount?: number;
  ready?: boolean;
  state?: {
    waiting?: { reason?: string };
    terminated?: TerminationView;
    running?: { startedAt?: Date | string };
  };
  lastState?: { terminated?: TerminationView };
}

/**
 * A crash-looping container runs for a moment after each restart (and, with
 * no readiness probe, even reports Ready): one restarted after a failure
 * this recently is taken for a crash loop, since it cannot yet be told from one.
 */
const JUST_RESTARTED_MS = 10_000;

/** Waiting reasons after which the kubelet retries only when its back-off (up to 5 minutes) ends. */
const KUBELET_BACK_OFF = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull']);
/**
 * Owners that replace a deleted pod with an identical one at once. Not Jobs:
 * a deleted Job pod may count against its backoffLimit.
 */
const REPLACING_OWNERS = new Set(['ReplicaSet', 'StatefulSet', 'DaemonSet']);

/**
 * Whether a pod waits in the kubelet's back-off: a container crashing or
 * failing to pull, between two tries (a 1.36 kubelet reports the last
 * termination there, not always CrashLoopBackOff), or restarted after a
 * failure so recently that it may be about to crash again.
 */
export function inKubeletBackOff(pod: PodView, now = Date.now()): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  return statuses.some(
    (s) =>
      KUBELET_BACK_OFF.has(s.state?.waiting?.reason ?? '') ||
      (!s.ready &&
        (s.restartCount ?? 0) > 0 &&
        s.state?.terminated !== undefined &&
        s.state.terminated.reason !== 'Completed') ||
      justRestartedAfterFailure(s, now),
  );
}

function justRestartedAfterFailure(s: ContainerStatusView, now: number): boolean {
  const startedAt = s.state?.running?.startedAt;
  const last = s.lastState?.terminated;
  if (!startedAt || !last || last.reason === 'Completed' || (s.restartCount ?? 0) === 0)
    return false;
  return now - new Date(startedAt).getTime() < JUST_RESTARTED_MS;
}

/** The longest a replacement is watched before grading goes on regardless. */
const SETTLE_CAP_MS = 30_000;
/**
 * Beyond one and a half times the old container's last run, how long a
 * replacement must run to count as fixed: run times are read in whole
 * seconds, and on a loaded node the kubelet reports a container's end
 * seconds late (CI saw a replacement still shown Running 3 s after it
 * failed).
 */
const SETTLE_MARGIN_MS = 5_000;
const SETTLE_MIN_MS = 8_000;
const SETTLE_POLL_MS = 500;

/**
 * How long a replacement of `pod` must run before it is taken for fixed:
 * well past its containers' last run before they failed (a container that
 * failed after 3 s is not fixed because it has run for 1 s), at least 8 s,
 * at most 30 s.
 */
export function settleTimeOf(pod: PodView): number {
  let lastRunMs = 0;
  for (const s of [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ])
    for (const run of [s.state?.terminated, s.lastState?.terminated]) {
      if (!run?.startedAt || !run.finishedAt) continue;
      const ms = new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime();
      if (Number.isFinite(ms)) lastRunMs = Math.max(lastRunMs, ms);
    }
  return Math.min(SETTLE_CAP_MS, Math.max(SETTLE_MIN_MS, lastRunMs * 1.5 + SETTLE_MARGIN_MS));
}

/**
 * Whether a replacement pod has shown what it is: failed again (a
 * termination, a restart, a back-off), or every container running for
 * `settleMs`. Until then a Ready replacement proves nothing: an unfixed
 * container that fails a few seconds after start is Ready meanwhile.
 */
export function replacementSettled(pod: PodView, settleMs: number, now = Date.now()): boolean {
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  if (
    statuses.some(
      (s) =>
        (s.restartCount ?? 0) > 0 ||
        KUBELET_BACK_OFF.has(s.state?.waiting?.reason ?? '') ||
        (s.state?.terminated !== undefined && s.state.terminated.reason !== 'Completed'),
    )
  )
    return true;
  const containers = pod.status?.containerStatuses ?? [];
  return (
    containers.length > 0 &&
    containers.every((s) => {
      const startedAt = s.state?.running?.startedAt;
      return startedAt !== undefined && now - new Date(startedAt).getTime() >= settleMs;
    })
  );
}

interface Replacement {
  namespace: string;
  name: string;
  ownerUid: string;
  settleMs: number;
}

/**
 * At the end of a session, replaces the controller-owned pods that wait in
 * the kubelet's back-off, so a fix made late (the ConfigMap a crashing
 * container needed, the image tag corrected) scores like one made early,
 * and returns once the replacements have shown whether the fix holds.
 *
 * Why: the kubelet retries a crashing container or a failing pull after a
 * back-off that doubles up to 5 minutes; grading would see the pod down
 * though the cause is gone. Its owner replaces a deleted pod with an
 * identical one that starts at once. But a replacement is Ready for its
 * first seconds whether or not the cause is gone, and grading takes a pass
 * as final: so this waits until each replacement failed again or ran longer
 * than the old container's last run ({@link settleTimeOf}), 30 s at most.
 * Standalone pods are left alone: nothing would replace them.
 *
 * Returns the pods replaced, as `namespace/name`.
 */
export async function replaceBackedOffPods(
  cluster: ClusterClient,
  namespaces: readonly string[],
  options: WakeOptions & { sleep?: (ms: number) => Promise<void> } = {},
): Promise<string[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const replaced: Replacement[] = [];
  for (const pod of await listIn<PodView>(cluster, 'v1', 'Pod', namespaces, options)) {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
    if (!owner?.uid || !REPLACING_OWNERS.has(owner.kind) || !inKubeletBackOff(pod)) continue;
    const name = pod.metadata!.name!;
    const namespace = pod.metadata!.namespace!;
    // A second of grace: a container just restarted is running, and a
    // StatefulSet replaces its pod only once the old one is gone.
    const deleted = await cluster
      .delete({ apiVersion: 'v1', kind: 'Pod', name, namespace }, { gracePeriodSeconds: 1 })
      .catch(() => false);
    if (deleted)
      replaced.push({ namespace, name, ownerUid: owner.uid, settleMs: settleTimeOf(pod) });
  }
  await awaitReplacements(cluster, replaced, sleep);
  return replaced.map((r) => `${r.namespace}/${r.name}`);
}

async function awaitReplacements(
  cluster: ClusterClient,
  replaced: readonly Replacement[],
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  if (!replaced.length) return;
  const deadline = Date.now() + SETTLE_CAP_MS + 15_000;
  const gone = new Set(replaced.map((r) => `${r.namespace}/${r.name}`));
  const namespaces = [...new Set(replaced.map((r) => r.namespace))];
  while (Date.now() < deadline) {
    const pods = (
      await Promise.all(
        namespaces.map((namespace) =>
          cluster.list<PodView>('v1', 'Pod', { namespace }).catch(() => [] as PodView[]),
        ),
      )
    ).flat();
    const now = Date.now();
    const waiting = replaced.filter((r) => {
      const replacements = pods.filter(
        (p) =>
          !p.metadata?.deletionTimestamp &&
          p.metadata?.namespace === r.namespace &&
          !gone.has(`${r.namespace}/${p.metadata?.name}`) &&
          p.metadata?.ownerReferences?.some((o) => o.uid === r.ownerUid),
      );
      return (
        !replacements.length || !replacements.every((p) => replacementSettled(p, r.settleMs, now))
      );
    });
    if (!waiting.length) return;
    await sleep(SETTLE_POLL_MS);
  }
}
