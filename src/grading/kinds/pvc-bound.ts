import type { PvcBoundCheck } from '../check.schema.js';
import type { LiveObject } from '../cluster-reads.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

type Claim = LiveObject & {
  spec?: { volumeName?: string; storageClassName?: string | null };
  status?: { phase?: string };
};

/** A PVC is Bound, optionally to a named volume and with a storage class. */
export async function evaluatePvcBound(check: PvcBoundCheck, env: CheckEnv): Promise<Verdict> {
  const claim = (await env.reads.get({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    name: check.name,
    namespace: check.namespace,
  })) as Claim | undefined;
  if (!claim) return fail(`PVC ${check.name} not found in ${check.namespace}`);
  const phase = claim.status?.phase ?? 'Pending';
  if (phase !== 'Bound') return fail(`PVC ${check.name} is ${phase}`);
  const problems: string[] = [];
  if (check.volumeName && claim.spec?.volumeName !== check.volumeName)
    problems.push(
      `PVC ${check.name} is bound to ${claim.spec?.volumeName ?? 'nothing'}, expected ${check.volumeName}`,
    );
  if (
    check.storageClassName !== undefined &&
    (claim.spec?.storageClassName ?? '') !== check.storageClassName
  )
    problems.push(
      `PVC ${check.name} has storage class "${claim.spec?.storageClassName ?? ''}", expected "${check.storageClassName}"`,
    );
  return problems.length ? fail(problems.join('\n')) : pass();
}
