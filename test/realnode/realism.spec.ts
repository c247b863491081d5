import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { eventually } from '../support/eventually.js';
import { createNamespace, kubectl, onNode, realNode, realNodes } from '../support/real-cluster.js';

/**
 * What a CKA candidate does on a real cluster, against a real-node sandbox
 * (kubeadm control plane, two workers, containerd, CoreDNS, kube-proxy,
 * metrics-server, kube-router's NetworkPolicy firewall). The cases run in
 * order in one file: several of them stop a component for a while.
 */
jest.setTimeout(240_000);

const ns = `realism-${randomBytes(3).toString('hex')}`;

interface PodView {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      restartCount: number;
      state: { waiting?: { reason: string }; terminated?: { reason: string } };
      lastState: { terminated?: { reason: string } };
    }[];
  };
}

async function pod(name: string, namespace = ns): Promise<PodView> {
  return JSON.parse(await kubectl(['-n', namespace, 'get', 'pod', name, '-o', 'json'])) as PodView;
}

const ready = (p: PodView) =>
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function untilReady(name: string, timeoutMs = 60_000): Promise<PodView> {
  return eventually(`pod ${name} Ready`, () => pod(name), ready, timeoutMs);
}

async function apply(yaml: string): Promise<void> {
  await kubectl(['-n', ns, 'apply', '-f', '-'], yaml);
}

