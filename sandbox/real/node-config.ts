/**
 * The configuration files of a real node, in one place: the settings that
 * make kubelet and containerd run on this kind of machine (cgroup v1, no
 * CAP_SYS_RESOURCE, no internet registry) are facts to keep together, so a
 * later Kubernetes release that changes them is one edit (see
 * ../shared/design/REALNODE.md for why each is there).
 */

/** The pause image kubeadm v1.36 names (`kubeadm config images list`). */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2';

/**
 * containerd 2.4 (config version 4). Paths are the defaults: inside the node
 * they are the node's own bind mounts.
 */
export function containerdConfig(): string {
  return `version = 4

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = '${PAUSE_IMAGE}'
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = '/etc/containerd/certs.d'

[plugins.'io.containerd.cri.v1.runtime']
  # Root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj would fail every pod.
  restrict_oom_score_adj = true
  # containerd samples every container's CPU (a call to its shim) each second
  # for CRI stats' usageNanoCores, which only \`crictl stats\` reads here (the
  # kubelet's figures come from cAdvisor): every 10 s, as the kubelet's
  # housekeeping, it costs an idle cluster about 5% of a core less.
  stats_collect_period = '10s'
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
    runtime_type = 'io.containerd.runc.v2'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['/opt/cni/bin']
    conf_dir = '/etc/cni/net.d'

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = '127.0.0.1'
`;
}

