import type { RolloutCheck } from '../check.schema.js';
import type { LiveObject } from '../cluster-reads.js';
import {
  type CheckEnv,
  describeObject,
  fail,
  pass,
  UndecidableError,
  type Verdict,
} from './verdict.js';

type Status = Record<string, number | undefined> & {
  conditions?: { type: string; status: string; reason?: string }[];
  currentRevision?: string;
  updateRevision?: string;
};
type Workload = LiveObject & {
  metadata: { generation?: number };
  spec?: {
    replicas?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: Status;
};

/**
 * Whether a rollout is complete, by the rules `kubectl rollout status` uses
 * for each kind; the message is what kubectl would print while waiting.
 */
export async function evaluateRollout(check: RolloutCheck, env: CheckEnv): Promise<Verdict> {
  const object = (await env.reads.get({
    apiVersion: check.apiVersion,
    kind: check.resourceKind,
    name: check.name,
    namespace: check.namespace,
  })) as Workload | undefined;
  const what = describeObject(check.resourceKind, check.name, check.namespace);
  if (!object) return fail(`${what} not found`);
  const waiting = rolloutWaiting(check.resourceKind, object);
  return waiting ? fail(`${what}: ${waiting}`) : pass();
}

/** Why the rollout is not complete, or undefined when it is. */
export function rolloutWaiting(kind: string, object: Workload): string | undefined {
  const status = object.status ?? {};
  const generation = object.metadata.generation ?? 0;
  if (generation > (status.observedGeneration ?? 0))
    return 'waiting for the spec update to be observed';
  const n = (value: number | undefined) => value ?? 0;
  switch (kind) {
    case 'Deployment': {
      const progressing = status.conditions?.find((c) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded')
        return 'exceeded its progress deadline';
      const replicas = object.spec?.replicas ?? 1;
      if (n(status.updatedReplicas) < replicas)
        return `${n(status.updatedReplicas)} out of ${replicas} new replicas have been updated`;
      if (n(status.replicas) > n(status.updatedReplicas))
        return `${n(status.replicas) - n(status.updatedReplicas)} old replicas are pending termination`;
      if (n(status.availableReplicas) < n(status.updatedReplicas))
        return `${n(status.availableReplicas)} of ${n(status.updatedReplicas)} updated replicas are available`;
      return undefined;
    }
    case 'StatefulSet': {
      const replicas = object.spec?.replicas ?? 1;
      const strategy = object.spec?.updateStrategy?.type ?? 'RollingUpdate';
      if (strategy !== 'RollingUpdate')
        return `rollout status is only available for RollingUpdate (this uses ${strategy})`;
      if (n(status.readyReplicas) < replicas)
        return `waiting for ${replicas - n(status.readyReplicas)} pods to be ready`;
      const partition = object.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
      if (partition > 0) {
        if (n(status.updatedReplicas) < replicas - partition)
          return `waiting for partitioned roll out to finish: ${n(status.updatedReplicas)} out of ${replicas - partition} new pods have been updated`;
        return undefined;
      }
      if (status.updateRevision !== status.currentRevision)
        return `waiting for rolling update to complete ${n(status.updatedReplicas)} pods at revision ${status.updateRevision}`;
      return undefined;
    }
    case 'DaemonSet': {
      const desired = n(status.desiredNumberScheduled);
      if (n(status.updatedNumberScheduled) < desired)
        return `${n(status.updatedNumberScheduled)} out of ${desired} new pods have been updated`;
      if (n(status.numberAvailable) < desired)
        return `${n(status.numberAvailable)} of ${desired} updated pods are available`;
      return undefined;
    }
    default:
      throw new UndecidableError(
        `rollout checks support Deployment, StatefulSet and DaemonSet, not ${kind}`,
      );
  }
}
