import type { ServiceCheck } from '../check.schema.js';
import { type CheckEnv, fail, pass, UndecidableError, type Verdict } from './verdict.js';

/** kubelet or containerd running (or stopped) on a node, as `systemctl is-active` tells. */
export async function evaluateService(check: ServiceCheck, env: CheckEnv): Promise<Verdict> {
  const result = await env.host(check.node)(`systemctl is-active ${check.service}`, 15_000);
  const state = result.stdout.trim().split('\n').at(-1) ?? '';
  if (!state)
    throw new UndecidableError(
      `systemctl on ${check.node} did not answer: ${result.stderr.trim()}`,
    );
  const active = state === 'active';
  if (active === check.active) return pass();
  return fail(
    `${check.service} on ${check.node} is ${state}, expected ${check.active ? 'active' : 'stopped'}`,
  );
}
