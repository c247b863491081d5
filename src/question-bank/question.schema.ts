import { z } from 'zod';
import { CHECK_SCHEMAS, type CheckKindName } from '../grading/check.schema.js';

/** The CKA curriculum domains (v1.35) and their exam weights in percent. */
export const DOMAINS = {
  troubleshooting: 30,
  'cluster-architecture': 25,
  'services-networking': 20,
  'workloads-scheduling': 15,
  storage: 10,
} as const;
export type Domain = keyof typeof DOMAINS;
export const DOMAIN_IDS = Object.keys(DOMAINS) as [Domain, ...Domain[]];

/** Every check kind, one per schema in grading's CHECK_SCHEMAS (the one list). */
export const CHECK_KINDS = Object.keys(CHECK_SCHEMAS) as [CheckKindName, ...CheckKindName[]];
export type CheckKind = (typeof CHECK_KINDS)[number];

/** Generous enough for any CKA task, small enough that one candidate cannot starve the rest. */
export const DEFAULT_NAMESPACE_LIMITS = {
  quota: {
    pods: '30',
    services: '20',
    // Node ports are a range every candidate shares; load balancers need a cloud.
    'services.nodeports': '5',
    'services.loadbalancers': '0',
    persistentvolumeclaims: '10',
    'requests.cpu': '8',
    'requests.memory': '16Gi',
  },
  // Defaults let pods without requests pass the quota, as on a real exam cluster.
  defaultRequest: { cpu: '50m', memory: '64Mi' },
  defaultLimit: { cpu: '1', memory: '512Mi' },
};
export type NamespaceLimits = typeof DEFAULT_NAMESPACE_LIMITS;

/** What a question may let pods in its namespaces do beyond the shared-mode fence. */
export const POD_ALLOWANCES = ['control-plane'] as const;
export type PodAllowance = (typeof POD_ALLOWANCES)[number];

/** Cluster-scoped resources a question may grant, with their API groups. */
export const CLUSTER_RESOURCE_GROUPS = {
  persistentvolumes: '',
  storageclasses: 'storage.k8s.io',
  clusterroles: 'rbac.authorization.k8s.io',
  clusterrolebindings: 'rbac.authorization.k8s.io',
  priorityclasses: 'scheduling.k8s.io',
  ingressclasses: 'networking.k8s.io',
} as const;
export type ClusterResource = keyof typeof CLUSTER_RESOURCE_GROUPS;
export const GRANTABLE_CLUSTER_RESOURCES = Object.keys(CLUSTER_RESOURCE_GROUPS) as [
  ClusterResource,
  ...ClusterResource[],
];

/** Documentation a candidate may open during the real exam. */
export const ALLOWED_DOC_HOSTS = ['kubernetes.io', 'helm.sh', 'gateway-api.sigs.k8s.io'];

const slug = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be lower-case letters, digits and dashes (a DNS label)',
  );
const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** How a per-candidate variable is drawn. Exactly one generator per variable. */
export const variableSchema = z.union(
  [
    z.strictObject({
      namespace: slug.describe('logical namespace name; the session prefix is added'),
    }),
    z.strictObject({ oneOf: z.array(scalar).min(1) }),
    z.strictObject({ int: z.strictObject({ min: z.number().int(), max: z.number().int() }) }),
    z.strictObject({
      name: z.strictObject({ prefix: slug, length: z.number().int().min(3).max(12).default(5) }),
    }),
    z.strictObject({ value: scalar }),
  ],
  { error: 'a variable needs exactly one of: namespace, oneOf, int, name, value' },
);
export type VariableSpec = z.infer<typeof variableSchema>;

const checkSchema = z
  .object({
    id: slug,
    kind: z.enum(CHECK_KINDS),
    points: z.number().int().min(0).max(100).default(1),
    description: z.string().min(1),
    feedback: z.string().optional(),
    hint: z.string().optional(),
    requires: z.array(slug).optional(),
    timeout: z.number().int().min(1).max(600).optional(),
    /** custom checks: the grader module's name in graders/ (without .ts). */
    grader: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .optional(),
  })
  // Kind-specific fields (object refs, expressions, expectations) are checked by
  // the grading module's per-kind schemas.
  .passthrough();
export type CheckSpec = z.infer<typeof checkSchema>;

/** A node's name in a dedicated cluster (controlplane, node01): a DNS label. */
const nodeName = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be a node name: lower-case letters, digits and dashes',
  );

/** A bounded wait until an object has a status condition True (a Deployment Available, a Job Complete). */
const setupWaitSchema = z.strictObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
  /** A status condition type that must be True. */
  condition: z.string().min(1),
  timeout: z.number().int().min(1).max(600).default(60),
});

/** The kinds of setup step, in the order lint names them. */
export const SETUP_STEP_KINDS = ['apply', 'wait', 'kubectl', 'run'] as const;
/** Seconds a kubectl setup step may run unless it says otherwise. */
export const KUBECTL_STEP_TIMEOUT = 60;
/** Seconds a run step (a script on a node) may take unless it says otherwise. */
export const RUN_STEP_TIMEOUT = 60;

