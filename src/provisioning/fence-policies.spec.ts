import { roleAllowanceOf, sessionClusterPolicy } from './fence-policies.js';

const identity = {
  prefix: 'sabcde',
  namespaces: ['sabcde-work'],
  engineNamespace: 'cka-engine',
  candidateServiceAccount: 'sabcde-candidate',
};

describe('roleAllowanceOf', () => {
  it("keys admin's verbs by group and resource, merged across rules, without privilege verbs or wildcards", () => {
    const allowance = roleAllowanceOf([
      { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'delete'] },
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['*'], resources: ['things'], verbs: ['get'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['bind', '*'] },
    ]);
    expect(allowance).toEqual({
      '/namespaces': ['get', 'list', 'watch'],
      'apps/deployments': ['create', 'delete', 'get'],
      'apps/deployments/scale': ['get'],
    });
  });
});

describe('sessionClusterPolicy', () => {
  const options = {
    name: 'cka-sabcde-cluster',
    grantRole: 'cka-sabcde-cluster',
    hostPathRoots: ['/srv'],
  };

  it('refuses to build a ClusterRole grant without the allowance that bounds it', () => {
    expect(() => sessionClusterPolicy(identity, ['clusterroles'], options)).toThrow(
      /needs the role allowance/,
    );
  });

  it('carries the allowance as a CEL map variable, and none once ended', () => {
    const [policy] = sessionClusterPolicy(identity, ['clusterroles'], {
      ...options,
      roleAllowance: { 'apps/deployments': ['create'] },
    }) as { spec: { variables: { name: string; expression: string }[] } }[];
    expect(policy.spec.variables).toEqual([
      { name: 'roleAllowance', expression: "{'apps/deployments': ['create']}" },
    ]);
    const [ended] = sessionClusterPolicy(identity, ['clusterroles'], {
      ...options,
      ended: true,
    }) as { spec: { variables: unknown[] } }[];
    expect(ended.spec.variables).toEqual([]);
  });
});
