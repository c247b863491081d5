import type { ClusterReads, LiveObject } from './cluster-reads.js';

/**
 * Whether the cluster is still acting on what a candidate left behind.
 *
 * Grading starts after the candidate's access is revoked, so nothing new is
 * asked of the cluster: only controllers, the scheduler and kubelets finish
 * what the candidate started. A failing check is looked at again while that
 * work is visibly under way in the task's namespaces, and decided as soon as
 * it is not, instead of waiting out a fixed timeout (a check's `timeout` is
 * now only the cap). Every rule below names the activity, so a slow decision
 * can be explained.
 *
 * What counts as settled is what will not change without someone acting: an
 * unschedulable pod with the scheduler's reason, a container in an image or
 * crash back-off, a ReplicaSet refused by a quota, a generation observed with
 * no pod in flight.
 */

/** Writes this recent are still being acted on (endpoint slices, PV binding, informer caches). */
export const QUIET_MS = 2_000;
/**
 * The RBAC authorizer reads Roles and bindings from an informer cache: a
 * SubjectAccessReview can miss a binding for a second or two on a loaded API
 * server (bank:test saw it on CI).
 */
export const RBAC_QUIET_MS = 5_000;
/** A container started this recently may still pass its readiness probe. */
const STARTING_MS = 10_000;

/** Container waiting reasons that mean "in progress", not "stuck". */
const STARTING_REASONS = new Set(['ContainerCreating', 'PodInitializing']);

interface Kind {
  apiVersion: string;
  kind: string;
  quietMs: number;
}

const WORKLOADS: Kind[] = [
  { apiVersion: 'v1', kind: 'Pod', quietMs: QUIET_MS },
  { apiVersion: 'apps/v1', kind: 'Deployment', quietMs: QUIET_MS },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', quietMs: QUIET_MS },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', quietMs: QUIET_MS },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', quietMs: QUIET_MS },
  { apiVersion: 'batch/v1', kind: 'Job', quietMs: QUIET_MS },
  { apiVersion: 'v1', kind: 'Service', quietMs: QUIET_MS },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', quietMs: QUIET_MS },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', quietMs: QUIET_MS },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', quietMs: RBAC_QUIET_MS },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', quietMs: RBAC_QUIET_MS },
];

/** Cluster-scoped kinds a session may own (named `<prefix>-…`). */
const CLUSTER_KINDS: Kind[] = [
  { apiVersion: 'v1', kind: 'PersistentVolume', quietMs: QUIET_MS },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', quietMs: RBAC_QUIET_MS },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    quietMs: RBAC_QUIET_MS,
  },
];

type Obj = LiveObject & {
  metadata: { name?: string; generation?: number };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

/**
 * What is still happening in one namespace (or, with `namespace` undefined,
 * among the session's cluster-scoped objects): the first activity found, or
 * undefined when it is settled.
 */
export async function activityIn(
  reads: ClusterReads,
  scope: { namespace: string } | { prefix: string },
  now = Date.now(),
): Promise<string | undefined> {
  const kinds = 'namespace' in scope ? WORKLOADS : CLUSTER_KINDS;
  const lists = await Promise.all(
    kinds.map(async (k) => {
      const items = (await reads.list({
        apiVersion: k.apiVersion,
        kind: k.kind,
        namespace: 'namespace' in scope ? scope.namespace : undefined,
      })) as readonly Obj[];
      return {
        kind: k,
        items:
          'prefix' in scope
            ? items.filter((o) => o.metadata.name?.startsWith(`${scope.prefix}-`))
            : items,
      };
    }),
  );
  for (const { kind, items } of lists) {
    for (const object of items) {
      const what = `${kind.kind} ${object.metadata.name}`;
      const written = lastWrite(object);
      if (written !== undefined && now - written < kind.quietMs)
        return `${what} changed ${Math.max(0, Math.round((now - written) / 1000))} s ago`;
      const busy = objectActivity(kind.kind, object, now);
      if (busy) return `${what}: ${busy}`;
    }
  }
  if ('namespace' in scope) {
    const of = (name: string) => lists.find((l) => l.kind.kind === name)?.items ?? [];
    return statusLag(of('Pod'), of('ReplicaSet'), of('Deployment'));
  }
  return undefined;
}

/**
 * A ReplicaSet whose status counts a different number of ready pods than it
 * has, or a Deployment whose status disagrees with its ReplicaSets': their
 * controller has not caught up. Nothing was written lately, so the quiet
 * window does not see it: after an etcd restore the restored status (pods
 * Pending at the snapshot) stays for up to half a minute while the
 * controller-manager relists, with every pod Running and Ready.
 */
function statusLag(
  pods: readonly Obj[],
  replicaSets: readonly Obj[],
  deployments: readonly Obj[],
): string | undefined {
  const readyPods = new Map<string, number>();
  for (const pod of pods) {
    // As the ReplicaSet controller counts: pods being deleted or finished are not its.
    const phase = pod.status?.phase;
    if (pod.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') continue;
    if (!isReady(pod)) continue;
    const owner = controllerOf(pod);
    if (owner) readyPods.set(owner, (readyPods.get(owner) ?? 0) + 1);
  }
  const readyByDeployment = new Map<string, number>();
  for (const rs of replicaSets) {
    const counted = readyCount(rs);
    const actual = readyPods.get(rs.metadata.uid ?? '') ?? 0;
    if (counted !== actual)
      return `ReplicaSet ${rs.metadata.name}: its status counts ${counted} ready pods, ${actual} are`;
    const owner = controllerOf(rs);
    if (owner) readyByDeployment.set(owner, (readyByDeployment.get(owner) ?? 0) + counted);
  }
  for (const deployment of deployments) {
    const counted = readyCount(deployment);
    const actual = readyByDeployment.get(deployment.metadata.uid ?? '') ?? 0;
    if (counted !== actual)
      return `Deployment ${deployment.metadata.name}: its status counts ${counted} ready pods, its ReplicaSets ${actual}`;
  }
  return undefined;
}

function isReady(pod: Obj): boolean {
  const conditions = (pod.status?.conditions ?? []) as { type: string; status: string }[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function readyCount(object: Obj): number {
  const ready = object.status?.readyReplicas;
  return typeof ready === 'number' ? ready : 0;
}

/** The uid of the object's controlling owner (a pod's ReplicaSet, a ReplicaSet's Deployment). */
function controllerOf(object: Obj): string | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller)?.uid;
}

/** The newest write to an object, from its timestamps (the API server's clock, 1 s resolution). */
function lastWrite(object: Obj): number | undefined {
  // Plain JSON from the API: timestamps are strings, whatever the client's types say.
  const times = (
    [
      object.metadata.creationTimestamp,
      ...(object.metadata.managedFields ?? []).map((f) => f.time),
    ] as unknown[]
  )
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t))
    .filter((t) => Number.isFinite(t));
  // Timestamps are truncated to the second: the write may be up to 1 s later.
  return times.length ? Math.max(...times) + 999 : undefined;
}

