/**
 * `npm run bench:split`: the split deployment (API and worker processes on
 * PostgreSQL) against the single-process engine on SQLite, in one run, each
 * configuration on its own sandbox cluster, Redis and database
 * (engine-process.ts):
 *
 *  1. GET /api/sessions/me (one active session of the sample exam) with
 *     autocannon from this process, --connections for --duration seconds
 *     after a warm-up: (a) one process on SQLite (as bench:api), (b) one API
 *     process + one worker on PostgreSQL, (c) two API processes + one worker
 *     on PostgreSQL. For (c) autocannon is given both processes' URLs: it
 *     opens the connections round-robin over them (half each) and keeps one
 *     latency histogram and one request count over both, so p50/p99 and
 *     req/s are of the whole load, as one balancer in front would see it.
 *  2. --sessions solved sessions of a four-task exam (bench:grading part 2's)
 *     submitted at the same moment: time until every report is stored, on
 *     SQLite (one process), on PostgreSQL with one worker (b), and with two
 *     workers (c plus a second worker); every session must be graded once.
 *  3. A killed worker: two workers, --kill-sessions solved sessions
 *     submitted, one worker SIGKILLed as soon as the first report is stored;
 *     time from the kill until every session is graded, and a check in the
 *     database that each was graded exactly once (one grade run, one move to
 *     graded). The killed worker's jobs are known from BullMQ's `stalled`
 *     events; they wait for its lock to expire (lockDuration 30 s, checked
 *     every 30 s).
 *  4. A table of the figures with their ratios to the SQLite ones.
 *
 *   npm run bench:split -- [--connections 100] [--duration 20] [--warmup 3]
 *                          [--sessions 100] [--kill-sessions 100]
 *
 * Everything it starts (engine processes, Redis, PostgreSQL, sandboxes) is
 * stopped when it ends, fails or is interrupted (SIGINT, SIGTERM).
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { QueueEvents } from 'bullmq';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/database.options.js';
import { QueueName } from '../../src/queue/jobs.js';
import { redisConnection } from '../../src/queue/redis-connection.js';
import {
  type Engine,
  type EngineOptions,
  startEngine,
  staffToken,
  startSession,
  untilActive,
} from './engine-process.js';
import { MANY_QUESTIONS, bankWithExams, solvedSessions, submitAll } from './solved-sessions.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '100' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    sessions: { type: 'string', default: '100' },
    'kill-sessions': { type: 'string' },
  },
});
const CONNECTIONS = Number(values.connections);
const DURATION = Number(values.duration);
const WARMUP = Number(values.warmup);
const SESSIONS = Number(values.sessions);
const KILL_SESSIONS = Number(values['kill-sessions'] ?? values.sessions);
for (const [name, value] of Object.entries({ CONNECTIONS, DURATION, SESSIONS, KILL_SESSIONS }))
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name.toLowerCase()}: not a count`);

const EXAMS = {
  sqlite: 'split-sqlite',
  oneWorker: 'split-pg-1w',
  twoWorkers: 'split-pg-2w',
  kill: 'split-pg-kill',
};

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What must be stopped if the run is interrupted. */
const running = new Set<() => Promise<void>>();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`${signal}: stopping everything started`);
    void Promise.allSettled([...running].map((stop) => stop())).then(() => process.exit(130));
  });
}

interface ApiFigure {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  rps: number;
  total: number;
  bad: number;
}

interface SubmitFigure {
  seconds: number;
  full: number;
  once: number;
  count: number;
}

interface KillFigure {
  count: number;
  atKill: Record<string, number>;
  /** Seconds from the submit to the kill. */
  killAfter: number;
  /** Jobs the killed worker held (stalled), and when BullMQ moved them back (s after the kill). */
  stalled: number;
  stalledAt: number[];
  /** Seconds from the kill until every session not held by the killed worker was graded. */
  othersDone: number;
  /** Seconds from the kill until every session was graded. */
  allDone: number;
  once: number;
}

/** Raw reads of the engine's database (state counts, runs per session). */
async function openDatabase(engine: Engine): Promise<DataSource> {
  const options = dataSourceOptions(
    engine.databaseUrl
      ? { type: 'postgres', url: engine.databaseUrl, migrationsRun: false }
      : { type: 'sqlite', path: engine.sqlitePath, migrationsRun: false },
  );
  return new DataSource({
    ...options,
    entities: [],
    migrations: [],
  } as typeof options).initialize();
}

