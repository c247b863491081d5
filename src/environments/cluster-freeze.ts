/**
 * The end of a dedicated session, before grading: the cluster refuses every
 * change except by the engine (system:masters, its super-admin identity) and
 * the cluster's own components (nodes, the control plane's controllers and
 * scheduler, kube-system's controller ServiceAccounts), so nothing the
 * candidate left running or any credential they minted changes what is
 * graded. The candidate's terminal, their only way in, is closed already.
 */
export const FREEZE_POLICY = 'cka-engine-exam-ended';

const ALLOWED = [
  "request.userInfo.groups.exists(g, g == 'system:masters' || g == 'system:nodes')",
  "request.userInfo.username in ['system:kube-controller-manager', 'system:kube-scheduler', 'system:apiserver']",
  "request.userInfo.username.startsWith('system:serviceaccount:kube-system:')",
].join(' || ');

export function clusterFreezeObjects(): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: FREEZE_POLICY },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['*'],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'],
              // '*' alone leaves out subresources (scale, eviction, status, token, approval).
              resources: ['*/*'],
            },
          ],
        },
        validations: [
          {
            expression: ALLOWED,
            message: 'the exam has ended: this cluster is frozen for grading',
          },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: FREEZE_POLICY },
      spec: { policyName: FREEZE_POLICY, validationActions: ['Deny'] },
    },
  ];
}
