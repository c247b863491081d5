import { CLUSTER_RESOURCE_GROUPS, type ClusterResource } from '../question-bank/question.schema.js';
import { SESSION_PREFIX_PATTERN } from '../sessions/issued-questions.js';

/**
 * The admission policies that fence candidates on a shared cluster. RBAC says
 * which kinds a candidate may touch; these say which objects and what content,
 * for every identity a candidate can act as. Built as plain objects here (no
 * cluster access), applied by ProvisioningService, proven by the security suite
 * (test/e2e/security.e2e-spec.ts).
 */

export const SESSION_LABEL = 'cka.engine/session';
/** Set on a session's namespaces at the end: nothing acting for the session may change them. */
export const FROZEN_LABEL = 'cka.engine/frozen';
/** On a namespace whose questions allow pods on the control plane (`allow: [control-plane]`). */
export const ALLOW_CONTROL_PLANE_LABEL = 'cka.engine/allow-control-plane';
/** Pod Security Standard enforced on every candidate namespace, pinned to a version. */
export const POD_SECURITY = { level: 'baseline', version: 'v1.36' } as const;
/** The highest PriorityClass value a candidate may create (system classes are 2,000,000,000 and up). */
export const MAX_CANDIDATE_PRIORITY = 1_000_000;

const ADMISSION = 'admissionregistration.k8s.io/v1';
const CONTROL_PLANE_TAINTS = [
  'node-role.kubernetes.io/control-plane',
  'node-role.kubernetes.io/master',
];

/** A CEL string literal (single-quoted). */
export function celString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const celList = (values: string[]) => `[${values.map(celString).join(', ')}]`;

/** CEL true when a ClusterRole name is one a session made (`<any prefix>-…`). */
const sessionMadeRole = (name: string) =>
  `${name}.matches(${celString(`^${SESSION_PREFIX_PATTERN}-`)})`;

/**
 * What a candidate may put in a ClusterRole they make: the verbs the built-in
 * `admin` role holds on each resource in a namespace, keyed `group/resource`
 * (core group ''), read from the cluster at provisioning. A candidate-made
 * ClusterRole is usable only through RoleBindings in the session's own
 * namespaces (a ClusterRoleBinding to one is refused), so bounding its rules by
 * `admin` bounds what it can ever grant by what the candidate already has.
 */
export type RoleAllowance = Record<string, string[]>;

/** Verbs that are never granted through a candidate-made role, whatever `admin` holds. */
const PRIVILEGE_VERBS = new Set(['bind', 'escalate', 'impersonate', '*']);

/** The allowance from the rules of the cluster's `admin` ClusterRole (aggregated). */
export function roleAllowanceOf(
  adminRules: { apiGroups?: string[]; resources?: string[]; verbs: string[] }[],
): RoleAllowance {
  const allowance: Record<string, Set<string>> = {};
  for (const rule of adminRules) {
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? []) {
        if (group === '*' || resource === '*') continue;
        const verbs = (allowance[`${group}/${resource}`] ??= new Set());
        for (const verb of rule.verbs) if (!PRIVILEGE_VERBS.has(verb)) verbs.add(verb);
      }
  }
  return Object.fromEntries(
    Object.entries(allowance)
      .filter(([, verbs]) => verbs.size)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, verbs]) => [key, [...verbs].sort()]),
  );
}

const celMap = (map: RoleAllowance) =>
  `{${Object.entries(map)
    .map(([key, verbs]) => `${celString(key)}: ${celList(verbs)}`)
    .join(', ')}}`;

/** What one session's identities are: its candidate ServiceAccount and every ServiceAccount of its namespaces. */
export interface SessionIdentity {
  prefix: string;
  namespaces: string[];
  engineNamespace: string;
  candidateServiceAccount: string;
}

/**
 * CEL true when the request comes from anyone acting for the session: the
 * candidate's own ServiceAccount, or any ServiceAccount of the session's
 * namespaces (the candidate can mint tokens for them, impersonate them, or run
 * pods as them), so going through one of those changes nothing.
 */
export function actsForSession(id: SessionIdentity): string {
  const user = 'request.userInfo.username';
  const candidate = `system:serviceaccount:${id.engineNamespace}:${id.candidateServiceAccount}`;
  return [
    `${user} == ${celString(candidate)}`,
    ...id.namespaces.map(
      (ns) => `${user}.startsWith(${celString(`system:serviceaccount:${ns}:`)})`,
    ),
  ].join(' || ');
}

interface Validation {
  expression: string;
  message: string;
  reason?: 'Forbidden' | 'Invalid';
}

