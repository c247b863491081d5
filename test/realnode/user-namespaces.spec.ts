import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { NODE_DIRS } from '../../sandbox/real/node-host.js';
import { REPO_ROOT } from '../support/app.js';
import { eventually } from '../support/eventually.js';
import { createNamespace, kubectl, onNode, realNode } from '../support/real-cluster.js';

/**
 * A cluster-admin who tries to leave their cluster, as a candidate of a
 * dedicated exam may: a privileged pod with the host's PID namespace and
 * its root folder mounted, and root on the node itself. On a sandbox whose
 * nodes run in user namespaces (the engine's dedicated clusters, and this
 * suite's sandbox unless REAL_USER_NAMESPACES=0) all of it stays inside the
 * node: root there is an unprivileged range of the machine's ids.
 */
jest.setTimeout(180_000);

const ns = `escape-${randomBytes(3).toString('hex')}`;
const userNamespaces = process.env.REAL_USER_NAMESPACES !== '0';
const maybe = userNamespaces ? describe : describe.skip;

maybe('a node in a user namespace', () => {
  beforeAll(async () => {
    await createNamespace(ns);
    await kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: { name: escape }
spec:
  nodeName: node01
  hostPID: true
  hostNetwork: true
  containers:
    - name: c
      image: busybox
      command: [sleep, "3600"]
      securityContext: { privileged: true }
      volumeMounts: [{ name: host, mountPath: /host }]
  volumes: [{ name: host, hostPath: { path: / } }]
`,
    );
    await eventually(
      'the privileged pod Running',
      () => kubectl(['-n', ns, 'get', 'pod', 'escape', '-o', 'jsonpath={.status.phase}']),
      (phase) => phase === 'Running',
      90_000,
    );
  });
  afterAll(async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });

  /** A shell command in the privileged pod; its output and exit code, never a throw. */
  const inPod = async (command: string): Promise<{ out: string; code: number }> => {
    const out = await kubectl([
      '-n',
      ns,
      'exec',
      'escape',
      '--',
      'sh',
      '-c',
      // A subshell: a failed redirection's message goes to its stderr, captured too.
      `(${command}) 2>&1; echo "exit=$?"`,
    ]);
    const code = Number(/exit=(\d+)\s*$/.exec(out)?.[1] ?? -1);
    return { out: out.replace(/exit=\d+\s*$/, ''), code };
  };

  it("maps the pod's root to an unprivileged range of the machine's ids", async () => {
    const map = (await inPod('cat /proc/self/uid_map')).out.trim().split(/\s+/).map(Number);
    expect(map[0]).toBe(0);
    expect(map[1]).toBeGreaterThanOrEqual(1 << 24);
    expect(map[2]).toBe(65536);
    // So do the node's own daemons, seen from the machine: its kubelet is no root here.
    const inside = realNode('node01').pid;
    const group = /:pids:(\S+)/.exec(readFileSync(`/proc/${inside}/cgroup`, 'utf8'))![1];
    const daemons = readFileSync(`/sys/fs/cgroup/pids${group}/cgroup.procs`, 'utf8')
      .split('\n')
      .filter(Boolean);
    const kubelet = daemons.find(
      (pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'kubelet',
    );
    expect(kubelet).toBeDefined();
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${kubelet}/status`, 'utf8'))![1]);
    expect(uid).toBe(map[1]);
  });

  it("has no process of the machine's root inside the node, not even its PID 1 or a command entered into it", async () => {
    const map = (await inPod('cat /proc/self/uid_map')).out.trim().split(/\s+/).map(Number);
    const uidOf = (pid: number | string) =>
      Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    // The node's PID 1, seen from the machine.
    expect(uidOf(realNode('node01').pid)).toBe(map[1]);
    // Every process of the node (its daemons, shims and containers: its cgroups) is of its range.
    const group = /:pids:(\S+)/.exec(
      readFileSync(`/proc/${realNode('node01').pid}/cgroup`, 'utf8'),
    )![1];
    const pids = (dir: string): string[] => [
      ...readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean),
      ...readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .flatMap((entry) => pids(join(dir, entry.name))),
    ];
    const all = pids(join('/sys/fs/cgroup/pids', dirname(group)));
    expect(all.length).toBeGreaterThan(10);
    const outside = all
      .map((pid) => {
        try {
          return uidOf(pid);
        } catch {
          return map[1]; // ended meanwhile
        }
      })
      .filter((uid) => uid < map[1] || uid >= map[1] + map[2]);
    expect(outside).toEqual([]);
    // Under the node's /proc (which its root may unmount, in a mount namespace of its own here)
    // the machine's processes are hidden: this test's own is not there.
    const under = await onNode(
      'node01',
      `unshare -m sh -c 'umount /proc && test -e /proc/${process.pid}/status; echo "exit=$?"'`,
    );
    expect(under.trim()).toBe('exit=1');
  });

  it("keeps the daemons' logs out of the node's reach, and its shared memory its own", async () => {
    // The launcher writes them as the machine's root: a symlink planted there would be followed.
    const planted = await onNode(
      'node01',
      'ln -sf /etc/cka-escape /var/log/cka/kubelet.log 2>&1; echo "exit=$?"',
    );
    expect(planted).not.toMatch(/exit=0/);
    expect(await onNode('node01', 'journalctl -u kubelet -n 1 | wc -l')).toMatch(/^[1-9]/);
    const name = `cka-shm-${randomBytes(3).toString('hex')}`;
    expect(await onNode('node01', `touch /dev/shm/${name} && echo made`)).toBe('made\n');
    expect(existsSync(`/dev/shm/${name}`)).toBe(false);
  });

  it("cannot write the machine's files through a hostPath of / or read its private ones", async () => {
    const planted = await inPod('touch /host/etc/cka-escape');
    expect(planted.code).not.toBe(0);
    expect(planted.out).toMatch(/Permission denied|Read-only/);
    expect(existsSync('/etc/cka-escape')).toBe(false);
    const shadow = await inPod('cat /host/etc/shadow');
    expect(shadow.code).not.toBe(0);
    // The node's programs are hard links into the machine's caches, shared by every cluster.
    const kubelet = await inPod('echo x >> /host/usr/local/bin/kubelet');
    expect(kubelet.code).not.toBe(0);
    expect(kubelet.out).toMatch(/Permission denied/);
  });

  it("does not see the engine's checkout or the machine's other folders at all", async () => {
    expect(existsSync(join(REPO_ROOT, 'package.json'))).toBe(true);
    const [top, next] = REPO_ROOT.split('/').filter(Boolean);
    const listing = await inPod(`ls -A /host/${top}`);
    expect(listing.code).toBe(0);
    if (NODE_DIRS.includes(top as (typeof NODE_DIRS)[number]))
      // A checkout under /tmp (CI's clone): the node's /tmp is its own, with
      // its own files (runc's), and none of the machine's.
      expect(listing.out.split('\n')).not.toContain(next);
    else expect(listing.out.trim()).toBe('');
    const repo = await inPod(`cat /host${join(REPO_ROOT, 'package.json')}`);
    expect(repo.code).not.toBe(0);
    // The node's own folders are there, as on a machine.
    expect((await inPod('ls /host/etc/kubernetes')).out).toMatch(/kubelet\.conf/);
  });

  it("sees the node's processes only, and cannot kill the node", async () => {
    const ps = await inPod('ps -o pid,comm');
    expect(ps.out).toMatch(/kubelet/);
    expect(ps.out).toMatch(/containerd/);
    // The machine's (this test's Node.js, the engine's) are not there.
    expect(ps.out).not.toMatch(/\bjest\b|\bnode\b/);
    // PID 1 of the node's namespace ignores a SIGKILL from inside it.
    await inPod('kill -9 1');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const ready = await kubectl([
      'get',
      'node',
      'node01',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    expect(ready).toBe('True');
  });

  it("reaches the machine's image registries over the cluster's uplink, and no other service there", async () => {
    // A service of this machine's on all its addresses (as a database or a dev server may be).
    const server = createServer((socket) => socket.end('engine secrets\n'));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const host = realNode('node01').address.replace(/\.\d+$/, '.1');
      const refused = await inPod(`nc -w 3 ${host} ${port} </dev/null`);
      expect(refused.out).not.toContain('engine secrets');
      expect(refused.code).not.toBe(0);
      // The same service answers this machine on that address, and the registry answers the pod.
      const direct = await new Promise<string>((resolve, reject) => {
        let data = '';
        const client = connect(port, host);
        client.on('data', (chunk: Buffer) => (data += chunk.toString()));
        client.on('end', () => resolve(data));
        client.on('error', reject);
      });
      expect(direct).toBe('engine secrets\n');
      const registry = new URL(process.env.REAL_PUSH_REGISTRY!);
      expect(registry.hostname).toBe(host);
      const pulled = await inPod(`nc -w 3 ${host} ${registry.port} </dev/null`);
      expect(pulled.code).toBe(0);
    } finally {
      server.close();
    }
  });

  it("keeps the machine's mounts locked under the node's root: it cannot unmount what hides the machine", async () => {
    const top = REPO_ROOT.split('/').filter(Boolean)[0];
    const umount = await onNode('node01', `umount /${top} 2>&1; echo "exit=$?"`);
    expect(umount).not.toMatch(/exit=0/);
    const listing = await onNode('node01', `ls -A /${top} | wc -l`);
    expect(listing.trim()).toBe('0');
    const tmp = await onNode('node01', `umount /tmp 2>&1; echo "exit=$?"`);
    expect(tmp).not.toMatch(/exit=0/);
  });

  it("cannot change an image layer every cluster shares, while a container's own writes work", async () => {
    const seeded = await onNode(
      'node01',
      'find /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots -type f -links +1 | head -1',
    );
    expect(seeded.trim()).not.toBe('');
    const rewrite = await onNode(
      'node01',
      `sh -c 'echo x >> ${seeded.trim()}' 2>&1; echo "exit=$?"`,
    );
    expect(rewrite).not.toMatch(/exit=0/);
    const layer = statSync(join(realNode('node01').root, seeded.trim()));
    expect(layer.uid).toBe(0);
    expect((await inPod('echo ok > /tmp/own && cat /tmp/own')).out.trim()).toBe('ok');
  });
});
