/**
 * `npm run bench:provision`: how fast candidates get their environment on the
 * sandbox cluster, with the built engine in its own process (one worker,
 * default concurrency) and an exam of three tasks in three namespaces, each
 * with a small setup manifest and no setup waits.
 *
 *  1. one candidate at a time (--sequential N, default 20): provisioning time =
 *     from the session's creation until it is ready (queue pick-up and every API call;
 *     seen by polling every 25 ms);
 *     p50 and p95, goal p50 ≤ 300 ms;
 *  2. --burst N (default 50) candidates started at the same moment: time from
 *     the first request until the last is active, goal ≤ 15 s.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startEngine, startSession, untilActive } from './engine-process.js';

const { values } = parseArgs({
  options: {
    sequential: { type: 'string', default: '20' },
    burst: { type: 'string', default: '50' },
  },
});
const EXAM = 'three-namespaces';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const engine = await startEngine({ QUESTIONS_DIR: join(REPO_ROOT, 'test/fixtures/banks/bench') });
  try {
    const times: number[] = [];
    for (let i = 0; i < Number(values.sequential); i++) {
      const session = await startSession(engine.base, EXAM, `seq-${i}`);
      const active = await untilActive(engine.base, session);
      times.push(new Date(active.readyAt!).getTime() - new Date(active.createdAt).getTime());
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(
      `one candidate at a time (${sorted.length} sessions, 3 namespaces each): provisioning p50 ${percentile(sorted, 50)} ms, p95 ${percentile(sorted, 95)} ms, max ${sorted.at(-1)} ms`,
    );
    console.log(`goal p50 <= 300 ms: ${percentile(sorted, 50) <= 300 ? 'met' : 'NOT met'}`);

    const burst = Number(values.burst);
    const started = Date.now();
    const sessions = await Promise.all(
      Array.from({ length: burst }, (_, i) => startSession(engine.base, EXAM, `burst-${i}`)),
    );
    await Promise.all(sessions.map((s) => untilActive(engine.base, s, 120_000)));
    const seconds = (Date.now() - started) / 1000;
    console.log(`${burst} candidates started at once: all active after ${seconds.toFixed(1)} s`);
    console.log(`goal <= 15 s: ${seconds <= 15 ? 'met' : 'NOT met'}`);
  } finally {
    await engine.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