/**
 * One step of an ordered setup: manifests to apply, a condition to wait for,
 * or a kubectl command run as the engine. Exactly one of them per step.
 */
const setupStepSchema = z
  .strictObject({
    apply: z.string().min(1).optional(),
    wait: setupWaitSchema.optional(),
    kubectl: z.array(z.string().min(1)).min(1).optional(),
    /**
     * A shell script run as root on a node host (`on`): break a kubelet,
     * edit a static pod's manifest, leave a file. Dedicated questions only.
     */
    run: z.string().min(1).optional(),
    /** The node `run` runs on. */
    on: nodeName.optional(),
    /** Seconds the kubectl command or script may run. */
    timeout: z.number().int().min(1).max(600).optional(),
  })
  .superRefine((step, ctx) => {
    const kinds = SETUP_STEP_KINDS.filter((kind) => step[kind] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: kinds.length
          ? `a step does one thing: ${kinds.join(' and ')} here; make each a step of its own`
          : 'a step needs one of: apply (manifests), wait (a condition), kubectl (a command), run (a script on a node: run + on)',
      });
    if (step.timeout !== undefined && step.kubectl === undefined && step.run === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['timeout'],
        message: step.wait
          ? 'a wait step takes its timeout inside wait: (wait: { …, timeout: 60 })'
          : 'timeout belongs to a kubectl or run step',
      });
    if (step.run !== undefined && step.on === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['on'],
        message: 'a run step names the node it runs on (on: node01)',
      });
    if (step.on !== undefined && step.run === undefined)
      ctx.addIssue({ code: 'custom', path: ['on'], message: 'on belongs to a run step' });
  });
export type SetupStepSpec = z.infer<typeof setupStepSchema>;

/** A file shipped into the candidate's terminal home (see question-files.ts for what lint checks). */
const questionFileSchema = z.strictObject({
  /** Relative to the home: app/base/kustomization.yaml is ~/app/base/kustomization.yaml. */
  path: z.string().min(1).max(200),
  /** A template over the question's variables, unless verbatim. */
  content: z.string(),
  /** Shipped as written, not rendered: Helm charts and Go templates use {{ }} themselves. */
  verbatim: z.boolean().default(false),
  /** Mode 0755 instead of 0644. */
  executable: z.boolean().default(false),
});
export type QuestionFileSpec = z.infer<typeof questionFileSchema>;

/** Shell commands run as the candidate; `answer: <text>` submits the text instead (solution.ts). */
const commandsSchema = z.array(z.string().min(1), {
  error: 'commands is a list of shell commands (or "answer: <text>") that bank:test runs',
});
/** How bank:test names an entry in its table: solutions[name], mistakes[name]. */
const entryName = z
  .string({
    error: 'each entry needs a name (bank:test reports it as solutions[name] or mistakes[name])',
  })
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be lower-case letters, digits and dashes');

/**
 * Another correct way to solve the task: bank:test runs it in a candidate of
 * its own and requires full marks. Never shown to candidates (only `solution` is).
 */
const alternativeSolutionSchema = z.strictObject({
  name: entryName,
  commands: commandsSchema,
  explanation: z.string().min(1).optional(),
});
export type AlternativeSolutionSpec = z.infer<typeof alternativeSolutionSchema>;

/**
 * A typical wrong solution: bank:test runs it in a candidate of its own and
 * requires at most `maxPoints`, which lint keeps below the weight, so the
 * question proves that the mistake is graded down. Never shown to candidates.
 */
const mistakeSchema = z.strictObject({
  name: entryName,
  commands: commandsSchema,
  maxPoints: z
    .number({ error: 'a mistake needs maxPoints: the most points it may score, below the weight' })
    .int()
    .min(0),
  /** What is wrong with it, for the question's reviewers. */
  why: z.string().min(1).optional(),
});
export type MistakeSpec = z.infer<typeof mistakeSchema>;

