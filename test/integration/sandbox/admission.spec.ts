import { jest } from '@jest/globals';
import { AdmissionregistrationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, ignoreNotFound, statusOf } from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';

jest.setTimeout(60_000);

const kc = adminKubeConfig();
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);

// The engine will fence candidates' cluster-scoped objects this way: a policy
// that admits only names starting with the candidate's prefix.
const id = Math.random().toString(36).slice(2, 8);
const policy = `prefix-fence-${id}`;
const prefix = `c${id}-`;
const created: string[] = [];

afterAll(async () => {
  await admission.deleteValidatingAdmissionPolicyBinding({ name: policy }).catch(ignoreNotFound);
  await admission.deleteValidatingAdmissionPolicy({ name: policy }).catch(ignoreNotFound);
  for (const name of created) await rbac.deleteClusterRole({ name }).catch(ignoreNotFound);
});

const clusterRole = (name: string) =>
  rbac.createClusterRole({
    body: {
      metadata: { name, labels: { 'cka-test/fence': id } },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    },
  });

it('a ValidatingAdmissionPolicy with its binding rejects a violating object and admits a conforming one', async () => {
  await admission.createValidatingAdmissionPolicy({
    body: {
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['rbac.authorization.k8s.io'],
              apiVersions: ['v1'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['clusterroles'],
            },
          ],
        },
        variables: [{ name: 'prefix', expression: `'${prefix}'` }],
        validations: [
          {
            expression: 'object.metadata.name.startsWith(variables.prefix)',
            messageExpression:
              "'name must start with ' + variables.prefix + ', got ' + object.metadata.name",
            reason: 'Forbidden',
          },
        ],
      },
    },
  });
  await admission.createValidatingAdmissionPolicyBinding({
    body: {
      metadata: { name: policy },
      spec: {
        policyName: policy,
        validationActions: ['Deny'],
        // Only objects labelled for this test, so parallel suites are unaffected.
        matchResources: { objectSelector: { matchLabels: { 'cka-test/fence': id } } },
      },
    },
  });

  // Policies take effect once the apiserver's policy informer has seen them.
  const rejected = await eventually(
    'the policy to reject a ClusterRole without the prefix',
    async () => {
      const name = `unfenced-${id}-${Date.now()}`;
      const status = await statusOf(clusterRole(name));
      if (status === 'ok') created.push(name);
      return { name, status };
    },
    (attempt) => attempt.status !== 'ok',
  );
  expect(rejected.status).toBe(403);

  let message = '';
  await clusterRole(`unfenced-${id}`).catch(
    (error: { body?: string }) => (message = String(error.body)),
  );
  expect(message).toContain(`name must start with ${prefix}, got unfenced-${id}`);

  const allowed = `${prefix}reader`;
  expect(await statusOf(clusterRole(allowed))).toBe('ok');
  created.push(allowed);
});
