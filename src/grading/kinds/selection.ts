import type { CheckSelection } from '../check.schema.js';
import type { LiveObject } from '../cluster-reads.js';
import { matchObject } from '../match.js';
import { matchesFields, parseFieldSelector, SelectorError } from '../selectors.js';
import { type CheckEnv, UndecidableError } from './verdict.js';

/** The objects a selection picks: labels by the API server, fields and `match` here. */
export async function selectObjects(
  selection: CheckSelection,
  env: CheckEnv,
  match?: Record<string, unknown>,
): Promise<readonly LiveObject[]> {
  let terms;
  try {
    terms = selection.fieldSelector ? parseFieldSelector(selection.fieldSelector) : [];
  } catch (error) {
    if (error instanceof SelectorError) throw new UndecidableError(error.message);
    throw error;
  }
  const items = await env.reads.list({
    apiVersion: selection.apiVersion,
    kind: selection.resourceKind,
    namespace: selection.namespace,
    labelSelector: selection.labelSelector,
  });
  return items.filter(
    (item) => matchesFields(item, terms) && (!match || matchObject(match, item).length === 0),
  );
}

/**
 * The pod a check names, or the pods it selects by labels (podReady,
 * connectivity); a string says why there are none.
 */
export async function namedOrSelectedPods<P extends LiveObject>(
  env: CheckEnv,
  where: { namespace: string; name?: string; labelSelector?: string },
): Promise<P[] | string> {
  if (where.name) {
    const pod = (await env.reads.get({
      apiVersion: 'v1',
      kind: 'Pod',
      name: where.name,
      namespace: where.namespace,
    })) as P | undefined;
    return pod ? [pod] : `Pod ${where.name} not found in ${where.namespace}`;
  }
  const pods = (await env.reads.list({
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: where.namespace,
    labelSelector: where.labelSelector,
  })) as P[];
  return pods.length ? pods : `no pods with ${where.labelSelector} in ${where.namespace}`;
}

export function namesOf(objects: readonly LiveObject[], max = 5): string {
  const names = objects.map((o) => o.metadata?.name ?? '?');
  return names.length > max
    ? `${names.slice(0, max).join(', ')}, … (${names.length})`
    : names.join(', ');
}