/** Validations for the content of each grantable kind; each applies only to its own resource. */
function contentValidations(
  id: SessionIdentity,
  resources: ClusterResource[],
  grantRole: string,
  hostPathRoots: string[],
): Validation[] {
  const onlyFor = (resource: ClusterResource, rule: string) =>
    `request.operation == 'DELETE' || request.resource.resource != '${resource}' || (${rule})`;
  const namespaces = celList(id.namespaces);
  const rules: Partial<Record<ClusterResource, Validation[]>> = {
    persistentvolumes: [
      {
        // The API server allows one volume source per PersistentVolume, so
        // requiring hostPath refuses every other (nfs, csi, local, …).
        expression: onlyFor('persistentvolumes', 'has(object.spec.hostPath)'),
        message: 'a PersistentVolume here may only use a hostPath volume (no other volume source)',
      },
      {
        // One directory of the session's own right under a root: not another
        // session's (`/srv/<their prefix>-…`), and no deeper path, which a
        // symlink planted from a pod in the parent could send anywhere.
        expression: onlyFor(
          'persistentvolumes',
          `!has(object.spec.hostPath) || (!object.spec.hostPath.path.contains('..') && object.spec.hostPath.path.matches(${celString(
            `^(${hostPathRoots.map(escapeRegex).join('|')})/${escapeRegex(id.prefix)}-[A-Za-z0-9._-]+$`,
          )}))`,
        ),
        message: `a hostPath PersistentVolume must be a directory ${hostPathRoots.map((r) => `${r}/${id.prefix}-…`).join(' or ')} (one level, no "..")`,
      },
      {
        // Unreserved, with no class of its own, it could be bound to another
        // candidate's claim and capture what they write.
        expression: onlyFor(
          'persistentvolumes',
          `has(object.spec.claimRef) ? (has(object.spec.claimRef.namespace) && object.spec.claimRef.namespace in ${namespaces}) : ` +
            `(has(object.spec.storageClassName) && object.spec.storageClassName.startsWith(${celString(`${id.prefix}-`)}))`,
        ),
        message: `a PersistentVolume must be reserved (claimRef) for a claim in your namespaces (${id.namespaces.join(', ')}) or have a storage class named ${id.prefix}-…`,
      },
    ],
    storageclasses: [
      {
        expression: onlyFor(
          'storageclasses',
          `!has(object.metadata.annotations) || !object.metadata.annotations.exists(k, k.endsWith('is-default-class'))`,
        ),
        message:
          'the default StorageClass is cluster-wide state shared by every candidate; it cannot be set in this environment',
      },
    ],
    ingressclasses: [
      {
        expression: onlyFor(
          'ingressclasses',
          `!has(object.metadata.annotations) || !object.metadata.annotations.exists(k, k.endsWith('is-default-class'))`,
        ),
        message:
          'the default IngressClass is cluster-wide state shared by every candidate; it cannot be set in this environment',
      },
    ],
    priorityclasses: [
      {
        expression: onlyFor(
          'priorityclasses',
          `!(has(object.globalDefault) && object.globalDefault) && object.value <= ${MAX_CANDIDATE_PRIORITY}`,
        ),
        message: `a PriorityClass here may not be the global default, and its value is at most ${MAX_CANDIDATE_PRIORITY}`,
      },
    ],
    clusterroles: [
      {
        expression: onlyFor(
          'clusterroles',
          `!has(object.aggregationRule) && (!has(object.metadata.labels) || !object.metadata.labels.exists(k, k.startsWith('rbac.authorization.k8s.io/aggregate-to-')))`,
        ),
        message:
          'aggregated ClusterRoles (aggregationRule, aggregate-to-* labels) change the built-in roles of every candidate; not allowed here',
      },
      {
        // The candidate holds escalate on ClusterRoles (RBAC would otherwise
        // ask them to hold the rules cluster-wide, and the classic "ClusterRole
        // for Deployments, bound in one namespace" task could not be solved).
        // So the content is bounded here instead, on every create and update:
        // explicit groups and resources, each with verbs admin holds on it.
        expression: onlyFor(
          'clusterroles',
          `!has(object.rules) || object.rules.all(r, (!has(r.nonResourceURLs) || size(r.nonResourceURLs) == 0) && ` +
            `(!has(r.apiGroups) || !has(r.resources) || r.apiGroups.all(g, r.resources.all(res, ` +
            `(g + '/' + res) in variables.roleAllowance && r.verbs.all(v, v in variables.roleAllowance[g + '/' + res])))))`,
        ),
        message:
          'a ClusterRole here may hold only what the built-in admin role holds inside a namespace: API groups and resources named (no *), no nonResourceURLs, no bind, escalate or impersonate, and no writes to namespaces, resource quotas, limit ranges or endpoints; it can be bound in your namespaces with a RoleBinding',
      },
    ],
    clusterrolebindings: [
      {
        expression: onlyFor(
          'clusterrolebindings',
          `object.roleRef.name != ${celString(grantRole)} && !${sessionMadeRole('object.roleRef.name')} && (!has(object.subjects) || object.subjects.all(s, ` +
            `(s.kind == 'ServiceAccount' && has(s.namespace) && (s.namespace in ${namespaces} || (s.namespace == ${celString(id.engineNamespace)} && s.name == ${celString(id.candidateServiceAccount)}))) || ` +
            `(s.kind != 'ServiceAccount' && !s.name.startsWith('system:'))))`,
        ),
        message: `a ClusterRoleBinding here may bind ServiceAccounts of your namespaces (${id.namespaces.join(', ')}) and users or groups not named system:*, never the engine's grant role nor a ClusterRole made in a session (bind those in your namespaces with a RoleBinding; cluster-wide bindings of your own roles need a dedicated environment)`,
      },
    ],
  };
  return resources.flatMap((resource) => rules[resource] ?? []);
}

