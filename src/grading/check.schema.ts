import { z } from 'zod';

/**
 * The kind-specific fields of every check kind. The question schema checks
 * the fields all checks share (id, kind, points, description, requires…) and
 * lets the rest through; the linter and the grader parse each check again
 * with the schema of its kind, so a typo'd field is a lint error with its
 * position, never a surprise during an exam.
 *
 * `resourceKind` names the Kubernetes kind because `kind` is the check kind.
 */

const nonEmpty = z.string().min(1);

/** One named object (what `kubectl get <kind> <name> [-n ns]` addresses). */
export const objectRefSchema = z.strictObject({
  apiVersion: nonEmpty,
  resourceKind: nonEmpty,
  name: nonEmpty,
  namespace: nonEmpty.optional(),
});
export type CheckObjectRef = z.infer<typeof objectRefSchema>;

/** Objects of one kind selected by labels and fields (`kubectl get <kind> -l … --field-selector …`). */
const selectionFields = {
  apiVersion: nonEmpty,
  resourceKind: nonEmpty,
  namespace: nonEmpty.optional(),
  /** A label selector in kubectl syntax: `app=web,tier!=db,env in (a,b),!legacy`. */
  labelSelector: nonEmpty.optional(),
  /** Field equalities on the live objects: `status.phase=Running,spec.nodeName!=node01`. */
  fieldSelector: nonEmpty.optional(),
};
export const selectionSchema = z.strictObject(selectionFields);
export type CheckSelection = z.infer<typeof selectionSchema>;

/** Fields every check has; repeated here so each kind's schema is strict. */
const common = {
  id: z.string(),
  points: z.number().int().min(0).default(1),
  description: z.string(),
  feedback: z.string().optional(),
  hint: z.string().optional(),
  requires: z.array(z.string()).optional(),
  /** Seconds to keep polling runtime state before deciding; 0 means look once. */
  timeout: z.number().int().min(0).max(600).optional(),
};

const listsMode = z.enum(['subset', 'exact']).default('subset');

const resourceCheck = z.strictObject({
  ...common,
  kind: z.literal('resource'),
  ...objectRefSchema.shape,
  /** A partial object: maps partial, lists any-order subset unless `lists: exact`. */
  match: z.record(z.string(), z.unknown()).optional(),
  lists: listsMode,
});

const absentCheck = z
  .strictObject({
    ...common,
    kind: z.literal('absent'),
    ...selectionFields,
    name: nonEmpty.optional(),
  })
  .refine((c) => Boolean(c.name) !== Boolean(c.labelSelector || c.fieldSelector), {
    message:
      'an absent check names one object (name) or selects some (labelSelector/fieldSelector)',
  });

const countCheck = z
  .strictObject({
    ...common,
    kind: z.literal('count'),
    ...selectionFields,
    /** Each counted object must also match this partial object. */
    match: z.record(z.string(), z.unknown()).optional(),
    equals: z.number().int().min(0).optional(),
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(0).optional(),
  })
  .refine((c) => c.equals !== undefined || c.min !== undefined || c.max !== undefined, {
    message: 'a count check needs equals, min or max',
  });

/** An object (by name) or a list (by selector) bound to a CEL variable. */
const celBinding = z.union([objectRefSchema, selectionSchema.extend({ list: z.literal(true) })]);

const celVariables = z
  .array(
    z.strictObject({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), expression: nonEmpty }),
  )
  .default([]);

/** Identifiers an expression may not shadow. */
export const RESERVED_CEL_NAMES = ['vars', 'variables', 'answer'];

const exprCheck = z.strictObject({
  ...common,
  kind: z.literal('expr'),
  /** name → object or list; a missing object binds null. */
  objects: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), celBinding).default({}),
  variables: celVariables,
  expression: nonEmpty,
  message: z.string().optional(),
  messageExpression: z.string().optional(),
});

const subjectSchema = z
  .strictObject({
    user: nonEmpty.optional(),
    groups: z.array(nonEmpty).optional(),
    /** `namespace/name`; its groups (system:serviceaccounts[:ns]) are added. */
    serviceAccount: z
      .string()
      .regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, 'must be namespace/name')
      .optional(),
  })
  .refine((s) => Boolean(s.user) !== Boolean(s.serviceAccount), {
    message: 'as needs exactly one of user or serviceAccount (groups optional)',
  });

const canICheck = z.strictObject({
  ...common,
  kind: z.literal('canI'),
  as: subjectSchema,
  verb: nonEmpty,
  /** `pods`, `deployments.apps`, or with `group`. */
  resource: nonEmpty,
  group: z.string().optional(),
  subresource: nonEmpty.optional(),
  namespace: nonEmpty.optional(),
  name: nonEmpty.optional(),
  expect: z.enum(['allowed', 'denied']),
});

