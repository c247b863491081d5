export const metricsServerImage = (version: string) =>
  `registry.k8s.io/metrics-server/metrics-server:${version}`;
export const kubeRouterImage = (version: string) =>
  `docker.io/cloudnativelabs/kube-router:${version}`;

/**
 * Add-ons a CKA cluster has beyond kubeadm's own (CoreDNS and kube-proxy):
 * metrics-server, so `kubectl top` works, and kube-router with only its
 * firewall on, so NetworkPolicy is enforced (this kernel lacks NFT_QUEUE, so
 * kube-network-policies cannot; kube-router programs iptables and ipset).
 * Applied with the admin kubeconfig once the control plane is up.
 */

export function metricsServerManifests(version: string): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: { name: metrics-server, namespace: kube-system, labels: { k8s-app: metrics-server } }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregated-metrics-reader
  labels:
    k8s-app: metrics-server
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
  - apiGroups: [metrics.k8s.io]
    resources: [pods, nodes]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: system:metrics-server, labels: { k8s-app: metrics-server } }
rules:
  - apiGroups: [""]
    resources: [nodes/metrics]
    verbs: [get]
  - apiGroups: [""]
    resources: [pods, nodes]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: metrics-server-auth-reader, namespace: kube-system, labels: { k8s-app: metrics-server } }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader }
subjects: [{ kind: ServiceAccount, name: metrics-server, namespace: kube-system }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: metrics-server:system:auth-delegator, labels: { k8s-app: metrics-server } }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator }
subjects: [{ kind: ServiceAccount, name: metrics-server, namespace: kube-system }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: system:metrics-server, labels: { k8s-app: metrics-server } }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:metrics-server }
subjects: [{ kind: ServiceAccount, name: metrics-server, namespace: kube-system }]
---
apiVersion: v1
kind: Service
metadata: { name: metrics-server, namespace: kube-system, labels: { k8s-app: metrics-server } }
spec:
  selector: { k8s-app: metrics-server }
  ports: [{ name: https, port: 443, protocol: TCP, targetPort: https }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: metrics-server, namespace: kube-system, labels: { k8s-app: metrics-server } }
spec:
  selector: { matchLabels: { k8s-app: metrics-server } }
  template:
    metadata: { labels: { k8s-app: metrics-server } }
    spec:
      serviceAccountName: metrics-server
      priorityClassName: system-cluster-critical
      tolerations: [{ key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule }]
      containers:
        - name: metrics-server
          image: ${metricsServerImage(version)}
          args:
            - --cert-dir=/tmp
            - --secure-port=10250
            - --kubelet-preferred-address-types=InternalIP
            # kubeadm's kubelets serve a self-signed certificate (serverTLSBootstrap is off).
            - --kubelet-insecure-tls
            # Ready after two scrapes: the shortest resolution it allows (and a
            # kubelet timeout below 90% of it, as it requires).
            - --metric-resolution=10s
            - --kubelet-request-timeout=5s
          ports: [{ name: https, containerPort: 10250, protocol: TCP }]
          # Ready as soon as the second scrape is stored (the cluster's start
          # waits for it), probed every second until then and never after: a
          # container without a readiness probe is Ready once started, and a
          # TLS handshake a second for the cluster's life is CPU an idle
          # cluster need not spend. (Upstream: readiness every 10 s, which
          # would make the start wait up to 10 s more.)
          startupProbe:
            httpGet: { path: /readyz, port: https, scheme: HTTPS }
            periodSeconds: 1
            failureThreshold: 300
          # Restarted if it stops collecting (/livez includes that), as
          # upstream's is, probed less often.
          livenessProbe:
            httpGet: { path: /livez, port: https, scheme: HTTPS }
            periodSeconds: 30
            failureThreshold: 3
          securityContext:
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            runAsUser: 1000
            allowPrivilegeEscalation: false
            capabilities: { drop: [ALL] }
          volumeMounts: [{ name: tmp, mountPath: /tmp }]
      volumes: [{ name: tmp, emptyDir: {} }]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: v1beta1.metrics.k8s.io, labels: { k8s-app: metrics-server } }
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service: { name: metrics-server, namespace: kube-system }
`;
}

export function kubeRouterManifests(version: string): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: { name: kube-router, namespace: kube-system }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: kube-router }
rules:
  - apiGroups: [""]
    resources: [namespaces, pods, services, nodes, endpoints]
    verbs: [list, get, watch]
  - apiGroups: [networking.k8s.io]
    resources: [networkpolicies]
    verbs: [list, get, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, get, watch]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, create, update]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: kube-router }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kube-router }
subjects: [{ kind: ServiceAccount, name: kube-router, namespace: kube-system }]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: kube-router, namespace: kube-system, labels: { k8s-app: kube-router } }
spec:
  selector: { matchLabels: { k8s-app: kube-router } }
  template:
    metadata: { labels: { k8s-app: kube-router } }
    spec:
      serviceAccountName: kube-router
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations: [{ operator: Exists }]
      containers:
        - name: kube-router
          image: ${kubeRouterImage(version)}
          args:
            # NetworkPolicy only: the pod network is routed by the sandbox, Services by kube-proxy.
            - --run-firewall=true
            - --run-router=false
            - --run-service-proxy=false
            - --hostname-override=$(NODE_NAME)
          env:
            - name: NODE_NAME
              valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
          securityContext: { privileged: true }
          volumeMounts:
            - { name: xtables-lock, mountPath: /run/xtables.lock }
      volumes:
        - name: xtables-lock
          hostPath: { path: /run/xtables.lock, type: FileOrCreate }
`;
}
