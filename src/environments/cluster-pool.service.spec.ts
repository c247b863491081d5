import 'reflect-metadata';
import { jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config.schema.js';
import { dataSourceOptions } from '../database/database.options.js';
import { serializeSqliteAccess } from '../database/sqlite-serializer.js';
import { ClusterLease } from './cluster-lease.entity.js';
import { ClusterPoolService, LEASE_HEARTBEAT_MS } from './cluster-pool.service.js';
import type {
  ClusterProvider,
  ClusterProviderStatus,
  ClusterShape,
  ProvidedCluster,
} from './cluster-provider.js';

/**
 * A provider that makes clusters in memory, so the pool's bookkeeping (what
 * the database says, what is destroyed when) is seen without real clusters;
 * the sandbox provider itself is tested on real nodes (test/realnode).
 */
class FakeProvider implements ClusterProvider {
  readonly name = 'fake';
  alive = new Map<string, ProvidedCluster>();
  destroyed: string[] = [];
  room = 3;
  failNext?: string;
  created = 0;
  /** Resolves the pending creations, in order, when the test says so. */
  gate?: Promise<void>;

  async status(): Promise<ClusterProviderStatus> {
    return { available: true, room: this.room - this.alive.size };
  }
  async create(shape: ClusterShape, id: string): Promise<ProvidedCluster> {
    this.created++;
    await this.gate;
    if (this.failNext) {
      const reason = this.failNext;
      this.failNext = undefined;
      throw new Error(reason);
    }
    const cluster = {
      id,
      kubeconfig: `kubeconfig of ${id}`,
      candidateKubeconfig: `candidate kubeconfig of ${id}`,
      nodes: shape.nodes,
      handle: { id },
    };
    this.alive.set(id, cluster);
    return cluster;
  }
  async find(cluster: ProvidedCluster) {
    return this.alive.get(cluster.id);
  }
  async exec() {
    return { code: 0, stdout: '', stderr: '' };
  }
  nodeShells() {
    return [];
  }
  async destroy(cluster: ProvidedCluster) {
    this.destroyed.push(cluster.id);
    this.alive.delete(cluster.id);
  }
  async list() {
    return [...this.alive.keys()].sort();
  }
}

const shape = { nodes: ['controlplane', 'node01'] };
const silent = pino({ level: 'silent' });

describe('the cluster pool', () => {
  let dir: string;
  let ds: DataSource;
  let provider: FakeProvider;
  const pool = (poolSize = 1, max = 0) =>
    new ClusterPoolService(
      loadConfig({
        CLUSTER_PROVIDER: 'sandbox',
        POOL_SIZE: String(poolSize),
        CLUSTER_MAX: String(max),
      }),
      provider,
      ds.getRepository(ClusterLease),
      silent,
    );
  const until = async (what: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await what()); i++) await new Promise((r) => setTimeout(r, 10));
  };
  /** Every lease as state:session/alias, sorted (leases made in one millisecond have no order). */
  const states = async () =>
    (await ds.getRepository(ClusterLease).find())
      .map((l) => `${l.state}${l.sessionId ? `:${l.sessionId}/${l.alias}` : ''}`)
      .sort();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pool-'));
    ds = new DataSource(
      dataSourceOptions({ type: 'sqlite', path: join(dir, 'db.sqlite'), migrationsRun: false }),
    );
    await ds.initialize();
    serializeSqliteAccess(ds);
    await ds.runMigrations();
    provider = new FakeProvider();
  });
  afterEach(async () => {
    await ds.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps POOL_SIZE warm per shape, one start at a time, and hands each warm cluster to one session', async () => {
    const service = pool(2);
    expect(await service.refill([shape, { nodes: [...shape.nodes] }])).toBe(2);
    // Already stocked (starting counts): nothing more.
    expect(await service.refill([shape])).toBe(0);
    await until(async () => (await states()).every((s) => s === 'warm'));
    expect(await states()).toEqual(['warm', 'warm']);

    const [a, b, c] = await Promise.all([
      service.claim(shape, 's1', 'k8s-c1'),
      service.claim(shape, 's2', 'k8s-c1'),
      service.claim(shape, 's3', 'k8s-c1'),
    ]);
    const claimed = [a, b, c].filter(Boolean);
    expect(claimed).toHaveLength(2);
    expect(new Set(claimed.map((l) => l!.id)).size).toBe(2);
    // A retried provisioning gets the cluster it already holds.
    const again = await service.claim(shape, a ? 's1' : 's2', 'k8s-c1');
    expect(again?.id).toBe((a ?? b)!.id);
    expect((await service.cluster(again!)).kubeconfig).toBe(`kubeconfig of ${again!.id}`);
  });

  it('makes a cluster for a session that cannot wait, and releases (destroys) it after', async () => {
    const service = pool(0);
    expect(await service.refill([shape])).toBe(0);
    const lease = (await service.makeFor(shape, 's1', 'k8s-c1'))!;
    expect(lease).toMatchObject({ state: 'leased', sessionId: 's1', alias: 'k8s-c1' });
    expect(lease.handle).toEqual({ nodes: shape.nodes, provider: { id: lease.id } });
    expect((await service.leasesOf('s1')).map((l) => l.id)).toEqual([lease.id]);
    await service.release('s1');
    expect(provider.destroyed).toEqual([lease.id]);
    expect(await states()).toEqual(['released:s1/k8s-c1']);
    expect(await service.leasesOf('s1')).toEqual([]);
  });

  it('records a start that failed, with why, and destroys what it left', async () => {
    const service = pool(0);
    provider.failNext = 'kubeadm init failed';
    await expect(service.makeFor(shape, 's1', 'k8s-c1')).rejects.toThrow('kubeadm init failed');
    const [lease] = await ds.getRepository(ClusterLease).find();
    expect(lease).toMatchObject({ state: 'failed', failureReason: 'kubeadm init failed' });
    expect(provider.destroyed).toEqual([lease.id]);
  });

  it("gives a waiting session's untouched clusters back to the pool", async () => {
    const service = pool(1);
    await service.refill([shape]);
    await until(async () => (await states()).includes('warm'));
    const lease = await service.claim(shape, 's1', 'k8s-c1');
    expect(await states()).toEqual(['leased:s1/k8s-c1']);
    await service.unclaim('s1');
    expect(await states()).toEqual(['warm']);
    expect((await service.claim(shape, 's2', 'k8s-c1'))?.id).toBe(lease!.id);
    expect(provider.destroyed).toEqual([]);
  });

  it('starts nothing when the machine has no room', async () => {
    provider.room = 0;
    expect(await pool(2).refill([shape])).toBe(0);
    expect(await states()).toEqual([]);
  });

  it('two workers at once start no more than POOL_SIZE, CLUSTER_MAX or free memory allow', async () => {
    // Two services on one database are two workers; each sees room before the other writes.
    provider.room = 10;
    const [a, b] = [pool(2), pool(2)];
    const begun = await Promise.all([a.refill([shape]), b.refill([shape]), a.refill([shape])]);
    expect(begun.reduce((x, y) => x + y)).toBe(2);
    expect(await ds.getRepository(ClusterLease).count()).toBe(2);
    await until(async () => (await states()).every((s) => s === 'warm'));

    // CLUSTER_MAX 3 with two live: of three sessions made for at once, one gets a cluster.
    const [c, d] = [pool(0, 3), pool(0, 3)];
    const made = await Promise.all([
      c.makeFor(shape, 's1', 'k8s-c1'),
      d.makeFor(shape, 's2', 'k8s-c1'),
      c.makeFor(shape, 's3', 'k8s-c1'),
    ]);
    expect(made.filter(Boolean)).toHaveLength(1);
    expect(await c.room()).toBe(0);

    // Free memory for one more (CLUSTER_MAX off): one of two gets it.
    provider.room = provider.alive.size + 1;
    const [e, f] = [pool(0, 0), pool(0, 0)];
    const more = await Promise.all([
      e.makeFor(shape, 's4', 'k8s-c1'),
      f.makeFor(shape, 's5', 'k8s-c1'),
    ]);
    expect(more.filter(Boolean)).toHaveLength(1);
    expect(provider.alive.size).toBe(4);
  });

  it('keeps to CLUSTER_MAX live clusters whatever the memory, and frees room as they are released', async () => {
    provider.room = 10;
    const service = pool(2, 2);
    await service.makeFor(shape, 's1', 'k8s-c1');
    expect(await service.room()).toBe(1);
    // One warm cluster fits under the cap, not the second POOL_SIZE asks for.
    expect(await service.refill([shape])).toBe(1);
    await until(async () => (await states()).includes('warm'));
    expect(await service.room()).toBe(0);
    expect(await service.stock(shape)).toEqual({ warm: 1, starting: 0 });
    await service.release('s1');
    expect(await service.room()).toBe(1);
  });

  it('after a restart finds live clusters, fails lost ones and half-made ones, and destroys orphans', async () => {
    const before = pool(1);
    const leased = (await before.makeFor(shape, 's1', 'k8s-c1'))!;
    const lost = (await before.makeFor(shape, 's2', 'k8s-c1'))!;
    provider.alive.delete(lost.id); // died while the engine was down
    await before.refill([shape]);
    await until(async () => (await states()).includes('warm'));
    // A start cut off by the restart: its lease says starting, nobody is making it.
    let release!: () => void;
    provider.gate = new Promise((r) => (release = r));
    void before.makeFor(shape, 's3', 'k8s-c1').catch(() => undefined);
    await until(async () => provider.created === 4);
    // A cluster no lease knows (a lease row lost with a restored database).
    provider.alive.set('stray', {
      id: 'stray',
      kubeconfig: '',
      candidateKubeconfig: '',
      nodes: [],
      handle: {},
    });

    const after = pool(1);
    const result = await after.reconcile();
    expect(result).toEqual({ found: 2, lost: 2, orphansDestroyed: 1 });
    expect(await states()).toEqual([
      'failed:s2/k8s-c1',
      'failed:s3/k8s-c1',
      'leased:s1/k8s-c1',
      'warm',
    ]);
    expect(provider.destroyed).toEqual(expect.arrayContaining([lost.id, 'stray']));
    expect((await after.cluster(leased)).kubeconfig).toBe(`kubeconfig of ${leased.id}`);
    release();
  });

  it('after a restart retires warm clusters made under settings it no longer uses, and keeps leased ones', async () => {
    const before = pool(1);
    const leased = (await before.makeFor(shape, 's1', 'k8s-c1'))!;
    await before.refill([shape]);
    await until(async () => (await states()).includes('warm'));
    // The operator turned user namespaces on: every cluster made before is stale.
    for (const cluster of provider.alive.values()) cluster.stale = 'made as root';
    const [warm] = [...provider.alive.keys()].filter((id) => id !== leased.id);

    const after = pool(1);
    await after.reconcile();
    expect(await states()).toEqual(['leased:s1/k8s-c1', 'released']);
    expect(provider.destroyed).toEqual([warm]);
    expect((await after.cluster(leased)).kubeconfig).toBe(`kubeconfig of ${leased.id}`);
  });

  it("leaves another worker's start alone while its heartbeat is fresh, and fails it once stale", async () => {
    const repo = ds.getRepository(ClusterLease);
    // Another host's worker is making this cluster: its lease and its half-made cluster exist.
    await repo.save(
      repo.create({
        id: 'theirs',
        provider: 'fake',
        shape: 'controlplane,node01',
        state: 'starting',
        sessionId: null,
        alias: null,
        handle: null,
        failureReason: null,
        owner: 'worker-b.example:4242:0badc0de',
        heartbeatAt: new Date(),
        createdAt: new Date(),
        readyAt: null,
        leasedAt: null,
        releasedAt: null,
      }),
    );
    provider.alive.set('theirs', {
      id: 'theirs',
      kubeconfig: '',
      candidateKubeconfig: '',
      nodes: [],
      handle: {},
    });
    const mine = pool(0);
    expect(await mine.reconcile()).toEqual({ found: 0, lost: 0, orphansDestroyed: 0 });
    expect(await states()).toEqual(['starting']);
    expect(provider.destroyed).toEqual([]);

    // Its worker died: the heartbeat stops being renewed.
    await repo.update({ id: 'theirs' }, { heartbeatAt: new Date(Date.now() - 61_000) });
    expect(await mine.reconcile()).toEqual({ found: 0, lost: 1, orphansDestroyed: 0 });
    const [lease] = await repo.find();
    expect(lease).toMatchObject({ state: 'failed' });
    expect(lease.failureReason).toMatch(/process making it stopped/);
    expect(provider.destroyed).toEqual(['theirs']);
  });

  it('stamps the leases it makes with this process and renews their heartbeat while they start', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      let release!: () => void;
      provider.gate = new Promise((r) => (release = r));
      const service = pool(0);
      // setTimeout is faked here: wait on setImmediate instead.
      const soon = async (what: () => Promise<boolean>) => {
        for (let i = 0; i < 10_000 && !(await what()); i++)
          await new Promise((r) => setImmediate(r));
      };
      const making = service.makeFor(shape, 's1', 'k8s-c1');
      await soon(async () => provider.created === 1);
      const [before] = await ds.getRepository(ClusterLease).find();
      expect(before.owner).toBe(service.owner);
      jest.advanceTimersByTime(LEASE_HEARTBEAT_MS);
      const renewed = async () =>
        (await ds.getRepository(ClusterLease).findOneByOrFail({ id: before.id })).heartbeatAt!;
      await soon(async () => (await renewed()).getTime() > before.heartbeatAt!.getTime());
      expect((await renewed()).getTime()).toBeGreaterThan(before.heartbeatAt!.getTime());
      release();
      await making;
      service.onModuleDestroy();
    } finally {
      jest.useRealTimers();
    }
  });
});