/**
 * The session's policy on cluster-scoped kinds: objects named `<prefix>-…`
 * only, with content that cannot reach other candidates or the nodes,
 * whoever among the session's identities asks. `ended` turns it into a
 * refusal of everything (the freeze at the end).
 */
export function sessionClusterPolicy(
  id: SessionIdentity,
  resources: ClusterResource[],
  options: {
    name: string;
    grantRole: string;
    hostPathRoots: string[];
    /** Needed where the session may make ClusterRoles (not for the ended policy). */
    roleAllowance?: RoleAllowance;
    ended?: boolean;
  },
): object[] {
  const bindsRoles = !options.ended && resources.includes('clusterroles');
  if (bindsRoles && !options.roleAllowance)
    throw new Error('a session that may make ClusterRoles needs the role allowance');
  const groups = [...new Set(resources.map((r) => CLUSTER_RESOURCE_GROUPS[r]))];
  const validations: Validation[] = options.ended
    ? [
        {
          expression: 'false',
          message: 'the session has ended: its cluster-wide objects are frozen',
        },
      ]
    : [
        {
          expression: `(request.operation == 'DELETE' ? oldObject.metadata.name : object.metadata.name).startsWith('${id.prefix}-')`,
          message: `names of cluster-wide objects must start with ${id.prefix}- (your session prefix)`,
        },
        ...contentValidations(id, resources, options.grantRole, options.hostPathRoots),
      ];
  return [
    {
      apiVersion: ADMISSION,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: options.name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: groups,
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE', 'DELETE'],
              resources,
            },
          ],
        },
        matchConditions: [{ name: 'acts-for-session', expression: actsForSession(id) }],
        variables: bindsRoles
          ? [{ name: 'roleAllowance', expression: celMap(options.roleAllowance!) }]
          : [],
        validations: validations.map((v) => ({ reason: 'Forbidden', ...v })),
      },
    },
    {
      apiVersion: ADMISSION,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: options.name },
      spec: { policyName: options.name, validationActions: ['Deny'] },
    },
  ];
}

/**
 * Cluster-wide policies shared by every session on a cluster (re-applied at
 * each provisioning, so they follow the engine's version and the current
 * control-plane nodes):
 * - `cka-engine-pods`, `-services`, `-rolebindings`: in candidate namespaces, for everyone (a
 *   Deployment's pods are created by a controller, not the candidate): no
 *   system PriorityClass, no pod bound to or tolerating the control plane, no
 *   Service externalIPs (the CVE-2020-8554 class), no RoleBinding that lets
 *   another session's identity in (collusion). Pod Security `baseline` on the
 *   namespace refuses privileged pods, host namespaces and hostPath.
 * - `cka-engine-freeze`: in namespaces labelled frozen, no ServiceAccount
 *   outside kube-system (the controllers) and other than the engine's own may
 *   create, change or delete anything: a session's work is fixed at its end,
 *   whatever tokens or workloads the candidate left behind.
 */
/** The shared policies on what is created inside candidate namespaces, one per kind. */
export const WORKLOAD_POLICIES = {
  pods: 'cka-engine-pods',
  services: 'cka-engine-services',
  roleBindings: 'cka-engine-rolebindings',
} as const;

