import { checkCelSyntax } from './cel.js';
import { type Check, parseCheck, RESERVED_CEL_NAMES } from './check.schema.js';
import { validateMatchSpec } from './match.js';
import { patternProblem } from './safe-regex.js';
import { parseFieldSelector, SelectorError } from './selectors.js';

/** One problem with a check, located by its path inside the check. */
export interface CheckProblem {
  path: (string | number)[];
  /** An unknown key is located at the key itself. */
  key?: string;
  rule: 'check' | 'match' | 'cel' | 'kind' | 'selector' | 'pattern';
  message: string;
}

/**
 * Where the kinds everyone uses live; a check naming one of them under
 * another apiVersion would read nothing and fail every candidate.
 */
/** The apiVersions a kind is served as (space-separated when more than one). */
const WELL_KNOWN_KINDS: Record<string, string> = {
  Pod: 'v1',
  Service: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  ServiceAccount: 'v1',
  Namespace: 'v1',
  Node: 'v1',
  PersistentVolume: 'v1',
  PersistentVolumeClaim: 'v1',
  ResourceQuota: 'v1',
  LimitRange: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Ingress: 'networking.k8s.io/v1',
  IngressClass: 'networking.k8s.io/v1',
  StorageClass: 'storage.k8s.io/v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  // Served as both; v1 is what `kubectl autoscale` creates and many tasks name.
  HorizontalPodAutoscaler: 'autoscaling/v2 autoscaling/v1',
  PodDisruptionBudget: 'policy/v1',
  PriorityClass: 'scheduling.k8s.io/v1',
};

/**
 * Lints one rendered check: its kind's fields, match operators, CEL that
 * must compile over the names it can see, field selectors, and well-known
 * kinds under the right apiVersion.
 */
export function lintCheck(rendered: { kind: string } & Record<string, unknown>): CheckProblem[] {
  const parsed = parseCheck(rendered);
  if (!parsed.ok) {
    return parsed.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? {
            path: issue.path as (string | number)[],
            key: issue.keys[0],
            rule: 'check' as const,
            message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (kind ${rendered.kind})`,
          }
        : {
            path: issue.path as (string | number)[],
            rule: 'check' as const,
            message: `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${
              // zod says "expected string, received undefined" for a missing field.
              issue.message.endsWith('received undefined')
                ? `required for kind ${rendered.kind}`
                : issue.message
            }`,
          },
    );
  }
  const check = parsed.check;
  const problems: CheckProblem[] = [];
  if ('match' in check && check.match) {
    for (const line of validateMatchSpec(check.match))
      problems.push({ path: ['match'], rule: 'match', message: line });
  }
  if ('fieldSelector' in check && check.fieldSelector) {
    try {
      parseFieldSelector(check.fieldSelector);
    } catch (error) {
      if (!(error instanceof SelectorError)) throw error;
      problems.push({ path: ['fieldSelector'], rule: 'selector', message: error.message });
    }
  }
  const patterns: [string, string | undefined][] = [
    ['pattern', check.kind === 'answer' || check.kind === 'logs' ? check.pattern : undefined],
    ['contains', check.kind === 'file' ? check.contains : undefined],
    ['stdout', check.kind === 'command' ? check.stdout : undefined],
  ];
  for (const [field, pattern] of patterns) {
    const problem = pattern === undefined ? undefined : patternProblem(pattern);
    if (problem) problems.push({ path: [field], rule: 'pattern', message: problem });
  }
  problems.push(...kindProblems(check), ...celProblems(check));
  return problems;
}

/** String literals passed to CEL's matches(), which runs on RE2 (no backreferences or lookaround). */
const CEL_MATCHES_LITERAL = /\.matches\(\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)")\s*\)/g;

function celPatternProblems(path: (string | number)[], source: string): CheckProblem[] {
  const problems: CheckProblem[] = [];
  for (const match of source.matchAll(CEL_MATCHES_LITERAL)) {
    const pattern = (match[1] ?? match[2]).replace(/\\\\/g, '\\');
    const problem = patternProblem(pattern);
    if (problem)
      problems.push({ path, rule: 'pattern', message: `${path.join('.')}: matches(): ${problem}` });
  }
  return problems;
}

function kindProblems(check: Check): CheckProblem[] {
  const refs: { path: (string | number)[]; apiVersion: string; resourceKind: string }[] = [];
  if ('resourceKind' in check) refs.push({ path: ['apiVersion'], ...check });
  if ('objects' in check) {
    for (const [name, ref] of Object.entries(check.objects))
      refs.push({ path: ['objects', name, 'apiVersion'], ...ref });
  }
  const served = (kind: string) => WELL_KNOWN_KINDS[kind]?.split(' ') ?? [];
  return refs
    .filter(
      (ref) =>
        served(ref.resourceKind).length && !served(ref.resourceKind).includes(ref.apiVersion),
    )
    .map((ref) => ({
      path: ref.path,
      rule: 'kind' as const,
      message: `${ref.resourceKind} is served as ${served(ref.resourceKind).join(' or ')}, not ${ref.apiVersion}`,
    }));
}

function celProblems(check: Check): CheckProblem[] {
  if (check.kind !== 'expr' && check.kind !== 'answer') return [];
  const problems: CheckProblem[] = [];
  for (const name of Object.keys(check.objects)) {
    if (RESERVED_CEL_NAMES.includes(name))
      problems.push({
        path: ['objects', name],
        rule: 'cel',
        message: `"${name}" is a reserved name in expressions`,
      });
  }
  const known = [...Object.keys(check.objects), ...RESERVED_CEL_NAMES];
  const sources: [(string | number)[], string | undefined][] = [
    [['expression'], check.expression],
    ...(check.kind === 'expr'
      ? [
          [['messageExpression'], check.messageExpression] as [
            (string | number)[],
            string | undefined,
          ],
        ]
      : []),
    ...check.variables.map((v, i): [(string | number)[], string] => [
      ['variables', i, 'expression'],
      v.expression,
    ]),
  ];
  for (const [path, source] of sources) {
    if (source === undefined) continue;
    const problem = checkCelSyntax(source, known);
    if (problem) problems.push({ path, rule: 'cel', message: `${path.join('.')}: ${problem}` });
    problems.push(...celPatternProblems(path, source));
  }
  return problems;
}
