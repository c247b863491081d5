import 'reflect-metadata';
import { jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DataSource, In } from 'typeorm';
import type { AppConfig } from '../../../src/config/config.schema.js';
import { dataSourceOptions } from '../../../src/database/database.options.js';
import { ClusterLease } from '../../../src/environments/cluster-lease.entity.js';
import { reserveLease } from '../../../src/environments/lease-reservation.js';
import { reserveSessionPlace, SESSION_CAPS_LOCK_KEY } from '../../../src/sessions/session-caps.js';
import { serializeSqliteAccess } from '../../../src/database/sqlite-serializer.js';
import { DomainError } from '../../../src/errors/domain-error.js';
import { MetricsService } from '../../../src/metrics/metrics.service.js';
import type { QueueService } from '../../../src/queue/queue.service.js';
import { SessionEvent } from '../../../src/sessions/session-event.entity.js';
import { SessionLifecycleService } from '../../../src/sessions/session-lifecycle.service.js';
import { SessionQuestion } from '../../../src/sessions/session-question.entity.js';
import { RUNNING_STATES, SessionState } from '../../../src/sessions/session-state.js';
import { Session } from '../../../src/sessions/session.entity.js';
import { SessionsService } from '../../../src/sessions/sessions.service.js';

jest.setTimeout(60_000);

/** Creates an empty database of the given kind and returns its config and a dropper. */
async function scratchDatabase(
  kind: 'sqlite' | 'postgres',
): Promise<{ database: AppConfig['database']; drop: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'repo-sqlite-'));
    return {
      database: { type: 'sqlite', path: join(dir, 'test.sqlite'), migrationsRun: false },
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const base = process.env.TEST_POSTGRES_URL;
  if (!base)
    throw new Error('TEST_POSTGRES_URL is not set: run through the integration Jest project');
  const name = `t_${randomBytes(5).toString('hex')}`;
  const admin = new DataSource({ type: 'postgres', url: base });
  await admin.initialize();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    database: { type: 'postgres', url: url.toString(), migrationsRun: false },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}

const silent = pino({ level: 'silent' });
const noQueues = { enqueue: async () => 'unused' } as unknown as QueueService;

function newSession(overrides: Partial<Session> = {}): Session {
  return Object.assign(new Session(), {
    id: randomUUID(),
    examId: 'exam',
    examTitle: 'Exam',
    candidateName: 'Candidate',
    invitationId: null,
    prefix: `s${randomBytes(3).toString('hex').slice(0, 5)}`,
    namespaces: [],
    namespaceLimits: {},
    clusterResources: [],
    podAllowances: {},
    state: SessionState.ACTIVE,
    failureReason: null,
    tokenHash: randomBytes(32).toString('hex'),
    seed: 'seed',
    durationSeconds: 3600,
    passPercent: 66,
    createdAt: new Date(),
    startedAt: new Date(),
    deadline: new Date(Date.now() + 3_600_000),
    endedAt: null,
    gradedAt: null,
    tornDownAt: null,
    ...overrides,
  });
}

function newQuestion(sessionId: string, overrides: Partial<SessionQuestion> = {}): SessionQuestion {
  return Object.assign(new SessionQuestion(), {
    id: randomUUID(),
    sessionId,
    position: 0,
    questionId: 'q',
    questionDigest: 'd',
    title: 'T',
    domain: 'storage',
    weight: 1,
    cluster: 'main',
    variables: {},
    task: 't',
    setup: '',
    checks: [],
    solution: { explanation: 'e', commands: [] },
    setupWaits: [],
    setupSteps: [],
    setupStatus: 'pending',
    setupMessage: null,
    answer: null,
    flagged: false,
    note: null,
    answeredAt: null,
    ...overrides,
  });
}