/** Why a controller or kubelet is still acting on this object, or undefined. */
export function objectActivity(kind: string, object: Obj, now = Date.now()): string | undefined {
  if (object.metadata.deletionTimestamp) return 'being deleted';
  const status = (object.status ?? {}) as Record<string, unknown>;
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  const generation = object.metadata.generation;
  if (
    generation !== undefined &&
    !('observedGeneration' in status) &&
    ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].includes(kind)
  )
    return 'not yet observed by its controller';
  if (
    generation !== undefined &&
    typeof status.observedGeneration === 'number' &&
    status.observedGeneration < generation
  )
    return `generation ${generation} not yet observed (observed ${status.observedGeneration})`;
  switch (kind) {
    case 'Pod':
      return podActivity(object, now);
    case 'ReplicaSet': {
      const want = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const have = typeof status.replicas === 'number' ? status.replicas : 0;
      const conditions = (status.conditions ?? []) as { type: string; status: string }[];
      // A quota or admission refusal: the controller retries with back-off, nothing changes.
      const refused = conditions.some((c) => c.type === 'ReplicaFailure' && c.status === 'True');
      if (want !== have && !refused) return `${have} of ${want} pods created`;
      return undefined;
    }
    default:
      return undefined;
  }
}

interface PodShape {
  spec?: { nodeName?: string; schedulingGates?: unknown[] };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    containerStatuses?: ContainerShape[];
    initContainerStatuses?: ContainerShape[];
  };
}
interface ContainerShape {
  name: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string }; running?: { startedAt?: string } };
}

function podActivity(object: Obj, now: number): string | undefined {
  const pod = object as unknown as PodShape;
  const phase = pod.status?.phase ?? 'Pending';
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  if (!pod.spec?.nodeName) {
    if (pod.spec?.schedulingGates?.length) return undefined;
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    // The scheduler's verdict (Unschedulable, with its reason in the message) is final until someone acts.
    if (scheduled?.status === 'False') return undefined;
    return 'waiting for the scheduler';
  }
  const containers = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  if (phase === 'Pending' && containers.length === 0) return 'waiting for its node to start it';
  for (const c of containers) {
    const waiting = c.state?.waiting?.reason;
    if (waiting && STARTING_REASONS.has(waiting)) return `container ${c.name} is ${waiting}`;
    const started = c.state?.running?.startedAt ? Date.parse(c.state.running.startedAt) : NaN;
    if (!c.ready && Number.isFinite(started) && now - started < STARTING_MS)
      return `container ${c.name} started ${Math.round((now - started) / 1000)} s ago, not ready yet`;
  }
  return undefined;
}
