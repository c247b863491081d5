import type { EndpointsCheck } from '../check.schema.js';
import type { LiveObject } from '../cluster-reads.js';
import { labelSelectorOf } from '../selectors.js';
import { type CheckEnv, fail, pass, type Verdict } from './verdict.js';

type Service = LiveObject & { spec?: { selector?: Record<string, string> } };
type EndpointSlice = LiveObject & {
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null } }[] | null;
  ports?: { port?: number | null; name?: string | null }[] | null;
};

/** A Service has at least `min` ready endpoints, read from its EndpointSlices. */
export async function evaluateEndpoints(check: EndpointsCheck, env: CheckEnv): Promise<Verdict> {
  const service = (await env.reads.get({
    apiVersion: 'v1',
    kind: 'Service',
    name: check.name,
    namespace: check.namespace,
  })) as Service | undefined;
  if (!service) return fail(`Service ${check.name} not found in ${check.namespace}`);
  const slices = (await env.reads.list({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    namespace: check.namespace,
    labelSelector: `kubernetes.io/service-name=${check.name}`,
  })) as EndpointSlice[];
  const ready = new Set<string>();
  for (const slice of slices) {
    if (check.port !== undefined && !(slice.ports ?? []).some((p) => p.port === check.port))
      continue;
    for (const endpoint of slice.endpoints ?? []) {
      // The API leaves `ready` unset when it is unknown; consumers treat that as ready.
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses ?? []) ready.add(address);
    }
  }
  if (ready.size >= check.min) return pass();
  return fail(`${describeService(check, ready.size)}${await selectorHint(service, check, env)}`);
}

function describeService(check: EndpointsCheck, ready: number): string {
  const port = check.port !== undefined ? ` on port ${check.port}` : '';
  return ready === 0
    ? `Service ${check.name} has no ready endpoints${port}`
    : `Service ${check.name} has ${ready} ready endpoint${ready === 1 ? '' : 's'}${port}, expected at least ${check.min}`;
}

/** What the selector matches: the usual cause of a Service without endpoints. */
async function selectorHint(
  service: Service,
  check: EndpointsCheck,
  env: CheckEnv,
): Promise<string> {
  const selector = labelSelectorOf(service.spec?.selector);
  if (!selector) return ' (it has no selector)';
  const pods = await env.reads.list({
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: check.namespace,
    labelSelector: selector,
  });
  return ` (selector ${selector} matches ${pods.length} pod${pods.length === 1 ? '' : 's'})`;
}
