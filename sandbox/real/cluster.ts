import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  copyFile,
  link,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import type { Server } from 'node:net';
import { dirname, join } from 'node:path';
import {
  ensureRealNodeBinaries,
  ensureSandboxBinaries,
  type RealNodeBinaries,
  type SandboxBinaries,
} from '../build.js';
import {
  ensureImages,
  startImageRegistry,
  startPushRegistry,
  writeMirrorConfig,
} from '../images/index.js';
import { httpsRequest } from '../http.js';
import { WaitTimeoutError, waitFor } from '../wait.js';
import {
  kubeRouterImage,
  kubeRouterManifests,
  metricsServerImage,
  metricsServerManifests,
} from './addons.js';
import { runCommand } from './commands.js';
import {
  readMachineSysctls,
  type RealRunRecord,
  recordRealRun,
  removeRealLeftovers,
  restoreMachineSysctls,
} from './leftovers.js';
import { type ClusterNetwork, createClusterNetwork } from './network.js';
import {
  bridgeConflist,
  containerdConfig,
  controlPlanePatches,
  CRI_SOCKET,
  CRICTL_CONFIG,
  crictlConfig,
  PATCHES_DIR,
  POD_SUBNET,
  SERVICE_SUBNET,
  KUBELET_COMMAND,
  kubeadmInitConfig,
  kubeadmJoinConfig,
} from './node-config.js';
import { ensureImageSeed, imageSeedDir, plantImageSeed } from './image-seed.js';
import { type IdRange, NodeHost } from './node-host.js';
import { JOURNALCTL, SUPERVISOR_SOCKET, SYSTEMCTL } from './node-shims.js';
import { checkRealNodeHost, raiseInotifyLimits } from './preflight.js';
import { NodeSupervisor } from './supervisor.js';

export interface RealSandboxOptions {
  /** Node names; the first is the control plane (default controlplane, node01). */
  nodes?: string[];
  /** The cluster's name in kubeadm's configuration and the kubeconfig. */
  clusterName?: string;
  log?: (line: string) => void;
  /** Keep the run folder (logs, node roots) after stop. */
  keepRunDir?: boolean;
  /** Where run folders go (default: the sandbox's runs folder). */
  runsDir: string;
  /**
   * The whole cluster's CPU weight against the machine's other processes
   * (cgroup v1 `cpu.shares` of its cgroup; a process's is 1024). Unset: 1024.
   * The engine gives its dedicated clusters a low weight, so that clusters
   * (idle ones too: their controllers poll) yield the CPU to the engine's
   * API when both want it, and take all of it when the engine is idle.
   */
  cpuShares?: number;
  /**
   * Also a writable registry of its own, which every node's containerd asks
   * after the catalogue's (docker.io, registry.k8s.io, quay.io): images
   * pushed there (an operator's own, like the engine's) pull by their
   * public names. Its storage is the run folder's.
   */
  pushRegistry?: boolean;
  /**
   * Each node in a user namespace whose root is an unprivileged range of the
   * machine's ids, one range per cluster (NodeHostSpec.ids): what a
   * cluster-admin does on the nodes (privileged pods, hostPath volumes,
   * static pods, the node shell) stays inside them. Its nodes pull their
   * images themselves (the shared image seed is the machine root's).
   */
  userNamespaces?: boolean;
}

/**
 * The machine's ids a cluster's nodes map from 0 (one 65536-id range per
 * cluster network, from 2^24: above what /etc/subuid usually hands to users).
 */
export function clusterIds(networkIndex: number): IdRange {
  return { first: USERNS_BASE + networkIndex * USERNS_SIZE, count: USERNS_SIZE };
}
// Nothing checks the range against /etc/subuid or another container manager's (SECURITY.md).
const USERNS_BASE = 1 << 24;
const USERNS_SIZE = 1 << 16;

/** One node of a real cluster. */
export interface RealNode {
  name: string;
  /** Its address on the cluster's network. */
  address: string;
  /** Its host root: etc/kubernetes, var/lib/kubelet, var/log/pods… */
  root: string;
  host: NodeHost;
  supervisor: NodeSupervisor;
  /** Runs a command on the node (as root, in its namespaces) to completion. */
  exec(command: string[], options?: { timeoutMs?: number }): Promise<string>;
}

