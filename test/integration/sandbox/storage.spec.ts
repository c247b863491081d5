import { jest } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteNamespace,
  ignoreNotFound,
} from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';

jest.setTimeout(60_000);

const core = adminKubeConfig().makeApiClient(CoreV1Api);
let ns: string;
// PersistentVolumes are cluster-scoped: a unique name keeps parallel runs apart.
const suffix = Math.random().toString(36).slice(2, 8);
const pvSmall = `pv-small-${suffix}`;
const pvMatch = `pv-match-${suffix}`;

beforeAll(async () => {
  ns = await createTestNamespace('storage');
});
afterAll(async () => {
  await deleteNamespace(ns);
  for (const name of [pvSmall, pvMatch])
    await core.deletePersistentVolume({ name }).catch(ignoreNotFound);
});

const pv = (name: string, storage: string, accessModes: string[]) => ({
  metadata: { name, labels: { 'cka-test': suffix } },
  spec: {
    capacity: { storage },
    accessModes,
    persistentVolumeReclaimPolicy: 'Retain',
    storageClassName: `manual-${suffix}`,
    hostPath: { path: `/srv/${name}` },
  },
});

it('a PVC binds to the static PV that matches its class, size and access mode', async () => {
  await core.createPersistentVolume({ body: pv(pvSmall, '100Mi', ['ReadWriteOnce']) });
  await core.createPersistentVolume({
    body: pv(pvMatch, '2Gi', ['ReadWriteOnce', 'ReadOnlyMany']),
  });
  await core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: {
      metadata: { name: 'data' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: `manual-${suffix}`,
        resources: { requests: { storage: '1Gi' } },
      },
    },
  });

  const claim = await eventually(
    'PVC data to be Bound',
    () => core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns }),
    (c) => c.status?.phase === 'Bound',
  );
  // 100Mi is too small for a 1Gi request, so only the 2Gi volume qualifies.
  expect(claim.spec?.volumeName).toBe(pvMatch);
  expect(claim.status?.capacity?.storage).toBe('2Gi');

  const volume = await eventually(
    `PV ${pvMatch} to be Bound to the claim`,
    () => core.readPersistentVolume({ name: pvMatch }),
    (v) => v.status?.phase === 'Bound',
  );
  expect(volume.spec?.claimRef).toMatchObject({ name: 'data', namespace: ns });
  expect((await core.readPersistentVolume({ name: pvSmall })).status?.phase).toBe('Available');
});

it('a PVC with no matching PV stays Pending', async () => {
  await core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: {
      metadata: { name: 'too-big' },
      spec: {
        accessModes: ['ReadWriteMany'],
        storageClassName: `manual-${suffix}`,
        resources: { requests: { storage: '50Gi' } },
      },
    },
  });
  // Give the PV controller several sync periods to (wrongly) bind it.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const claim = await core.readNamespacedPersistentVolumeClaim({ name: 'too-big', namespace: ns });
  expect(claim.status?.phase).toBe('Pending');
});
