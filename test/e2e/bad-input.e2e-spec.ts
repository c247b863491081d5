import { jest } from '@jest/globals';
import { join } from 'node:path';
import { pino } from 'pino';
import { createHttpApp } from '../../src/app.factory.js';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { loadConfig } from '../../src/config/config.schema.js';
import { BankInvalidError } from '../../src/question-bank/bank.service.js';
import { isolatedEnv, REPO_ROOT, startTestApp, type TestApp } from '../support/app.js';

jest.setTimeout(60_000);

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('invalid requests get a 4xx with the wrong field, never a 500', () => {
  let t: TestApp;
  let trainer: string;
  let candidate: string;
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv());
    trainer = await t.staffToken(StaffRole.TRAINER);
    candidate = (
      await t.http.post('/api/sessions').send({ examId: 'short', candidateName: 'x' }).expect(201)
    ).body.sessionToken;
  });
  afterAll(() => t?.close());

  const cases: {
    name: string;
    send: (t: TestApp) => Promise<{ status: number; body: Record<string, unknown> }>;
    status: number;
    code: string;
    path?: string;
  }[] = [
    {
      name: 'malformed JSON',
      send: (t) =>
        t.http.post('/api/sessions').set('content-type', 'application/json').send('{"examId":'),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'empty body',
      send: (t) => t.http.post('/api/sessions').send({}),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'invitationCode',
    },
    {
      name: 'wrong type',
      send: (t) => t.http.post('/api/sessions').send({ examId: 42, candidateName: 'x' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'examId',
    },
    {
      name: 'unknown field',
      send: (t) =>
        t.http.post('/api/sessions').send({ examId: 'short', candidateName: 'x', admin: true }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'admin',
    },
    {
      name: 'missing candidate name',
      send: (t) => t.http.post('/api/sessions').send({ examId: 'short' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'candidateName',
    },
    {
      name: 'invitation code of the wrong type beside an exam id',
      send: (t) =>
        t.http
          .post('/api/sessions')
          .send({ invitationCode: 42, examId: 'short', candidateName: 'x' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'invitationCode',
    },
    {
      name: 'invitation code that is an object',
      send: (t) => t.http.post('/api/sessions').send({ invitationCode: { $gt: '' } }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'invitationCode',
    },
    {
      name: 'candidate name of the wrong type beside an invitation code',
      send: (t) =>
        t.http
          .post('/api/sessions')
          .send({ invitationCode: 'cki_doesnotexist', candidateName: [] }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'candidateName',
    },
    {
      name: 'deeply nested JSON (240 KB of arrays)',
      send: (t) =>
        t.http
          .put('/api/sessions/me/answers/answer-text')
          .set(bearer(candidate))
          .set('content-type', 'application/json')
          .send(`{"answer":${'['.repeat(60_000)}${']'.repeat(60_000)}}`),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'body',
    },
    {
      name: 'array body',
      send: (t) => t.http.post('/api/sessions').send([1, 2]),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'unknown exam',
      send: (t) => t.http.post('/api/sessions').send({ examId: 'nope', candidateName: 'x' }),
      status: 404,
      code: 'EXAM_NOT_FOUND',
    },
    {
      name: 'exam needing an invitation',
      send: (t) => t.http.post('/api/sessions').send({ examId: 'invited', candidateName: 'x' }),
      status: 403,
      code: 'EXAM_NOT_OPEN',
    },
    {
      name: 'unknown invitation',
      send: (t) => t.http.post('/api/sessions').send({ invitationCode: 'cki_doesnotexist' }),
      status: 404,
      code: 'INVITATION_INVALID',
    },
    {
      name: 'non-UUID session id',
      send: (t) => t.http.get('/api/sessions/not-a-uuid').set(bearer(trainer)),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'id',
    },
    {
      name: 'unknown session id',
      send: (t) =>
        t.http.get('/api/sessions/00000000-0000-4000-8000-000000000000').set(bearer(trainer)),
      status: 404,
      code: 'SESSION_NOT_FOUND',
    },
    {
      name: 'bad query value',
      send: (t) => t.http.get('/api/sessions?limit=zero&state=flying').set(bearer(trainer)),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'limit',
    },
    {
      name: 'answer of the wrong type',
      send: (t) =>
        t.http
          .put('/api/sessions/me/answers/answer-text')
          .set(bearer(candidate))
          .send({ flagged: 'yes' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'flagged',
    },
    {
      name: 'answer too long',
      send: (t) =>
        t.http
          .put('/api/sessions/me/answers/answer-text')
          .set(bearer(candidate))
          .send({ answer: 'x'.repeat(20_001) }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'answer',
    },
    {
      name: 'body over the size limit',
      send: (t) =>
        t.http
          .put('/api/sessions/me/answers/answer-text')
          .set(bearer(candidate))
          .send({ answer: 'x'.repeat(140_000) }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'invitation for an unknown exam',
      send: (t) =>
        t.http
          .post('/api/invitations')
          .set(bearer(trainer))
          .send({ examId: 'nope', candidateName: 'x' }),
      status: 404,
      code: 'EXAM_NOT_FOUND',
    },
    {
      name: 'invitation validity out of range',
      send: (t) =>
        t.http
          .post('/api/invitations')
          .set(bearer(trainer))
          .send({ examId: 'short', candidateName: 'x', expiresInHours: 0 }),
      status: 400,
      code: 'VALIDATION_FAILED',
      path: 'expiresInHours',
    },
    {
      name: 'unknown route',
      send: (t) => t.http.get('/api/nothing-here'),
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'garbage bearer token',
      send: (t) => t.http.get('/api/sessions/me').set('authorization', 'Bearer \u00e9\u00e9'),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
  ];

  it.each(cases)('$name → $status $code', async ({ send, status, code, path }) => {
    const res = await send(t);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({
      code,
      message: expect.any(String),
      details: expect.any(Object),
    });
    if (path) {
      const problems = (res.body.details as { problems: { path: string; message: string }[] })
        .problems;
      expect(problems.map((p) => p.path)).toContain(path);
    }
  });

  it('every response says nosniff and no framing; API responses (tokens, kubeconfigs) are not cached', async () => {
    const started = await t.http
      .post('/api/sessions')
      .send({ examId: 'short', candidateName: 'headers' })
      .expect(201);
    for (const res of [
      started,
      await t.http.get('/api/nothing-here'),
      await t.http.get('/health/live'),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
    expect(started.headers['cache-control']).toBe('no-store');
  });
});

describe('an invalid question bank', () => {
  it('stops the server with every problem, positioned', async () => {
    const env = await isolatedEnv({
      QUESTIONS_DIR: join(REPO_ROOT, 'test/fixtures/banks/invalid'),
    });
    const error = await createHttpApp(loadConfig(env), pino({ level: 'silent' }), false).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BankInvalidError);
    const lines = (error as BankInvalidError).lines;
    expect(lines).toContain(
      'test/fixtures/banks/invalid/semantic.yaml:10:19 template task: "nme" is not a variable of this question',
    );
    expect(lines).toContain(
      'test/fixtures/banks/invalid/syntax.yaml:3:1 yaml Flow sequence in block collection must be sufficiently indented and end with a ]',
    );
    expect(lines.length).toBeGreaterThan(20);
  });
});