export function sharedPolicies(options: {
  engineUser: string;
  engineNamespace: string;
  controlPlaneNodes: string[];
}): object[] {
  const freeze = 'cka-engine-freeze';
  const user = 'request.userInfo.username';
  const inSessionNamespaces = (
    name: string,
    group: string,
    resource: string,
    validations: Validation[],
    variables: { name: string; expression: string }[] = [],
  ): object[] => [
    {
      apiVersion: ADMISSION,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector: { matchExpressions: [{ key: SESSION_LABEL, operator: 'Exists' }] },
          resourceRules: [
            {
              apiGroups: [group],
              apiVersions: ['v1'],
              operations: ['CREATE', 'UPDATE'],
              resources: [resource],
            },
          ],
        },
        variables,
        validations: validations.map((v) => ({ reason: 'Forbidden', ...v })),
      },
    },
    {
      apiVersion: ADMISSION,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: { policyName: name, validationActions: ['Deny'] },
    },
  ];
  return [
    ...inSessionNamespaces(
      WORKLOAD_POLICIES.pods,
      '',
      'pods',
      [
        {
          expression: `!has(object.spec.priorityClassName) || !object.spec.priorityClassName.startsWith('system-')`,
          message:
            'system PriorityClasses (system-node-critical, system-cluster-critical) are reserved for the cluster',
        },
        {
          expression: `variables.controlPlaneAllowed || !has(object.spec.nodeName) || !(object.spec.nodeName in ${celList(options.controlPlaneNodes)})`,
          message: 'pods may not be placed on a control-plane node in this environment',
        },
        {
          expression:
            `variables.controlPlaneAllowed || !has(object.spec.tolerations) || !object.spec.tolerations.exists(t, ` +
            `((!has(t.key) || t.key == '') && has(t.operator) && t.operator == 'Exists') || ` +
            `(has(t.key) && t.key in ${celList(CONTROL_PLANE_TAINTS)}))`,
          message:
            'pods may not tolerate the control-plane taint (or every taint) in this environment',
        },
      ],
      [
        // Labelled by the engine (candidates cannot change their namespace's labels).
        {
          name: 'controlPlaneAllowed',
          expression: `has(namespaceObject.metadata.labels) && namespaceObject.metadata.labels.exists(k, k == ${celString(ALLOW_CONTROL_PLANE_LABEL)})`,
        },
      ],
    ),
    ...inSessionNamespaces(WORKLOAD_POLICIES.services, '', 'services', [
      {
        expression: '!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0',
        message: 'Services may not set externalIPs (they can capture other traffic on the nodes)',
      },
    ]),
    ...inSessionNamespaces(
      WORKLOAD_POLICIES.roleBindings,
      'rbac.authorization.k8s.io',
      'rolebindings',
      [
        {
          expression:
            `!has(object.subjects) || object.subjects.all(s, ` +
            `(s.kind == 'ServiceAccount' && has(s.namespace) && (s.namespace.startsWith(variables.prefix + '-') || ` +
            `(s.namespace == ${celString(options.engineNamespace)} && s.name == variables.prefix + '-candidate'))) || ` +
            `(s.kind != 'ServiceAccount' && !s.name.startsWith('system:')))`,
          message:
            "a RoleBinding here may name ServiceAccounts of your own session's namespaces, and users or groups not named system:*",
        },
        {
          // Another session could widen its ClusterRole after this binding.
          expression: `object.roleRef.kind != 'ClusterRole' || !${sessionMadeRole('object.roleRef.name')} || object.roleRef.name.startsWith(variables.prefix + '-')`,
          message: "a RoleBinding here may not use another session's ClusterRole",
        },
      ],
      // Session namespaces are named `<prefix>-<name>`; the candidate's ServiceAccount `<prefix>-candidate`.
      [{ name: 'prefix', expression: `request.namespace.split('-')[0]` }],
    ),
    {
      apiVersion: ADMISSION,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: freeze },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector: { matchLabels: { [FROZEN_LABEL]: 'true' } },
          resourceRules: [
            {
              apiGroups: ['*'],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'],
              resources: ['*/*'], // every resource and subresource
            },
          ],
        },
        matchConditions: [
          // namespaceSelector does not narrow cluster-scoped requests: without
          // this, every ServiceAccount's cluster-wide write would be refused.
          { name: 'namespaced', expression: "has(request.namespace) && request.namespace != ''" },
          {
            name: 'session-identity',
            expression:
              `${user}.startsWith('system:serviceaccount:') && ` +
              `!${user}.startsWith('system:serviceaccount:kube-system:') && ${user} != ${celString(options.engineUser)}`,
          },
        ],
        validations: [
          {
            expression: 'false',
            message: 'the session has ended: its namespaces are frozen for grading',
            reason: 'Forbidden',
          },
        ],
      },
    },
    {
      apiVersion: ADMISSION,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: freeze },
      spec: { policyName: freeze, validationActions: ['Deny'] },
    },
  ];
}
