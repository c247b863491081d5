import type { SetupStep, SetupWait } from '../sessions/session-question.entity.js';
import {
  KUBECTL_STEP_TIMEOUT,
  RUN_STEP_TIMEOUT,
  type QuestionSpec,
  type SetupStepSpec,
} from './question.schema.js';
import { renderDeep, renderString } from './templates.js';
import type { PathKey } from './yaml-source.js';

/** A setup step of a question and where it is written (for lint positions). */
export interface LocatedStep {
  step: SetupStepSpec;
  /** The step in the file: `setup` for a setup string, `setup[i]` for a step. */
  path: PathKey[];
  /** The apply template in the file: `setup` itself, or `setup[i].apply`. */
  applyPath?: PathKey[];
}

/**
 * A question's setup as ordered steps: a list as written, or the first
 * format's string and setupWaits as one apply step followed by its waits.
 */
export function setupStepsOf(spec: Pick<QuestionSpec, 'setup' | 'setupWaits'>): LocatedStep[] {
  if (Array.isArray(spec.setup))
    return spec.setup.map((step, i) => ({
      step,
      path: ['setup', i],
      applyPath: step.apply === undefined ? undefined : ['setup', i, 'apply'],
    }));
  return [
    ...(spec.setup.trim()
      ? [{ step: { apply: spec.setup }, path: ['setup'], applyPath: ['setup'] }]
      : []),
    ...spec.setupWaits.map((wait, i) => ({ step: { wait }, path: ['setupWaits', i] })),
  ];
}

/** The steps rendered for one candidate, as stored on the session and run by provisioning. */
export function renderSetupSteps(
  spec: Pick<QuestionSpec, 'setup' | 'setupWaits'>,
  vars: Record<string, unknown>,
): SetupStep[] {
  return setupStepsOf(spec).map(({ step }): SetupStep => {
    if (step.apply !== undefined) return { apply: String(renderString(step.apply, vars)) };
    if (step.wait) return { wait: renderDeep(step.wait, vars) };
    if (step.run !== undefined)
      return {
        run: String(renderString(step.run, vars)),
        on: step.on!,
        timeout: step.timeout ?? RUN_STEP_TIMEOUT,
      };
    return {
      // A whole-variable argument keeps its type when rendered; kubectl takes strings.
      kubectl: step.kubectl!.map((arg) => String(renderString(arg, vars))),
      timeout: step.timeout ?? KUBECTL_STEP_TIMEOUT,
    };
  });
}

/** The steps of a session question issued before steps were stored: its setup string, then its waits. */
export function legacySetupSteps(setup: string, waits: SetupWait[]): SetupStep[] {
  return [...(setup.trim() ? [{ apply: setup }] : []), ...waits.map((wait) => ({ wait }))];
}

/** Identity and target flags: a setup command runs as the engine, on the question's cluster. */
const REFUSED_FLAGS = new Map<string, string>([
  ...[
    'kubeconfig',
    'context',
    'cluster',
    'server',
    's',
    'tls-server-name',
    'certificate-authority',
    'insecure-skip-tls-verify',
  ].map((flag): [string, string] => [
    flag,
    'the command runs on the cluster the question names (cluster:); to set up another, make it a question of that cluster',
  ]),
  ...[
    'token',
    'as',
    'as-group',
    'as-uid',
    'user',
    'username',
    'password',
    'client-certificate',
    'client-key',
  ].map((flag): [string, string] => [
    flag,
    'setup commands run as the engine; to check what an identity may do, use a canI check',
  ]),
  ...['filename', 'f', 'kustomize', 'k', 'from-file', 'from-env-file'].map(
    (flag): [string, string] => [
      flag,
      "it reads files of the engine's host; write manifests in an apply step (they are labelled and linted)",
    ],
  ),
]);

/** Refused flags that take no value. */
const BOOLEAN_FLAGS = new Set(['insecure-skip-tls-verify']);

/** Global flags whose value is the next argument (so it is not read as the subcommand). */
const VALUE_FLAGS = new Set(['-n', '--namespace', '--request-timeout', '--cache-dir', '-v', '--v']);

/** What a setup command may do: change objects of the question's namespaces, and wait for them. */
const ALLOWED_SUBCOMMANDS = [
  'annotate',
  'autoscale',
  'create',
  'delete',
  'exec',
  'expose',
  'get',
  'label',
  'patch',
  'rollout',
  'run',
  'scale',
  'set',
  'wait',
];
/** More a dedicated question's setup may do: its cluster is the candidate's own. */
const DEDICATED_SUBCOMMANDS = ['certificate', 'cordon', 'drain', 'taint', 'uncordon'];
const NODE_RESOURCE = /^(no|nodes?)(\/|$)/;

/**
 * Why a setup kubectl command (its arguments, rendered) may not run, one
 * message per problem with the index of the argument it is about.
 */
export function kubectlStepProblems(
  args: string[],
  environment: 'any' | 'dedicated' = 'any',
): { arg: number; message: string }[] {
  const dedicated = environment === 'dedicated';
  const allowed = dedicated
    ? [...ALLOWED_SUBCOMMANDS, ...DEDICATED_SUBCOMMANDS].sort()
    : ALLOWED_SUBCOMMANDS;
  const problems: { arg: number; message: string }[] = [];
  const positional: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    // After `--` come the arguments of a command run in a container.
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(i);
      continue;
    }
    const name = flagName(arg);
    const reason = REFUSED_FLAGS.get(name);
    if (reason) {
      problems.push({
        arg: i,
        message: `kubectl ${arg.slice(0, arg.startsWith('--') ? arg.split('=')[0].length : 2)}: ${reason}`,
      });
      // `--as admin`, `-s https://…`: the value is the next argument.
      const inline = arg.includes('=') || (!arg.startsWith('--') && arg.length > 2);
      if (!inline && !BOOLEAN_FLAGS.has(name)) i++;
      continue;
    }
    if (VALUE_FLAGS.has(arg)) i++;
  }
  const [command, resource] = positional.map((i) => args[i]);
  if (command === undefined)
    problems.push({ arg: 0, message: 'kubectl needs a subcommand, e.g. [rollout, status, …]' });
  else if (command === 'apply' || command === 'replace')
    problems.push({
      arg: positional[0],
      message: `kubectl ${command}: write the manifests in an apply step instead (they are labelled and linted)`,
    });
  else if (!allowed.includes(command))
    problems.push({
      arg: positional[0],
      message: `kubectl ${command} is not a setup command (allowed: ${allowed.join(', ')})`,
    });
  else if (!dedicated && resource !== undefined && NODE_RESOURCE.test(resource))
    problems.push({
      arg: positional[1],
      message:
        'it changes a node, which every candidate of a shared cluster shares (tasks like this belong to dedicated environments)',
    });
  return problems;
}

/** `--as=x` → `as`, `-sX` → `s`, `-f` → `f`. */
function flagName(arg: string): string {
  if (arg.startsWith('--')) return arg.slice(2).split('=')[0];
  // pflag short flags: -n x, -nx, -n=x; only the letter names the flag.
  return arg.slice(1, 2);
}
