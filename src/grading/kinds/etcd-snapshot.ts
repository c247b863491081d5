import type { EtcdSnapshotCheck } from '../check.schema.js';
import { shellQuote } from '../../common/shell-quote.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

/**
 * A file on a node that `etcdutl snapshot status` accepts as an etcd
 * snapshot, with at least `minKeys` keys, holding `containsKey` if given
 * (keys are stored as plain bytes in the snapshot's bbolt file).
 */
export async function evaluateEtcdSnapshot(
  check: EtcdSnapshotCheck,
  env: CheckEnv,
): Promise<Verdict> {
  const path = shellQuote(check.path);
  const where = `${check.path} on ${check.node}`;
  const host = env.host(check.node);
  const status = await host(
    `[ -f ${path} ] || { echo missing; exit 0; }; etcdutl snapshot status ${path} -w json 2>&1`,
    30_000,
  );
  const output = status.stdout.trim();
  if (output === 'missing') return fail(`${where} does not exist`);
  let parsed: { totalKey?: number; revision?: number };
  try {
    parsed = JSON.parse(output.split('\n').at(-1) ?? '') as typeof parsed;
  } catch {
    return fail(`${where} is not an etcd snapshot: ${output.split('\n').slice(-2).join(' | ')}`);
  }
  const keys = parsed.totalKey ?? 0;
  if (keys < check.minKeys)
    return fail(`${where} holds ${keys} keys, expected at least ${check.minKeys}`);
  if (check.containsKey !== undefined) {
    const found = await host(`grep -c -a -F -- ${shellQuote(check.containsKey)} ${path}`, 30_000);
    if (found.code !== 0) return fail(`${where} does not hold ${check.containsKey}`);
  }
  return pass();
}
