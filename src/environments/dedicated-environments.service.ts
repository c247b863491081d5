import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Logger } from 'pino';
import { In, Repository } from 'typeorm';
import type { ClusterClient } from '../cluster/cluster-client.js';
import { ClusterService } from '../cluster/cluster.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { SessionState } from '../sessions/session-state.js';
import { Session } from '../sessions/session.entity.js';
import type { ClusterLease } from './cluster-lease.entity.js';
import { ClusterPoolService } from './cluster-pool.service.js';
import { CLUSTER_PROVIDER, type ClusterProvider, type ExecResult } from './cluster-provider.js';
import type { HostExec } from '../grading/kinds/verdict.js';

/** No cluster of the shape is warm and the machine has no room for another: the session waits. */
export class CapacityWaitError extends Error {
  constructor(
    readonly alias: string,
    /** Sessions waiting ahead of this one, plus one. */
    readonly position: number,
  ) {
    super(
      `waiting for a cluster (${alias}): number ${position} in the queue; the machine has no room for another until a session ends`,
    );
    this.name = 'CapacityWaitError';
  }
}

interface KubeconfigDoc {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  'current-context'?: string;
}

/**
 * A dedicated session's clusters: leased from the pool for it, reached by
 * the engine as their super-admin and by the candidate's terminal as
 * kubeadm's admin, one kubeconfig context per alias, as on the real exam.
 */
@Injectable()
export class DedicatedEnvironments {
  private readonly logger: Logger;

