import { defineGrader, type LiveObject } from '../src/grading/grader-api.js';

/**
 * Every container of a workload's pod template (init containers included)
 * declares requests and limits for the given resources, optionally with
 * exact values. Defaults a LimitRange adds to the pods do not count: the
 * template itself is graded.
 *
 * params:
 *   apiVersion, kind   the workload (default apps/v1 Deployment; Pod,
 *                      StatefulSet, DaemonSet, Job, CronJob work too)
 *   name, namespace    which one
 *   resources          resource names to require (default [cpu, memory])
 *   requests, limits   optional exact values, e.g. { cpu: 100m, memory: 128Mi },
 *                      compared as quantities (0.5 = 500m, 1Gi = 1024Mi)
 *   initContainers     grade init containers too (default true)
 */

type Quantities = Record<string, string>;

interface Params {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  resources: string[];
  requests?: Quantities;
  limits?: Quantities;
  initContainers: boolean;
}

interface Container {
  name?: string;
  resources?: { requests?: Quantities; limits?: Quantities };
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
}

const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number, or undefined if it is not one. */
function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match =
    /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(
      value.trim(),
    );
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[2] !== undefined) return base * 10 ** Number(match[2]);
  return base * SUFFIXES[match[3] ?? ''];
}

function sameQuantity(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) return a === b;
  return Math.abs(x - y) <= Math.abs(y) * 1e-9;
}

function readParams(raw: Readonly<Record<string, unknown>>): Params {
  const text = (key: string, fallback?: string): string => {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'string' || !value) {
      // A question bug, not the candidate's: throwing makes the check `error`.
      throw new Error(`container-resources: params.${key} must be a non-empty string`);
    }
    return value;
  };
  const quantities = (key: string): Quantities | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new Error(`container-resources: params.${key} must map resource names to quantities`);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  };
  const resources = raw.resources ?? ['cpu', 'memory'];
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string'))
    throw new Error('container-resources: params.resources must be a list of resource names');
  return {
    apiVersion: text('apiVersion', 'apps/v1'),
    kind: text('kind', 'Deployment'),
    name: text('name'),
    namespace: text('namespace'),
    resources,
    requests: quantities('requests'),
    limits: quantities('limits'),
    initContainers: raw.initContainers !== false,
  };
}

interface WorkloadSpec extends PodSpec {
  template?: { spec?: PodSpec };
  jobTemplate?: { spec?: { template?: { spec?: PodSpec } } };
}

function podSpecOf(object: LiveObject): PodSpec | undefined {
  const spec = object.spec as WorkloadSpec | undefined;
  if (!spec) return undefined;
  if (object.kind === 'Pod') return spec;
  if (object.kind === 'CronJob') return spec.jobTemplate?.spec?.template?.spec;
  return spec.template?.spec;
}

/** What is wrong with one container, e.g. ["no limits.cpu", "requests.memory is 64Mi, expected 128Mi"]. */
function containerProblems(container: Container, params: Params): string[] {
  const problems: string[] = [];
  for (const section of ['requests', 'limits'] as const) {
    const declared = container.resources?.[section] ?? {};
    const expected = params[section] ?? {};
    const names = [...new Set([...params.resources, ...Object.keys(expected)])];
    const missing = names.filter((r) => declared[r] === undefined);
    if (missing.length) problems.push(`no ${missing.map((r) => `${section}.${r}`).join(', ')}`);
    for (const [resource, want] of Object.entries(expected)) {
      const got = declared[resource];
      if (got !== undefined && !sameQuantity(String(got), want))
        problems.push(`${section}.${resource} is ${got}, expected ${want}`);
    }
  }
  return problems;
}

export default defineGrader(async (ctx) => {
  const params = readParams(ctx.params);
  const where = `${params.kind} ${params.name} in ${params.namespace}`;
  const object = await ctx.get({
    apiVersion: params.apiVersion,
    kind: params.kind,
    name: params.name,
    namespace: params.namespace,
  });
  if (!object) return { passed: false, message: `${where} not found` };
  const podSpec = podSpecOf(object);
  if (!podSpec) return { passed: false, message: `${where} has no pod template` };

  const containers = [
    ...(params.initContainers ? (podSpec.initContainers ?? []) : []).map((c) => ({
      label: `init container ${c.name}`,
      container: c,
    })),
    ...(podSpec.containers ?? []).map((c) => ({ label: `container ${c.name}`, container: c })),
  ];
  const failures = containers
    .map(({ label, container }) => ({ label, problems: containerProblems(container, params) }))
    .filter((f) => f.problems.length);
  if (!failures.length) return { passed: true };
  const total = containers.length;
  return {
    passed: false,
    message:
      `${failures.length} of ${total} container${total === 1 ? '' : 's'} of ${where} ` +
      `fall short: ${failures.map((f) => `${f.label}: ${f.problems.join('; ')}`).join(' | ')}`,
  };
});