async function stateCounts(db: DataSource, examId: string): Promise<Record<string, number>> {
  const rows = (await db.query(
    `SELECT state, COUNT(*) AS n FROM sessions WHERE "examId" = '${examId}' GROUP BY state`,
  )) as { state: string; n: string | number }[];
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** Sessions of the exam graded exactly once (one grade run, one move to graded), and at full marks. */
async function gradedOnce(
  db: DataSource,
  examId: string,
): Promise<{ once: number; full: number; problems: string[] }> {
  const sessions = (await db.query(`SELECT id FROM sessions WHERE "examId" = '${examId}'`)) as {
    id: string;
  }[];
  const runs = (await db.query(
    `SELECT r."sessionId" AS sid, r."pointsAwarded" AS a, r."pointsPossible" AS p FROM grade_runs r
     JOIN sessions s ON s.id = r."sessionId" WHERE s."examId" = '${examId}'`,
  )) as { sid: string; a: number; p: number }[];
  const moves = (await db.query(
    `SELECT e."sessionId" AS sid FROM session_events e
     JOIN sessions s ON s.id = e."sessionId" WHERE s."examId" = '${examId}' AND e."toState" = 'graded'`,
  )) as { sid: string }[];
  let once = 0;
  let full = 0;
  const problems: string[] = [];
  for (const { id } of sessions) {
    const mine = runs.filter((r) => r.sid === id);
    const graded = moves.filter((m) => m.sid === id).length;
    if (mine.length === 1 && graded === 1) once++;
    else problems.push(`${id}: ${mine.length} grade runs, ${graded} moves to graded`);
    if (mine.length && mine.every((r) => Number(r.a) === Number(r.p))) full++;
  }
  return { once, full, problems };
}

/** Polls until every session of the exam is graded; fails on grading_failed or after 300 s. */
async function untilGraded(
  db: DataSource,
  examId: string,
  count: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const counts = await stateCounts(db, examId);
    if ((counts.graded ?? 0) >= count) return;
    if (counts.grading_failed)
      throw new Error(`${counts.grading_failed} sessions of ${examId} in grading_failed`);
    if (Date.now() > deadline)
      throw new Error(`${examId}: not all graded after 300 s: ${JSON.stringify(counts)}`);
    await sleep(everyMs);
  }
}

async function measureApi(engine: Engine, label: string): Promise<ApiFigure> {
  const session = await startSession(engine.base, 'sample', 'Bench');
  await untilActive(engine.base, session);
  const urls = engine.bases.map((base) => `${base}/api/sessions/me`);
  // autocannon takes several URLs (its types say one) and spreads the connections over them.
  const url = (urls.length === 1 ? urls[0] : urls) as string;
  const headers = { authorization: `Bearer ${session.token}` };
  log(`${label}: GET /api/sessions/me, warm-up ${WARMUP} s`);
  await autocannon({ url, headers, connections: 10 * urls.length, duration: WARMUP });
  log(`${label}: ${CONNECTIONS} connections over ${urls.length} API process(es), ${DURATION} s`);
  const r = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION });
  const figure: ApiFigure = {
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    rps: r.requests.average,
    total: r.requests.total,
    bad: r.non2xx + r.errors + r.timeouts,
  };
  log(
    `${label}: p50 ${figure.p50} ms, p90 ${figure.p90} ms, p99 ${figure.p99} ms, max ${figure.max} ms; ` +
      `${Math.round(figure.rps)} req/s (${figure.total} requests; ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts)`,
  );
  return figure;
}

async function measureSubmit(
  engine: Engine,
  db: DataSource,
  staff: string,
  examId: string,
  count: number,
  label: string,
): Promise<SubmitFigure> {
  log(`${label}: ${count} sessions started, made active and solved`);
  const sessions = await solvedSessions(engine, staff, examId, count);
  log(`${label}: ${count} sessions submitted at the same moment`);
  const started = performance.now();
  await submitAll(engine.base, sessions);
  await untilGraded(db, examId, count);
  const seconds = (performance.now() - started) / 1000;
  const { once, full, problems } = await gradedOnce(db, examId);
  log(
    `${label}: all ${count} reports stored after ${seconds.toFixed(1)} s; graded once: ${once} of ${count}; full marks: ${full}`,
  );
  if (problems.length) log(`${label}: NOT graded exactly once: ${problems.join('; ')}`);
  return { seconds, full, once, count };
}

