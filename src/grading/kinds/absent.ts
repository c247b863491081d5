import type { AbsentCheck } from '../check.schema.js';
import { describeSelection } from '../selectors.js';
import { namesOf, selectObjects } from './selection.js';
import { type CheckEnv, describeObject, fail, pass, type Verdict } from './verdict.js';

/** The named object, or every object the selection picks, is gone. */
export async function evaluateAbsent(check: AbsentCheck, env: CheckEnv): Promise<Verdict> {
  if (check.name) {
    const object = await env.reads.get({
      apiVersion: check.apiVersion,
      kind: check.resourceKind,
      name: check.name,
      namespace: check.namespace,
    });
    return object
      ? fail(`${describeObject(check.resourceKind, check.name, check.namespace)} still exists`)
      : pass();
  }
  const left = await selectObjects(check, env);
  if (!left.length) return pass();
  return fail(`${describeSelection(check)} still exist: ${namesOf(left)}`);
}
