import { jest } from '@jest/globals';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { isolatedEnv, scratchPostgresUrl, startTestApp, type TestApp } from '../support/app.js';
import { bearer } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';

jest.setTimeout(120_000);

/**
 * What an anonymous client can make the engine do: request windows on the
 * routes that need no token, and caps on sessions running at once, per client
 * (open exams) and in total. Every refusal is a 429 or 503 with Retry-After
 * and a code a client can act on. Sessions here provision on the sandbox.
 */

const start = (t: TestApp, examId = 'open-long', from?: string) => {
  const req = t.http.post('/api/sessions');
  if (from) req.set('x-forwarded-for', from);
  return req.send({ examId, candidateName: 'Ada' });
};

describe('request windows on public routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      await isolatedEnv({
        THROTTLE_PUBLIC: '4/60',
        THROTTLE_SESSION_START: '2/600',
        // The test's requests come from 127.0.0.1: believe its X-Forwarded-For.
        TRUST_PROXY: 'loopback',
      }),
    );
  });
  afterAll(() => t?.close());

  it('answers 429 with Retry-After past the window, per client address', async () => {
    for (let i = 0; i < 4; i++)
      await t.http.get('/api/exams').set('x-forwarded-for', '203.0.113.1').expect(200);
    const refused = await t.http
      .get('/api/exams')
      .set('x-forwarded-for', '203.0.113.1')
      .expect(429);
    expect(refused.body.code).toBe('TOO_MANY_REQUESTS');
    expect(refused.body.message).toMatch(/try again in \d+ s/);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another address has its own window.
    await t.http.get('/api/exams').set('x-forwarded-for', '203.0.113.2').expect(200);
  });

  it('counts an IPv6 client by its /64: a new address per request does not reset the window', async () => {
    for (let i = 1; i <= 4; i++)
      await t.http.get('/api/exams').set('x-forwarded-for', `2001:db8:7:1::${i}`).expect(200);
    const refused = await t.http
      .get('/api/exams')
      .set('x-forwarded-for', '2001:db8:7:1:dead:beef:0:5')
      .expect(429);
    expect(refused.body.code).toBe('TOO_MANY_REQUESTS');
    // The next /64 is another site.
    await t.http.get('/api/exams').set('x-forwarded-for', '2001:db8:7:2::1').expect(200);
  });

  it('never throttles the liveness probe (a 429 there would get the engine restarted)', async () => {
    for (let i = 0; i < 10; i++)
      await t.http.get('/health/live').set('x-forwarded-for', '203.0.113.9').expect(200);
  });

  it('does not count routes behind a token', async () => {
    const trainer = await t.staffToken(StaffRole.TRAINER);
    for (let i = 0; i < 8; i++)
      await t.http
        .get('/api/sessions')
        .set('x-forwarded-for', '203.0.113.3')
        .set(bearer(trainer))
        .expect(200);
    await t.http.get('/api/exams').set('x-forwarded-for', '203.0.113.3').expect(200);
  });

  it('counts session starts in a tighter window of their own', async () => {
    await start(t, 'open-long', '203.0.113.4').expect(201);
    await start(t, 'open-long', '203.0.113.4').expect(201);
    const refused = await start(t, 'open-long', '203.0.113.4').expect(429);
    expect(refused.body.message).toMatch(/Too many sessions started from this address/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(590);
    // The refused start made nothing: two sessions from that address.
    const rows = await t.dataSource.query(
      `SELECT COUNT(*) AS n FROM sessions WHERE "clientAddress" = '203.0.113.4'`,
    );
    expect(Number(rows[0].n)).toBe(2);
  });

  it('ignores X-Forwarded-For from a peer it does not trust', async () => {
    const other = await startTestApp(await isolatedEnv({ THROTTLE_PUBLIC: '2/60' }));
    try {
      await other.http.get('/api/exams').set('x-forwarded-for', '198.51.100.1').expect(200);
      await other.http.get('/api/exams').set('x-forwarded-for', '198.51.100.2').expect(200);
      // Both came from 127.0.0.1 as far as the engine believes.
      await other.http.get('/api/exams').set('x-forwarded-for', '198.51.100.3').expect(429);
    } finally {
      await other.close();
    }
  });
});

