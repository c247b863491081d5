import { jest } from '@jest/globals';
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteNamespace,
  statusOf,
  tokenKubeConfig,
} from '../../support/cluster.js';

jest.setTimeout(60_000);

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const authz = kc.makeApiClient(AuthorizationV1Api);

let ns: string;
let otherNs: string;
const user = () => `system:serviceaccount:${ns}:reader`;

beforeAll(async () => {
  ns = await createTestNamespace('rbac');
  otherNs = await createTestNamespace('rbac-other');
  await core.createNamespacedServiceAccount({
    namespace: ns,
    body: { metadata: { name: 'reader' } },
  });
  await rbac.createNamespacedRole({
    namespace: ns,
    body: {
      metadata: { name: 'pod-reader' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: 'reader-reads-pods' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    },
  });
});
afterAll(() => Promise.all([deleteNamespace(ns), deleteNamespace(otherNs)]));

async function review(verb: string, resource: string, namespace: string) {
  const result = await authz.createSubjectAccessReview({
    body: {
      spec: {
        user: user(),
        groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
        resourceAttributes: { verb, resource, namespace },
      },
    },
  });
  return result.status;
}

describe('SubjectAccessReview', () => {
  it('reflects the Role and RoleBinding: allowed exactly what was granted', async () => {
    const list = await review('list', 'pods', ns);
    expect(list?.allowed).toBe(true);
    expect(list?.reason).toContain('pod-reader');

    expect((await review('delete', 'pods', ns))?.allowed).toBe(false);
    expect((await review('list', 'secrets', ns))?.allowed).toBe(false);
    expect((await review('list', 'pods', otherNs))?.allowed).toBe(false);
  });
});

describe('TokenRequest', () => {
  let token: string;

  beforeAll(async () => {
    const request = await core.createNamespacedServiceAccountToken({
      name: 'reader',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    expect(request.status?.token).toBeTruthy();
    token = request.status!.token!;
    expect(new Date(request.status!.expirationTimestamp!).getTime()).toBeGreaterThan(
      Date.now() + 500_000,
    );
  });

  it('issues a token that authenticates as the ServiceAccount (SelfSubjectReview)', async () => {
    const review = await tokenKubeConfig(token)
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(user());
    expect(review.status?.userInfo?.groups).toEqual(
      expect.arrayContaining(['system:serviceaccounts', `system:serviceaccounts:${ns}`]),
    );
  });

  it('is allowed within its grants and forbidden outside them', async () => {
    const asReader = tokenKubeConfig(token).makeApiClient(CoreV1Api);
    expect(await statusOf(asReader.listNamespacedPod({ namespace: ns }))).toBe('ok');
    expect(await statusOf(asReader.listNamespacedSecret({ namespace: ns }))).toBe(403);
    expect(await statusOf(asReader.listNamespacedPod({ namespace: otherNs }))).toBe(403);
    expect(await statusOf(asReader.listNamespacedSecret({ namespace: 'kube-system' }))).toBe(403);
    expect(
      await statusOf(
        asReader.createNamespacedPod({
          namespace: ns,
          body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } },
        }),
      ),
    ).toBe(403);
  });

  it('a forged token is rejected as unauthenticated', async () => {
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const asNobody = tokenKubeConfig(forged).makeApiClient(CoreV1Api);
    expect(await statusOf(asNobody.listNamespacedPod({ namespace: ns }))).toBe(401);
  });
});
