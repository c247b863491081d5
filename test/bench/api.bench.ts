/**
 * `npm run bench:api`: latency of GET /api/sessions/me (the call a candidate's
 * browser makes all exam long) at 100 concurrent connections, against the
 * built engine in its own process (see engine-process.ts). Prints p50 / p99 and
 * throughput; the goal is p99 ≤ 50 ms on a 2-core machine.
 *
 *   npm run bench:api -- [--connections 100] [--duration 20] [--rate R]
 *
 * --rate R: a steady R requests a second in all (autocannon's overallRate)
 * instead of as many as the connections can make: the latency of a load the
 * engine is expected to carry, rather than of saturation.
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startEngine, startSession, untilActive } from './engine-process.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '100' },
    duration: { type: 'string', default: '20' },
    rate: { type: 'string' },
  },
});
const rate = values.rate === undefined ? undefined : Number(values.rate);
if (rate !== undefined && !(Number.isInteger(rate) && rate > 0)) {
  console.error(`--rate must be a whole number of requests a second above 0, got "${values.rate}"`);
  process.exit(2);
}

async function main(): Promise<void> {
  const engine = await startEngine();
  try {
    const session = await startSession(engine.base, 'sample', 'Bench');
    await untilActive(engine.base, session);
    const url = `${engine.base}/api/sessions/me`;
    const headers = { authorization: `Bearer ${session.token}` };
    // Warm-up, then the measured run.
    await autocannon({ url, headers, connections: 10, duration: 3 });
    const result = await autocannon({
      url,
      headers,
      connections: Number(values.connections),
      duration: Number(values.duration),
      // autocannon's correction for a rate takes 1 / (requests per ms per
      // connection) as the expected interval, i.e. 1 ms here, and adds a fake
      // sample for every millisecond of each response: the raw figures.
      ...(rate ? { overallRate: rate, ignoreCoordinatedOmission: true } : {}),
    });
    console.log(
      `GET /api/sessions/me, ${values.connections} connections${rate ? ` at ${rate} req/s` : ''}, ${values.duration} s (SQLite, HTTP + workers in one process)`,
    );
    console.log(
      `latency p50 ${result.latency.p50} ms, p90 ${result.latency.p90} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
    );
    console.log(
      `throughput ${Math.round(result.requests.average)} req/s; ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
    console.log(`goal p99 <= 50 ms: ${result.latency.p99 <= 50 ? 'met' : 'NOT met'}`);
  } finally {
    await engine.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