describe.each(['sqlite', 'postgres'] as const)('persistence on %s', (kind) => {
  let ds: DataSource;
  let database: AppConfig['database'];
  let drop: () => Promise<void>;
  let lifecycle: SessionLifecycleService;
  let sessions: SessionsService;

  beforeAll(async () => {
    const scratch = await scratchDatabase(kind);
    drop = scratch.drop;
    database = scratch.database;
    ds = new DataSource(dataSourceOptions(scratch.database));
    await ds.initialize();
    serializeSqliteAccess(ds);
    await ds.runMigrations();
    lifecycle = new SessionLifecycleService(ds, noQueues, new MetricsService(), silent);
    sessions = new SessionsService(
      ds,
      ds.getRepository(Session),
      ds.getRepository(SessionQuestion),
      ds.getRepository(SessionEvent),
      ds.getRepository('Invitation'),
      undefined as never,
      undefined as never,
      lifecycle,
      undefined as never,
      undefined as never,
      undefined as never,
      undefined as never,
    );
  });
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  it('the migrations produce exactly the schema the entities describe', async () => {
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('every migration can be reverted and applied again', async () => {
    const count = ds.migrations.length;
    for (let i = 0; i < count; i++) await ds.undoLastMigration();
    expect(await ds.query('SELECT COUNT(*) AS n FROM migrations')).toEqual([
      { n: kind === 'sqlite' ? 0 : '0' },
    ]);
    const applied = await ds.runMigrations();
    expect(applied).toHaveLength(count);
  });

  it('stores instants to the millisecond and compares them in SQL', async () => {
    const deadline = new Date(Date.UTC(2026, 10, 22, 10, 0, 0, 123));
    const session = newSession({ deadline });
    await ds.getRepository(Session).insert(session);
    const read = await ds.getRepository(Session).findOneByOrFail({ id: session.id });
    expect(read.deadline?.toISOString()).toBe('2026-11-22T10:00:00.123Z');
    expect(read.createdAt.getTime()).toBe(session.createdAt.getTime());
    const before = await ds
      .getRepository(Session)
      .createQueryBuilder('s')
      .where('s.id = :id AND s.deadline < :t', { id: session.id, t: deadline.getTime() + 1 })
      .getCount();
    expect(before).toBe(1);
  });

  it('keeps JSON columns (variables, rendered checks) intact', async () => {
    const session = newSession();
    await ds.getRepository(Session).insert(session);
    const question = newQuestion(session.id, {
      weight: 2,
      variables: { ns: 'sabc-app', replicas: 3, on: true },
      checks: [
        {
          id: 'c',
          kind: 'resource',
          points: 2,
          description: 'd',
          match: { spec: { replicas: 3 } },
        } as SessionQuestion['checks'][number],
      ],
      solution: { explanation: 'e', commands: ['kubectl get pods'] },
    });
    await ds.getRepository(SessionQuestion).insert(question);
    const read = await ds.getRepository(SessionQuestion).findOneByOrFail({ id: question.id });
    expect(read.variables).toEqual({ ns: 'sabc-app', replicas: 3, on: true });
    expect(read.checks).toEqual(question.checks);
    expect(read.flagged).toBe(false);
  });

  it('lets exactly one of many concurrent movers change a session', async () => {
    const session = newSession({ deadline: new Date(Date.now() - 1000) });
    await ds.getRepository(Session).insert(session);
    const attempts = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        i % 2
          ? lifecycle.transition(session.id, SessionState.SUBMITTED, `submit ${i}`, {
              endedAt: new Date(),
            })
          : lifecycle.transition(session.id, SessionState.EXPIRED, `expire ${i}`, {
              endedAt: session.deadline,
            }),
      ),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of attempts.filter((a) => a.status === 'rejected')) {
      expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(DomainError);
      expect(['CONFLICT', 'ILLEGAL_TRANSITION']).toContain(
        ((lost as PromiseRejectedResult).reason as DomainError).code,
      );
    }
    const events = await ds.getRepository(SessionEvent).findBy({ sessionId: session.id });
    expect(events).toHaveLength(1);
    const final = await ds.getRepository(Session).findOneByOrFail({ id: session.id });
    expect(final.state).toBe(events[0].toState);
  });

  it('rejects an illegal transition with 409 and keeps the state', async () => {
    const session = newSession({ state: SessionState.GRADED });
    await ds.getRepository(Session).insert(session);
    const error = await lifecycle
      .transition(session.id, SessionState.ACTIVE, 'nope')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('ILLEGAL_TRANSITION');
    expect((error as DomainError).status).toBe(409);
    expect((await ds.getRepository(Session).findOneByOrFail({ id: session.id })).state).toBe(
      'graded',
    );
  });

  it('accepts an answer before the deadline and refuses it after, in the same statement', async () => {
    const live = newSession({ deadline: new Date(Date.now() + 60_000) });
    const late = newSession({ deadline: new Date(Date.now() - 1) });
    for (const s of [live, late]) {
      await ds.getRepository(Session).insert(s);
      await ds.getRepository(SessionQuestion).insert(newQuestion(s.id));
    }
    expect(await sessions.saveAnswer(live.id, 'q', { answer: 'on time' })).toMatchObject({
      answer: 'on time',
    });
    const error = await sessions
      .saveAnswer(late.id, 'q', { answer: 'too late' })
      .catch((e: unknown) => e);
    expect((error as DomainError).code).toBe('SESSION_EXPIRED');
    const stored = await ds.getRepository(SessionQuestion).findOneByOrFail({ sessionId: late.id });
    expect(stored.answer).toBeNull();
    // Noticing the passed deadline expired the session, at its deadline.
    const expired = await ds.getRepository(Session).findOneByOrFail({ id: late.id });
    expect(expired.state).toBe('expired');
    expect(expired.endedAt?.getTime()).toBe(late.deadline!.getTime());
  });

  it('reads the session view through plain SQL with the same values the entities hold', async () => {
    const session = newSession({ deadline: new Date(Date.now() + 600_000) });
    await ds.getRepository(Session).insert(session);
    await ds.getRepository(SessionQuestion).insert(
      newQuestion(session.id, {
        weight: 3,
        variables: { ns: 'x-app', n: 2 },
        task: 'do it',
        setup: 'apiVersion: v1',
        checks: [{ id: 'c', kind: 'absent', points: 3, description: 'gone' }],
        solution: { explanation: 'e', commands: ['kubectl delete pod x'] },
        answer: 'mine',
        flagged: true,
        answeredAt: new Date(1_700_000_000_123),
      }),
    );
    const candidate = await sessions.view(session.id, { kind: 'candidate', sessionId: session.id });
    expect(candidate).toMatchObject({
      state: 'active',
      deadline: session.deadline!.toISOString(),
      durationSeconds: 3600,
    });
    expect(candidate.remainingSeconds).toBeGreaterThan(590);
    expect(candidate.questions).toEqual([
      {
        position: 0,
        questionId: 'q',
        title: 'T',
        domain: 'storage',
        weight: 3,
        cluster: 'main',
        task: 'do it',
        taskHtml: '<p>do it</p>\n',
        domainName: 'Storage',
        // Its one check is not an answer check: done in the cluster, no answer box.
        answerable: false,
        setupStatus: 'pending',
        setupMessage: null,
        answer: 'mine',
        flagged: true,
        note: null,
        answeredAt: '2023-11-14T22:13:20.123Z',
      },
    ]);
    const staff = await sessions.view(session.id, {
      kind: 'staff',
      role: 'trainer',
      tokenId: 't',
      name: 'n',
    });
    expect(staff.questions[0]).toMatchObject({
      variables: { ns: 'x-app', n: 2 },
      checks: [{ id: 'c', kind: 'absent', points: 3, description: 'gone' }],
      solution: { explanation: 'e', commands: ['kubectl delete pod x'] },
    });
    const other = await sessions
      .view(session.id, { kind: 'candidate', sessionId: randomUUID() })
      .catch((e: unknown) => e);
    expect((other as DomainError).code).toBe('SESSION_NOT_FOUND');
  });

  it('cluster leases: reservations made at once from two processes keep to CLUSTER_MAX and the pool size', async () => {
    // PostgreSQL: a second connection pool is another worker process.
    // SQLite is one process: its workers share the one connection.
    const other = kind === 'postgres' ? new DataSource(dataSourceOptions(database)) : undefined;
    await other?.initialize();
    try {
      const sources = [ds, other ?? ds];
      const lease = (shape: string, sessionId: string | null = null) =>
        Object.assign(new ClusterLease(), {
          id: randomUUID(),
          provider: 'race',
          shape,
          state: 'starting',
          sessionId,
          alias: sessionId ? 'k8s-c1' : null,
          handle: null,
          failureReason: null,
          owner: 'test',
          heartbeatAt: new Date(),
          createdAt: new Date(),
          readyAt: null,
          leasedAt: null,
          releasedAt: null,
        });
      const count = (where: object) =>
        ds.getRepository(ClusterLease).count({ where: { provider: 'race', ...where } });

      // Twelve sessions at once, room by memory for ten, CLUSTER_MAX 3.
      const made = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          reserveLease(sources[i % 2]!, lease('cp+n1', `s${i}`), { freeRoom: 10, maxClusters: 3 }),
        ),
      );
      expect(made.filter(Boolean)).toHaveLength(3);
      expect(await count({})).toBe(3);

      // The pool of another shape, POOL_SIZE 2, refilled by both at once:
      // memory for ten, but three are starting already, so at most seven more.
      const stocked = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          reserveLease(sources[i % 2]!, lease('cp'), {
            freeRoom: 10,
            maxClusters: 0,
            stockBelow: 2,
          }),
        ),
      );
      expect(stocked.filter(Boolean)).toHaveLength(2);
      expect(await count({ shape: 'cp' })).toBe(2);

      // Free memory for one more than those starting: one of six gets it.
      const last = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          reserveLease(sources[i % 2]!, lease('cp+n1', `t${i}`), { freeRoom: 6, maxClusters: 0 }),
        ),
      );
      expect(last.filter(Boolean)).toHaveLength(1);
      expect(await count({ state: 'starting' })).toBe(6);
    } finally {
      await other?.destroy();
    }
  });
  it('session caps: starts made at once from two processes keep to the total and per-client caps', async () => {
    const other = kind === 'postgres' ? new DataSource(dataSourceOptions(database)) : undefined;
    await other?.initialize();
    try {
      const sources = [ds, other ?? ds];
      // Earlier tests' sessions would count: end them.
      await ds
        .getRepository(Session)
        .update({ state: In([...RUNNING_STATES]) }, { state: SessionState.GRADED });
      const running = () => ds.getRepository(Session).countBy({ state: In([...RUNNING_STATES]) });
      // What a start does: the reservation, then its own row, in one transaction.
      const start = (source: DataSource, client: string | null, caps: object) =>
        source
          .transaction(async (manager) => {
            await reserveSessionPlace(
              manager,
              { maxActiveSessions: 0, maxActiveSessionsPerClient: 0, ...caps },
              client,
            );
            await manager.insert(
              Session,
              newSession({ state: SessionState.PROVISIONING, clientAddress: client ?? 'invited' }),
            );
          })
          .then(
            () => 'started',
            (error: unknown) => (error as DomainError).code,
          );

      // Ten open-exam starts from one address at once, at most 2 per client.
      const fromOne = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          start(sources[i % 2]!, '203.0.113.7', { maxActiveSessionsPerClient: 2 }),
        ),
      );
      expect(fromOne.filter((r) => r === 'started')).toHaveLength(2);
      expect(fromOne.filter((r) => r === 'SESSION_LIMIT_REACHED')).toHaveLength(8);

      // Twelve at once from other clients and invitations, 5 places in all (2 taken).
      const many = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          start(sources[i % 2]!, i % 3 ? `198.51.100.${i}` : null, {
            maxActiveSessions: 5,
            maxActiveSessionsPerClient: 2,
          }),
        ),
      );
      expect(many.filter((r) => r === 'started')).toHaveLength(3);
      expect(many.filter((r) => r === 'AT_CAPACITY')).toHaveLength(9);
      expect(await running()).toBe(5);
    } finally {
      await other?.destroy();
    }
  });

  if (kind === 'postgres')
    it('session caps: a start waits a bounded time for the lock, then asks to retry', async () => {
      const other = new DataSource(dataSourceOptions(database));
      await other.initialize();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      // A start stuck while holding the lock (its process hung mid-transaction).
      const holder = other.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock($1::bigint)', [SESSION_CAPS_LOCK_KEY]);
        locked();
        await held;
      });
      try {
        await isLocked;
        const started = Date.now();
        const refused = await ds
          .transaction((manager) =>
            reserveSessionPlace(
              manager,
              { maxActiveSessions: 100, maxActiveSessionsPerClient: 0 },
              null,
            ),
          )
          .catch((error: unknown) => error as DomainError);
        expect(refused).toBeInstanceOf(DomainError);
        expect((refused as DomainError).code).toBe('AT_CAPACITY');
        expect((refused as DomainError).details).toMatchObject({ retryAfterSeconds: 10 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
      } finally {
        release();
        await holder;
        await other.destroy();
      }
    });
});
