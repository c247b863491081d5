import type { PodReadyCheck } from '../check.schema.js';
import type { LiveObject } from '../cluster-reads.js';
import { namedOrSelectedPods } from './selection.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

type Pod = LiveObject & {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: { nodeName?: string; schedulerName?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      restartCount?: number;
      state?: Record<string, { reason?: string; message?: string } | undefined>;
    }[];
  };
};

/** Selected pods are Running and Ready (and restarted at most `maxRestarts` times). */
export async function evaluatePodReady(check: PodReadyCheck, env: CheckEnv): Promise<Verdict> {
  const pods = await namedOrSelectedPods<Pod>(env, check);
  if (typeof pods === 'string') return fail(pods);
  const problems = pods.map((pod) => ({ pod, problem: podProblem(pod, check.maxRestarts) }));
  const ready = problems.filter((p) => !p.problem).length;
  const needed = check.min ?? pods.length;
  if (ready >= needed) return pass();
  const lines = problems
    .filter((p) => p.problem)
    .map((p) => `Pod ${p.pod.metadata.name} ${p.problem}`);
  const summary = check.name
    ? ''
    : `${ready} of ${needed} required pods with ${check.labelSelector} are ready\n`;
  return fail(summary + lines.slice(0, 5).join('\n'));
}

/** Why a pod does not count as ready, or undefined. */
function podProblem(pod: Pod, maxRestarts: number | undefined): string | undefined {
  if (pod.metadata.deletionTimestamp) return 'is terminating';
  const phase = pod.status?.phase ?? 'Pending';
  if (phase !== 'Running') {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const why =
      scheduled?.status === 'False'
        ? (scheduled.message ?? scheduled.reason)
        : (pod.status?.message ?? pod.status?.reason ?? waitingReason(pod) ?? unscheduled(pod));
    return `is ${phase}${why ? `: ${why}` : ''}`;
  }
  const readyCondition = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (readyCondition?.status !== 'True')
    return `is Running but not Ready${readyCondition?.message ? `: ${readyCondition.message}` : ''}`;
  if (maxRestarts !== undefined) {
    const restarts = (pod.status?.containerStatuses ?? []).reduce(
      (sum, c) => sum + (c.restartCount ?? 0),
      0,
    );
    if (restarts > maxRestarts)
      return `restarted ${restarts} times (at most ${maxRestarts} allowed)`;
  }
  return undefined;
}

/**
 * A pod no scheduler has looked at: no PodScheduled condition at all. The
 * usual cause is a schedulerName nothing answers to (a classic troubleshooting
 * task), so name it.
 */
function unscheduled(pod: Pod): string | undefined {
  if (pod.spec?.nodeName || pod.status?.conditions?.some((c) => c.type === 'PodScheduled'))
    return undefined;
  const scheduler = pod.spec?.schedulerName ?? 'default-scheduler';
  return `not looked at by any scheduler yet (schedulerName ${scheduler})`;
}

function waitingReason(pod: Pod): string | undefined {
  for (const container of pod.status?.containerStatuses ?? []) {
    const waiting = container.state?.waiting;
    if (waiting?.reason)
      return `container ${container.name} ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`;
  }
  return undefined;
}
