import type { ResourceCheck } from '../check.schema.js';
import { formatMismatch, matchObject } from '../match.js';
import { type CheckEnv, describeObject, fail, pass, type Verdict } from './verdict.js';

/** The object exists and matches a partial object; one line per differing path. */
export async function evaluateResource(check: ResourceCheck, env: CheckEnv): Promise<Verdict> {
  const object = await env.reads.get({
    apiVersion: check.apiVersion,
    kind: check.resourceKind,
    name: check.name,
    namespace: check.namespace,
  });
  const what = describeObject(check.resourceKind, check.name, check.namespace);
  if (!object) return fail(`${what} not found`);
  if (!check.match) return pass();
  const mismatches = matchObject(check.match, object, { lists: check.lists });
  if (!mismatches.length) return pass();
  return fail(
    mismatches.map((m) => `${check.resourceKind} ${check.name}: ${formatMismatch(m)}`).join('\n'),
  );
}