export interface RealSandbox {
  kubeconfigPath: string;
  server: string;
  runDir: string;
  binaries: SandboxBinaries;
  realBinaries: RealNodeBinaries;
  network: ClusterNetwork;
  /** The local registry every node's containerd uses as the mirror of docker.io, registry.k8s.io and quay.io. */
  registryUrl: string;
  /** With `pushRegistry`: where to push images the nodes then pull (`library/<name>` for docker.io's `<name>`). */
  pushRegistryUrl?: string;
  nodes: RealNode[];
  nodeNames: string[];
  /**
   * Resolves when a part the cluster cannot live without ends: a node's
   * namespace holder or the image registry. Not the kubelet or containerd:
   * their supervisor restarts them like systemd, and a candidate may stop
   * them on purpose.
   */
  whenComponentDies(): Promise<{ component: string; exit: string; logTail: string }>;
  stop(): Promise<void>;
}

const WAIT = { init: 240_000, join: 180_000, ready: 180_000 };
/** kubeadm's kube-proxy DaemonSet without its /lib/modules volume (for a kernel without modules). */
const KUBE_PROXY_WITHOUT_MODULES = {
  spec: {
    template: {
      spec: {
        volumes: [{ name: 'lib-modules', $patch: 'delete' }],
        containers: [
          { name: 'kube-proxy', volumeMounts: [{ mountPath: '/lib/modules', $patch: 'delete' }] },
        ],
      },
    },
  },
};
const PATH = '/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The node daemons' (and, inherited, the pods' shims') Go collector target, as in the system images (SYSTEM_GO_ENV). */
const GOGC = '50';
/** containerd as a node's supervisor runs it (the image seed's containerd too). */
const CONTAINERD_UNIT = {
  name: 'containerd',
  command: ['containerd'],
  env: { PATH, GOGC },
  restartSeconds: 5,
};

/**
 * A kubeadm cluster whose pods really run: each node a {@link NodeHost} with
 * containerd and a kubelet under its {@link NodeSupervisor}, the first one
 * made a control plane by `kubeadm init` (etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler as static pods; CoreDNS and
 * kube-proxy as kubeadm's add-ons), the others joined with `kubeadm join`,
 * images pulled from a local registry. Stopped (or swept after a killed
 * launcher), nothing of it stays on the host.
 */
