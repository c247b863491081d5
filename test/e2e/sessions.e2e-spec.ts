import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { isolatedEnv, scratchPostgresUrl, startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/eventually.js';

jest.setTimeout(60_000);

interface SessionBody {
  id: string;
  state: string;
  deadline: string | null;
  remainingSeconds: number | null;
  questions: {
    questionId: string;
    task: string;
    answer: string | null;
    flagged: boolean;
    note: string | null;
    checks?: unknown[];
    solution?: unknown;
    variables?: unknown;
  }[];
  events?: { from: string | null; to: string; reason: string }[];
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function startOpen(t: TestApp, examId: string, candidateName = 'Ada') {
  const res = await t.http.post('/api/sessions').send({ examId, candidateName }).expect(201);
  return res.body as { sessionToken: string; session: SessionBody };
}

async function mySession(t: TestApp, token: string): Promise<SessionBody> {
  return (await t.http.get('/api/sessions/me').set(bearer(token)).expect(200)).body as SessionBody;
}

/** Waits for the environment to be ready, then presses Begin: the clock starts. */
async function begin(t: TestApp, token: string): Promise<SessionBody> {
  await untilState(t, token, ['ready']);
  const begun = await t.http.post('/api/sessions/me/begin').set(bearer(token)).expect(200);
  expect(begun.body.state).toBe('active');
  return begun.body as SessionBody;
}

function untilState(t: TestApp, token: string, states: string[], timeoutMs = 20_000) {
  return eventually(
    `session to reach ${states.join(' or ')}`,
    () => mySession(t, token),
    (s) => states.includes(s.state),
    timeoutMs,
  );
}

describe('a whole exam over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv());
  });
  afterAll(() => t?.close());

  it('invitation → provisioning → active → answers → submit → graded, with checks hidden until the end', async () => {
    const trainer = await t.staffToken(StaffRole.TRAINER);
    const invitation = await t.http
      .post('/api/invitations')
      .set(bearer(trainer))
      .send({ examId: 'invited', candidateName: 'Grace' })
      .expect(201);
    expect(invitation.body.code).toMatch(/^cki_/);

    const started = await t.http
      .post('/api/sessions')
      .send({ invitationCode: invitation.body.code })
      .expect(201);
    expect(started.body.session.state).toBe('provisioning');
    expect(started.body.session.remainingSeconds).toBeNull();
    // The code makes one session: entered again, it resumes that session with a new token.
    const reused = await t.http
      .post('/api/sessions')
      .send({ invitationCode: invitation.body.code })
      .expect(201);
    expect(reused.body.session.id).toBe(started.body.session.id);
    await t.http.get('/api/sessions/me').set(bearer(started.body.sessionToken)).expect(401);
    const token: string = reused.body.sessionToken;

    const active = await begin(t, token);
    expect(active.remainingSeconds).toBeGreaterThan(3500);
    expect(active.remainingSeconds).toBeLessThanOrEqual(3600);
    expect(active.questions.map((q) => q.questionId)).toEqual(['configmap-value', 'answer-text']);
    // Variables are drawn and rendered: the namespace carries the session prefix.
    expect(active.questions[0].task).toMatch(/namespace `s[a-z0-9]{5}-app`/);
    for (const q of active.questions) {
      expect(q.checks).toBeUndefined();
      expect(q.solution).toBeUndefined();
      expect(q.variables).toBeUndefined();
    }

    const saved = await t.http
      .put('/api/sessions/me/answers/answer-text')
      .set(bearer(token))
      .send({ answer: '10.96.0.0/12', flagged: true, note: 'check later' })
      .expect(200);
    expect(saved.body).toMatchObject({
      answer: '10.96.0.0/12',
      flagged: true,
      note: 'check later',
    });
    await t.http
      .put('/api/sessions/me/answers/answer-text')
      .set(bearer(token))
      .send({ flagged: false })
      .expect(200);
    const afterSave = await mySession(t, token);
    expect(afterSave.questions[1]).toMatchObject({
      answer: '10.96.0.0/12',
      flagged: false,
      note: 'check later',
    });
    const unknown = await t.http
      .put('/api/sessions/me/answers/nope')
      .set(bearer(token))
      .send({ answer: 'x' })
      .expect(404);
    expect(unknown.body.code).toBe('QUESTION_NOT_IN_SESSION');

    const submitted = await t.http.post('/api/sessions/me/submit').set(bearer(token)).expect(200);
    expect(['submitted', 'grading', 'graded']).toContain(submitted.body.state);
    const graded = await untilState(t, token, ['graded']);
    expect(graded.questions[0].checks).toEqual([
      expect.objectContaining({ id: 'value', kind: 'resource', points: 2 }),
    ]);
    expect(graded.questions[0].solution).toMatchObject({
      commands: [expect.stringMatching(/create configmap settings/)],
    });
    const late = await t.http
      .put('/api/sessions/me/answers/answer-text')
      .set(bearer(token))
      .send({ answer: 'x' })
      .expect(409);
    expect(late.body.code).toBe('SESSION_EXPIRED');
    await t.http.post('/api/sessions/me/submit').set(bearer(token)).expect(409);
    // Once graded, the code is spent.
    const spent = await t.http
      .post('/api/sessions')
      .send({ invitationCode: invitation.body.code })
      .expect(409);
    expect(spent.body.code).toBe('INVITATION_USED');

    // The trainer sees the whole history, variables included.
    const list = await t.http.get('/api/sessions?state=graded').set(bearer(trainer)).expect(200);
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(graded.id);
    const full = (await t.http.get(`/api/sessions/${graded.id}`).set(bearer(trainer)).expect(200))
      .body as SessionBody;
    // The resume is in the history too, as an event that changes no state.
    expect(full.events!.filter((e) => e.reason.startsWith('resumed'))).toHaveLength(1);
    expect(full.events!.filter((e) => !e.reason.startsWith('resumed')).map((e) => e.to)).toEqual([
      'created',
      'provisioning',
      'ready',
      'active',
      'submitted',
      'grading',
      'graded',
    ]);
    expect(full.questions[0].variables).toMatchObject({
      level: expect.stringMatching(/^(debug|info|warn)$/),
    });
  });

  it('an exam whose deadline passes is expired by the server, and later writes are rejected', async () => {
    const { sessionToken } = await startOpen(t, 'short');
    const active = await begin(t, sessionToken);
    expect(active.remainingSeconds).toBeLessThanOrEqual(5);
    const ended = await untilState(t, sessionToken, ['expired', 'grading', 'graded'], 15_000);
    expect(new Date(ended.deadline!).getTime()).toBeLessThanOrEqual(Date.now());
    const late = await t.http
      .put('/api/sessions/me/answers/answer-text')
      .set(bearer(sessionToken))
      .send({ answer: 'late' })
      .expect(409);
    expect(late.body.code).toBe('SESSION_EXPIRED');
    const final = await untilState(t, sessionToken, ['graded']);
    expect(final.questions[1].answer).toBeNull();
    const trainer = await t.staffToken(StaffRole.TRAINER);
    const full = (await t.http.get(`/api/sessions/${final.id}`).set(bearer(trainer)).expect(200))
      .body as SessionBody;
    expect(full.events!.find((e) => e.to === 'expired')?.reason).toMatch(/deadline passed/);
  });

  it("candidate B cannot read or touch candidate A's session", async () => {
    const a = await startOpen(t, 'short', 'A');
    const b = await startOpen(t, 'short', 'B');
    const res = await t.http
      .get(`/api/sessions/${a.session.id}`)
      .set(bearer(b.sessionToken))
      .expect(404);
    expect(res.body.code).toBe('SESSION_NOT_FOUND');
    await t.http.get(`/api/sessions/${a.session.id}`).set(bearer(a.sessionToken)).expect(200);
    // Staff endpoints are closed to candidates; staff cannot act as candidates.
    expect(
      (await t.http.get('/api/sessions').set(bearer(b.sessionToken)).expect(403)).body.code,
    ).toBe('FORBIDDEN');
    expect(
      (
        await t.http
          .post('/api/invitations')
          .set(bearer(b.sessionToken))
          .send({ examId: 'short', candidateName: 'x' })
          .expect(403)
      ).body.code,
    ).toBe('FORBIDDEN');
    const trainer = await t.staffToken(StaffRole.TRAINER);
    await t.http.post('/api/sessions/me/submit').set(bearer(trainer)).expect(403);
    await t.http.get('/api/sessions/me').expect(401);
    await t.http.get('/api/sessions/me').set(bearer('cks_not-a-real-token')).expect(401);
  });
});