describe('caps on sessions running at once', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      await isolatedEnv({
        MAX_ACTIVE_SESSIONS: '3',
        MAX_ACTIVE_SESSIONS_PER_CLIENT: '2',
        TRUST_PROXY: 'loopback',
      }),
    );
  });
  afterAll(() => t?.close());

  const untilActive = async (token: string) => {
    await eventually(
      'the session to be ready',
      async () =>
        (await t.http.get('/api/sessions/me').set(bearer(token)).expect(200)).body.state as string,
      (state) => state === 'ready',
    );
    await t.http.post('/api/sessions/me/begin').set(bearer(token)).expect(200);
  };

  it('refuses a third open-exam session from one client with 429, until one ends', async () => {
    const first = await start(t, 'open-long', '192.0.2.1').expect(201);
    await start(t, 'open-long', '192.0.2.1').expect(201);
    const refused = await start(t, 'open-long', '192.0.2.1').expect(429);
    expect(refused.body).toMatchObject({
      code: 'SESSION_LIMIT_REACHED',
      details: { limit: 2 },
    });
    expect(refused.body.message).toMatch(/already has 2 open-exam sessions running/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    await untilActive(first.body.sessionToken);
    await t.http.post('/api/sessions/me/submit').set(bearer(first.body.sessionToken)).expect(200);
    await start(t, 'open-long', '192.0.2.1').expect(201);
  });

  it('refuses any start with 503 once every place is taken, invitations included', async () => {
    // Two running from 192.0.2.1 (one was submitted), a third from elsewhere: the cap.
    await start(t, 'open-long', '192.0.2.5').expect(201);
    const refused = await start(t, 'open-long', '192.0.2.9').expect(503);
    expect(refused.body.code).toBe('AT_CAPACITY');
    expect(refused.body.message).toMatch(/All 3 exam places are taken/);
    // Retry-After: until the earliest deadline among the running sessions (an hour's exam).
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);

    const trainer = await t.staffToken(StaffRole.TRAINER);
    const invitation = await t.http
      .post('/api/invitations')
      .set(bearer(trainer))
      .send({ examId: 'invited', candidateName: 'Grace' })
      .expect(201);
    const invited = await t.http
      .post('/api/sessions')
      .send({ invitationCode: invitation.body.code })
      .expect(503);
    expect(invited.body.code).toBe('AT_CAPACITY');
    // The invitation was not spent on the refusal.
    const listed = await t.http.get('/api/invitations').set(bearer(trainer)).expect(200);
    const row = (listed.body as { id: string; usedAt: string | null }[]).find(
      (i) => i.id === invitation.body.id,
    );
    expect(row).toMatchObject({ usedAt: null });
  });
});

describe('caps on sessions started at the same moment', () => {
  // Two API processes of one installation: one PostgreSQL database, one queue prefix.
  let t: TestApp;
  let t2: TestApp;
  beforeAll(async () => {
    const env = await isolatedEnv({
      DATABASE_URL: await scratchPostgresUrl(),
      MAX_ACTIVE_SESSIONS: '3',
      MAX_ACTIVE_SESSIONS_PER_CLIENT: '2',
      // The caps, not the start window, are what refuses here.
      THROTTLE_SESSION_START: '100/600',
      TRUST_PROXY: 'loopback',
    });
    t = await startTestApp(env);
    t2 = await startTestApp(env);
  });
  afterAll(async () => {
    await t2?.close();
    await t?.close();
  });

  it('lets exactly as many through as the caps allow, however many arrive at once', async () => {
    const outcomes = async (requests: Promise<{ status: number; body: { code?: string } }>[]) =>
      (await Promise.all(requests)).map((r) => (r.status === 201 ? 'started' : r.body.code)).sort();

    // Eight at once from one client, through both processes: its two places, no more.
    const fromOne = await outcomes(
      Array.from({ length: 8 }, (_, i) =>
        start(i % 2 ? t2 : t, 'open-long', '192.0.2.20').then((r) => r),
      ),
    );
    expect(fromOne).toEqual([...Array(6).fill('SESSION_LIMIT_REACHED'), 'started', 'started']);

    // Eight at once from eight clients: the one place left in all.
    const fromMany = await outcomes(
      Array.from({ length: 8 }, (_, i) =>
        start(i % 2 ? t2 : t, 'open-long', `192.0.2.${30 + i}`).then((r) => r),
      ),
    );
    expect(fromMany).toEqual([...Array(7).fill('AT_CAPACITY'), 'started']);

    const rows = await t.dataSource.query(
      `SELECT COUNT(*) AS n FROM sessions WHERE state IN ('provisioning', 'ready', 'active')`,
    );
    expect(Number(rows[0].n)).toBe(3);
  });
});