export async function startRealSandbox(options: RealSandboxOptions): Promise<RealSandbox> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  await checkRealNodeHost();
  await raiseInotifyLimits(log);
  const [binaries, realBinaries] = await Promise.all([
    ensureSandboxBinaries({ log }),
    ensureRealNodeBinaries({ log }),
  ]);
  const images = await ensureImages({ binaries, realBinaries, log });
  await mkdir(options.runsDir, { recursive: true });
  const runDir = await mkdtemp(join(options.runsDir, `real-${process.pid}-`));
  await writeFile(join(runDir, 'owner.pid'), String(process.pid));
  const tag = randomBytes(3).toString('hex');
  const cgroupBase = `/cka/${tag}`;
  const sysctls = await readMachineSysctls();
  const record: RealRunRecord = { tag, cgroupRoot: cgroupBase, sysctls };
  await recordRealRun(runDir, record);
  if (options.cpuShares !== undefined) await weighCluster(cgroupBase, options.cpuShares);

  const names = options.nodes ?? ['controlplane', 'node01'];
  // Ends the start's background work (pulls, the control plane's network) when the start fails.
  const background = new AbortController();
  let backgroundWork: Promise<unknown>[] = [];
  const nodes: RealNode[] = [];
  const servers: Server[] = [];
  let network: ClusterNetwork | undefined;
  let registry: Awaited<ReturnType<typeof startImageRegistry>> | undefined;
  let pushRegistry: Awaited<ReturnType<typeof startPushRegistry>> | undefined;
  let keepRunDir = options.keepRunDir ?? false;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const server of servers) server.close();
    for (const node of [...nodes].reverse()) {
      await node.supervisor.close().catch(() => undefined);
      await node.host.destroy().catch(() => undefined);
    }
    await registry?.stop();
    await pushRegistry?.stop();
    await network?.destroy();
    await removeRealLeftovers(runDir);
    await restoreMachineSysctls(sysctls);
    if (!keepRunDir) await rm(runDir, { recursive: true, force: true });
  };

  try {
    network = await createClusterNetwork(tag, join(options.runsDir, 'locks'));
    record.networkLock = join(options.runsDir, 'locks', `net-${network.index}`);
    await recordRealRun(runDir, record);
    registry = await startImageRegistry({
      storageDir: images.storageDir,
      runDir,
      host: network.hostAddress,
      log,
    });
    // The nodes may open connections to the registries on the host, and to nothing else there.
    await network.allowInbound(portOf(registry.hostPort));
    log(`network ${network.hostAddress}/24 and image registry ${registry.url} (${since()})`);
    if (options.pushRegistry) {
      pushRegistry = await startPushRegistry({
        binary: join(dirname(images.storageDir), 'bin', 'registry'),
        storageDir: join(runDir, 'pushed-images'),
        runDir,
        host: network.hostAddress,
        log,
      });
      await network.allowInbound(portOf(pushRegistry.hostPort));
      log(`writable registry ${pushRegistry.url}`);
    }
    const mirrors = [registry.hostPort, ...(pushRegistry ? [pushRegistry.hostPort] : [])];

    // The cluster's machines know each other by name, as on a LAN with DNS; names
    // outside the cluster fail at once (the nameserver is the host's address, where
    // nothing answers) instead of timing out against the host's resolver.
    const hosts =
      '127.0.0.1 localhost\n' +
      names.map((name, i) => `${network!.nodeAddress(i)} ${name}\n`).join('');
    const resolv = `nameserver ${network.hostAddress}\noptions timeout:1 attempts:1\n`;
    const files = { '/etc/hosts': hosts, '/etc/resolv.conf': resolv };
    const settings = {
      kubernetesVersion: realBinaries.versions.kubernetes,
      clusterName: options.clusterName ?? 'kubernetes',
      controlPlaneAddress: network.nodeAddress(0),
      corednsTag: realBinaries.versions.coredns,
      userNamespaces: options.userNamespaces,
    };
    const ids = options.userNamespaces ? clusterIds(network.index) : undefined;
    const kubeadmImages = await kubeadmImageList(
      realBinaries.programs.kubeadm,
      join(runDir, 'kubeadm-images.yaml'),
      kubeadmInitConfig(settings, {
        name: names[0],
        address: settings.controlPlaneAddress,
        cgroupRoot: `${cgroupBase}/${names[0]}`,
      }),
    );
    const addonImages = [
      metricsServerImage(realBinaries.versions.metricsServer),
      kubeRouterImage(realBinaries.versions.kubeRouter),
    ];
    const systemImages = [...kubeadmImages, ...addonImages];
    const seed = await ensureImageSeed(
      imageSeedDir(images.storageDir, systemImages, containerdConfig()),
      (containerdRoot) =>
        pullIntoSeed({
          root: join(runDir, 'seed'),
          cgroupRoot: `${cgroupBase}/seed`,
          files,
          attach: (pid) => network!.attach(names.length, pid),
          prepare: (root) => prepareNodeRoot(root, binaries, realBinaries, mirrors),
          images: systemImages,
          containerdRoot,
        }),
      log,
    );
    let seeded = true;
    for (const [i, name] of names.entries()) {
      const root = join(runDir, 'nodes', name);
      const host = await NodeHost.start({
        name,
        root,
        cgroupRoot: `${cgroupBase}/${name}`,
        files,
        logs: join(runDir, 'logs', name),
        ids,
      });
      await network.attach(i, host.pid);
      await prepareNodeRoot(root, binaries, realBinaries, mirrors);
      if (!(await plantImageSeed(seed, join(root, 'var/lib/containerd')))) seeded = false;
      // In a user namespace the node owns its folders (the seed's included:
      // its layers' folders are the node's copies) and the files it alone
      // has; the seed's files stay the machine root's, so a node reads and
      // runs its images but cannot change a layer every cluster shares.
      await host.own(root);
      const supervisor = new NodeSupervisor(host);
      supervisor.define(CONTAINERD_UNIT);
      supervisor.define({
        name: 'kubelet',
        command: KUBELET_COMMAND,
        env: { PATH, GOGC },
        restartSeconds: 10,
      });
      servers.push(await supervisor.serve(join(root, SUPERVISOR_SOCKET)));
      // systemctl on the node (kubeadm's too) connects as the node's root.
      await host.own(join(root, SUPERVISOR_SOCKET));
      supervisor.start('containerd');
      const address = network.nodeAddress(i);
      nodes.push({
        name,
        address,
        root,
        host,
        supervisor,
        exec: (command, execOptions) => host.exec(['env', `PATH=${PATH}`, ...command], execOptions),
      });
    }
    await Promise.all(
      nodes.map((node) =>
        waitFor(
          `containerd on ${node.name}`,
          30_000,
          [],
          async () =>
            existsSync(join(node.root, 'run/containerd/containerd.sock')) || 'no socket yet',
        ),
      ),
    );
    log(`${nodes.length} nodes with containerd (${since()})`);

    const [first, ...workers] = nodes;
    await mkdir(join(first.root, PATCHES_DIR), { recursive: true });
    for (const [file, patch] of Object.entries(controlPlanePatches()))
      await writeFile(join(first.root, PATCHES_DIR, file), patch);
    await writeFile(
      join(first.root, 'etc/kubernetes/kubeadm-config.yaml'),
      kubeadmInitConfig(settings, {
        name: first.name,
        address: first.address,
        cgroupRoot: `${cgroupBase}/${first.name}`,
      }),
    );
    await first.host.own(join(first.root, 'etc/kubernetes'));
    // Seeded nodes hold every system image already. Otherwise (the seed on
    // another file system) they are pulled in parallel before kubeadm does it
    // one by one: the control plane's before init, the add-ons' and the
    // workers' meanwhile.
    const workerImages = [
      ...kubeadmImages.filter((image) => /\/(pause|kube-proxy|coredns):/.test(image)),
      ...addonImages,
    ];
    if (!seeded) await pullImages(first, kubeadmImages);
    const laterPulls = seeded
      ? Promise.resolve()
      : Promise.all([
          pullImages(first, addonImages),
          ...workers.map((worker) => pullImages(worker, workerImages)),
        ]);
    // Not left unhandled while init runs; awaited (and thrown) before the joins.
    laterPulls.catch(() => undefined);
    backgroundWork.push(laterPulls);
    if (!seeded) log(`control plane images pulled (${since()})`);
    await first.exec(['kubeadm', 'init', '--config', '/etc/kubernetes/kubeadm-config.yaml'], {
      timeoutMs: WAIT.init,
    });
    log(`kubeadm init on ${first.name} done (${since()})`);
    const kubeconfigPath = join(runDir, 'admin.conf');
    await writeFile(kubeconfigPath, await readFile(join(first.root, 'etc/kubernetes/admin.conf')), {
      mode: 0o600,
    });

    const kubectl = (args: string[], input?: string) =>
      runCommand([binaries.kubectl, '--kubeconfig', kubeconfigPath, ...args], {
        timeoutMs: 30_000,
        input,
      });
    const apiGet = apiReader(await readFile(kubeconfigPath, 'utf8'));
    if (!existsSync('/lib/modules')) {
      // kubeadm's kube-proxy mounts the host's /lib/modules (for IPVS modules
      // it would load); a kernel built without loadable modules has none, and
      // the runtime cannot make it: root in a node's user namespace may not
      // write /usr/lib, and as the machine's root it would change the host.
      // Its pods made before this patch fail and are replaced at once.
      await kubectl([
        '-n',
        'kube-system',
        'patch',
        'daemonset',
        'kube-proxy',
        '--type=strategic',
        '-p',
        JSON.stringify(KUBE_PROXY_WITHOUT_MODULES),
      ]);
    }

    // The add-ons and the control plane's pod network go first, while the
    // workers join: its node turns Ready, and CoreDNS and metrics-server
    // (whose readiness needs two scrapes) start there meanwhile.
    await kubectl(
      ['apply', '-f', '-'],
      `${metricsServerManifests(realBinaries.versions.metricsServer)}---\n${kubeRouterManifests(realBinaries.versions.kubeRouter)}`,
    );
    await claimFirstPodCidr(first, kubectl);
    const controlPlaneNetwork = connectPodNetworks([first], apiGet, log, background.signal);
    // Not left unhandled while the joins run; awaited (and thrown) below.
    controlPlaneNetwork.catch(() => undefined);
    backgroundWork.push(controlPlaneNetwork);
    await laterPulls;
    if (workers.length) {
      const token = (await first.exec(['kubeadm', 'token', 'create'])).trim();
      const hash = await caCertHash(first);
      // kubeadm join reads cluster-info until the controller-manager has signed
      // it with the new token, retrying every 5 s: a join started before the
      // signature waits 5 to 10 s for nothing.
      const signature = `jws-kubeconfig-${token.split('.')[0]}`;
      await waitFor(
        `cluster-info signed for the join token`,
        30_000,
        [],
        async () => {
          const configMap = await apiGet<{ data?: Record<string, string> }>(
            '/api/v1/namespaces/kube-public/configmaps/cluster-info',
          );
          return configMap.data?.[signature] ? true : `no ${signature} yet`;
        },
        250,
      ).catch((error: unknown) => {
        // Only a shortcut: kubeadm join waits for the signature itself.
        if (!(error instanceof WaitTimeoutError)) throw error;
        log(`${error.message}; joining anyway`);
      });
      await Promise.all(
        workers.map(async (worker) => {
          await writeFile(
            join(worker.root, 'etc/kubernetes/kubeadm-join.yaml'),
            kubeadmJoinConfig(settings, token, hash, {
              name: worker.name,
              address: worker.address,
              cgroupRoot: `${cgroupBase}/${worker.name}`,
            }),
          );
          await worker.exec(['kubeadm', 'join', '--config', '/etc/kubernetes/kubeadm-join.yaml'], {
            timeoutMs: WAIT.join,
          });
        }),
      );
      log(`${workers.map((w) => w.name).join(', ')} joined (${since()})`);
    }

    await controlPlaneNetwork;
    await connectPodNetworks(nodes, apiGet, log);
    log(`pod networks routed (${since()})`);
    let lastWaiting = '';
    await waitFor(
      `every node Ready and every kube-system pod Ready`,
      WAIT.ready,
      [],
      async () => {
        const waiting = notReady(
          await readinessList(apiGet),
          nodes.length,
          ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map(
            (component) => `${component}-${first.name}`,
          ),
        );
        if (waiting !== lastWaiting && waiting) log(`waiting for ${waiting} (${since()})`);
        lastWaiting = waiting;
        return waiting || true;
      },
      250,
    );
    log(`real cluster ready: ${names.join(', ')} (${since()})`);

    let deathWatch: Promise<{ component: string; exit: string; logTail: string }> | undefined;

    return {
      kubeconfigPath,
      server: `https://${first.address}:6443`,
      runDir,
      binaries,
      realBinaries,
      network,
      registryUrl: registry.url,
      pushRegistryUrl: pushRegistry?.url,
      nodes,
      nodeNames: names,
      whenComponentDies: () =>
        (deathWatch ??= Promise.race([
          ...nodes.map(async (node) => ({
            component: `node ${node.name}`,
            exit: await node.host.whenExited(),
            logTail: node.supervisor
              .names()
              .map((s) => `--- ${s} ---\n${node.supervisor.lastLines(s, 10)}`)
              .join('\n'),
          })),
          (async () => ({
            component: 'image registry',
            exit: await registry!.component.whenExited(),
            logTail: registry!.component.lastLines(),
          }))(),
        ])),
      stop,
    };
  } catch (error) {
    keepRunDir = true;
    background.abort();
    await Promise.allSettled(backgroundWork);
    backgroundWork = [];
    if (error instanceof Error) {
      const tails = nodes
        .map((n) =>
          n.supervisor
            .names()
            .map((s) => `--- ${n.name} ${s} ---\n${n.supervisor.lastLines(s, 15)}`)
            .join('\n'),
        )
        .join('\n');
      error.message += `\n(node logs kept in ${runDir})\n${tails}`;
    }
    await stop();
    throw error;
  }
}