  constructor(
    private readonly pool: ClusterPoolService,
    private readonly clusters: ClusterService,
    @Inject(CLUSTER_PROVIDER) private readonly provider: ClusterProvider | null,
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'DedicatedEnvironments' });
  }

  /** Whether dedicated sessions can start here at all, and if not why. */
  availability(): Promise<{ available: boolean; reason?: string }> {
    return this.pool.availability();
  }

  /**
   * Leases every cluster the session's exam declared: the one it already
   * holds, a warm one, or one made now if the machine has room; otherwise
   * throws {@link CapacityWaitError} with its place in the queue (the caller
   * tries again later).
   */
  async lease(session: Session): Promise<ClusterLease[]> {
    // One session at a time in this process: two that both see room for one
    // more cluster would both start one.
    const turn = this.leasing.then(() => this.leaseAll(session));
    this.leasing = turn.catch(() => undefined);
    return turn;
  }

  private leasing: Promise<unknown> = Promise.resolve();

  private async leaseAll(session: Session): Promise<ClusterLease[]> {
    const leases: ClusterLease[] = [];
    for (const { alias, nodes } of session.dedicatedClusters) {
      const shape = { nodes };
      let lease = await this.pool.claim(shape, session.id, alias);
      if (!lease) {
        this.logger.info(
          { sessionId: session.id, alias },
          'no warm cluster: making one if the machine has room',
        );
        lease = await this.pool.makeFor(shape, session.id, alias);
      }
      if (!lease) {
        // No room. All or nothing: holding one cluster while waiting for
        // another would let two such sessions wait on each other for ever.
        // Nothing has been set up on them yet, so they go back to the pool as they are.
        await this.pool.unclaim(session.id);
        const place = await this.queuePosition(session);
        this.logger.info({ sessionId: session.id, alias, place }, 'no room for a cluster: waiting');
        throw new CapacityWaitError(alias, place);
      }
      leases.push(lease);
    }
    return leases;
  }

  /** How many of its clusters the session holds (or has being made for it). */
  async leasesHeld(sessionId: string): Promise<number> {
    return (await this.pool.leasesOf(sessionId)).length;
  }

  /** Dedicated sessions still provisioning that began before this one, plus one. */
  async queuePosition(session: Pick<Session, 'id' | 'createdAt'>): Promise<number> {
    const waiting = await this.sessions.find({
      where: { environment: 'dedicated', state: In([SessionState.PROVISIONING]) },
      select: { id: true, createdAt: true },
    });
    const holding = new Set(
      (await Promise.all(waiting.map((s) => this.pool.leasesOf(s.id))))
        .flat()
        .map((l) => l.sessionId),
    );
    return (
      waiting.filter(
        (s) => s.id !== session.id && !holding.has(s.id) && s.createdAt < session.createdAt,
      ).length + 1
    );
  }

  private async leaseOf(sessionId: string, alias: string): Promise<ClusterLease> {
    const lease = (await this.pool.leasesOf(sessionId)).find((l) => l.alias === alias);
    if (!lease) throw new Error(`session ${sessionId} holds no cluster ${alias}`);
    return lease;
  }

  /** The engine's client of the session's cluster `alias`. */
  async clientFor(sessionId: string, alias: string): Promise<ClusterClient> {
    const lease = await this.leaseOf(sessionId, alias);
    const cluster = await this.pool.cluster(lease);
    return this.clusters.forKubeconfig(lease.id, alias, cluster.kubeconfig);
  }

  /**
   * What grading reads a dedicated session through: the engine's client of
   * each of its clusters, and a way to run a script on any of their nodes.
   */
  async gradingScope(session: Session): Promise<{
    clients: Map<string, ClusterClient>;
    hosts: (alias: string, node: string) => HostExec;
  }> {
    const clients = new Map<string, ClusterClient>();
    for (const { alias } of session.dedicatedClusters)
      clients.set(alias, await this.clientFor(session.id, alias));
    return {
      clients,
      hosts: (alias, node) => (script, timeoutMs) =>
        this.runOnNode(session.id, alias, node, script, timeoutMs),
    };
  }

  /** Runs a script as root on a node of the session's cluster `alias`. */
  async runOnNode(
    sessionId: string,
    alias: string,
    node: string,
    script: string,
    timeoutMs: number,
  ): Promise<ExecResult> {
    if (!this.provider) throw new Error('no cluster provider is configured');
    const lease = await this.leaseOf(sessionId, alias);
    const cluster = await this.pool.cluster(lease);
    return this.provider.exec(cluster, node, ['bash', '-c', script], { timeoutMs });
  }

  /**
   * The candidate's kubeconfig: a context per alias (named by it, the first
   * current), each kubeadm's admin of that cluster.
   */
  async candidateKubeconfig(session: Session): Promise<string> {
    const merged: KubeconfigDoc = { clusters: [], users: [], contexts: [] };
    for (const { alias } of session.dedicatedClusters) {
      const cluster = await this.pool.cluster(await this.leaseOf(session.id, alias));
      const doc = parseYaml(cluster.candidateKubeconfig) as KubeconfigDoc;
      const current =
        doc.contexts.find((c) => c.name === doc['current-context']) ?? doc.contexts[0];
      const server = doc.clusters.find((c) => c.name === current.context.cluster)!;
      const user = doc.users.find((u) => u.name === current.context.user)!;
      merged.clusters.push({ name: alias, cluster: server.cluster });
      merged.users.push({ name: `${alias}-admin`, user: user.user });
      merged.contexts.push({ name: alias, context: { cluster: alias, user: `${alias}-admin` } });
    }
    merged['current-context'] = session.dedicatedClusters[0]?.alias;
    return stringifyYaml({ apiVersion: 'v1', kind: 'Config', preferences: {}, ...merged });
  }

  /** Where each node's root shell is served, by cluster alias (for `ssh` in the terminal). */
  async nodeShells(session: Session): Promise<{ cluster: string; node: string; socket: string }[]> {
    if (!this.provider) return [];
    const shells: { cluster: string; node: string; socket: string }[] = [];
    for (const { alias } of session.dedicatedClusters) {
      const cluster = await this.pool.cluster(await this.leaseOf(session.id, alias));
      for (const shell of this.provider.nodeShells(cluster))
        shells.push({ cluster: alias, node: shell.node, socket: shell.socket });
    }
    return shells;
  }

  /** Destroys the session's clusters and forgets their clients. */
  async release(sessionId: string): Promise<void> {
    for (const lease of await this.pool.leasesOf(sessionId)) this.clusters.forget(lease.id);
    await this.pool.release(sessionId);
  }
}
