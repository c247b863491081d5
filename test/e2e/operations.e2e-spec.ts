import { jest } from '@jest/globals';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/eventually.js';

jest.setTimeout(60_000);

describe('operations endpoints', () => {
  let t: TestApp;
  const lines: string[] = [];
  beforeAll(async () => {
    t = await startTestApp(await isolatedEnv(), lines);
  });
  afterAll(() => t?.close());

  it('/health reports the database, Redis and the (sandbox) cluster; details to staff only', async () => {
    const anonymous = await t.http.get('/health').expect(200);
    expect(anonymous.body).toEqual({
      status: 'ok',
      checks: {
        database: { status: 'up' },
        redis: { status: 'up' },
        clusters: { main: { status: 'up' } },
      },
    });
    const res = await t.http
      .get('/health')
      .set({ authorization: `Bearer ${await t.staffToken(StaffRole.ADMIN)}` })
      .expect(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      checks: {
        database: { status: 'up' },
        redis: { status: 'up' },
        clusters: {
          main: {
            status: 'up',
            server: expect.stringMatching(/^https:\/\//),
            version: expect.stringMatching(/^v1\.\d+\.\d+$/),
          },
        },
      },
    });
    await t.http.get('/health/live').expect(200, { status: 'ok' });
  });

  it('logs JSON lines carrying request, session and job ids', async () => {
    const started = await t.http
      .post('/api/sessions')
      .send({ examId: 'short', candidateName: 'Logs' })
      .expect(201);
    const sessionId: string = started.body.session.id;
    await t.http
      .get('/api/sessions/me')
      .set({ authorization: `Bearer ${started.body.sessionToken}` })
      .expect(200);
    const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const job = await eventually(
      'the provisioning job log line',
      async () => parsed().find((l) => l.job === 'provision-session' && l.msg === 'job done'),
      Boolean,
    );
    expect(job).toMatchObject({
      sessionId,
      jobId: `provision-session.${sessionId}`,
      queue: 'provisioning',
      level: 'info',
    });
    const request = parsed().find((l) => l.context === 'http' && l.route === '/api/sessions/me');
    expect(request).toMatchObject({
      sessionId,
      status: 200,
      method: 'GET',
      requestId: expect.any(String),
    });
  });

  it('/metrics exports HTTP latency, queue depth and job durations', async () => {
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(
      /http_request_duration_seconds_bucket\{[^}]*route="\/api\/sessions\/me"/,
    );
    expect(res.text).toMatch(/queue_jobs\{queue="sessions",state="delayed"\} \d+/);
    expect(res.text).toMatch(
      /queue_job_duration_seconds_count\{queue="provisioning",job="provision-session",status="completed"\} [1-9]/,
    );
    // Provisioned, the session waits for Begin.
    expect(res.text).toMatch(/session_transitions_total\{to="ready"\} [1-9]/);
  });

  it('serves the OpenAPI document at /docs', async () => {
    const res = await t.http.get('/docs/openapi.json').expect(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/sessions',
        '/api/sessions/me',
        '/api/sessions/me/answers/{questionId}',
        '/api/invitations',
        '/api/exams',
        '/health',
      ]),
    );
    expect(res.body.components.securitySchemes).toHaveProperty('bearer');
    await t.http.get('/docs').expect(200);
  });
});