async function measureKill(
  engine: Engine,
  db: DataSource,
  staff: string,
  count: number,
): Promise<KillFigure> {
  const label = 'killed worker';
  const examId = EXAMS.kill;
  if (engine.workers.filter((w) => w.running()).length < 2)
    throw new Error('the kill scenario needs two running workers');
  log(`${label}: ${count} sessions started, made active and solved`);
  const sessions = await solvedSessions(engine, staff, examId, count);
  // BullMQ's stalled-job check says which jobs the killed worker held.
  const events = new QueueEvents(QueueName.GRADING, {
    connection: redisConnection(engine.redisUrl, 'worker'),
    prefix: 'cka',
  });
  const stalledJobs = new Map<string, number>();
  try {
    await events.waitUntilReady();
    events.on('stalled', ({ jobId }) => stalledJobs.set(jobId, Date.now()));
    log(`${label}: ${count} sessions submitted; one of two workers SIGKILLed at the first report`);
    const submitted = Date.now();
    await submitAll(engine.base, sessions);
    let atKill: Record<string, number>;
    for (;;) {
      atKill = await stateCounts(db, examId);
      if ((atKill.graded ?? 0) >= 1) break;
      if (Date.now() - submitted > 120_000)
        throw new Error(`no report stored 120 s after the submit: ${JSON.stringify(atKill)}`);
      await sleep(10);
    }
    if ((atKill.graded ?? 0) >= count)
      throw new Error(
        `all ${count} graded before the kill: too few sessions to kill a worker mid-grading (--kill-sessions)`,
      );
    const victim = engine.workers.find((w) => w.running())!;
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    log(
      `${label}: killed worker pid ${victim.pid} ${((killedAt - submitted) / 1000).toFixed(2)} s after the submit; sessions then: ${JSON.stringify(atKill)}`,
    );
    await untilGraded(db, examId, count);
    const allDone = (Date.now() - killedAt) / 1000;
    const { once, problems } = await gradedOnce(db, examId);
    // When each session was graded (the engine's clock is this machine's).
    const graded = (await db.query(
      `SELECT e."sessionId" AS sid, e.at AS at FROM session_events e
       JOIN sessions s ON s.id = e."sessionId" WHERE s."examId" = '${examId}' AND e."toState" = 'graded'`,
    )) as { sid: string; at: string | number }[];
    const held = new Set([...stalledJobs.keys()].map((jobId) => jobId.split('.')[1]));
    const others = graded.filter((g) => !held.has(g.sid)).map((g) => Number(g.at));
    const figure: KillFigure = {
      count,
      atKill,
      killAfter: (killedAt - submitted) / 1000,
      stalled: held.size,
      stalledAt: [...stalledJobs.values()].map((at) => (at - killedAt) / 1000),
      othersDone: others.length ? Math.max(0, (Math.max(...others) - killedAt) / 1000) : 0,
      allDone,
      once,
    };
    log(
      `${label}: it held ${figure.stalled} grading jobs (moved back by BullMQ at +${figure.stalledAt.map((s) => s.toFixed(1)).join(', +') || '-'} s); ` +
        `the others were graded by +${figure.othersDone.toFixed(1)} s; all ${count} graded +${allDone.toFixed(1)} s after the kill; graded once: ${once} of ${count}`,
    );
    if (problems.length) log(`${label}: NOT graded exactly once: ${problems.join('; ')}`);
    if (!figure.stalled)
      log(`${label}: the killed worker held no grading job at the kill: recovery not exercised`);
    return figure;
  } finally {
    await events.close();
  }
}

/** Starts a configuration, runs `body` on it, and always stops it. */
async function withEngine<T>(
  label: string,
  env: Record<string, string>,
  options: EngineOptions,
  body: (engine: Engine, db: DataSource, staff: string) => Promise<T>,
): Promise<T> {
  log(`${label}: starting`);
  const engine = await startEngine(env, options);
  running.add(engine.stop);
  let db: DataSource | undefined;
  try {
    if (interrupted) throw new Error('interrupted');
    db = await openDatabase(engine);
    const staff = await staffToken(engine.databaseEnv);
    return await body(engine, db, staff);
  } finally {
    await db?.destroy().catch(() => undefined);
    await engine.stop();
    running.delete(engine.stop);
    log(`${label}: stopped`);
  }
}

const ms = (n: number) => `${n}`;
const times = (value: number, base: number) => `${(value / base).toFixed(2)}×`;