describe('a real-node sandbox', () => {
  beforeAll(async () => {
    await createNamespace(ns);
  });
  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });

  it('is kubeadm-shaped: three nodes, the control plane as static pods, CoreDNS and kube-proxy', async () => {
    const nodes = await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(nodes.split(' ').sort()).toEqual(['controlplane', 'node01', 'node02']);
    const manifests = await onNode('controlplane', 'ls /etc/kubernetes/manifests');
    expect(manifests.split('\n').filter(Boolean).sort()).toEqual([
      'etcd.yaml',
      'kube-apiserver.yaml',
      'kube-controller-manager.yaml',
      'kube-scheduler.yaml',
    ]);
    const system = await kubectl(['-n', 'kube-system', 'get', 'pods', '-o', 'name']);
    for (const name of [
      'pod/kube-apiserver-controlplane',
      'pod/etcd-controlplane',
      'pod/kube-scheduler-controlplane',
      'pod/kube-controller-manager-controlplane',
    ])
      expect(system).toContain(name);
    expect(system).toMatch(/pod\/coredns-/);
    expect(system).toMatch(/pod\/kube-proxy-/);
    expect(await onNode('node01', 'hostname')).toBe('node01\n');
    expect(await onNode('node01', 'ls /etc/kubernetes')).toMatch(/kubelet\.conf/);
  });

  it("shares the system images' files between nodes: one copy of kube-proxy's program, the one each node's kube-proxy runs", async () => {
    const seeded = await Promise.all(
      realNodes().map(async (node) =>
        (
          await onNode(
            node.name,
            'stat -c %i /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/*/fs/usr/local/bin/kube-proxy',
          )
        )
          .split('\n')
          .filter(Boolean),
      ),
    );
    expect(seeded.map((found) => found.length)).toEqual([1, 1, 1]);
    // The node's own kube-proxy: the one in its network namespace (the nodes
    // share the machine's process table).
    const running = await Promise.all(
      realNodes().map(async (node) =>
        (
          await onNode(
            node.name,
            'me=$(readlink /proc/self/ns/net); for pid in $(pidof kube-proxy); do ' +
              '[ "$(readlink /proc/$pid/ns/net)" = "$me" ] && stat -L -c %i /proc/$pid/exe; done; true',
          )
        )
          .split('\n')
          .filter(Boolean),
      ),
    );
    expect(running.map((found) => found.length)).toEqual([1, 1, 1]);
    expect(new Set([...seeded.flat(), ...running.flat()]).size).toBe(1);
  });

  it('runs containers: logs, exec and port-forward reach them', async () => {
    await kubectl([
      '-n',
      ns,
      'run',
      'talker',
      '--image=busybox:1.36',
      '--restart=Never',
      '--',
      'sh',
      '-c',
      'echo hello from $(hostname); exec sleep 3600',
    ]);
    await untilReady('talker');
    expect(await kubectl(['-n', ns, 'logs', 'talker'])).toBe('hello from talker\n');
    expect(await kubectl(['-n', ns, 'exec', 'talker', '--', 'cat', '/etc/hostname'])).toBe(
      'talker\n',
    );

    await kubectl([
      '-n',
      ns,
      'run',
      'echo',
      '--image=registry.k8s.io/e2e-test-images/agnhost:2.53',
      '--restart=Never',
      '--',
      'netexec',
      '--http-port=8080',
    ]);
    await untilReady('echo');
    const forward = spawn(
      process.env.REAL_KUBECTL!,
      ['--kubeconfig', process.env.REAL_KUBECONFIG!, '-n', ns, 'port-forward', 'pod/echo', ':8080'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        forward.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        forward.on('exit', (code) => reject(new Error(`port-forward exited ${code}: ${out}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/hostname`);
      expect(await res.text()).toBe('echo');
    } finally {
      forward.kill();
    }
  });

  it('restarts a container whose liveness probe fails, and gates endpoints on readiness', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: { name: flaky }
spec:
  containers:
    - name: main
      image: busybox:1.36
      command: [sh, -c, 'touch /tmp/healthy; sleep 4; rm /tmp/healthy; sleep 3600']
      livenessProbe:
        exec: { command: [cat, /tmp/healthy] }
        periodSeconds: 1
        failureThreshold: 2
`);
    await eventually(
      'the liveness probe to restart flaky',
      () => pod('flaky'),
      (p) => (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      60_000,
    );

    await apply(`apiVersion: v1
kind: Pod
metadata: { name: gated, labels: { app: gated } }
spec:
  containers:
    - name: main
      image: busybox:1.36
      command: [sh, -c, 'exec sleep 3600']
      readinessProbe:
        exec: { command: [cat, /tmp/ready] }
        periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: { name: gated }
spec:
  selector: { app: gated }
  ports: [{ port: 80 }]
`);
    const endpoint = async () =>
      JSON.parse(
        await kubectl([
          '-n',
          ns,
          'get',
          'endpointslices',
          '-l',
          'kubernetes.io/service-name=gated',
          '-o',
          'json',
        ]),
      ) as { items: { endpoints?: { conditions: { ready: boolean } }[] }[] };
    const states = (view: Awaited<ReturnType<typeof endpoint>>) =>
      view.items.flatMap((s) => s.endpoints ?? []).map((e) => e.conditions.ready);
    await eventually(
      'an endpoint that is not ready',
      endpoint,
      (v) => states(v).join() === 'false',
    );
    await kubectl(['-n', ns, 'exec', 'gated', '--', 'touch', '/tmp/ready']);
    await eventually('the endpoint ready', endpoint, (v) => states(v).join() === 'true');
  });

  it('resolves Service names through CoreDNS and carries traffic by ClusterIP and NodePort', async () => {
    await apply(`apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: nginx, image: nginx:1.27, ports: [{ containerPort: 80 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, targetPort: 80 }]
`);
    await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=90s']);
    // kube-proxy programs a new Service's rules a moment after its endpoints are ready.
    const page = await eventually(
      'the Service to answer by name',
      () =>
        kubectl([
          '-n',
          ns,
          'exec',
          'talker',
          '--',
          'timeout',
          '3',
          'wget',
          '-qO-',
          `http://web.${ns}.svc.cluster.local`,
        ]),
      (out) => out.includes('Welcome to nginx!'),
      30_000,
    );
    expect(page).toContain('Welcome to nginx!');
    const nodePort = await kubectl([
      '-n',
      ns,
      'get',
      'service',
      'web',
      '-o',
      'jsonpath={.spec.ports[0].nodePort}',
    ]);
    const viaNodePort = await eventually(
      'the NodePort to answer from the host',
      async () => (await fetch(`http://${realNode('node02').address}:${nodePort}/`)).text(),
      (text) => text.includes('Welcome to nginx!'),
      30_000,
    );
    expect(viaNodePort).toContain('Welcome to nginx!');
  });

  it('enforces NetworkPolicy: denied, then allowed for the labelled client', async () => {
    // BusyBox's `wget -T` crashes (Debian's build); `timeout` bounds it instead.
    const reach = () =>
      kubectl([
        '-n',
        ns,
        'exec',
        'talker',
        '--',
        'timeout',
        '3',
        'wget',
        '-qO-',
        `http://web.${ns}.svc.cluster.local`,
      ]).then(
        () => 'reached',
        () => 'refused',
      );
    expect(await reach()).toBe('reached');
    await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-deny }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
`);
    await eventually('the deny policy to take effect', reach, (r) => r === 'refused', 60_000);
    await kubectl(['-n', ns, 'label', 'pod', 'talker', 'role=client']);
    await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-allow-clients }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
  ingress: [{ from: [{ podSelector: { matchLabels: { role: client } } }] }]
`);
    await eventually('the allow policy to take effect', reach, (r) => r === 'reached', 60_000);
  });

  it('reports usage with kubectl top', async () => {
    const top = await eventually(
      'metrics for the pods',
      () => kubectl(['-n', 'kube-system', 'top', 'pods', '--no-headers']),
      (out) => /kube-apiserver-controlplane\s+\d+m\s+\d+Mi/.test(out),
      150_000,
    );
    expect(top).toMatch(/etcd-controlplane\s+\d+m\s+\d+Mi/);
  });

  it('fails as in life: OOMKilled over the limit, ImagePullBackOff, CrashLoopBackOff', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: { name: hungry }
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: busybox:1.36
      command: [sh, -c, 'tail /dev/zero']
      resources: { limits: { memory: 32Mi } }
`);
    await kubectl([
      '-n',
      ns,
      'run',
      'ghost',
      '--image=does-not-exist/ghost:1.0',
      '--restart=Never',
    ]);
    await kubectl(['-n', ns, 'run', 'crasher', '--image=busybox:1.36', '--', 'sh', '-c', 'exit 1']);
    const hungry = await eventually(
      'hungry to be OOMKilled',
      () => pod('hungry'),
      // The phase follows the container's status a moment later.
      (p) =>
        p.status.containerStatuses?.[0]?.state.terminated?.reason === 'OOMKilled' &&
        p.status.phase === 'Failed',
      60_000,
    );
    expect(hungry.status.containerStatuses?.[0]?.restartCount).toBe(0);
    await eventually(
      'ghost to fail its pull',
      () => pod('ghost'),
      (p) =>
        ['ErrImagePull', 'ImagePullBackOff'].includes(
          p.status.containerStatuses?.[0]?.state.waiting?.reason ?? '',
        ),
    );
    // Between restarts a 1.36 kubelet may report the last termination (STATUS Error)
    // rather than waiting/CrashLoopBackOff; the back-off itself is in the events.
    const crasher = await eventually(
      'crasher to be restarted with back-off',
      () => pod('crasher'),
      (p) => (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 2,
      90_000,
    );
    expect(crasher.status.containerStatuses?.[0]?.lastState.terminated?.reason).toBe('Error');
    const backOff = await kubectl([
      '-n',
      ns,
      'get',
      'events',
      '--field-selector',
      'reason=BackOff,involvedObject.name=crasher',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    expect(backOff).toMatch(/Back-off restarting failed container crasher/);
  });

  it('runs a static pod from a node manifest as a mirror pod', async () => {
    await onNode(
      'node01',
      `cat > /etc/kubernetes/manifests/static-web.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: { name: static-web, namespace: ${ns} }
spec:
  containers: [{ name: web, image: nginx:1.27 }]
YAML`,
    );
    await untilReady('static-web-node01', 90_000);
    await onNode('node01', 'rm /etc/kubernetes/manifests/static-web.yaml');
    await eventually(
      'the mirror pod to go',
      () => kubectl(['-n', ns, 'get', 'pods', '-o', 'name']),
      (out) => !out.includes('static-web-node01'),
      60_000,
    );
  });

  it('stops scheduling while the scheduler manifest is moved out, and resumes when it is back', async () => {
    await onNode('controlplane', 'mv /etc/kubernetes/manifests/kube-scheduler.yaml /root/');
    await eventually(
      'the scheduler pod to go',
      () => kubectl(['-n', 'kube-system', 'get', 'pods', '-o', 'name']),
      (out) => !out.includes('kube-scheduler-controlplane'),
      60_000,
    );
    await kubectl(['-n', ns, 'run', 'waiting', '--image=busybox:1.36', '--', 'sleep', '3600']);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect((await pod('waiting')).spec.nodeName).toBeUndefined();
    await onNode('controlplane', 'mv /root/kube-scheduler.yaml /etc/kubernetes/manifests/');
    const scheduled = await eventually(
      'waiting to be scheduled',
      () => pod('waiting'),
      (p) => !!p.spec.nodeName,
      120_000,
    );
    expect(['node01', 'node02']).toContain(scheduled.spec.nodeName);
  });

  it('turns a node NotReady when its kubelet stops, and Ready when it starts (systemctl on the node)', async () => {
    const condition = async () =>
      kubectl([
        'get',
        'node',
        'node02',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
    expect(await onNode('node02', 'systemctl is-active kubelet')).toBe('active\n');
    await onNode('node02', 'systemctl stop kubelet');
    await eventually(
      'node02 NotReady',
      condition,
      (s) => s === 'Unknown' || s === 'False',
      120_000,
    );
    expect(await onNode('node02', 'systemctl is-active kubelet || true')).toBe('inactive\n');
    await onNode('node02', 'systemctl start kubelet');
    await eventually('node02 Ready again', condition, (s) => s === 'True', 60_000);
    expect(await onNode('node02', 'journalctl -u kubelet -n 50')).toMatch(/kubelet/i);
  });

  it('drains a node: its pods are evicted and run elsewhere', async () => {
    await kubectl(['-n', ns, 'scale', 'deployment/web', '--replicas=4']);
    await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=90s']);
    await kubectl([
      'drain',
      'node01',
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--force',
      '--timeout=120s',
    ]);
    try {
      const pods = JSON.parse(
        await kubectl(['-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'json']),
      ) as {
        items: PodView[];
      };
      expect(pods.items.map((p) => p.spec.nodeName)).not.toContain('node01');
      await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=90s']);
    } finally {
      await kubectl(['uncordon', 'node01']);
    }
  });

  it('backs etcd up with etcdctl and restores a deleted object with etcdutl', async () => {
    await kubectl(['-n', ns, 'create', 'configmap', 'precious', '--from-literal=keep=me']);
    const certs =
      '--endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt ' +
      '--cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key';
    await onNode('controlplane', `etcdctl ${certs} snapshot save /root/etcd-backup.db`);
    const status = await onNode(
      'controlplane',
      'etcdutl snapshot status /root/etcd-backup.db -w json',
    );
    expect(JSON.parse(status)).toMatchObject({ totalKey: expect.any(Number) });
    await kubectl(['-n', ns, 'delete', 'configmap', 'precious']);
    await onNode(
      'controlplane',
      'etcdutl snapshot restore /root/etcd-backup.db --data-dir /var/lib/etcd-restored && ' +
        "sed -i 's#path: /var/lib/etcd$#path: /var/lib/etcd-restored#' /etc/kubernetes/manifests/etcd.yaml",
    );
    const value = await eventually(
      'the API server back on the restored etcd, with the ConfigMap',
      () => kubectl(['-n', ns, 'get', 'configmap', 'precious', '-o', 'jsonpath={.data.keep}']),
      (out) => out === 'me',
      180_000,
    );
    expect(value).toBe('me');
  });
});
