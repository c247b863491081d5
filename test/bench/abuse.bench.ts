/**
 * `npm run bench:abuse`: what an anonymous client can make the engine do
 * under the default limits, against the built engine in its own process with
 * its own sandbox cluster (see engine-process.ts). Prints two figures:
 *
 * 1. Objects per minute. For `--minutes` (default 1), one client address
 *    starts the open exam `cka-sample` as fast as the engine lets it: a start
 *    whenever a per-client place is free, each session submitted as soon as
 *    it is active (which frees its place), Retry-After obeyed (the best an
 *    attacker can do: refused starts count too). Then every object those sessions
 *    put on the cluster is counted: labelled cluster-wide objects, the
 *    candidate ServiceAccounts, and everything in their namespaces (pods,
 *    ReplicaSets, Events… made by controllers too).
 * 2. `/health/live` latency while the worst answer is graded: `--sessions`
 *    sessions (from as many addresses, through a trusted proxy header) answer
 *    20,000 characters against `^(a+)+$` (a backtracking engine needs 2^n
 *    steps) and submit at once, while autocannon measures `/health/live`.
 *    The goal is p99 <= 50 ms.
 *
 *   npm run bench:abuse -- [--minutes 1] [--sessions 20]
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import { REPO_ROOT, startEngine, untilActive } from './engine-process.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    sessions: { type: 'string', default: '20' },
  },
});

const WORST_QUESTION = `id: worst-pattern
title: An answer against a catastrophic pattern
domain: troubleshooting
weight: 1
task: Type a long line of a's.
checks:
  - { id: a, kind: answer, pattern: '^(a+)+$', points: 1, description: only a's }
solution:
  explanation: Any run of a's.
  commands: ['answer: aaaa']
`;
const WORST_EXAM = `id: worst-pattern
title: One answer against a catastrophic pattern
durationMinutes: 60
open: true
questions: [worst-pattern]
`;

interface Started {
  id: string;
  token: string;
}

async function main(): Promise<void> {
  const bank = await mkdtemp(join(tmpdir(), 'bench-abuse-bank-'));
  await cp(join(REPO_ROOT, 'questions'), bank, { recursive: true });
  await writeFile(join(bank, 'worst-pattern.yaml'), WORST_QUESTION);
  await writeFile(join(bank, 'exams', 'worst-pattern.yaml'), WORST_EXAM);
  const engine = await startEngine({
    QUESTIONS_DIR: bank,
    // The defaults (an empty value is "not set"), as an operator runs it.
    THROTTLE_PUBLIC: '',
    THROTTLE_SESSION_START: '',
    MAX_ACTIVE_SESSIONS: '',
    MAX_ACTIVE_SESSIONS_PER_CLIENT: '',
    // Part 2 stands for many clients behind one proxy.
    TRUST_PROXY: 'loopback',
  });
  try {
    await objectsPerMinute(engine);
    await healthWhileGrading(engine.base);
  } finally {
    await engine.stop();
    await rm(bank, { recursive: true, force: true });
  }
}

async function start(base: string, examId: string, from: string) {
  return fetch(`${base}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ examId, candidateName: 'Bench' }),
  });
}

async function objectsPerMinute(engine: Awaited<ReturnType<typeof startEngine>>): Promise<void> {
  const minutes = Number(values.minutes);
  const until = Date.now() + minutes * 60_000;
  const started: Started[] = [];
  const refusals: Record<string, number> = {};
  const notReady: string[] = [];
  let running = 0;
  // The best an attacker can do: start only when a place is free (refused
  // starts count against the window too), submit each session once active to
  // free its place, and wait out Retry-After when told to.
  while (Date.now() < until) {
    if (running >= 2) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const res = await start(engine.base, 'cka-sample', '203.0.113.7');
    const body = (await res.json()) as {
      sessionToken?: string;
      session?: { id: string };
      code?: string;
    };
    if (res.status === 201) {
      const session = { id: body.session!.id, token: body.sessionToken! };
      started.push(session);
      running++;
      void untilActive(engine.base, session, 120_000)
        .then(() =>
          fetch(`${engine.base}/api/sessions/me/submit`, {
            method: 'POST',
            headers: { authorization: `Bearer ${session.token}` },
          }),
        )
        .catch((error: unknown) => {
          // Reported, not fatal: the figure is about what the client could create.
          notReady.push(`${session.id}: ${(error as Error).message}`);
        })
        .finally(() => running--);
      continue;
    }
    const key = `${res.status} ${body.code}`;
    refusals[key] = (refusals[key] ?? 0) + 1;
    const retryAfter = Number(res.headers.get('retry-after') ?? 1) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter, until - Date.now())));
  }
  while (running > 0) await new Promise((resolve) => setTimeout(resolve, 200));
  const objects = await countObjects(engine, started);
  const perSession = started.length ? Math.round(objects / started.length) : 0;
  console.log(
    `1. one anonymous client, default limits, ${minutes} min, starting whenever a place is free and submitting each session once active:`,
  );
  console.log(
    `   sessions started ${started.length}; refused ${
      Object.entries(refusals)
        .map(([k, v]) => `${v} × ${k}`)
        .join(', ') || 'none'
    }`,
  );
  console.log(
    `   objects on the cluster ${objects} (${perSession} per cka-sample session): ${Math.round(objects / minutes)} per minute`,
  );
  if (notReady.length) console.log(`   NOT READY in 120 s: ${notReady.join('; ')}`);
  // Beyond the first window, the start window is the bound: 5 per 600 s by default.
  console.log(
    `   sustained bound (THROTTLE_SESSION_START 5/600): ${Math.round((5 / 10) * perSession)} objects per minute`,
  );
}

/** Every object the sessions left: in their namespaces (any kind), plus labelled cluster-wide ones. */
async function countObjects(
  engine: Awaited<ReturnType<typeof startEngine>>,
  sessions: Started[],
): Promise<number> {
  const kubectl = (args: string[]) =>
    run(engine.kubectl, ['--kubeconfig', engine.kubeconfig, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    }).then((r) => r.stdout);
  const namespaced = (
    await kubectl(['api-resources', '--namespaced', '--verbs=list', '-o', 'name'])
  )
    .split('\n')
    .filter(Boolean)
    .join(',');
  const clusterWide = (
    await kubectl(['api-resources', '--namespaced=false', '--verbs=list', '-o', 'name'])
  )
    .split('\n')
    .filter(Boolean)
    .join(',');
  const ids = new Set(sessions.map((s) => s.id));
  let count = 0;
  const all = JSON.parse(
    await kubectl(['get', namespaced, '-A', '-o', 'json', '--ignore-not-found']),
  ) as { items: { metadata: { namespace?: string; labels?: Record<string, string> } }[] };
  const namespaces = JSON.parse(await kubectl(['get', 'namespaces', '-o', 'json'])) as {
    items: { metadata: { name: string; labels?: Record<string, string> } }[];
  };
  const ours = new Set(
    namespaces.items
      .filter((ns) => ids.has(ns.metadata.labels?.['cka.engine/session'] ?? ''))
      .map((ns) => ns.metadata.name),
  );
  for (const item of all.items) {
    const inOurs = item.metadata.namespace && ours.has(item.metadata.namespace);
    const labelled = ids.has(item.metadata.labels?.['cka.engine/session'] ?? '');
    if (inOurs || labelled) count++;
  }
  const cluster = JSON.parse(
    await kubectl(['get', clusterWide, '-l', 'cka.engine/session', '-o', 'json']),
  ) as { items: { metadata: { labels?: Record<string, string> } }[] };
  count += cluster.items.filter((i) =>
    ids.has(i.metadata.labels?.['cka.engine/session'] ?? ''),
  ).length;
  return count;
}

