/**
 * Field selectors are evaluated on the listed objects rather than sent to
 * the API server: the server supports only a few fields per kind
 * (`status.phase` for pods, not `spec.nodeName` for Deployments…), and a
 * check should be able to select on any field the way `kubectl get -o
 * jsonpath` would see it.
 */
export interface FieldTerm {
  path: string[];
  op: '=' | '!=';
  value: string;
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

export function parseFieldSelector(selector: string): FieldTerm[] {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean)
    .map((term) => {
      const match = /^([A-Za-z0-9_.\-/]+?)\s*(!=|==|=)\s*(.*)$/.exec(term);
      if (!match)
        throw new SelectorError(`field selector term "${term}" is not path=value or path!=value`);
      return { path: match[1].split('.'), op: match[2] === '!=' ? '!=' : '=', value: match[3] };
    });
}

function valueAt(object: unknown, path: string[]): string {
  let current: unknown = object;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined || current === null) return '';
  return typeof current === 'object'
    ? JSON.stringify(current)
    : String(current as string | number | boolean);
}

export function matchesFields(object: unknown, terms: FieldTerm[]): boolean {
  return terms.every((term) => (valueAt(object, term.path) === term.value) === (term.op === '='));
}

/** `app=web,tier=db` from a Service's (or a matchLabels) selector map. */
export function labelSelectorOf(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** How a selection reads in a message: `Pods with app=web, status.phase=Running in ns`. */
export function describeSelection(selection: {
  resourceKind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}): string {
  const filters = [selection.labelSelector, selection.fieldSelector].filter(Boolean).join(', ');
  return `${selection.resourceKind}s${filters ? ` with ${filters}` : ''}${selection.namespace ? ` in ${selection.namespace}` : ''}`;
}
