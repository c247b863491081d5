import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Repository } from 'typeorm';
import {
  ClusterError,
  type ClusterClient,
  type KubeconfigEntry,
  parseManifests,
  renderKubeconfig,
} from '../cluster/cluster-client.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { shellQuote } from '../common/shell-quote.js';
import { clusterFreezeObjects } from '../environments/cluster-freeze.js';
import { DedicatedEnvironments } from '../environments/dedicated-environments.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import {
  CLUSTER_RESOURCE_GROUPS,
  type ClusterResource,
  DEFAULT_NAMESPACE_LIMITS,
} from '../question-bank/question.schema.js';
import { legacySetupSteps } from '../question-bank/setup-steps.js';
import { type SetupStep, SessionQuestion } from '../sessions/session-question.entity.js';
import type { Session } from '../sessions/session.entity.js';
import {
  ALLOW_CONTROL_PLANE_LABEL,
  FROZEN_LABEL,
  POD_SECURITY,
  type RoleAllowance,
  roleAllowanceOf,
  SESSION_LABEL,
  type SessionIdentity,
  sessionClusterPolicy,
  sharedPolicies,
} from './fence-policies.js';
import { replaceBackedOffPods, settleAll, wakeShortWorkloads } from './controller-wake.js';
import { runKubectl } from './setup-kubectl.js';

/** Server-side apply field manager of everything the engine creates. */
export const FIELD_MANAGER = 'cka-exam-engine';
/** The freeze label has a manager of its own, so re-applying a namespace never drops it. */
const FREEZE_FIELD_MANAGER = 'cka-exam-engine-freeze';
/** Shared by every session on a cluster: read nodes, nothing else. */
const NODE_READER_ROLE = 'cka-engine-node-reader';
export { SESSION_LABEL };
export const EXAM_LABEL = 'cka.engine/exam';
const EXPIRES_ANNOTATION = 'cka.engine/expires-at';
/**
 * What a session can leave on a cluster, found by its label: its namespaces
 * (and so everything in them), its ServiceAccount, and the cluster-scoped
 * kinds that questions set up or candidates may be granted.
 */
const LABELLED_KINDS: [string, string][] = [
  ['v1', 'Namespace'],
  ['v1', 'ServiceAccount'],
  ['v1', 'PersistentVolume'],
  ['storage.k8s.io/v1', 'StorageClass'],
  ['scheduling.k8s.io/v1', 'PriorityClass'],
  ['networking.k8s.io/v1', 'IngressClass'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy'],
  ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding'],
];

/**
 * The smallest valid object of each grantable kind, to probe the policy with:
 * each passes RBAC (a binding names the grant role, whose rules the candidate
 * holds), so only the policy can refuse it.
 */
const FENCE_PROBES: Record<ClusterResource, (grantRole: string) => Record<string, unknown>> = {
  persistentvolumes: () => ({
    spec: {
      capacity: { storage: '1Mi' },
      accessModes: ['ReadWriteOnce'],
      hostPath: { path: '/probe' },
    },
  }),
  storageclasses: () => ({ provisioner: 'example.com/probe' }),
  clusterroles: () => ({ rules: [] }),
  clusterrolebindings: (grantRole) => ({
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: grantRole },
    subjects: [],
  }),
  priorityclasses: () => ({ value: 1 }),
  ingressclasses: () => ({ spec: { controller: 'example.com/probe' } }),
};
const FENCE_WAIT_MS = 15_000;

/** apiVersion and kind of each grantable cluster-scoped resource. */
const CLUSTER_RESOURCE_KINDS: Record<ClusterResource, [string, string]> = {
  persistentvolumes: ['v1', 'PersistentVolume'],
  storageclasses: ['storage.k8s.io/v1', 'StorageClass'],
  clusterroles: ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  clusterrolebindings: ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  priorityclasses: ['scheduling.k8s.io/v1', 'PriorityClass'],
  ingressclasses: ['networking.k8s.io/v1', 'IngressClass'],
};
/** The API server refuses shorter bound tokens. */
const MIN_TOKEN_SECONDS = 600;

