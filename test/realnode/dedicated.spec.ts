import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { ClusterLease } from '../../src/environments/cluster-lease.entity.js';
import { SandboxClusterProvider } from '../../src/environments/sandbox-cluster.provider.js';
import { REPO_ROOT, isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
import { bearer } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';
import { startRedis, type TestService } from '../support/services.js';
import { TerminalClient } from '../support/terminal-client.js';

/**
 * A dedicated exam over HTTP and the terminal WebSocket, with the sandbox
 * provider making real clusters: the pool keeps one warm, a candidate gets
 * it at once, works in it as cluster-admin through the terminal only, and is
 * graded on it; the cluster is destroyed after.
 */
jest.setTimeout(600_000);

const GIB = 1024 ** 3;

describe('a dedicated exam', () => {
  let redis: TestService;
  let clustersDir: string;
  let t: TestApp;
  let env: Record<string, string>;
  let base: string;
  const provider = () =>
    new SandboxClusterProvider({
      repoDir: resolve(REPO_ROOT),
      clustersDir,
      clusterBytes: 1.2 * GIB,
      reserveBytes: 2 * GIB,
      startTimeoutMs: 240_000,
    });

  beforeAll(async () => {
    redis = await startRedis();
    process.env.TEST_REDIS_URL = redis.url;
    clustersDir = await mkdtemp(join(tmpdir(), 'cka-dedicated-'));
    env = await isolatedEnv({
      QUESTIONS_DIR: join(REPO_ROOT, 'test/fixtures/banks/dedicated'),
      CLUSTER_PROVIDER: 'sandbox',
      POOL_SIZE: '1',
      SANDBOX_CLUSTERS_DIR: clustersDir,
      RECONCILE_INTERVAL_MS: '2000',
      TEARDOWN_AFTER_SECONDS: '0',
      TERMINAL_ENABLED: 'true',
      TERMINAL_KUBECTL: process.env.REAL_KUBECTL ?? '',
      KUBECONFIG: '',
      LOG_LEVEL: process.env.DEDICATED_LOG ?? 'silent',
    });
    await startEngine();
  });
  /** The engine on the test's database and clusters folder (again, after a stop). */
  const startEngine = async () => {
    t = await startTestApp(env);
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  };
  afterAll(async () => {
    await t?.close();
    // Whatever the pool was still making or keeping.
    if (clustersDir) {
      const clusters = provider();
      for (const id of await clusters.list())
        await clusters.destroy({
          id,
          kubeconfig: '',
          candidateKubeconfig: '',
          nodes: [],
          handle: {},
        });
      await rm(clustersDir, { recursive: true, force: true });
    }
    await redis?.stop();
  });

  const leases = () => t.dataSource.getRepository(ClusterLease).find();
  /** An invited candidate of the dedicated exam, started (a trainer invites: see SECURITY.md). */
  const startCandidate = async (name: string) => {
    const invitation = await t.http
      .post('/api/invitations')
      .set(bearer(await t.staffToken(StaffRole.TRAINER)))
      .send({ examId: 'dedicated-e2e', candidateName: name })
      .expect(201);
    const started = await t.http
      .post('/api/sessions')
      .send({ invitationCode: invitation.body.code })
      .expect(201);
    return {
      token: started.body.sessionToken as string,
      id: started.body.session.id as string,
      session: started.body.session as { environment: string },
    };
  };

  it('leases a warm cluster, lets the candidate work in it through the terminal only, grades it, and destroys it', async () => {
    await eventually(
      'the pool to hold a warm cluster',
      async () => (await leases()).map((l) => l.state),
      (states) => states.includes('warm'),
      300_000,
    );

    const { token, id: sessionId, session } = await startCandidate('Ada');
    expect(session).toMatchObject({ environment: 'dedicated' });
    const leasedAt = Date.now();
    await eventually(
      'the session to be ready',
      async () => (await t.http.get('/api/sessions/me').set(bearer(token))).body.state as string,
      (state) => state === 'ready' || state === 'provisioning_failed',
      60_000,
    );
    const readyMs = Date.now() - leasedAt;
    process.stderr.write(`[dedicated] warm lease to ready: ${readyMs} ms\n`);
    const [lease] = (await leases()).filter((l) => l.sessionId === sessionId);
    expect(lease).toMatchObject({ state: 'leased', alias: 'k8s-c1' });

    // The setup's run step wrote on node01, as root, in the node's own /root.
    const cluster = await provider().find({
      id: lease.id,
      kubeconfig: '',
      candidateKubeconfig: '',
      nodes: lease.handle!.nodes,
      handle: lease.handle!.provider,
    });
    expect(
      (
        await provider().exec(cluster!, 'node01', ['cat', '/root/marker.txt'], {
          timeoutMs: 10_000,
        })
      ).stdout,
    ).toBe('token=node01-42\n');

    await t.http.post('/api/sessions/me/begin').set(bearer(token)).expect(200);
    // No kubeconfig to download: the terminal is the only way in.
    const download = await t.http.get('/api/sessions/me/kubeconfig').set(bearer(token));
    expect(download.status).toBe(403);
    expect(download.body.code).toBe('KUBECONFIG_NOT_OFFERED');

    const term = await TerminalClient.open(base, bearer(token));
    expect(await term.run('kubectl config get-contexts -o name')).toBe('k8s-c1\n');
    expect(
      await term.run(
        "kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {end}'; echo",
        30_000,
      ),
    ).toBe('controlplane node01 \n');
    // Cluster-admin: cluster-wide reads and writes.
    expect(await term.run('kubectl auth can-i "*" "*" --all-namespaces')).toBe('yes\n');
    expect(
      await term.run('kubectl -n app create configmap marker --from-literal=token=node01-42'),
    ).toBe('configmap/marker created\n');
    // ssh <node>: a node of the current context's cluster, as root, with its own files.
    expect(await term.run('ssh node01 cat /root/marker.txt')).toBe('token=node01-42\n');
    expect(await term.run('ssh node01 systemctl is-active kubelet; echo "exit $?"')).toBe(
      'active\nexit 0\n',
    );
    expect(await term.run('ssh node01 "exit 7"; echo "exit $?"')).toBe('exit 7\n');
    // Root on the node is root of its user namespace only: an unprivileged range of the machine's ids.
    const [inside, outside, count] = (await term.run('ssh node01 cat /proc/self/uid_map'))
      .trim()
      .split(/\s+/)
      .map(Number);
    expect([inside, count]).toEqual([0, 65536]);
    expect(outside).toBeGreaterThanOrEqual(1 << 24);
    expect(await term.run('ssh node09 true; echo "exit $?"')).toBe(
      'ssh: Could not resolve hostname node09: Name or service not known (nodes of k8s-c1: controlplane, node01)\nexit 255\n',
    );
    // Interactively, and jailed: its own processes only, nothing of the engine's host.
    term.type('ssh node01\r');
    await term.waitFor(/root@node01/, 20_000);
    expect(
      await term.run('hostname; ps -e --no-headers | wc -l; ls /work /home 2>&1 | head -2'),
    ).toMatch(
      /^node01\n[1-5]\nls: cannot access '\/work': No such file or directory\nls: cannot access '\/home': No such file or directory\n$/,
    );
    // A worker's own kubeadm files (its manifests folder is empty, as on a real worker).
    expect(await term.run('ls /etc/kubernetes')).toMatch(/kubelet\.conf/);
    // crictl finds containerd without warnings: its kube-proxy container, and nothing else said.
    expect(await term.run('crictl ps --name kube-proxy --quiet | wc -l')).toBe('1\n');
    // The image layers are shared with every node on the machine: read-only here.
    expect(await term.run('touch /var/lib/containerd/x 2>&1; echo "exit $?"')).toBe(
      "touch: cannot touch '/var/lib/containerd/x': Read-only file system\nexit 1\n",
    );
    term.type('exit\r');
    await term.waitFor(/Connection to node01 closed\./, 10_000);
    // The backup is node work: ssh to the control plane, then etcdctl with kubeadm's certificates.
    expect(
      await term.run(
        'ssh controlplane "mkdir -p /opt/backup && ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key snapshot save /opt/backup/etcd.db >/dev/null 2>&1"; echo "exit $?"',
        60_000,
      ),
    ).toBe('exit 0\n');
    await t.http.post('/api/sessions/me/submit').set(bearer(token)).expect(200);
    await expect(term.closed).resolves.toMatchObject({ code: 4002 });

    await eventually(
      'the session to be graded',
      async () => (await t.http.get('/api/sessions/me').set(bearer(token))).body.state as string,
      (state) => state === 'graded' || state === 'grading_failed',
      120_000,
    );
    const report = (await t.http.get('/api/sessions/me/report').set(bearer(token))).body;
    const statuses = (
      report.tasks as { checks: { id: string; status: string; message: string }[] }[]
    )
      .flatMap((task) => task.checks)
      .map((c) => `${c.id}: ${c.status}${c.status === 'passed' ? '' : ` (${c.message})`}`);
    // The cluster's API, node01's file and kubelet, the control plane's
    // manifests, a container's log and the snapshot on the control plane.
    expect(statuses).toEqual([
      'marker: passed',
      'marker-file: passed',
      'kubelet: passed',
      'manifests: passed',
      'greeter-log: passed',
      'snapshot: passed',
    ]);
    expect(report).toMatchObject({ pointsAwarded: 8, pointsPossible: 8 });
    const { startedAt, finishedAt } = report.run as { startedAt: string; finishedAt: string };
    process.stderr.write(
      `[dedicated] grading with node-level checks took ${Date.parse(finishedAt) - Date.parse(startedAt)} ms\n`,
    );

    // Teardown destroys the cluster (never reused).
    await eventually(
      "the session's cluster to be released",
      async () => (await leases()).find((l) => l.id === lease.id)?.state,
      (state) => state === 'released',
      120_000,
    );
    expect(await provider().find(cluster!)).toBeUndefined();
  });

  it('gives two candidates at once clusters of their own, refills the pool, and finds its leases again after a restart', async () => {
    // The pool made another warm cluster after the first test leased its one.
    await eventually(
      'the pool to hold a warm cluster again',
      async () => (await leases()).filter((l) => l.state === 'warm').length,
      (warm) => warm >= 1,
      300_000,
    );
    // At once: one takes the warm cluster, the other has one made for it.
    const [ada, bob] = await Promise.all([startCandidate('Ada'), startCandidate('Bob')]);
    for (const candidate of [ada, bob]) {
      await eventually(
        `${candidate.id} to be ready`,
        async () =>
          (await t.http.get('/api/sessions/me').set(bearer(candidate.token))).body.state as string,
        (state) => state === 'ready' || state === 'provisioning_failed',
        300_000,
      );
      await t.http.post('/api/sessions/me/begin').set(bearer(candidate.token)).expect(200);
    }
    const leaseOf = async (sessionId: string) =>
      (await leases()).find((l) => l.sessionId === sessionId && l.state === 'leased')!;
    const [adaLease, bobLease] = [await leaseOf(ada.id), await leaseOf(bob.id)];
    expect(adaLease.id).not.toBe(bobLease.id);

    const adaTerm = await TerminalClient.open(base, bearer(ada.token));
    const bobTerm = await TerminalClient.open(base, bearer(bob.token));
    // Each cluster's own kube-system namespace (the API address is the jail's relay, the same for both).
    const identity = "kubectl get ns kube-system -o jsonpath='{.metadata.uid}'; echo";
    const [adaCluster, bobCluster] = [
      await adaTerm.run(identity, 30_000),
      await bobTerm.run(identity, 30_000),
    ];
    expect(adaCluster).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(adaCluster).not.toBe(bobCluster);
    expect(
      await adaTerm.run(
        'kubectl -n app create configmap marker --from-literal=token=node01-42',
        30_000,
      ),
    ).toBe('configmap/marker created\n');
    // Bob's cluster-admin reaches his own cluster only: nothing of Ada's there.
    expect(
      await bobTerm.run('kubectl get configmaps -A --no-headers | grep -c marker', 30_000),
    ).toBe('0\n');
    expect(await bobTerm.run('ssh node01 cat /root/marker.txt')).toBe('token=node01-42\n');
    // The node's supervisor behind systemctl: the kubelet restarts, and the node stays Ready.
    expect(
      await bobTerm.run(
        'ssh node01 "systemctl restart kubelet && sleep 2 && systemctl is-active kubelet"',
        30_000,
      ),
    ).toBe('active\n');
    adaTerm.close();
    bobTerm.close();

    // The engine stops mid-exam and starts again: the leases and clusters are found, not remade.
    await t.close();
    await startEngine();
    await eventually(
      "the restarted engine to reach Ada's cluster",
      async () => {
        const term = await TerminalClient.open(base, bearer(ada.token));
        try {
          return await term.run('kubectl -n app get configmap marker -o name', 30_000);
        } finally {
          term.close();
        }
      },
      (out) => out === 'configmap/marker\n',
      120_000,
    );
    expect((await leaseOf(ada.id)).id).toBe(adaLease.id);
    expect((await leaseOf(bob.id)).id).toBe(bobLease.id);

    for (const candidate of [ada, bob]) {
      await t.http.post('/api/sessions/me/submit').set(bearer(candidate.token)).expect(200);
      await eventually(
        `${candidate.id} to be graded`,
        async () =>
          (await t.http.get('/api/sessions/me').set(bearer(candidate.token))).body.state as string,
        (state) => state === 'graded' || state === 'grading_failed',
        180_000,
      );
    }
    // Ada made the marker ConfigMap (its check's 2 points), Bob did not.
    const points = async (token: string) =>
      (await t.http.get('/api/sessions/me/report').set(bearer(token))).body.pointsAwarded as number;
    expect(await points(bob.token)).toBeLessThan(await points(ada.token));
    await eventually(
      'both clusters to be released',
      async () => [
        (await leases()).find((l) => l.id === adaLease.id)?.state,
        (await leases()).find((l) => l.id === bobLease.id)?.state,
      ],
      (states) => states.every((state) => state === 'released'),
      180_000,
    );
  });

  it('holds a session that does not fit in provisioning, with its place in the queue, and starts it once a cluster is released', async () => {
    // Nothing kept warm any more; whatever earlier tests left alive is counted.
    await t.close();
    env = { ...env, POOL_SIZE: '0' };
    await startEngine();
    await eventually(
      'no cluster to be starting',
      async () => (await leases()).filter((l) => l.state === 'starting').length,
      (starting) => starting === 0,
      300_000,
    );
    const live = (await leases()).filter((l) => l.state === 'warm' || l.state === 'leased');
    const warm = live.filter((l) => l.state === 'warm').length;
    expect(warm).toBeLessThanOrEqual(1);
    // Room for exactly one more candidate's cluster: a warm one, or one made for it.
    await t.close();
    env = { ...env, CLUSTER_MAX: String(live.length + (warm ? 0 : 1)) };
    await startEngine();
    const me = async (token: string) =>
      (await t.http.get('/api/sessions/me').set(bearer(token))).body as {
        state: string;
        queuePosition: number | null;
      };
    const { token: cyd } = await startCandidate('Cyd');
    await eventually(
      'Cyd to be ready',
      () => me(cyd),
      (s) => s.state === 'ready',
      300_000,
    );
    const { token: dee } = await startCandidate('Dee');
    // Dee waits: the one cluster this machine may hold is Cyd's.
    await eventually(
      'Dee to wait in the queue',
      () => me(dee),
      (s) => s.state === 'provisioning' && s.queuePosition === 1,
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(await me(dee)).toMatchObject({ state: 'provisioning', queuePosition: 1 });
    // Cyd is done: her cluster is graded and destroyed, and Dee's is made.
    await t.http.post('/api/sessions/me/begin').set(bearer(cyd)).expect(200);
    await t.http.post('/api/sessions/me/submit').set(bearer(cyd)).expect(200);
    await eventually(
      'Dee to be ready',
      () => me(dee),
      (s) => s.state === 'ready' || s.state === 'provisioning_failed',
      400_000,
    );
    expect(await me(dee)).toMatchObject({ state: 'ready', queuePosition: null });
    await t.http.post('/api/sessions/me/begin').set(bearer(dee)).expect(200);
    await t.http.post('/api/sessions/me/submit').set(bearer(dee)).expect(200);
    await eventually(
      'Dee to be graded',
      async () => (await me(dee)).state,
      (state) => state === 'graded' || state === 'grading_failed',
      180_000,
    );
  });
});