/** The CNI bridge network of one node: its pod CIDR on its own bridge, no masquerade inside the cluster. */
export function bridgeConflist(podCidr: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'cka-pods',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // Pods keep their addresses across nodes (NetworkPolicy matches them).
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export interface KubeadmClusterSettings {
  /** e.g. v1.36.3 */
  kubernetesVersion: string;
  clusterName: string;
  /** The first control plane's address: the API server's endpoint. */
  controlPlaneAddress: string;
  /** CoreDNS image tag: the version our CoreDNS build really is. */
  corednsTag: string;
  /** The nodes run in user namespaces of their own (NodeHostSpec.ids). */
  userNamespaces?: boolean;
}

export const POD_SUBNET = '10.244.0.0/16';
export const SERVICE_SUBNET = '10.96.0.0/12';
export const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';

/** The node's crictl settings, in its /etc/containerd; the node shell shows them as /etc/crictl.yaml. */
export const CRICTL_CONFIG = 'crictl.yaml';

/** What kubeadm's docs write to /etc/crictl.yaml: without it crictl warns and tries old sockets first. */
export function crictlConfig(): string {
  return `runtime-endpoint: ${CRI_SOCKET}\nimage-endpoint: ${CRI_SOCKET}\ntimeout: 10\n`;
}

/** kubelet flags that differ per node (kubeadm writes them to kubeadm-flags.env). */
function nodeRegistration(name: string, address: string, cgroupRoot: string): string {
  return `nodeRegistration:
  name: ${name}
  criSocket: ${CRI_SOCKET}
  imagePullPolicy: IfNotPresent
  # Preflight wants systemd, swap off and cgroup v2; this machine has none of them.
  ignorePreflightErrors: [all]
  kubeletExtraArgs:
    - { name: node-ip, value: "${address}" }
    # Each node's pods in a cgroup subtree of its own (several kubelets share one kernel).
    - { name: cgroup-root, value: "${cgroupRoot}" }`;
}

/** The shared kubelet settings kubeadm uploads (kubelet-config ConfigMap) for every node. */
function kubeletConfiguration(userNamespaces: boolean): string {
  // In a user namespace the kubelet cannot set the kernel's sysctls or
  // oom_score_adj, nor read /dev/kmsg: the gate makes those failures
  // warnings, as for rootless Kubernetes (Usernetes, kind's rootless mode).
  const gates = userNamespaces ? 'featureGates:\n  KubeletInUserNamespace: true\n' : '';
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
${gates}cgroupDriver: cgroupfs
# 1.36 refuses cgroup v1 unless told; it then posts a CgroupV1 warning event.
failCgroupV1: false
# A negative score needs CAP_SYS_RESOURCE, which root lacks here.
oomScoreAdj: 0
# Preloaded tags would otherwise be re-pulled after their image id was pulled once.
imagePullCredentialsVerificationPolicy: NeverVerify
# The node's disk is the host's: thresholds in percent of it would evict at random.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
failSwapOn: false
serializeImagePulls: false`;
}

/** Where kubeadm finds {@link controlPlanePatches} on the control plane. */
export const PATCHES_DIR = '/etc/kubernetes/patches';

/**
 * kubeadm's patches (file name → content) for the control plane's static
 * pods:
 * - their startup probes start at once and run every second (kubeadm's:
 *   after 10 s, every 10 s, with up to a period of jitter on a fresh kubelet),
 *   so a pod is Ready a second after its component is, not up to 20 s later;
 *   same 4-minute budget before a component that never starts is restarted;
 * - readiness is probed every 10 s, not every second: kubeadm's 1 s probes of
 *   etcd, the API server and the scheduler (two of them a TLS handshake and a
 *   full /readyz each) cost an idle cluster about a point of a core (12.6% →
 *   11.6%, README). One failure, not kubeadm's three, turns a pod NotReady,
 *   so a failing component shows within 10 s (kubeadm's: 3 s). A component
 *   that restarts is Ready up to 10 s after it is; nothing waits on it but
 *   the cluster's start, which waits for metrics-server, later.
 * Two of three changes to kubeadm's manifests (the other: the controller-manager's
 * request limit, in the ClusterConfiguration); the exam's tasks do not touch probes.
 */
export function controlPlanePatches(): Record<string, string> {
  const patches: Record<string, string> = {};
  for (const component of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
    // kubeadm gives the controller-manager no readiness probe.
    const readiness =
      component === 'kube-controller-manager'
        ? ''
        : `      readinessProbe: { periodSeconds: 10, failureThreshold: 1 }\n`;
    patches[`${component}+strategic.yaml`] =
      `spec:\n  containers:\n    - name: ${component}\n      startupProbe: { initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 240 }\n${readiness}`;
  }
  return patches;
}

/** `kubeadm init --config`: the first control plane. */
export function kubeadmInitConfig(
  settings: KubeadmClusterSettings,
  node: { name: string; address: string; cgroupRoot: string },
): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: ${node.address}
  bindPort: 6443
${nodeRegistration(node.name, node.address, node.cgroupRoot)}
patches:
  directory: ${PATCHES_DIR}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${settings.kubernetesVersion}
clusterName: ${settings.clusterName}
# kubeadm's own option: P-256 keys take 0.05 s of CPU to make where RSA-2048
# takes over 1.1 s (kubeadm makes about twenty while init waits), and each
# TLS handshake (probes, reconnects) costs less.
encryptionAlgorithm: ECDSA-P256
controlPlaneEndpoint: ${settings.controlPlaneAddress}:6443
networking:
  podSubnet: ${POD_SUBNET}
  serviceSubnet: ${SERVICE_SUBNET}
  dnsDomain: cluster.local
dns:
  imageTag: ${settings.corednsTag}
# kubeadm runs the controllers with --use-service-account-credentials: at
# start each of about forty asks for its ServiceAccount and a token, and
# discovery runs several times, all through one client limited to 20 requests
# a second. The machine sat idle for 5 s while the add-ons' pods waited for
# their controllers; 100 a second lets them start at once.
controllerManager:
  extraArgs:
    - { name: kube-api-qps, value: "100" }
    - { name: kube-api-burst, value: "200" }
etcd:
  local:
    extraArgs:
      # A practice cluster on a shared disk: fsync costs seconds per write and buys nothing here.
      - { name: unsafe-no-fsync, value: "true" }
---
${kubeletConfiguration(settings.userNamespaces ?? false)}
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
iptables:
  localhostNodePorts: false
conntrack:
  # nf_conntrack_max is the whole machine's: leave it alone.
  maxPerCore: 0
${
  settings.userNamespaces
    ? `  # Nor may a node in a user namespace set conntrack's timeouts.
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`
    : ''
}`;
}

/** `kubeadm join --config`: a worker. */
export function kubeadmJoinConfig(
  settings: KubeadmClusterSettings,
  token: string,
  caCertHash: string,
  node: { name: string; address: string; cgroupRoot: string },
): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: ${settings.controlPlaneAddress}:6443
    token: ${token}
    caCertHashes: [${caCertHash}]
${nodeRegistration(node.name, node.address, node.cgroupRoot)}
`;
}

/**
 * What kubeadm's systemd drop-in (10-kubeadm.conf) runs: the kubelet with the
 * files kubeadm wrote, and the flags it put in kubeadm-flags.env.
 */
export const KUBELET_COMMAND = [
  '/bin/sh',
  '-c',
  'KUBELET_KUBEADM_ARGS=; [ -r /var/lib/kubelet/kubeadm-flags.env ] && . /var/lib/kubelet/kubeadm-flags.env; ' +
    'exec kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf ' +
    '--kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml $KUBELET_KUBEADM_ARGS',
];