const rolloutCheck = z.strictObject({
  ...common,
  kind: z.literal('rollout'),
  ...objectRefSchema.shape,
});

const podReadyCheck = z
  .strictObject({
    ...common,
    kind: z.literal('podReady'),
    namespace: nonEmpty,
    name: nonEmpty.optional(),
    labelSelector: nonEmpty.optional(),
    /** At least this many selected pods must be Running and Ready (default: all, and at least 1). */
    min: z.number().int().min(1).optional(),
    maxRestarts: z.number().int().min(0).optional(),
  })
  .refine((c) => Boolean(c.name) !== Boolean(c.labelSelector), {
    message: 'a podReady check names one pod (name) or selects pods (labelSelector)',
  });

const endpointsCheck = z.strictObject({
  ...common,
  kind: z.literal('endpoints'),
  /** The Service's name. */
  name: nonEmpty,
  namespace: nonEmpty,
  min: z.number().int().min(1).default(1),
  /** When given, some ready endpoint must serve this port number. */
  port: z.number().int().min(1).max(65535).optional(),
});

const pvcBoundCheck = z.strictObject({
  ...common,
  kind: z.literal('pvcBound'),
  name: nonEmpty,
  namespace: nonEmpty,
  volumeName: nonEmpty.optional(),
  storageClassName: z.string().optional(),
});

const answerCheck = z
  .strictObject({
    ...common,
    kind: z.literal('answer'),
    equals: z.union([z.string(), z.number()]).optional(),
    pattern: nonEmpty.optional(),
    /** CEL computing the expected value from `objects` and `vars`. */
    expression: nonEmpty.optional(),
    objects: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), celBinding).default({}),
    variables: celVariables,
    /** Case-insensitive unless true; whitespace is always trimmed and collapsed. */
    caseSensitive: z.boolean().default(false),
  })
  .refine((c) => [c.equals !== undefined, c.pattern, c.expression].filter(Boolean).length === 1, {
    message: 'an answer check needs exactly one of equals, pattern or expression',
  });

const customCheck = z.strictObject({
  ...common,
  kind: z.literal('custom'),
  grader: z.string(),
  /** Handed to the grader as `context.params` (rendered like every string). */
  params: z.record(z.string(), z.unknown()).default({}),
});

/** A node of the question's cluster (dedicated environments only). */
const nodeName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a node name (controlplane, node01)');
const absolutePath = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path');

const fileCheck = z
  .strictObject({
    ...common,
    kind: z.literal('file'),
    node: nodeName,
    path: absolutePath,
    /** false: the file must not exist (the other expectations then make no sense). */
    exists: z.boolean().default(true),
    /** Octal permission bits, e.g. "600" or "0644". */
    mode: z
      .string()
      .regex(/^0?[0-7]{3,4}$/, 'must be octal permission bits like 600 or 0644')
      .optional(),
    /** User name (or uid) that owns it. */
    owner: nonEmpty.optional(),
    /** RE2 pattern the content must contain a match for (multi-line: ^ and $ match at lines). */
    contains: nonEmpty.optional(),
    /** The content parsed as YAML (or JSON) matched as a partial object, as `match` of a resource check. */
    match: z.record(z.string(), z.unknown()).optional(),
    lists: listsMode,
  })
  .refine((c) => c.exists || (c.mode ?? c.owner ?? c.contains ?? c.match) === undefined, {
    message: 'a file that must not exist has no mode, owner, contains or match',
  });

const commandCheck = z.strictObject({
  ...common,
  kind: z.literal('command'),
  node: nodeName,
  /** A bash script run as root on the node, for what no other kind covers. */
  command: nonEmpty,
  exitCode: z.number().int().min(0).max(255).default(0),
  /** RE2 pattern its standard output must contain a match for. */
  stdout: nonEmpty.optional(),
  /** Seconds the command may run (below the 60 s any one evaluation may take). */
  runTimeout: z.number().int().min(1).max(50).default(20),
});

const serviceCheck = z.strictObject({
  ...common,
  kind: z.literal('service'),
  node: nodeName,
  service: z.enum(['kubelet', 'containerd']),
  /** Running (true) or stopped (false). */
  active: z.boolean().default(true),
});

const etcdSnapshotCheck = z.strictObject({
  ...common,
  kind: z.literal('etcdSnapshot'),
  node: nodeName,
  path: absolutePath,
  /** At least this many keys (etcdutl snapshot status). */
  minKeys: z.number().int().min(1).default(1),
  /** A key the snapshot must hold, e.g. /registry/configmaps/app/settings. */
  containsKey: z
    .string()
    .regex(/^\/\S+$/, 'must be an etcd key such as /registry/…')
    .optional(),
});

