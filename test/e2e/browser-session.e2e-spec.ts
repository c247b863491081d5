import { jest } from '@jest/globals';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
import { bearer } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';

jest.setTimeout(90_000);

/**
 * The browser console's session: the token travels as an HttpOnly,
 * SameSite=Strict cookie; writes made with it must come from this origin;
 * "leave" forgets it; the invitation code resumes the session in another
 * browser and the old cookie stops working.
 */

const cookieOf = (setCookie: string[] | string | undefined): string => {
  const header = ([] as string[]).concat(setCookie ?? []).find((c) => c.startsWith('cka_session='));
  if (!header) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
  return header.split(';')[0];
};

describe('the session cookie', () => {
  let t: TestApp;
  let trainer: string;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv());
    trainer = await t.staffToken(StaffRole.TRAINER);
  });
  afterAll(() => t?.close());

  const invite = async () =>
    (
      await t.http
        .post('/api/invitations')
        .set(bearer(trainer))
        .send({ examId: 'invited', candidateName: 'Grace' })
        .expect(201)
    ).body.code as string;

  it('is HttpOnly and SameSite=Strict, and opens only its own session', async () => {
    const started = await t.http
      .post('/api/sessions')
      .send({ examId: 'open-long', candidateName: 'Ada' })
      .expect(201);
    const header = ([] as string[])
      .concat(started.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('cka_session='))!;
    expect(header).toMatch(/; Path=\/; HttpOnly; SameSite=Strict$/);
    // Plain HTTP here: Secure only over TLS (COOKIE_SECURE=auto).
    expect(header).not.toMatch(/Secure/);
    const cookie = cookieOf(started.headers['set-cookie']);
    const me = await t.http.get('/api/sessions/me').set('cookie', cookie).expect(200);
    expect(me.body.id).toBe(started.body.session.id);

    const other = await t.http
      .post('/api/sessions')
      .send({ examId: 'open-long', candidateName: 'Bo' })
      .expect(201);
    await t.http.get(`/api/sessions/${other.body.session.id}`).set('cookie', cookie).expect(404);
    await t.http
      .get(`/api/sessions/${other.body.session.id}/report`)
      .set('cookie', cookie)
      .expect(404);
  });

  it('refuses a write made with the cookie from another origin, and takes one from this origin', async () => {
    const started = await t.http
      .post('/api/sessions')
      .send({ examId: 'open-long', candidateName: 'Ada' })
      .expect(201);
    const cookie = cookieOf(started.headers['set-cookie']);
    await eventually(
      'the session to be ready',
      async () => (await t.http.get('/api/sessions/me').set('cookie', cookie)).body.state as string,
      (state) => state === 'ready',
    );
    const crossSite = await t.http
      .post('/api/sessions/me/begin')
      .set('cookie', cookie)
      .set('origin', 'https://evil.example')
      .set('sec-fetch-site', 'cross-site')
      .expect(403);
    expect(crossSite.body.code).toBe('CROSS_ORIGIN_REFUSED');
    // No header saying where it came from: refused too (a script, a form elsewhere).
    await t.http.post('/api/sessions/me/begin').set('cookie', cookie).expect(403);
    // A sibling origin without Sec-Fetch-Site.
    await t.http
      .post('/api/sessions/me/begin')
      .set('cookie', cookie)
      .set('origin', 'http://other.localhost')
      .expect(403);
    // Still not begun: nothing happened.
    expect(
      (await t.http.get('/api/sessions/me').set('cookie', cookie).expect(200)).body.state,
    ).toBe('ready');
    await t.http
      .post('/api/sessions/me/begin')
      .set('cookie', cookie)
      .set('host', 'exam.example:8443')
      .set('origin', 'https://exam.example:8443')
      .expect(200);
    await t.http
      .put('/api/sessions/me/notepad')
      .set('cookie', cookie)
      .set('sec-fetch-site', 'same-origin')
      .send({ notepad: 'x' })
      .expect(200);
    // Bearer tokens are not subject to it: API clients send no Origin.
    await t.http
      .put('/api/sessions/me/notepad')
      .set(bearer(started.body.sessionToken))
      .send({ notepad: 'y' })
      .expect(200);
  });

  it('leave forgets the cookie; a stale cookie does not block signing in again', async () => {
    const started = await t.http
      .post('/api/sessions')
      .send({ examId: 'open-long', candidateName: 'Ada' })
      .expect(201);
    const cookie = cookieOf(started.headers['set-cookie']);
    const left = await t.http
      .post('/api/sessions/me/leave')
      .set('cookie', cookie)
      .set('sec-fetch-site', 'same-origin')
      .expect(204);
    expect(([] as string[]).concat(left.headers['set-cookie'] ?? []).join()).toMatch(
      /cka_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict/,
    );
    await t.http
      .post('/api/sessions')
      .set('cookie', 'cka_session=cks_stale-or-forged')
      .set('sec-fetch-site', 'same-origin')
      .send({ examId: 'open-long', candidateName: 'Ada' })
      .expect(201);
    await t.http
      .get('/api/sessions/me')
      .set('cookie', 'cka_session=cks_stale-or-forged')
      .expect(401);
  });

  it('the invitation code resumes the session in another browser; the old cookie stops working', async () => {
    const code = await invite();
    const first = await t.http.post('/api/sessions').send({ invitationCode: code }).expect(201);
    const oldCookie = cookieOf(first.headers['set-cookie']);
    await t.http.get('/api/sessions/me').set('cookie', oldCookie).expect(200);

    const again = await t.http.post('/api/sessions').send({ invitationCode: code }).expect(201);
    expect(again.body.session.id).toBe(first.body.session.id);
    const newCookie = cookieOf(again.headers['set-cookie']);
    expect(newCookie).not.toBe(oldCookie);
    await t.http.get('/api/sessions/me').set('cookie', oldCookie).expect(401);
    await t.http.get('/api/sessions/me').set(bearer(first.body.sessionToken)).expect(401);
    await t.http.get('/api/sessions/me').set('cookie', newCookie).expect(200);

    // Once graded, the code is spent.
    await eventually(
      'the session to be ready',
      async () => (await t.http.get('/api/sessions/me').set('cookie', newCookie)).body.state,
      (state) => state === 'ready',
    );
    const token = again.body.sessionToken as string;
    await t.http.post('/api/sessions/me/begin').set(bearer(token)).expect(200);
    await t.http.post('/api/sessions/me/submit').set(bearer(token)).expect(200);
    await eventually(
      'the session to be graded',
      async () => (await t.http.get('/api/sessions/me').set(bearer(token))).body.state,
      (state) => state === 'graded',
      60_000,
    );
    const spent = await t.http.post('/api/sessions').send({ invitationCode: code }).expect(409);
    expect(spent.body.code).toBe('INVITATION_USED');
  });
});