async function healthWhileGrading(base: string): Promise<void> {
  const n = Number(values.sessions);
  const sessions: Started[] = [];
  for (let i = 0; i < n; i++) {
    const res = await start(base, 'worst-pattern', `198.51.100.${i + 1}`);
    const body = (await res.json()) as { sessionToken: string; session: { id: string } };
    if (res.status !== 201)
      throw new Error(`start ${i + 1}: ${res.status} ${JSON.stringify(body)}`);
    sessions.push({ id: body.session.id, token: body.sessionToken });
  }
  await Promise.all(sessions.map((s) => untilActive(base, s, 120_000)));
  const answer = `${'a'.repeat(19_999)}!`;
  for (const s of sessions) {
    const res = await fetch(`${base}/api/sessions/me/answers/worst-pattern`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ answer }),
    });
    if (res.status !== 200) throw new Error(`answer: ${res.status} ${await res.text()}`);
  }
  const url = `${base}/health/live`;
  const baseline = await autocannon({ url, connections: 10, duration: 5 });
  // Measured from the submits until the last session is graded.
  let instance: autocannon.Instance | undefined;
  const during = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({ url, connections: 10, duration: 300 }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
  const started = performance.now();
  const graded = Promise.all(sessions.map((s) => untilGraded(base, s)));
  await Promise.all(
    sessions.map((s) =>
      fetch(`${base}/api/sessions/me/submit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}` },
      }),
    ),
  );
  const outcomes = await graded;
  const gradedInMs = Math.round(performance.now() - started);
  instance!.stop();
  const result = await during;
  console.log(
    `2. /health/live, 10 connections, while ${n} sessions answering 20,000 characters against ^(a+)+$ are graded:`,
  );
  console.log(
    `   baseline p50 ${baseline.latency.p50} ms, p99 ${baseline.latency.p99} ms; during p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms (${result.non2xx} non-2xx)`,
  );
  console.log(
    `   all ${n} graded in ${gradedInMs} ms; answer check: ${[...new Set(outcomes)].join(', ')}`,
  );
  console.log(`   goal p99 <= 50 ms: ${result.latency.p99 <= 50 ? 'met' : 'NOT met'}`);
}

async function untilGraded(base: string, s: Started): Promise<string> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const res = await fetch(`${base}/api/sessions/me/report`, {
      headers: { authorization: `Bearer ${s.token}` },
    });
    if (res.status === 200) {
      const report = (await res.json()) as {
        tasks: { checks: { status: string; message: string }[] }[];
      };
      const check = report.tasks[0].checks[0];
      return `${check.status}: ${check.message.slice(0, 60)}`;
    }
    if (Date.now() > deadline) throw new Error(`session ${s.id} not graded within 180 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
