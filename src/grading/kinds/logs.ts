import type { LogsCheck } from '../check.schema.js';
import { multiLineMatch } from '../safe-regex.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

type Pod = { metadata: { name: string } };

/** A container's log (of one named pod, or of any selected pod) contains a pattern. */
export async function evaluateLogs(check: LogsCheck, env: CheckEnv): Promise<Verdict> {
  const names = check.name
    ? [check.name]
    : (
        (await env.reads.list({
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: check.namespace,
          labelSelector: check.labelSelector,
        })) as unknown as Pod[]
      ).map((p) => p.metadata.name);
  if (!names.length) return fail(`no pods with ${check.labelSelector} in ${check.namespace}`);
  const why: string[] = [];
  for (const name of names.slice(0, 20)) {
    const read = await env.reads.podLog(check.namespace, name, {
      container: check.container,
      previous: check.previous,
    });
    if ('missing' in read) {
      why.push(`pod ${name}: ${read.missing}`);
      continue;
    }
    if (multiLineMatch(check.pattern, read.log)) return pass();
    why.push(
      `the ${check.previous ? 'previous ' : ''}log of pod ${name} has nothing matching /${check.pattern}/`,
    );
  }
  return fail(why.slice(0, 3).join('\n'));
}