/**
 * A node's root before its daemons start: the binaries a kubeadm node has
 * (linked from the caches), containerd's configuration with the local
 * registry as the mirror of the public ones, the systemctl and journalctl
 * shims.
 */
async function prepareNodeRoot(
  root: string,
  binaries: SandboxBinaries,
  real: RealNodeBinaries,
  /** host:port of each mirror registry, in the order containerd asks them. */
  mirrors: string[],
): Promise<void> {
  // As the kubeadm packages leave them: the kubelet watches manifests/ on every node.
  for (const dir of ['run/cka', 'var/log/cka', 'etc/kubernetes/manifests'])
    await mkdir(join(root, dir), { recursive: true });
  const bin = join(root, 'usr/local/bin');
  const programs: Record<string, string> = {
    kubelet: real.programs.kubelet,
    kubeadm: real.programs.kubeadm,
    containerd: real.programs.containerd,
    ctr: real.programs.ctr,
    'containerd-shim-runc-v2': real.programs['containerd-shim-runc-v2'],
    runc: real.programs.runc,
    crictl: real.programs.crictl,
    etcdctl: real.programs.etcdctl,
    etcdutl: real.programs.etcdutl,
    kubectl: binaries.kubectl,
  };
  for (const [name, path] of Object.entries(programs)) await linkOrCopy(path, join(bin, name));
  await mkdir(join(root, 'opt/cni/bin'), { recursive: true });
  for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap'])
    await linkOrCopy(join(real.cniDir, plugin), join(root, 'opt/cni/bin', plugin));
  await writeFile(join(bin, 'systemctl'), SYSTEMCTL);
  await writeFile(join(bin, 'journalctl'), JOURNALCTL);
  await chmod(join(bin, 'systemctl'), 0o755);
  await chmod(join(bin, 'journalctl'), 0o755);
  await writeFile(join(root, 'etc/containerd/config.toml'), containerdConfig());
  await writeFile(join(root, 'etc/containerd', CRICTL_CONFIG), crictlConfig());
  await writeMirrorConfig(join(root, 'etc/containerd/certs.d'), mirrors);
}