describe('the console at / and its live state', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    // A stand-in build: what matters here is how the engine serves it.
    const root = await mkdtemp(join(tmpdir(), 'web-root-'));
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    t = await startTestApp(await isolatedEnv({ WEB_ROOT: root }));
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
  });
  afterAll(() => t?.close());

  it('serves index.html uncached with a strict CSP, client routes included; assets immutable', async () => {
    for (const path of ['/', '/exam', '/results/anything']) {
      const page = await t.http.get(path).expect(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('<title>console</title>');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['x-frame-options']).toBe('DENY');
    }
    const asset = await t.http.get('/assets/index-abc123.js').expect(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    const gzipped = await t.http
      .get('/assets/index-abc123.js')
      .set('accept-encoding', 'gzip')
      .expect(200);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.text).toBe('console.log(1)');
    await t.http.get('/assets/missing-000.js').expect(404);
    const icon = await t.http.get('/favicon.svg').expect(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
    await t.http.get('/favicon.ico').expect(404);
    // The server's own routes are untouched.
    expect((await t.http.get('/api/nope').expect(404)).body.code).toBe('NOT_FOUND');
    await t.http.get('/health/live').expect(200);
    await t.http.get('/docs/openapi.json').expect(200);
  });

  it('pushes the session state as Server-Sent Events, at connect and on each change', async () => {
    const started = await t.http
      .post('/api/sessions')
      .send({ examId: 'open-long', candidateName: 'Ada' })
      .expect(201);
    const cookie = cookieOf(started.headers['set-cookie']);
    const anonymous = await fetch(`${base}/api/sessions/me/events`);
    expect(anonymous.status).toBe(401);

    const controller = new AbortController();
    const res = await fetch(`${base}/api/sessions/me/events`, {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const states: {
      state: string;
      deadline: string | null;
      serverTime: string;
      questions: unknown[];
    }[] = [];
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    const nextState = async (wanted: string) => {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const found = states.find((s) => s.state === wanted);
        if (found) return found;
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (;;) {
          const end = buffer.indexOf('\n\n');
          if (end < 0) break;
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!/^event: state$/m.test(event)) continue;
          states.push(JSON.parse(/^data: (.*)$/m.exec(event)![1]));
        }
      }
      throw new Error(`no "${wanted}" event; got ${JSON.stringify(states.map((s) => s.state))}`);
    };
    try {
      const ready = await nextState('ready');
      expect(ready.questions).toEqual([
        expect.objectContaining({ questionId: 'configmap-value', setupStatus: 'applied' }),
        expect.objectContaining({ questionId: 'answer-text', setupStatus: 'applied' }),
      ]);
      await t.http
        .post('/api/sessions/me/begin')
        .set('cookie', cookie)
        .set('sec-fetch-site', 'same-origin')
        .expect(200);
      const active = await nextState('active');
      expect(new Date(active.deadline!).getTime()).toBeGreaterThan(Date.now());
      // Only changes are pushed (setup progress counts): no two events alike in a row.
      const bodies = states.map(({ serverTime: _t, ...rest }) => JSON.stringify(rest));
      expect(bodies.filter((body, i) => i > 0 && body === bodies[i - 1])).toEqual([]);
      expect([...new Set(states.map((s) => s.state))].slice(-2)).toEqual(['ready', 'active']);
    } finally {
      controller.abort();
    }
  });
});