async function main(): Promise<void> {
  const bank = await bankWithExams(
    Object.values(EXAMS).map((id) => ({ id, title: `Four tasks for bench:split (${id})` })),
  );
  running.add(() => rm(bank, { recursive: true, force: true }));
  const env = { QUESTIONS_DIR: bank };
  try {
    const sqlite = await withEngine('SQLite, one process', env, {}, async (engine, db, staff) => ({
      api: await measureApi(engine, 'SQLite, one process'),
      submit: await measureSubmit(engine, db, staff, EXAMS.sqlite, SESSIONS, 'SQLite, one process'),
    }));
    const one = await withEngine(
      'PostgreSQL, 1 API + 1 worker',
      env,
      { database: 'postgres', apis: 1, workers: 1 },
      async (engine, db, staff) => ({
        api: await measureApi(engine, 'PostgreSQL, 1 API + 1 worker'),
        submit: await measureSubmit(
          engine,
          db,
          staff,
          EXAMS.oneWorker,
          SESSIONS,
          'PostgreSQL, 1 worker',
        ),
      }),
    );
    const two = await withEngine(
      'PostgreSQL, 2 API + 1 worker, then 2 workers',
      env,
      { database: 'postgres', apis: 2, workers: 1 },
      async (engine, db, staff) => {
        const api = await measureApi(engine, 'PostgreSQL, 2 API + 1 worker');
        log('PostgreSQL: a second worker');
        await engine.addWorker();
        const submit = await measureSubmit(
          engine,
          db,
          staff,
          EXAMS.twoWorkers,
          SESSIONS,
          'PostgreSQL, 2 workers',
        );
        const kill = await measureKill(engine, db, staff, KILL_SESSIONS);
        return { api, submit, kill };
      },
    );
    report(sqlite, one, two);
  } finally {
    await rm(bank, { recursive: true, force: true });
  }
}

function report(
  sqlite: { api: ApiFigure; submit: SubmitFigure },
  one: { api: ApiFigure; submit: SubmitFigure },
  two: { api: ApiFigure; submit: SubmitFigure; kill: KillFigure },
): void {
  const rows: [string, string, string][] = [];
  const apiRows = (what: string, f: ApiFigure) => {
    rows.push([
      `GET /api/sessions/me p50 / p99, ${what}`,
      `${ms(f.p50)} / ${ms(f.p99)} ms`,
      `${times(f.p50, sqlite.api.p50)} / ${times(f.p99, sqlite.api.p99)}`,
    ]);
    rows.push([
      `throughput, ${what}`,
      `${Math.round(f.rps).toLocaleString('en')} req/s${f.bad ? ` (${f.bad} failed)` : ''}`,
      times(f.rps, sqlite.api.rps),
    ]);
  };
  apiRows('SQLite, one process', sqlite.api);
  apiRows('PostgreSQL, 1 API + 1 worker', one.api);
  apiRows('PostgreSQL, 2 API + 1 worker', two.api);
  const submitRow = (what: string, f: SubmitFigure) =>
    rows.push([
      `${f.count} submits → every report stored, ${what}`,
      `${f.seconds.toFixed(1)} s (graded once: ${f.once}/${f.count}, full marks: ${f.full})`,
      times(f.seconds, sqlite.submit.seconds),
    ]);
  submitRow('SQLite, one process', sqlite.submit);
  submitRow('PostgreSQL, 1 worker', one.submit);
  submitRow('PostgreSQL, 2 workers', two.submit);
  const k = two.kill;
  rows.push([
    `a worker SIGKILLed mid-grading (2 workers, ${k.count} submits): kill → every session graded`,
    `${k.allDone.toFixed(1)} s (graded once: ${k.once}/${k.count}; its ${k.stalled} jobs back at +${k.stalledAt.length ? Math.max(...k.stalledAt).toFixed(1) : '-'} s; the rest by +${k.othersDone.toFixed(1)} s)`,
    '',
  ]);

  console.log('');
  console.log(
    `bench:split: ${CONNECTIONS} connections for ${DURATION} s (2 API processes: ${CONNECTIONS / 2} each), ` +
      `${SESSIONS} sessions of a ${MANY_QUESTIONS.length}-task exam per submit figure; ratio: the figure ÷ SQLite's`,
  );
  console.log('');
  const header: [string, string, string] = ['figure', 'value', 'vs SQLite, one process'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
  const problems = [
    ...[sqlite.submit, one.submit, two.submit]
      .filter((f) => f.once !== f.count)
      .map((f) => `${f.count - f.once} sessions not graded exactly once`),
    ...(k.once !== k.count ? [`kill: ${k.count - k.once} sessions not graded exactly once`] : []),
    ...(k.stalled ? [] : ['kill: the killed worker held no job (recovery not exercised)']),
    ...[sqlite.api, one.api, two.api].filter((f) => f.bad).map(() => 'API requests failed'),
  ];
  console.log('');
  console.log(problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'every check passed');
  if (problems.length) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
