import { jest } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
import { bearer, type Candidate, startCandidate } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';
import { TerminalClient } from '../support/terminal-client.js';

jest.setTimeout(120_000);

describe('the browser terminal', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp(
      await isolatedEnv({ TERMINAL_ENABLED: 'true', TERMINAL_GRACE_SECONDS: '3' }),
    );
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => t?.close());

  const open = (c: Candidate, size?: { cols: number; rows: number }) =>
    TerminalClient.open(base, bearer(c.token), size);

  it('runs kubectl against the session: its pods, its contexts', async () => {
    const c = await startCandidate(t, 'slow-grade', 'Ada');
    const term = await open(c);
    expect(term.controls[0]).toMatchObject({ type: 'ready', resumed: false });
    const pods = await term.run('kubectl get pods -o name');
    expect(pods).toContain('pod/stuck');
    const contexts = await term.run('kubectl config get-contexts -o name');
    expect(contexts.trim().split('\n')).toEqual(['main']);
    const alias = await term.run('k get pods -o name');
    expect(alias).toContain('pod/stuck');
    term.close();
  });
});