const logsCheck = z
  .strictObject({
    ...common,
    kind: z.literal('logs'),
    namespace: nonEmpty,
    /** The pod, or pods selected by labels (one of them must match). */
    name: nonEmpty.optional(),
    labelSelector: nonEmpty.optional(),
    container: nonEmpty.optional(),
    /** RE2 pattern the log must contain a match for. */
    pattern: nonEmpty,
    /** The previous (crashed) container's log. */
    previous: z.boolean().default(false),
  })
  .refine((c) => Boolean(c.name) !== Boolean(c.labelSelector), {
    message: 'a logs check names one pod (name) or selects pods (labelSelector)',
  });

const connectivityCheck = z.strictObject({
  ...common,
  kind: z.literal('connectivity'),
  /** The pod the connection starts from: named, or the first Running pod selected. */
  from: z
    .strictObject({
      namespace: nonEmpty,
      name: nonEmpty.optional(),
      labelSelector: nonEmpty.optional(),
      /**
       * Default: the pod's first container. Its image needs BusyBox's nc (the
       * sandbox's busybox, nginx, redis and httpd images have it; upstream
       * nginx and redis do not).
       */
      container: nonEmpty.optional(),
    })
    .refine((f) => Boolean(f.name) !== Boolean(f.labelSelector), {
      message: 'from names one pod (name) or selects pods (labelSelector)',
    }),
  /** host:port of a TCP connection: a Service's DNS name, a pod's IP… */
  to: z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}$/, 'must be host:port'),
  /** true: the connection must open; false: it must be refused or go unanswered. */
  reachable: z.boolean().default(true),
  /** Seconds the connection may take to open. */
  connectTimeout: z.number().int().min(1).max(10).default(3),
});

/**
 * Kinds that need real nodes (a node host to run on, or pods whose
 * containers really run): only dedicated questions may use them.
 */
export const HOST_CHECK_KINDS = [
  'file',
  'command',
  'service',
  'etcdSnapshot',
  'connectivity',
] as const;

export const CHECK_SCHEMAS = {
  resource: resourceCheck,
  absent: absentCheck,
  count: countCheck,
  expr: exprCheck,
  canI: canICheck,
  rollout: rolloutCheck,
  podReady: podReadyCheck,
  endpoints: endpointsCheck,
  pvcBound: pvcBoundCheck,
  answer: answerCheck,
  custom: customCheck,
  file: fileCheck,
  command: commandCheck,
  service: serviceCheck,
  etcdSnapshot: etcdSnapshotCheck,
  logs: logsCheck,
  connectivity: connectivityCheck,
} as const;

export type ResourceCheck = z.infer<typeof resourceCheck>;
export type AbsentCheck = z.infer<typeof absentCheck>;
export type CountCheck = z.infer<typeof countCheck>;
export type ExprCheck = z.infer<typeof exprCheck>;
export type CanICheck = z.infer<typeof canICheck>;
export type RolloutCheck = z.infer<typeof rolloutCheck>;
export type PodReadyCheck = z.infer<typeof podReadyCheck>;
export type EndpointsCheck = z.infer<typeof endpointsCheck>;
export type PvcBoundCheck = z.infer<typeof pvcBoundCheck>;
export type AnswerCheck = z.infer<typeof answerCheck>;
export type CustomCheck = z.infer<typeof customCheck>;
export type FileCheck = z.infer<typeof fileCheck>;
export type CommandCheck = z.infer<typeof commandCheck>;
export type ServiceCheck = z.infer<typeof serviceCheck>;
export type EtcdSnapshotCheck = z.infer<typeof etcdSnapshotCheck>;
export type LogsCheck = z.infer<typeof logsCheck>;
export type ConnectivityCheck = z.infer<typeof connectivityCheck>;
export type Check =
  | ResourceCheck
  | AbsentCheck
  | CountCheck
  | ExprCheck
  | CanICheck
  | RolloutCheck
  | PodReadyCheck
  | EndpointsCheck
  | PvcBoundCheck
  | AnswerCheck
  | CustomCheck
  | FileCheck
  | CommandCheck
  | ServiceCheck
  | EtcdSnapshotCheck
  | LogsCheck
  | ConnectivityCheck;
export type CheckKindName = keyof typeof CHECK_SCHEMAS;

export type ParsedCheck = { ok: true; check: Check } | { ok: false; error: z.ZodError };

/** Parses a (rendered or raw) check with its kind's schema. */
export function parseCheck(raw: { kind: string } & Record<string, unknown>): ParsedCheck {
  const schema = CHECK_SCHEMAS[raw.kind as CheckKindName];
  if (!schema) {
    return {
      ok: false,
      error: new z.ZodError([
        {
          code: 'custom',
          path: ['kind'],
          message: `unknown check kind "${raw.kind}"`,
          input: raw.kind,
        },
      ]),
    };
  }
  const result = schema.safeParse(raw);
  return result.success
    ? { ok: true, check: result.data as Check }
    : { ok: false, error: result.error };
}
