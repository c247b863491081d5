import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import type { TestApp } from './app.js';
import { eventually } from './eventually.js';

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A candidate with an active session and their kubeconfig on disk. */
export interface Candidate {
  id: string;
  token: string;
  /** Path of the downloaded kubeconfig. */
  kubeconfig: string;
  kubeconfigText: string;
  /** The default namespace of the kubeconfig (the session's first). */
  namespace: string;
  prefix: string;
  serviceAccount: string;
}

/** Starts an open exam over HTTP, waits until it is ready, begins it and downloads the kubeconfig. */
export async function startCandidate(t: TestApp, examId: string, name: string): Promise<Candidate> {
  const res = await t.http.post('/api/sessions').send({ examId, candidateName: name }).expect(201);
  const token: string = res.body.sessionToken;
  await eventually(
    `${name}'s session to be ready`,
    async () => {
      const { body } = await t.http.get('/api/sessions/me').set(bearer(token));
      // Fail at once, with the reason, instead of waiting out the timeout.
      if (body.state === 'provisioning_failed') {
        // Candidates are told only that it failed; the reason is for staff.
        const staff = await t.staffToken(StaffRole.TRAINER);
        const full = await t.http.get(`/api/sessions/${body.id as string}`).set(bearer(staff));
        throw new Error(`${name}'s provisioning failed: ${full.body.failureReason as string}`);
      }
      return body.state as string;
    },
    (state) => state === 'ready',
  );
  // The clock starts when the candidate presses Begin.
  await t.http.post('/api/sessions/me/begin').set(bearer(token)).expect(200);
  const download = await t.http.get('/api/sessions/me/kubeconfig').set(bearer(token)).expect(200);
  const kubeconfigText = download.text;
  const namespace = (parse(kubeconfigText) as { contexts: { context: { namespace: string } }[] })
    .contexts[0].context.namespace;
  const kubeconfig = join(tmpdir(), `${res.body.session.id}.kubeconfig`);
  await writeFile(kubeconfig, kubeconfigText, { mode: 0o600 });
  const prefix = namespace.split('-')[0];
  return {
    id: res.body.session.id,
    token,
    kubeconfig,
    kubeconfigText,
    namespace,
    prefix,
    serviceAccount: `${prefix}-candidate`,
  };
}
