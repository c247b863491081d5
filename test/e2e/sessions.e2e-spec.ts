import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
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
    const token: string = started.body.sessionToken;
    expect(started.body.session.state).toBe('provisioning');
    expect(started.body.session.remainingSeconds).toBeNull();
    // The code is single-use.
    const reused = await t.http
      .post('/api/sessions')
      .send({ invitationCode: invitation.body.code })
      .expect(409);
    expect(reused.body.code).toBe('INVITATION_USED');

    const active = await untilState(t, token, ['active']);
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

    // The trainer sees the whole history, variables included.
    const list = await t.http.get('/api/sessions?state=graded').set(bearer(trainer)).expect(200);
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(graded.id);
    const full = (await t.http.get(`/api/sessions/${graded.id}`).set(bearer(trainer)).expect(200))
      .body as SessionBody;
    expect(full.events!.map((e) => e.to)).toEqual([
      'created',
      'provisioning',
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
    const active = await untilState(t, sessionToken, ['active']);
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
    const active = await untilState(first, sessionToken, ['active']);
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
      await untilState(t, sessionToken, ['active']);
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
