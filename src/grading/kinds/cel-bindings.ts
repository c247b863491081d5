import type { ExprCheck } from '../check.schema.js';
import { CelError } from '../cel.js';
import { selectObjects } from './selection.js';
import { type CheckEnv, fail, UndecidableError, type Verdict } from './verdict.js';

type Bindings = ExprCheck['objects'];

/**
 * Reads every bound object (null when missing) or list for a CEL expression;
 * the question's variables come along as `vars`, never pasted into the source.
 */
export async function celBindings(
  objects: Bindings,
  env: CheckEnv,
): Promise<{ bindings: Record<string, unknown>; missing: string[] }> {
  const bindings: Record<string, unknown> = { vars: env.vars, answer: env.answer ?? '' };
  const missing: string[] = [];
  await Promise.all(
    Object.entries(objects).map(async ([name, ref]) => {
      if ('list' in ref) {
        bindings[name] = await selectObjects(ref, env);
        return;
      }
      const object = await env.reads.get({
        apiVersion: ref.apiVersion,
        kind: ref.resourceKind,
        name: ref.name,
        namespace: ref.namespace,
      });
      if (!object)
        missing.push(
          `${ref.resourceKind} ${ref.name}${ref.namespace ? ` in ${ref.namespace}` : ''} not found`,
        );
      bindings[name] = object ?? null;
    }),
  );
  return { bindings, missing };
}

/**
 * A CEL failure on live data: a field the candidate never set (or an object
 * that does not exist) is their failure, said plainly; anything else (a bad
 * expression, a type error) means the grader cannot decide.
 */
export function celFailure(error: unknown, missing: string[]): Verdict {
  if (!(error instanceof CelError)) throw error;
  if (error.kind === 'evaluate' && missing.length) return fail(missing.join('\n'));
  // A missing field or list element means the candidate's object lacks it.
  if (
    error.kind === 'evaluate' &&
    /no such key|no such field|not found|index out of bounds/i.test(error.message)
  )
    return fail(error.message);
  throw new UndecidableError(`CEL ${error.kind} error: ${error.message}`);
}
