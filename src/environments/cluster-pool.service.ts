import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { In, IsNull, Repository } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { ClusterLease, type ClusterLeaseState } from './cluster-lease.entity.js';
import { countRoom, LIVE_STATES, reserveLease } from './lease-reservation.js';
import {
  CLUSTER_PROVIDER,
  type ClusterProvider,
  type ClusterProviderStatus,
  type ClusterShape,
  type ProvidedCluster,
  shapeKey,
} from './cluster-provider.js';

/** Between two looks for a cluster that did not answer. */
const RETRY_FIND_MS = 2_000;

/** How often a process renews the heartbeat of the clusters it is starting. */
export const LEASE_HEARTBEAT_MS = 10_000;
/** A start whose heartbeat is older than this was cut off with its process (on another host). */
export const LEASE_STALE_MS = 60_000;

/**
 * The warm pool of dedicated clusters and the leases on them. Every change
 * is written to the database first: a restarted engine finds each live
 * lease's cluster again through the provider (`reconcile`), and destroys the
 * clusters no live lease names.
 *
 * Clusters are made one at a time (each start takes most of a small
 * machine's CPU for half a minute) and only while free memory allows.
 */
@Injectable()
export class ClusterPoolService implements OnModuleDestroy {
  /** This process, as a lease's owner: host:pid:nonce (a restarted process, even with its pid, is another). */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger: Logger;
  private heartbeat?: NodeJS.Timeout;
  /** Clusters found or made by this process, by lease id: their kubeconfigs live here only. */
  private readonly clusters = new Map<string, ProvidedCluster>();
  /** Lease ids this process is making now. */
  private readonly making = new Set<string>();
  /** Lease ids this process is destroying now (reconcile leaves them alone). */
  private readonly retiring = new Set<string>();
  /** One start at a time. */
  private starting: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLUSTER_PROVIDER) private readonly provider: ClusterProvider | null,
    @InjectRepository(ClusterLease) private readonly leases: Repository<ClusterLease>,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ context: 'ClusterPool' });
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Whether dedicated clusters can be had at all, and if not why. */
  async availability(): Promise<{ available: boolean; reason?: string }> {
    if (!this.provider)
      return {
        available: false,
        reason: 'no cluster provider is configured (CLUSTER_PROVIDER=none)',
      };
    const status = await this.provider.status();
    return status.available
      ? { available: true }
      : { available: false, reason: `${this.provider.name} provider: ${status.reason}` };
  }

  private requireProvider(): ClusterProvider {
    if (!this.provider)
      throw new Error('no cluster provider is configured (CLUSTER_PROVIDER=none)');
    return this.provider;
  }

  /** Clusters the machine can still take, counting those being made. */
  async room(): Promise<number> {
    const provider = this.requireProvider();
    const status = await provider.status();
    return countRoom(this.leases, provider.name, this.roomLimits(status));
  }

  private roomLimits(status: ClusterProviderStatus): { freeRoom: number; maxClusters: number } {
    return {
      freeRoom: status.available ? status.room : 0,
      maxClusters: this.config.environments.maxClusters,
    };
  }

  /**
   * A new starting lease if the machine has room for one more cluster (and,
   * for the pool, the shape has fewer than `stockBelow` unclaimed), else
   * undefined; one step across every worker (see reserveLease).
   */
  private async reserve(
    shape: ClusterShape,
    owner: { sessionId?: string; alias?: string },
    stockBelow?: number,
  ): Promise<ClusterLease | undefined> {
    const provider = this.requireProvider();
    const status = await provider.status();
    return reserveLease(this.leases.manager.dataSource, this.newLease(shape, owner), {
      ...this.roomLimits(status),
      stockBelow,
    });
  }

  /**
   * The session's cluster for `alias`: the one it already holds (a retried
   * provisioning), else a warm one of the shape taken from the pool.
   * Undefined when none is warm.
   */
  async claim(
    shape: ClusterShape,
    sessionId: string,
    alias: string,
  ): Promise<ClusterLease | undefined> {
    const provider = this.requireProvider();
    const held = await this.leases.findOne({ where: { sessionId, alias, state: 'leased' } });
    if (held) return held;
    const warm = await this.leases.find({
      where: { provider: provider.name, shape: shapeKey(shape), state: 'warm' },
      order: { readyAt: 'ASC' },
    });
    for (const lease of warm) {
      // A conditional update: of two claims of one cluster, one changes the row.
      const result = await this.leases
        .createQueryBuilder()
        .update(ClusterLease)
        .set({ state: 'leased', sessionId, alias, leasedAt: new Date() })
        .where('id = :id AND state = :warm', { id: lease.id, warm: 'warm' })
        .execute();
      if (result.affected === 1) return this.leases.findOneByOrFail({ id: lease.id });
    }
    return undefined;
  }

  /**
   * Makes a cluster for the session now (no warm one), if the machine has
   * room; undefined if not (the session waits). Slow: tens of seconds. The
   * lease is the session's from the start, so a restart mid-way finds it
   * (see reconcile).
   */
  async makeFor(
    shape: ClusterShape,
    sessionId: string,
    alias: string,
  ): Promise<ClusterLease | undefined> {
    const lease = await this.reserve(shape, { sessionId, alias });
    if (!lease) return undefined;
    await this.make(lease, shape, 'leased');
    return this.leases.findOneByOrFail({ id: lease.id });
  }

  /** The cluster of a live lease (found again through the provider after a restart). */
  async cluster(lease: ClusterLease): Promise<ProvidedCluster> {
    const known = this.clusters.get(lease.id);
    if (known) return known;
    const found = lease.handle
      ? await this.requireProvider().find(storedCluster(lease.id, lease.handle))
      : undefined;
    if (!found) throw new Error(`cluster ${lease.id} (${lease.alias ?? lease.shape}) is gone`);
    this.clusters.set(lease.id, found);
    return found;
  }

  /** A session's live leases, by alias. */
  async leasesOf(sessionId: string): Promise<ClusterLease[]> {
    return this.leases.find({ where: { sessionId, state: In([...LIVE_STATES]) } });
  }

  /**
   * Gives a provisioning session's untouched clusters back to the pool (it
   * waits for another it cannot have yet; nothing was set up on them).
   */
  async unclaim(sessionId: string): Promise<void> {
    await this.leases.update(
      { sessionId, state: 'leased' },
      { state: 'warm', sessionId: null, alias: null, leasedAt: null },
    );
  }

  /** Destroys the session's clusters (never reused: the candidate may have broken them). */
  async release(sessionId: string): Promise<void> {
    for (const lease of await this.leases.find({
      where: { sessionId, state: In([...LIVE_STATES]) },
    }))
      await this.retire(lease, 'released');
  }

  /** How many clusters of the shape wait in the pool, ready or still starting. */
  async stock(shape: ClusterShape): Promise<{ warm: number; starting: number }> {
    const count = (state: ClusterLeaseState) =>
      this.leases.count({
        where: { shape: shapeKey(shape), state, sessionId: IsNull() },
      });
    return { warm: await count('warm'), starting: await count('starting') };
  }

  /**
   * Starts clusters until each shape in demand has `POOL_SIZE` warm or
   * starting, one at a time and while there is room. Returns how many it began.
   */
  async refill(shapes: ClusterShape[]): Promise<number> {
    if (!this.provider || this.config.environments.poolSize === 0) return 0;
    let begun = 0;
    for (const shape of uniqueShapes(shapes)) {
      for (;;) {
        const lease = await this.reserve(shape, {}, this.config.environments.poolSize);
        if (!lease) break;
        begun++;
        void this.make(lease, shape, 'warm').catch(() => undefined);
      }
    }
    return begun;
  }

  /**
   * After a restart (and now and then): every live lease's cluster is found
   * again or marked failed, and every cluster the provider holds that no live
   * lease names is destroyed. Returns what it did, for the log.
   */
  async reconcile(): Promise<{ found: number; lost: number; orphansDestroyed: number }> {
    const provider = this.requireProvider();
    let found = 0;
    let lost = 0;
    const live = await this.leases.find({
      where: { provider: provider.name, state: In([...LIVE_STATES]) },
    });
    for (const lease of live) {
      if (this.making.has(lease.id) || this.retiring.has(lease.id)) continue;
      // Another worker is making it: its heartbeat says it is still at it.
      if (lease.state === 'starting' && !this.makerGone(lease)) continue;
      try {
        if (lease.state === 'starting') {
          // Its maker died (this process before a restart, or another worker): the cluster may be half made.
          throw new Error('its start was cut off: the engine process making it stopped');
        }
        // A loaded machine may miss one answer: only three misses in a row
        // take a candidate's cluster from them.
        for (let attempt = 1; ; attempt++) {
          this.clusters.delete(lease.id);
          try {
            await this.cluster(lease);
            break;
          } catch (error) {
            if (attempt >= 3) throw error;
            await new Promise((resolve) => setTimeout(resolve, RETRY_FIND_MS));
          }
        }
        const cluster = this.clusters.get(lease.id);
        if (lease.state === 'warm' && cluster?.stale) {
          // A session that holds one keeps it; the pool makes a new one in its place.
          this.logger.warn({ lease: lease.id, reason: cluster.stale }, 'warm cluster retired');
          await this.retire(lease, 'released', cluster.stale);
          continue;
        }
        found++;
      } catch (error) {
        lost++;
        this.logger.warn({ lease: lease.id, err: (error as Error).message }, 'cluster lost');
        await this.retire(lease, 'failed', (error as Error).message);
      }
    }
    const keep = new Set(
      (
        await this.leases.find({
          where: { provider: provider.name, state: In([...LIVE_STATES]) },
          select: { id: true },
        })
      ).map((l) => l.id),
    );
    let orphansDestroyed = 0;
    for (const id of await provider.list()) {
      if (keep.has(id) || this.making.has(id) || this.retiring.has(id)) continue;
      await provider.destroy(storedCluster(id, null));
      orphansDestroyed++;
    }
    return { found, lost, orphansDestroyed };
  }

  private newLease(
    shape: ClusterShape,
    owner: { sessionId?: string; alias?: string },
  ): ClusterLease {
    const provider = this.requireProvider();
    return this.leases.create({
      id: randomUUID(),
      provider: provider.name,
      shape: shapeKey(shape),
      state: 'starting',
      sessionId: owner.sessionId ?? null,
      alias: owner.alias ?? null,
      handle: null,
      failureReason: null,
      owner: this.owner,
      heartbeatAt: new Date(),
      createdAt: new Date(),
      readyAt: null,
      leasedAt: null,
      releasedAt: null,
    });
  }

  /** Makes the lease's cluster (one start at a time); `ready` is its state once ready. */
  private async make(
    lease: ClusterLease,
    shape: ClusterShape,
    ready: 'warm' | 'leased',
  ): Promise<void> {
    const provider = this.requireProvider();
    this.making.add(lease.id);
    this.beat();
    const turn = this.starting.then(async () => {
      const started = Date.now();
      try {
        const cluster = await provider.create(shape, lease.id);
        this.clusters.set(lease.id, cluster);
        const now = new Date();
        // simple-json columns take the object; TypeORM's update typing expects a deep partial.
        const handle = { nodes: cluster.nodes, provider: cluster.handle } as ClusterLease['handle'];
        await this.leases.update(
          { id: lease.id, state: 'starting' },
          {
            state: ready,
            handle: handle as never,
            readyAt: now,
            leasedAt: ready === 'leased' ? now : null,
          },
        );
        this.logger.info(
          {
            lease: lease.id,
            shape: lease.shape,
            seconds: (Date.now() - started) / 1000,
            state: ready,
          },
          'cluster ready',
        );
      } catch (error) {
        await this.retire(lease, 'failed', (error as Error).message);
        throw error;
      } finally {
        this.making.delete(lease.id);
        this.beat();
      }
    });
    this.starting = turn.catch(() => undefined);
    await turn;
  }

  /**
   * Renews the heartbeat of the leases this process is making (waiting
   * their turn included) while there are any, so other workers' reconcile
   * leaves them alone; stops when there are none.
   */
  private beat(): void {
    if (this.making.size === 0) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      return;
    }
    this.heartbeat ??= setInterval(() => {
      void this.leases
        .update(
          { id: In([...this.making]), state: 'starting', owner: this.owner },
          { heartbeatAt: new Date() },
        )
        .catch((error: Error) =>
          this.logger.warn({ err: error.message }, 'lease heartbeat not written'),
        );
    }, LEASE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /**
   * Whether the process making a starting lease is gone: on this host, an
   * earlier process (its pid no longer runs, or this pid with another nonce
   * after a restart); elsewhere, a heartbeat older than LEASE_STALE_MS.
   */
  private makerGone(lease: ClusterLease): boolean {
    if (!lease.owner) return true;
    const [host, pid] = lease.owner.split(':');
    if (host === hostname()) {
      if (lease.owner === this.owner) return !this.making.has(lease.id);
      if (Number(pid) === process.pid || !processRuns(Number(pid))) return true;
    }
    const beat = lease.heartbeatAt?.getTime() ?? 0;
    return Date.now() - beat > LEASE_STALE_MS;
  }

  private async retire(
    lease: ClusterLease,
    state: 'released' | 'failed',
    reason?: string,
  ): Promise<void> {
    const provider = this.requireProvider();
    this.retiring.add(lease.id);
    try {
      await provider
        .destroy(storedCluster(lease.id, lease.handle))
        .catch((error: Error) =>
          this.logger.warn(
            { lease: lease.id, err: error.message },
            'destroy failed; reconcile retries',
          ),
        );
      this.clusters.delete(lease.id);
      // The first verdict stands: a release is not turned into a failure by a late look.
      await this.leases.update(
        { id: lease.id, state: In([...LIVE_STATES]) },
        { state, releasedAt: new Date(), failureReason: reason ?? null },
      );
    } finally {
      this.retiring.delete(lease.id);
    }
  }
}

/** A cluster as the database keeps it: how to find it, never its credentials. */
function storedCluster(id: string, handle: ClusterLease['handle']): ProvidedCluster {
  return {
    id,
    kubeconfig: '',
    candidateKubeconfig: '',
    nodes: handle?.nodes ?? [],
    handle: handle?.provider ?? {},
  };
}

function processRuns(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function uniqueShapes(shapes: ClusterShape[]): ClusterShape[] {
  const seen = new Map<string, ClusterShape>();
  for (const shape of shapes) seen.set(shapeKey(shape), shape);
  return [...seen.values()];
}