describe('solutions after the end', () => {
  it('stay hidden until the session is graded, not merely ended', async () => {
    // One installation: an API process without workers, and a worker process
    // that runs only while it is needed, so the session waits in "submitted".
    const env = await isolatedEnv({ DATABASE_URL: await scratchPostgresUrl() });
    const api = await startTestApp({ ...env, WORKER_ENABLED: 'false' });
    let worker: TestApp | undefined = await startTestApp(env);
    try {
      const { sessionToken: token } = await startOpen(api, 'open-long');
      await begin(api, token);
      await worker.close();
      worker = undefined;

      const submitted = await api.http
        .post('/api/sessions/me/submit')
        .set(bearer(token))
        .expect(200);
      expect(submitted.body.state).toBe('submitted');
      const waiting = [submitted.body as SessionBody, await mySession(api, token)];
      for (const view of waiting)
        for (const q of view.questions) {
          expect(q.checks).toBeUndefined();
          expect(q.solution).toBeUndefined();
        }

      worker = await startTestApp(env);
      const graded = await untilState(api, token, ['graded'], 40_000);
      expect(graded.questions.some((q) => q.solution !== undefined)).toBe(true);
      expect(graded.questions.every((q) => Array.isArray(q.checks))).toBe(true);
    } finally {
      await worker?.close();
      await api.close();
    }
  });
});

