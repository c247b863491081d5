import 'reflect-metadata';
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests } from '../../../src/cluster/cluster-client.js';
import { ClusterService } from '../../../src/cluster/cluster.service.js';
import { loadConfig } from '../../../src/config/config.schema.js';
import { kubectl } from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';

// The API server refuses TokenRequests shorter than 10 minutes, so proving
// that an engine-issued token stops working at its expiry takes that long.
// It runs in parallel with the other suites (test:all uses two workers).
const LIFETIME_S = 600;
jest.setTimeout((LIFETIME_S + 240) * 1000);

it('a bound candidate token stops authenticating once it expires', async () => {
  const cluster = new ClusterService(
    loadConfig({ KUBECONFIG: process.env.SANDBOX_KUBECONFIG! }),
  ).client('main');
  const ns = `expiry-${randomBytes(3).toString('hex')}`;
  await cluster.apply(
    parseManifests(`
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: candidate, namespace: ${ns} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: candidate, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }
subjects: [{ kind: ServiceAccount, name: candidate, namespace: ${ns} }]
`),
    'cka-exam-engine',
  );
  try {
    const { token, expiresAt } = await cluster.requestToken(ns, 'candidate', LIFETIME_S);
    const path = join(tmpdir(), `${ns}.kubeconfig`);
    await writeFile(path, cluster.kubeconfigFor(token, { name: 'main', namespace: ns }), {
      mode: 0o600,
    });
    await kubectl(['get', 'configmaps'], path);

    // Still valid shortly before the expiry...
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, expiresAt.getTime() - Date.now() - 20_000)),
    );
    await kubectl(['get', 'configmaps'], path);
    // ...and refused after it (allowing for the API server's clock leeway and token cache).
    const refusedAt = await eventually(
      'the expired token to be refused',
      () =>
        kubectl(['get', 'configmaps'], path).then(
          () => undefined,
          (e: { stderr: string }) =>
            /Unauthorized|must be logged in/.test(e.stderr) ? Date.now() : undefined,
        ),
      (at) => at !== undefined,
      200_000,
    );
    expect(refusedAt!).toBeGreaterThanOrEqual(expiresAt.getTime());
  } finally {
    await cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns });
  }
});