export const questionSchema = z
  .strictObject({
    id: slug,
    title: z.string().min(1).max(200),
    domain: z.enum(DOMAIN_IDS),
    weight: z.number().int().min(1).max(100),
    cluster: slug.default('main'),
    /**
     * `dedicated`: the task needs clusters of the candidate's own (node hosts,
     * cluster-wide state such as nodes, CRDs or admission): only dedicated
     * exams may use it. `any` (the default) works in both environments.
     */
    environment: z.enum(['any', 'dedicated']).default('any'),
    /** The node the task is done on (the candidate is told to `ssh` there); dedicated only. */
    host: nodeName.optional(),
    vars: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier'), variableSchema)
      .default({}),
    /** Manifests applied before the exam starts, or ordered steps (apply, wait, kubectl). */
    setup: z
      .union([z.string(), z.array(setupStepSchema).min(1)], {
        error: 'setup is a string of manifests or a list of steps (apply, wait, kubectl)',
      })
      .default(''),
    task: z.string().min(1),
    checks: z.array(checkSchema).min(1),
    solution: z.strictObject({
      explanation: z.string().min(1),
      commands: z.array(z.string().min(1)).min(1),
    }),
    /** More correct solutions, each proven by bank:test to score full marks. */
    solutions: z.array(alternativeSolutionSchema).default([]),
    /** Typical wrong solutions, each proven by bank:test to score at most its maxPoints. */
    mistakes: z.array(mistakeSchema).default([]),
    docs: z.array(z.string().url()).default([]),
    /** Points a freshly set-up (unsolved) task scores; bank:test checks it. */
    baseline: z.number().int().min(0).default(0),
    /**
     * Cluster-scoped kinds the task needs the candidate to manage; granted for
     * objects named `<session prefix>-…` only (an admission policy checks names).
     */
    clusterResources: z.array(z.enum(GRANTABLE_CLUSTER_RESOURCES)).default([]),
    /**
     * What the task needs pods in its namespaces to do that the shared-mode
     * fence otherwise refuses: `control-plane` lets them tolerate the
     * control-plane taint and be placed on a control-plane node.
     */
    allow: z.array(z.enum(POD_ALLOWANCES)).default([]),
    /** Bounded waits after a setup string is applied (a list of steps has wait steps instead). */
    setupWaits: z.array(setupWaitSchema).default([]),
    /** Files that appear in the candidate's terminal home (manifests, a kustomization, a chart). */
    files: z.array(questionFileSchema).max(64).default([]),
  })
  .superRefine((question, ctx) => {
    if (question.host !== undefined && question.environment !== 'dedicated')
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message:
          'a task done on a node host needs environment: dedicated (shared clusters have no hosts)',
      });
  });
export type QuestionSpec = z.infer<typeof questionSchema>;

export const examSchema = z
  .strictObject({
    id: slug,
    title: z.string().min(1).max(200),
    description: z.string().default(''),
    /** Whole minutes for real exams; fractions allowed (0.1 = 6 s) for tests and drills. */
    durationMinutes: z.number().positive().max(600),
    passPercent: z.number().int().min(1).max(100).default(66),
    /** Open exams can be started without an invitation. */
    open: z.boolean().default(false),
    /** ResourceQuota and LimitRange of every candidate namespace. */
    namespaceLimits: z
      .strictObject({
        quota: z.record(z.string(), z.string()).default(DEFAULT_NAMESPACE_LIMITS.quota),
        defaultRequest: z
          .record(z.string(), z.string())
          .default(DEFAULT_NAMESPACE_LIMITS.defaultRequest),
        defaultLimit: z
          .record(z.string(), z.string())
          .default(DEFAULT_NAMESPACE_LIMITS.defaultLimit),
      })
      .default(DEFAULT_NAMESPACE_LIMITS),
    /**
     * `shared` (the default): each candidate gets namespaces on a cluster the
     * operator names. `dedicated`: whole clusters of their own, as `clusters` says.
     */
    environment: z.enum(['shared', 'dedicated']).default('shared'),
    /** A dedicated exam's clusters: each an alias questions name, and its nodes (the first is the control plane). */
    clusters: z
      .array(
        z.strictObject({
          alias: slug,
          nodes: z.array(nodeName).min(1).max(3),
        }),
      )
      .min(1)
      .max(4)
      .optional(),
    questions: z.array(slug).min(1).optional(),
    draw: z
      .strictObject({
        count: z.number().int().min(1).max(100),
        weights: z.partialRecord(z.enum(DOMAIN_IDS), z.number().min(0)).default(DOMAINS),
      })
      .optional(),
  })
  .refine((exam) => (exam.questions ? 1 : 0) + (exam.draw ? 1 : 0) === 1, {
    message: 'an exam has either a questions list or a draw, not both and not neither',
  })
  .superRefine((exam, ctx) => {
    if (exam.environment === 'dedicated' && !exam.clusters)
      ctx.addIssue({
        code: 'custom',
        path: ['environment'],
        message:
          'a dedicated exam lists its clusters (clusters: [{ alias: k8s-c1, nodes: [controlplane, node01] }])',
      });
    if (exam.environment === 'shared' && exam.clusters)
      ctx.addIssue({
        code: 'custom',
        path: ['clusters'],
        message:
          'clusters belong to a dedicated exam (environment: dedicated); a shared exam uses the clusters the operator configured',
      });
    const aliases = new Set<string>();
    exam.clusters?.forEach((cluster, i) => {
      if (aliases.has(cluster.alias))
        ctx.addIssue({
          code: 'custom',
          path: ['clusters', i, 'alias'],
          message: `cluster alias "${cluster.alias}" is listed twice`,
        });
      aliases.add(cluster.alias);
      const nodes = new Set<string>();
      cluster.nodes.forEach((node, j) => {
        if (nodes.has(node))
          ctx.addIssue({
            code: 'custom',
            path: ['clusters', i, 'nodes', j],
            message: `node "${node}" is listed twice in ${cluster.alias}`,
          });
        nodes.add(node);
      });
    });
  });
export type ExamSpec = z.infer<typeof examSchema>;