describe('the briefing, then the clock', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv({ READY_TIMEOUT_SECONDS: '5' }));
  });
  afterAll(() => t?.close());

  it('waits in ready with no deadline until Begin; Begin starts the clock once, whatever tab presses it', async () => {
    // An environment that never gets ready (its setup waits for what never comes).
    const stuck = await startOpen(t, 'wait-fails');
    const early = await t.http.post('/api/sessions/me/begin').set(bearer(stuck.sessionToken));
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({
      code: 'SESSION_NOT_ACTIVE',
      message: 'The exam environment is still being prepared',
    });

    const { sessionToken } = await startOpen(t, 'open-long');
    const ready = (await untilState(t, sessionToken, ['ready'])) as SessionBody & {
      readyUntil: string | null;
    };
    expect(ready.deadline).toBeNull();
    expect(ready.remainingSeconds).toBeNull();
    expect(new Date(ready.readyUntil!).getTime()).toBeGreaterThan(Date.now());
    // Not yet begun: how many tasks, not what they ask (no reading time before the clock).
    expect(ready.questions).toHaveLength(2);
    for (const q of ready.questions as (SessionBody['questions'][number] & { title: string })[])
      expect([q.title, q.task]).toEqual(['', '']);
    // Nothing to write, no kubeconfig.
    await t.http
      .put('/api/sessions/me/answers/answer-text')
      .set(bearer(sessionToken))
      .send({ answer: 'x' })
      .expect(409);
    const first = await t.http.post('/api/sessions/me/begin').set(bearer(sessionToken)).expect(200);
    expect(first.body.state).toBe('active');
    expect(first.body.remainingSeconds).toBeGreaterThan(3590);
    for (const q of first.body.questions as { title: string; task: string }[]) {
      expect(q.title).not.toBe('');
      expect(q.task).not.toBe('');
    }
    const second = await t.http
      .post('/api/sessions/me/begin')
      .set(bearer(sessionToken))
      .expect(200);
    expect(second.body.deadline).toBe(first.body.deadline);
    await t.http.get('/api/sessions/me/kubeconfig').set(bearer(sessionToken)).expect(200);
  });

  it('keeps the notepad, only while the exam runs', async () => {
    const { sessionToken } = await startOpen(t, 'open-long');
    await untilState(t, sessionToken, ['ready']);
    await t.http
      .put('/api/sessions/me/notepad')
      .set(bearer(sessionToken))
      .send({ notepad: 'too early' })
      .expect(409);
    await t.http.post('/api/sessions/me/begin').set(bearer(sessionToken)).expect(200);
    const saved = await t.http
      .put('/api/sessions/me/notepad')
      .set(bearer(sessionToken))
      .send({ notepad: 'k = kubectl\n<b>not html</b>' })
      .expect(200);
    expect(saved.body.notepad).toBe('k = kubectl\n<b>not html</b>');
    expect((await mySession(t, sessionToken)) as SessionBody & { notepad: string }).toMatchObject({
      notepad: 'k = kubectl\n<b>not html</b>',
    });
    const bad = await t.http
      .put('/api/sessions/me/notepad')
      .set(bearer(sessionToken))
      .send({ notepad: 42 })
      .expect(400);
    expect(bad.body.message).toMatch(/notepad/);
    await t.http.post('/api/sessions/me/submit').set(bearer(sessionToken)).expect(200);
    await t.http
      .put('/api/sessions/me/notepad')
      .set(bearer(sessionToken))
      .send({ notepad: 'after' })
      .expect(409);
  });

  it('abandons a ready session not begun in time, and tears it down without grading', async () => {
    const { sessionToken, session } = await startOpen(t, 'open-long');
    await untilState(t, sessionToken, ['ready']);
    const abandoned = await untilState(t, sessionToken, ['abandoned'], 30_000);
    expect(abandoned.deadline).toBeNull();
    await t.http.post('/api/sessions/me/begin').set(bearer(sessionToken)).expect(409);
    const trainer = await t.staffToken(StaffRole.TRAINER);
    await eventually(
      'the abandoned session to be torn down',
      async () =>
        (
          await t.dataSource.query(`SELECT "tornDownAt" FROM sessions WHERE id = '${session.id}'`)
        )[0].tornDownAt as unknown,
      (tornDownAt) => tornDownAt !== null,
      30_000,
    );
    const full = (await t.http.get(`/api/sessions/${session.id}`).set(bearer(trainer)).expect(200))
      .body as SessionBody;
    expect(full.events!.map((e) => e.to)).toEqual([
      'created',
      'provisioning',
      'ready',
      'abandoned',
    ]);
    await t.http.get('/api/sessions/me/report').set(bearer(sessionToken)).expect(409);
  });
});