/** Where a question's setup steps act: its cluster, as the engine. */
interface SetupTarget {
  client: ClusterClient;
  kubectl(args: string[], timeoutMs: number): Promise<string>;
  run(step: { run: string; on: string; timeout: number }): Promise<unknown>;
}

export class SetupFailedError extends Error {
  constructor(questionId: string, cause: string) {
    super(`setup of question ${questionId} failed: ${cause}`);
    this.name = 'SetupFailedError';
  }
}

/**
 * Builds a candidate's fenced-off environment on each cluster a session's
 * questions use: their own namespaces with an admin-like RoleBinding, quota
 * and default limits, a ServiceAccount in the engine's namespace (which they
 * cannot read), then each question's setup manifests. Everything is applied
 * server-side, so running it again is harmless.
 */
@Injectable()
export class ProvisioningService {
  private readonly logger: Logger;
  /** The engine's username on each cluster (exempt from the freeze), asked once. */
  private readonly engineUsers = new Map<string, string>();
  /** What candidate-made ClusterRoles may hold on each cluster (admin's rules), read once. */
  private readonly roleAllowances = new Map<string, RoleAllowance>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clusters: ClusterService,
    private readonly dedicated: DedicatedEnvironments,
    @InjectRepository(SessionQuestion) private readonly questions: Repository<SessionQuestion>,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'Provisioning' });
  }

  /** The candidate's ServiceAccount, in the engine's namespace. */
  serviceAccountOf(session: Session): string {
    return `${session.prefix}-candidate`;
  }

  async provision(session: Session, expiresAt: Date): Promise<void> {
    if (session.environment === 'dedicated') return this.provisionDedicated(session);
    const questions = await this.setupOf(session);
    for (const alias of aliasesOf(questions)) {
      const cluster = this.clusters.client(alias);
      const started = Date.now();
      await cluster.apply(await this.sharedFence(cluster), FIELD_MANAGER);
      const roleAllowance = session.clusterResources.includes('clusterroles')
        ? await this.roleAllowance(cluster)
        : undefined;
      await cluster.apply(this.accessObjects(session, expiresAt, roleAllowance), FIELD_MANAGER);
      await this.untilFenced(cluster, session);
      const target = this.config.clusters.find((c) => c.alias === alias)!;
      await this.runSetups(
        session,
        questions.filter((q) => q.cluster === alias),
        {
          client: cluster,
          kubectl: (args, timeoutMs) =>
            runKubectl({
              kubectl: this.config.terminal.kubectl ?? 'kubectl',
              target,
              args,
              timeoutMs,
            }),
          run: (step) => {
            // Lint keeps run steps to dedicated questions, and a shared cluster has no node hosts.
            throw new Error(`a run step on ${step.on} needs a dedicated environment's node hosts`);
          },
        },
      );
      this.logger.info(
        { sessionId: session.id, cluster: alias, ms: Date.now() - started },
        'provisioned',
      );
    }
  }

  /**
   * A dedicated session: its clusters leased (this may throw
   * CapacityWaitError: the caller tries again later), then each question's
   * setup as the cluster's super-admin, kubectl steps run on the control
   * plane, run steps on their node.
   */
  private async provisionDedicated(session: Session): Promise<void> {
    const started = Date.now();
    await this.dedicated.lease(session);
    const questions = await this.setupOf(session);
    for (const { alias, nodes } of session.dedicatedClusters) {
      const run = async (node: string, script: string, timeoutMs: number) => {
        const result = await this.dedicated.runOnNode(session.id, alias, node, script, timeoutMs);
        if (result.code !== 0)
          throw new Error(
            `on ${node}: exit ${result.code}${result.stderr.trim() ? `: ${result.stderr.trim().slice(-2000)}` : ''}`,
          );
        return result.stdout;
      };
      const client = await this.dedicated.clientFor(session.id, alias);
      const onCluster = questions.filter((q) => q.cluster === alias);
      // On a shared cluster the fence makes the session's namespaces; here the
      // questions' own, on the cluster each is posed on, before their setup.
      const namespaces = new Set(
        onCluster.flatMap((q) =>
          Object.values(q.variables)
            .map(String)
            .filter((value) => session.namespaces.includes(value)),
        ),
      );
      if (namespaces.size)
        await client.apply(
          [...namespaces].map((name) =>
            this.labelled(
              {
                apiVersion: 'v1',
                kind: 'Namespace',
                metadata: { name, labels: {} as Record<string, string> },
              },
              session,
            ),
          ),
          FIELD_MANAGER,
        );
      await this.runSetups(session, onCluster, {
        client,
        kubectl: (args, timeoutMs) =>
          run(
            nodes[0],
            ['kubectl', '--kubeconfig', '/etc/kubernetes/super-admin.conf', ...args]
              .map(shellQuote)
              .join(' '),
            timeoutMs,
          ),
        run: (step) => run(step.on, step.run, step.timeout * 1000),
      });
    }
    this.logger.info(
      { sessionId: session.id, ms: Date.now() - started },
      'provisioned (dedicated)',
    );
  }

  private setupOf(session: Session): Promise<SessionQuestion[]> {
    return this.questions.find({
      where: { sessionId: session.id },
      order: { position: 'ASC' },
      select: {
        id: true,
        questionId: true,
        cluster: true,
        setup: true,
        setupWaits: true,
        setupSteps: true,
        variables: true,
      },
    });
  }

  /** Each question's setup steps in order; the first that fails fails the provisioning, saying why. */
  private async runSetups(
    session: Session,
    questions: SessionQuestion[],
    on: SetupTarget,
  ): Promise<void> {
    for (const question of questions) {
      try {
        const steps = question.setupSteps.length
          ? question.setupSteps
          : legacySetupSteps(question.setup, question.setupWaits);
        for (const step of steps) await this.runStep(on, session, step);
      } catch (error) {
        const failure = new SetupFailedError(question.questionId, (error as Error).message);
        await this.questions.update(
          { id: question.id },
          { setupStatus: 'failed', setupMessage: failure.message },
        );
        throw failure;
      }
      await this.questions.update(
        { id: question.id },
        { setupStatus: 'applied', setupMessage: null },
      );
    }
  }

  /**
   * One setup step, as the engine: manifests applied server-side with the
   * session's label, a bounded wait for a condition, a bounded kubectl
   * command on the same cluster with the engine's credentials, or a script
   * on a node.
   */
  private async runStep(on: SetupTarget, session: Session, step: SetupStep): Promise<void> {
    if ('apply' in step) {
      await on.client.apply(
        parseManifests(step.apply).map((o) => this.labelled(o, session)),
        FIELD_MANAGER,
      );
    } else if ('wait' in step) {
      await on.client.waitForCondition(step.wait, step.wait.condition, step.wait.timeout * 1000);
    } else if ('run' in step) {
      await on.run(step);
    } else {
      await on.kubectl(step.kubectl, step.timeout * 1000);
    }
  }

  /**
   * The end of a session, before grading reads anything: its namespaces are
   * frozen (the shared freeze policy refuses every change by a ServiceAccount
   * other than the engine's and the controllers', so tokens the candidate
   * minted and workloads running as namespace ServiceAccounts change nothing),
   * its cluster-wide policy refuses everything, the candidate's ServiceAccount
   * goes (every token issued for it stops authenticating), and so do the
   * bindings: the engine's grants and any prefixed ClusterRoleBinding the
   * candidate made. Idempotent. Run at the end itself (AccessRevocationService);
   * grading wakes the controllers afterwards ({@link wakeAllControllers}).
   */
  async revoke(session: Session): Promise<void> {
    if (session.environment === 'dedicated') {
      // Every cluster at once: the end waits for the slowest, not their sum;
      // all of them to their end before a failure is reported (a retry must
      // not overlap a freeze still under way).
      await settleAll(
        session.dedicatedClusters.map(async ({ alias }) => {
          const cluster = await this.dedicated.clientFor(session.id, alias);
          await cluster.apply(clusterFreezeObjects() as KubernetesObject[], FREEZE_FIELD_MANAGER);
        }),
      );
      return;
    }
    for (const alias of aliasesOf(await this.questionClusters(session))) {
      const cluster = this.clusters.client(alias);
      const existing: string[] = [];
      for (const namespace of session.namespaces) {
        if (!(await cluster.read({ apiVersion: 'v1', kind: 'Namespace', name: namespace })))
          continue;
        existing.push(namespace);
        await cluster.apply(
          [
            {
              apiVersion: 'v1',
              kind: 'Namespace',
              metadata: { name: namespace, labels: { [FROZEN_LABEL]: 'true' } },
            },
          ],
          FREEZE_FIELD_MANAGER,
        );
      }
      if (existing.length) await this.untilFrozen(cluster, session, existing[0]);
      if (session.clusterResources.length) {
        // Only the policy itself, under the freeze's own manager: the labels
        // and annotations provisioning set (the sweeper reads them) stay.
        const [endedPolicy] = sessionClusterPolicy(
          this.identityOf(session),
          session.clusterResources as ClusterResource[],
          { ...this.policyOptions(session), ended: true },
        );
        await cluster.apply(
          [endedPolicy as Parameters<ClusterClient['apply']>[0][number]],
          FREEZE_FIELD_MANAGER,
        );
      }
      await this.removeAccess(cluster, session);
    }
  }

  /**
   * Wakes the session's backed-off workload controllers and replaces its
   * pods waiting in the kubelet's back-off (see controller-wake.ts), so what
   * grading sees does not depend on when the candidate's fix was made. Best effort: a failure is logged, and grading
   * still waits for whatever the cluster is visibly doing.
   */
  private async wakeControllers(cluster: ClusterClient, session: Session): Promise<void> {
    try {
      // A dedicated cluster is the session's own: one list per kind covers it.
      const scope = { clusterWide: session.environment === 'dedicated' };
      // Both to their end even if one fails: grading must not start while
      // replaced pods are still coming back (a fresh one is briefly Ready).
      const [woken, replaced] = await settleAll([
        wakeShortWorkloads(cluster, session.namespaces, scope),
        replaceBackedOffPods(cluster, session.namespaces, scope),
      ]);
      if (woken.length || replaced.length)
        this.logger.info(
          { sessionId: session.id, cluster: cluster.alias, woken, replaced },
          'controllers woken, backed-off pods replaced',
        );
    } catch (error) {
      this.logger.warn(
        { sessionId: session.id, cluster: cluster.alias, err: error },
        'could not wake the controllers',
      );
    }
  }

  /** {@link wakeControllers} on every cluster of the session: grading's first step, after the revoke. */
  async wakeAllControllers(session: Session): Promise<void> {
    if (session.environment === 'dedicated') {
      // Each cluster's controllers at once: grading waits for the slowest.
      await settleAll(
        session.dedicatedClusters.map(async ({ alias }) =>
          this.wakeControllers(await this.dedicated.clientFor(session.id, alias), session),
        ),
      );
      return;
    }
    for (const alias of aliasesOf(await this.questionClusters(session)))
      await this.wakeControllers(this.clusters.client(alias), session);
  }

  /**
   * After a failed provisioning: the candidate never had a kubeconfig (it is
   * handed out only once active), so nothing needs freezing; their
   * ServiceAccount and bindings go at once rather than at teardown, and the
   * half-built namespaces stay for a trainer to look at until then.
   */
  async revokeAccess(session: Session): Promise<void> {
    // A dedicated session's candidate never had credentials yet; its clusters go at teardown.
    if (session.environment === 'dedicated') return;
    for (const alias of aliasesOf(await this.questionClusters(session)))
      await this.removeAccess(this.clusters.client(alias), session);
  }

  /** The candidate's ServiceAccount, the engine's bindings for it, and prefixed ClusterRoleBindings the candidate made. */
  private async removeAccess(cluster: ClusterClient, session: Session): Promise<void> {
    await cluster.delete({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      name: this.serviceAccountOf(session),
      namespace: this.config.provisioning.engineNamespace,
    });
    for (const namespace of session.namespaces) {
      await cluster.delete({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        name: 'cka-candidate',
        namespace,
      });
    }
    await cluster.delete({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      name: this.nodeReaderBindingOf(session),
    });
    if (session.clusterResources.length) {
      await cluster.delete({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        name: this.grantRoleOf(session),
      });
    }
    if (session.clusterResources.includes('clusterrolebindings'))
      await this.deletePrefixed(cluster, session, 'clusterrolebindings');
  }

  /**
   * Removes everything the session created: its namespaces (with all the
   * candidate's work), its ServiceAccount, and cluster-scoped objects carrying
   * its label. Idempotent: what is already gone is skipped.
   */
  async teardown(session: Session): Promise<void> {
    if (session.environment === 'dedicated') return this.dedicated.release(session.id);
    for (const alias of aliasesOf(await this.questionClusters(session))) {
      const cluster = this.clusters.client(alias);
      await this.deleteLabelled(cluster, session.id);
      // What the candidate made under the grant carries the prefix, not our label.
      for (const resource of session.clusterResources as ClusterResource[])
        await this.deletePrefixed(cluster, session, resource);
      for (const namespace of session.namespaces)
        await cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
      await cluster.delete({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        name: this.serviceAccountOf(session),
        namespace: this.config.provisioning.engineNamespace,
      });
    }
  }

  /** Every object of a grantable kind named with the session's prefix (what the candidate made). */
  private async deletePrefixed(
    cluster: ClusterClient,
    session: Session,
    resource: ClusterResource,
  ): Promise<void> {
    const [apiVersion, kind] = CLUSTER_RESOURCE_KINDS[resource];
    for (const object of await cluster.list(apiVersion, kind)) {
      const name = object.metadata?.name ?? '';
      if (name.startsWith(`${session.prefix}-`)) await cluster.delete({ apiVersion, kind, name });
    }
  }

  /** Every object labelled for `sessionId` of the kinds a session can leave behind on one cluster. */
  async deleteLabelled(cluster: ClusterClient, sessionId: string): Promise<number> {
    let deleted = 0;
    for (const [apiVersion, kind] of LABELLED_KINDS) {
      const namespace =
        kind === 'ServiceAccount' ? this.config.provisioning.engineNamespace : undefined;
      const found = await cluster.list(apiVersion, kind, {
        namespace,
        labelSelector: `${SESSION_LABEL}=${sessionId}`,
      });
      for (const object of found) {
        if (
          await cluster.delete({
            apiVersion,
            kind,
            name: object.metadata!.name!,
            namespace: object.metadata?.namespace,
          })
        )
          deleted++;
      }
    }
    return deleted;
  }

  /**
   * Session ids that have labelled objects on a cluster (for the sweeper),
   * each with the latest expiry its objects announce (epoch ms), if any.
   */
  async labelledSessions(alias: string): Promise<Map<string, number | undefined>> {
    const cluster = this.clusters.client(alias);
    const ids = new Map<string, number | undefined>();
    for (const [apiVersion, kind] of LABELLED_KINDS) {
      const namespace =
        kind === 'ServiceAccount' ? this.config.provisioning.engineNamespace : undefined;
      for (const object of await cluster.list(apiVersion, kind, {
        namespace,
        labelSelector: SESSION_LABEL,
      })) {
        const id = object.metadata!.labels![SESSION_LABEL];
        const expires = Date.parse(object.metadata?.annotations?.[EXPIRES_ANNOTATION] ?? '');
        const latest = ids.get(id);
        ids.set(id, Number.isNaN(expires) ? latest : Math.max(latest ?? expires, expires));
      }
    }
    return ids;
  }

  /**
   * A kubeconfig with one context per cluster alias of the session (named
   * after the alias), defaulting to the session's first namespace, with fresh
   * bound tokens that expire at the deadline plus the grace period.
   */
  async kubeconfig(session: Session): Promise<string> {
    const until =
      (session.deadline?.getTime() ?? Date.now()) +
      this.config.provisioning.tokenGraceSeconds * 1000;
    const seconds = Math.max(MIN_TOKEN_SECONDS, Math.ceil((until - Date.now()) / 1000));
    const entries: KubeconfigEntry[] = [];
    for (const alias of aliasesOf(await this.questionClusters(session))) {
      const cluster = this.clusters.client(alias);
      const { token } = await cluster.requestToken(
        this.config.provisioning.engineNamespace,
        this.serviceAccountOf(session),
        seconds,
      );
      entries.push(
        cluster.kubeconfigEntry(token, { name: alias, namespace: session.namespaces[0] }),
      );
    }
    return renderKubeconfig(entries);
  }

  private questionClusters(session: Session): Promise<Pick<SessionQuestion, 'cluster'>[]> {
    // In task order: the kubeconfig's current context is the first task's cluster.
    return this.questions.find({
      where: { sessionId: session.id },
      select: { cluster: true, position: true },
      order: { position: 'ASC' },
    });
  }

  private accessObjects(session: Session, expiresAt: Date, roleAllowance?: RoleAllowance) {
    const engineNamespace = this.config.provisioning.engineNamespace;
    const serviceAccount = this.serviceAccountOf(session);
    // Sessions started before limits were stored get the defaults.
    const limits = { ...DEFAULT_NAMESPACE_LIMITS, ...session.namespaceLimits };
    // An exam's quota adds to the defaults (node ports, load balancers stay capped unless it says otherwise).
    limits.quota = { ...DEFAULT_NAMESPACE_LIMITS.quota, ...session.namespaceLimits?.quota };
    const meta = (name: string, namespace?: string) => ({
      name,
      ...(namespace ? { namespace } : {}),
      labels: { [SESSION_LABEL]: session.id, [EXAM_LABEL]: session.examId },
      annotations: { [EXPIRES_ANNOTATION]: expiresAt.toISOString() },
    });
    return [
      // The fence first: the grant below only ever works through it.
      ...this.clusterGrantObjects(session, meta, roleAllowance),
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: engineNamespace,
          labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER },
        },
      },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(serviceAccount, engineNamespace) },
      {
        // Every CKA task assumes `kubectl get nodes`; nodes hold nothing of other candidates.
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: meta(this.nodeReaderBindingOf(session)),
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: NODE_READER_ROLE,
        },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: engineNamespace }],
      },
      ...session.namespaces.flatMap((namespace) => [
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            ...meta(namespace),
            labels: {
              ...meta(namespace).labels,
              'pod-security.kubernetes.io/enforce': POD_SECURITY.level,
              'pod-security.kubernetes.io/enforce-version': POD_SECURITY.version,
              ...(session.podAllowances?.[namespace]?.includes('control-plane')
                ? { [ALLOW_CONTROL_PLANE_LABEL]: 'true' }
                : {}),
            },
          },
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: meta('cka-candidate', namespace),
          // The built-in admin role: full control inside the namespace, nothing outside it.
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
          subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: engineNamespace }],
        },
        {
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: meta('cka-quota', namespace),
          spec: { hard: limits.quota },
        },
        {
          apiVersion: 'v1',
          kind: 'LimitRange',
          metadata: meta('cka-limits', namespace),
          spec: {
            limits: [
              {
                type: 'Container',
                defaultRequest: limits.defaultRequest,
                default: limits.defaultLimit,
              },
            ],
          },
        },
      ]),
    ];
  }

  /**
   * The API server enforces a new admission policy only once its informer has
   * it, a second or so later. Until then the candidate would be unfenced, so
   * provisioning waits (bounded) until dry-run creates made with the
   * candidate's own token are refused by the policies themselves: a pod
   * tolerating every taint (the shared workloads policy) and, where the
   * session has cluster-wide grants, an unprefixed object (its own policy).
   */
  private async untilFenced(cluster: ClusterClient, session: Session): Promise<void> {
    const { token } = await cluster.requestToken(
      this.config.provisioning.engineNamespace,
      this.serviceAccountOf(session),
      MIN_TOKEN_SECONDS,
    );
    const candidate = cluster.withToken(token);
    // A pod tolerating every taint, where no question allows the control
    // plane (there the pods policy lets it through); with no such namespace,
    // a RoleBinding for everyone, which the RoleBindings policy refuses.
    const plain = session.namespaces.find(
      (ns) => !session.podAllowances?.[ns]?.includes('control-plane'),
    );
    if (!session.namespaces.length) {
      // Questions that use no namespace (a text answer): nothing namespaced to fence.
    } else if (plain) {
      await this.untilRefused(
        candidate,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `fence-probe-${session.prefix}`, namespace: plain },
          spec: {
            containers: [{ name: 'probe', image: 'registry.k8s.io/pause:3.10' }],
            tolerations: [{ operator: 'Exists' }],
          },
        } as Parameters<ClusterClient['dryRunCreate']>[0],
        /may not tolerate/,
        'the pods admission policy',
      );
    } else {
      await this.untilRefused(
        candidate,
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: `fence-probe-${session.prefix}`, namespace: session.namespaces[0] },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [
            { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' },
          ],
        } as Parameters<ClusterClient['dryRunCreate']>[0],
        /RoleBinding here may name/,
        'the RoleBindings admission policy',
      );
    }
    const resource = (session.clusterResources as ClusterResource[])[0];
    if (!resource) return;
    const [apiVersion, kind] = CLUSTER_RESOURCE_KINDS[resource];
    await this.untilRefused(
      candidate,
      {
        apiVersion,
        kind,
        metadata: { name: `fence-probe-${session.prefix}` },
        ...FENCE_PROBES[resource](this.grantRoleOf(session)),
      },
      /must start with/,
      'the name-prefix admission policy',
    );
  }

  /**
   * The freeze label reaches the API server's admission through its
   * namespace cache a moment later; grading must not start before a write by
   * the candidate (still authenticated here) is refused. Skipped when the
   * candidate's ServiceAccount is already gone (a repeated revoke), and done
   * when it goes while we probe: a revoke running beside this one (the end's
   * job and grading, say) saw the refusal and removed the account.
   */
  private async untilFrozen(
    cluster: ClusterClient,
    session: Session,
    namespace: string,
  ): Promise<void> {
    let token: string;
    try {
      ({ token } = await cluster.requestToken(
        this.config.provisioning.engineNamespace,
        this.serviceAccountOf(session),
        MIN_TOKEN_SECONDS,
      ));
    } catch (error) {
      if (error instanceof ClusterError && error.status === 404) return;
      throw error;
    }
    await this.untilRefused(
      cluster.withToken(token),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `freeze-probe-${session.prefix}`, namespace },
      },
      /namespaces are frozen/,
      'the freeze at the end',
      { goneIsDone: true },
    );
  }

  private async untilRefused(
    candidate: ClusterClient,
    probe: Parameters<ClusterClient['dryRunCreate']>[0],
    refusal: RegExp,
    policy: string,
    { goneIsDone = false }: { goneIsDone?: boolean } = {},
  ): Promise<void> {
    const deadline = Date.now() + FENCE_WAIT_MS;
    for (;;) {
      try {
        await candidate.dryRunCreate(probe);
      } catch (error) {
        if (error instanceof ClusterError && refusal.test(error.message)) return;
        if (goneIsDone && error instanceof ClusterError && error.status === 401) return;
        if (!(error instanceof ClusterError && error.status === 403)) throw error;
        // 403 without the policy's message: RBAC has not caught up with the grant yet.
      }
      if (Date.now() > deadline)
        throw new Error(`${policy} was not enforced within ${FENCE_WAIT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * For questions that need cluster-scoped kinds: a ClusterRole on exactly
   * those, bound to the candidate, and the session's admission policy
   * (fence-policies.ts): names `<prefix>-…` only, content that reaches no
   * other candidate and no node, for every identity acting for the session.
   */
  private clusterGrantObjects(
    session: Session,
    meta: (name: string) => Record<string, unknown>,
    roleAllowance?: RoleAllowance,
  ): object[] {
    const resources = session.clusterResources as ClusterResource[];
    if (!resources.length) return [];
    const name = this.grantRoleOf(session);
    const serviceAccount = this.serviceAccountOf(session);
    const engineNamespace = this.config.provisioning.engineNamespace;
    const withMeta = (object: object) => ({
      ...object,
      metadata: meta((object as { metadata: { name: string } }).metadata.name),
    });
    return [
      ...sessionClusterPolicy(this.identityOf(session), resources, {
        ...this.policyOptions(session),
        roleAllowance,
      }).map(withMeta),
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: meta(name),
        rules: resources.map((resource) => ({
          apiGroups: [CLUSTER_RESOURCE_GROUPS[resource]],
          resources: [resource],
          // No list or watch: RBAC cannot filter a list by name, and a list
          // would show every other session's objects (and, for volumes, their
          // claims' namespaces). By name is enough for kubectl get, describe,
          // apply, edit and delete; names are given in the task or chosen.
          // Escalate on ClusterRoles, so a candidate can write rules they hold
          // only inside their namespaces (RBAC asks for them cluster-wide).
          // Safe because the session policy bounds the rules by admin's and
          // refuses ClusterRoleBindings to session-made roles: one created
          // empty, bound, then widened reaches only the session's namespaces,
          // and only as far as the candidate already does.
          verbs: [
            'get',
            'create',
            'update',
            'patch',
            'delete',
            ...(resource === 'clusterroles' ? ['escalate'] : []),
          ],
        })),
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: meta(name),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: engineNamespace }],
      },
    ];
  }

  private nodeReaderBindingOf(session: Session): string {
    return `cka-${session.prefix}-nodes`;
  }

  private grantRoleOf(session: Session): string {
    return `cka-${session.prefix}-cluster`;
  }

  private identityOf(session: Session): SessionIdentity {
    return {
      prefix: session.prefix,
      namespaces: session.namespaces,
      engineNamespace: this.config.provisioning.engineNamespace,
      candidateServiceAccount: this.serviceAccountOf(session),
    };
  }

  private policyOptions(session: Session) {
    return {
      name: this.grantRoleOf(session),
      grantRole: this.grantRoleOf(session),
      hostPathRoots: this.config.provisioning.hostPathRoots,
    };
  }

  private async roleAllowance(cluster: ClusterClient): Promise<RoleAllowance> {
    let allowance = this.roleAllowances.get(cluster.alias);
    if (!allowance) {
      const admin = await cluster.read<
        KubernetesObject & {
          rules?: { apiGroups?: string[]; resources?: string[]; verbs: string[] }[];
        }
      >({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'admin' });
      if (!admin?.rules?.length)
        throw new Error(
          `cluster ${cluster.alias} has no built-in admin ClusterRole to bound candidate roles by`,
        );
      allowance = roleAllowanceOf(admin.rules);
      this.roleAllowances.set(cluster.alias, allowance);
    }
    return allowance;
  }

  /**
   * The policies every session on a cluster shares, for the engine's own
   * identity (exempt from the freeze) and the current control-plane nodes.
   */
  private async sharedFence(cluster: ClusterClient): Promise<object[]> {
    let engineUser = this.engineUsers.get(cluster.alias);
    if (!engineUser) {
      engineUser = await cluster.whoAmI();
      this.engineUsers.set(cluster.alias, engineUser);
    }
    const controlPlaneNodes = (
      await cluster.list('v1', 'Node', { labelSelector: 'node-role.kubernetes.io/control-plane' })
    ).map((node) => node.metadata!.name!);
    return [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: NODE_READER_ROLE },
        rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
      },
      ...sharedPolicies({
        engineUser,
        engineNamespace: this.config.provisioning.engineNamespace,
        controlPlaneNodes,
      }),
    ].map((object) => ({
      ...object,
      metadata: {
        ...(object as { metadata: object }).metadata,
        labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER },
      },
    }));
  }

  private labelled<T extends { metadata?: { labels?: Record<string, string> } }>(
    object: T,
    session: Session,
  ): T {
    return {
      ...object,
      metadata: {
        ...object.metadata,
        labels: { ...object.metadata?.labels, [SESSION_LABEL]: session.id },
      },
    };
  }
}

function aliasesOf(questions: Pick<SessionQuestion, 'cluster'>[]): string[] {
  return [...new Set(questions.map((q) => q.cluster))];
}