/**
 * The node's own copy of a program: a hard link into the cache (no space, no
 * copy time) where both are on one file system, else a copy. Not a symlink:
 * the cache may sit under /root, which is the node's own inside it.
 */
async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(source, target);
    await chmod(target, 0o755);
  }
}

/** kubeadm's discovery hash: sha256 of the cluster CA's public key (SubjectPublicKeyInfo). */
async function caCertHash(node: RealNode): Promise<string> {
  const { X509Certificate, createHash } = await import('node:crypto');
  const pem = await readFile(join(node.root, 'etc/kubernetes/pki/ca.crt'), 'utf8');
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** Waits until kube-proxy on a node routes the `kubernetes` Service (the first address of the Service subnet). */
async function waitForServiceRules(
  node: RealNode,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const apiService = `${SERVICE_SUBNET.split('/')[0].replace(/0$/, '1')}/32`;
  await waitFor(
    `kube-proxy's rules for ${apiService} on ${node.name}`,
    60_000,
    [],
    async () =>
      (await node.exec(['iptables', '-t', 'nat', '-S', 'KUBE-SERVICES'])).includes(apiService) ||
      'no rule yet',
    250,
    signal,
  ).catch((error: unknown) => {
    // Only an ordering: without it a pod's first API call may time out, not fail.
    if (!(error instanceof WaitTimeoutError)) throw error;
    log(`${error.message}; giving ${node.name} its pod network anyway`);
  });
}

/** The images `kubeadm config images list` names for this cluster's kubeadm configuration. */
async function kubeadmImageList(kubeadm: string, file: string, config: string): Promise<string[]> {
  await writeFile(file, config);
  const listed = await runCommand([kubeadm, 'config', 'images', 'list', '--config', file], {
    timeoutMs: 30_000,
  });
  return listed.split('\n').filter(Boolean);
}

/**
 * Fills `containerdRoot` with the system images, pulled through the CRI by a
 * containerd on a node of its own (the cluster's network reaches the image
 * registry), stopped before its root is moved.
 */
async function pullIntoSeed(seed: {
  root: string;
  cgroupRoot: string;
  files: Record<string, string>;
  attach: (pid: number) => Promise<void>;
  prepare: (root: string) => Promise<void>;
  images: string[];
  containerdRoot: string;
}): Promise<void> {
  const host = await NodeHost.start({
    name: 'seed',
    root: seed.root,
    cgroupRoot: seed.cgroupRoot,
    files: seed.files,
    logs: join(seed.root, 'logs'),
  });
  try {
    await seed.attach(host.pid);
    await seed.prepare(seed.root);
    const supervisor = new NodeSupervisor(host);
    supervisor.define(CONTAINERD_UNIT);
    supervisor.start('containerd');
    try {
      await waitFor(
        `containerd of the image seed`,
        30_000,
        [],
        async () =>
          existsSync(join(seed.root, 'run/containerd/containerd.sock')) || 'no socket yet',
      );
      await pullImages(
        { exec: (command, options) => host.exec(['env', `PATH=${PATH}`, ...command], options) },
        seed.images,
      );
    } finally {
      await supervisor.close();
    }
  } finally {
    await host.destroy();
  }
  await rename(join(seed.root, 'var/lib/containerd'), seed.containerdRoot);
  await rm(seed.root, { recursive: true, force: true });
}

/** Pulls images into a node's containerd through the CRI, as the kubelet would, all at once. */
async function pullImages(node: Pick<RealNode, 'exec'>, images: string[]): Promise<void> {
  await Promise.all(
    images.map((image) =>
      node.exec(['crictl', '--runtime-endpoint', CRI_SOCKET, 'pull', image], {
        timeoutMs: 120_000,
      }),
    ),
  );
}

/**
 * Gives the control plane's node the pod CIDR the controller-manager would
 * give it first (the first /24 of the pod subnet), at once: its node-ipam
 * controller starts seconds after init, and the node, hence CoreDNS and
 * metrics-server, would wait for it. The controller keeps a CIDR already set.
 * If it was quicker, its own stays (the field cannot change once set).
 */
async function claimFirstPodCidr(
  node: RealNode,
  kubectl: (args: string[]) => Promise<string>,
): Promise<void> {
  const cidr = `${POD_SUBNET.split('/')[0]}/24`;
  await kubectl([
    'patch',
    'node',
    node.name,
    '--type',
    'merge',
    '-p',
    JSON.stringify({ spec: { podCIDR: cidr, podCIDRs: [cidr] } }),
  ]).catch(() => undefined);
}

/**
 * What a CNI's host-gw mode does: once the controller-manager has given each
 * node its pod CIDR, each node gets a bridge network on it and a route to
 * every other node's pods through that node's address.
 */
async function connectPodNetworks(
  nodes: RealNode[],
  apiGet: ApiGet,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const cidrs = new Map<string, string>();
  await waitFor(
    'a pod CIDR for every node',
    60_000,
    [],
    async () => {
      const list = await apiGet<{
        items: { metadata: { name: string }; spec: { podCIDR?: string } }[];
      }>('/api/v1/nodes');
      for (const item of list.items)
        if (item.spec.podCIDR) cidrs.set(item.metadata.name, item.spec.podCIDR);
      const missing = nodes.filter((n) => !cidrs.has(n.name)).map((n) => n.name);
      return missing.length ? `no pod CIDR yet for ${missing.join(', ')}` : true;
    },
    500,
    signal,
  );
  // As a CNI plugin's agent would, a node gets its pod network only once
  // kube-proxy has programmed the API server's Service: a pod started before
  // (CoreDNS) times out for 30 s on its first call to 10.96.0.1.
  await Promise.all(nodes.map((node) => waitForServiceRules(node, log, signal)));
  signal?.throwIfAborted();
  for (const node of nodes) {
    await node.host.exec(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await node.host
      .exec(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1'])
      .catch(() => '');
    for (const other of nodes)
      if (other !== node)
        await node.host.exec([
          'ip',
          'route',
          'replace',
          cidrs.get(other.name)!,
          'via',
          other.address,
        ]);
    const conflist = join(node.root, 'etc/cni/net.d/10-cka-bridge.conflist');
    await writeFile(conflist, bridgeConflist(cidrs.get(node.name)!));
    await node.host.own(conflist);
  }
}

/** The port of a `host:port`. */
function portOf(hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
}

/** A GET on the cluster's API server, as its admin, parsed from JSON. */
type ApiGet = <T>(path: string) => Promise<T>;

/**
 * The API server's reads while a cluster starts, polled every quarter
 * second: without a kubectl process each time (a tenth of a second of CPU,
 * which a 2-core machine starting a cluster cannot spare that often).
 */
function apiReader(adminConf: string): ApiGet {
  const field = (name: string) => {
    const value = new RegExp(`^\\s*${name}: (\\S+)$`, 'm').exec(adminConf)?.[1];
    if (!value) throw new Error(`admin.conf has no ${name}`);
    return value;
  };
  const decode = (name: string) => Buffer.from(field(name), 'base64').toString('utf8');
  const server = field('server');
  const tls = {
    ca: decode('certificate-authority-data'),
    cert: decode('client-certificate-data'),
    key: decode('client-key-data'),
  };
  return async <T>(path: string): Promise<T> => {
    const { status, body } = await httpsRequest(`${server}${path}`, tls);
    if (status !== 200) throw new Error(`GET ${path}: HTTP ${status} ${body.slice(0, 200)}`);
    return JSON.parse(body) as T;
  };
}

/** Nodes, kube-system's Deployments, DaemonSets and pods, each item with its kind (a list's items carry none). */
async function readinessList(apiGet: ApiGet): Promise<ReadinessList> {
  const lists = await Promise.all(
    (
      [
        ['Node', '/api/v1/nodes'],
        ['Deployment', '/apis/apps/v1/namespaces/kube-system/deployments'],
        ['DaemonSet', '/apis/apps/v1/namespaces/kube-system/daemonsets'],
        ['Pod', '/api/v1/namespaces/kube-system/pods'],
      ] as const
    ).map(async ([kind, path]) =>
      (await apiGet<ReadinessList>(path)).items.map((item) => ({ ...item, kind })),
    ),
  );
  return { items: lists.flat() };
}

interface ReadinessList {
  items: {
    kind: string;
    metadata: { name: string };
    spec?: { replicas?: number };
    status: {
      phase?: string;
      conditions?: { type: string; status: string }[];
      readyReplicas?: number;
      numberReady?: number;
      desiredNumberScheduled?: number;
    };
  }[];
}

/**
 * What keeps a starting cluster from being ready ('' once every node,
 * kube-system workload and kube-system pod is Ready). The workloads count
 * too: a Deployment just applied has no pod yet to be waited for.
 */
export function notReady(
  list: ReadinessList,
  expectedNodes: number,
  /**
   * Pods that must exist: the control plane's mirror pods. The kubelet makes
   * one only once the API server admits it (its PriorityClass exists), and
   * retries later; until then no pod of that name is there to be waited on.
   */
  expectedPods: string[] = [],
): string {
  const isReady = (item: ReadinessList['items'][number]) =>
    item.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const of = (kind: string) => list.items.filter((i) => i.kind === kind);
  const names = (items: ReadinessList['items']) => items.map((i) => i.metadata.name).join(', ');
  const parts: string[] = [];
  const nodes = of('Node');
  if (nodes.length < expectedNodes)
    parts.push(`${nodes.length} of ${expectedNodes} nodes registered`);
  const nodesDown = nodes.filter((n) => !isReady(n));
  if (nodesDown.length) parts.push(`nodes ${names(nodesDown)}`);
  const workloadsDown = [
    ...of('Deployment').filter((d) => (d.status.readyReplicas ?? 0) < (d.spec?.replicas ?? 1)),
    ...of('DaemonSet').filter(
      (d) =>
        !d.status.desiredNumberScheduled ||
        (d.status.numberReady ?? 0) < d.status.desiredNumberScheduled,
    ),
  ];
  if (workloadsDown.length) parts.push(`workloads ${names(workloadsDown)}`);
  // A pod that ran to completion is never Ready, and needs nothing more.
  const podsDown = of('Pod').filter((p) => p.status.phase !== 'Succeeded' && !isReady(p));
  const present = new Set(of('Pod').map((p) => p.metadata.name));
  const missing = expectedPods.filter((name) => !present.has(name));
  if (podsDown.length || missing.length)
    parts.push(`pods ${[...missing, ...podsDown.map((p) => p.metadata.name)].join(', ')}`);
  return parts.join('; ');
}

/**
 * Gives the clusters a CPU weight against the rest of the machine (the
 * engine). cgroup v1 weighs siblings only: a cluster's `/cka/<tag>` competes
 * with the other clusters, and it is their parent `/cka` (default 1024, as
 * much as one busy process) that competes with the engine's processes. So
 * the weight goes on the parent, for all clusters together; each cluster
 * gets the same, and they share equally among themselves.
 */
async function weighCluster(cgroupBase: string, shares: number): Promise<void> {
  const root = '/sys/fs/cgroup/cpu';
  if (!existsSync(join(root, 'cpu.shares'))) return;
  const dir = join(root, cgroupBase);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dirname(dir), 'cpu.shares'), String(shares));
  await writeFile(join(dir, 'cpu.shares'), String(shares));
}