describe('nothing is lost', () => {
  it('a restart in the middle of an exam keeps the deadline and the answers (new instance, same database)', async () => {
    const env = await isolatedEnv();
    const first = await startTestApp(env);
    const trainer = await first.staffToken(StaffRole.TRAINER);
    const code = (
      await first.http
        .post('/api/invitations')
        .set(bearer(trainer))
        .send({ examId: 'invited', candidateName: 'R' })
        .expect(201)
    ).body.code;
    const { sessionToken } = (
      await first.http.post('/api/sessions').send({ invitationCode: code }).expect(201)
    ).body;
    const active = await begin(first, sessionToken);
    await first.http
      .put('/api/sessions/me/answers/answer-text')
      .set(bearer(sessionToken))
      .send({ answer: 'before restart', note: 'n' })
      .expect(200);
    await first.close();

    const second = await startTestApp(env);
    try {
      const after = await mySession(second, sessionToken);
      expect(after.state).toBe('active');
      expect(after.deadline).toBe(active.deadline);
      expect(after.questions[1]).toMatchObject({ answer: 'before restart', note: 'n' });
      expect(after.remainingSeconds).toBeGreaterThan(3500);
      await second.http
        .put('/api/sessions/me/answers/answer-text')
        .set(bearer(sessionToken))
        .send({ answer: 'after restart' })
        .expect(200);
    } finally {
      await second.close();
    }
  });

  it('after a Redis FLUSHALL the reconciler still expires the exam at its deadline', async () => {
    const env = await isolatedEnv();
    const t = await startTestApp(env);
    try {
      const { sessionToken } = await startOpen(t, 'short');
      await begin(t, sessionToken);
      const redis = new Redis(env.REDIS_URL);
      // The delayed expiry job is gone with everything else.
      const before = await redis.keys(`${env.QUEUE_PREFIX}:*`);
      expect(before.some((k) => k.includes(':sessions:'))).toBe(true);
      await redis.flushall();
      expect(await redis.keys(`${env.QUEUE_PREFIX}:*`)).toEqual([]);
      await redis.quit();

      const ended = await untilState(t, sessionToken, ['expired', 'grading', 'graded'], 20_000);
      expect(ended.state).not.toBe('active');
      const trainer = await t.staffToken(StaffRole.TRAINER);
      const full = (await t.http.get(`/api/sessions/${ended.id}`).set(bearer(trainer)).expect(200))
        .body as SessionBody;
      const expiry = full.events!.find((e) => e.to === 'expired');
      // Either the reconciler expired it directly, or the expiry job it re-created did.
      expect(expiry?.reason).toMatch(/deadline passed \((reconciler|expiry job)\)/);
      await untilState(t, sessionToken, ['graded']);
    } finally {
      await t.close();
    }
  });
});
