import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type SandboxBinaries, ensureSandboxBinaries, processAlive } from './build.js';
import { Component, ComponentExitedError } from './component.js';
import { type HttpResult, type TlsClient, freePort, httpGetText, httpsRequest } from './http.js';
import { nodeManifests } from './nodes.js';
import { type ClientIdentity, type KeyPairPem, generatePki } from './pki.js';
import { type RealSandbox, startRealSandbox } from './real/cluster.js';
import { removeRealLeftovers } from './real/leftovers.js';
import { waitFor } from './wait.js';

export interface SandboxOptions {
  /** Schedulable worker nodes (default 2). */
  workers?: number;
  /** Control-plane nodes, tainted NoSchedule (default 1). */
  controlPlanes?: number;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
  /** Keep the run directory (logs, PKI, etcd data) after stop. */
  keepRunDir?: boolean;
  /** Extra flags per component, appended after ours (e.g. feature gates). */
  extraArgs?: Partial<Record<ComponentName, string[]>>;
  /**
   * fake (default): kwok nodes, nothing runs, starts in seconds (the fast
   * suites). real: a kubeadm cluster whose pods run (see real/cluster.ts);
   * `workers` real workers beside the control plane (controlPlanes and
   * extraArgs do not apply).
   */
  nodes?: 'fake' | 'real';
  /** Real nodes only: a writable registry beside the catalogue's (see RealSandboxOptions). */
  pushRegistry?: boolean;
  /** Real nodes only: each node in a user namespace of its own (see RealSandboxOptions). */
  userNamespaces?: boolean;
}

export const COMPONENT_NAMES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

export interface Sandbox {
  /** Admin (system:masters) kubeconfig; the context is named "sandbox". */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  runDir: string;
  binaries: SandboxBinaries;
  nodeNames: string[];
  /** The real cluster's nodes, supervisors and network (real nodes only). */
  real?: RealSandbox;
  /** Process ids of the running components, by name. */
  pids(): Record<string, number | undefined>;
  /** Resolves with the first component that exits on its own after start. */
  whenComponentDies(): Promise<{ component: string; exit: string; logTail: string }>;
  /** Stops every component (idempotent). */
  stop(): Promise<void>;
}

/** Bounded waits: each names what it waited for when it gives up. */
const WAIT = {
  etcd: 30_000,
  apiserver: 90_000,
  components: 60_000,
  nodes: 60_000,
};
export const RUNS_DIR = join(tmpdir(), 'cka-sandbox-runs');

/** Client identities; controller-manager and scheduler get the names that bootstrap RBAC expects. */
const IDENTITIES: Record<string, ClientIdentity> = {
  admin: { user: 'kubernetes-admin', groups: ['system:masters'] },
  'kube-controller-manager': { user: 'system:kube-controller-manager' },
  'kube-scheduler': { user: 'system:kube-scheduler' },
  // kwok writes node and pod status for every fake node, which no narrower role allows.
  kwok: { user: 'kwok-controller', groups: ['system:masters'] },
};

/**
 * Starts a real control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler) and kwok fake nodes on loopback, and resolves when the
 * cluster can schedule pods. On any failure everything started is stopped and
 * the error names the component and its last log lines.
 */
/**
 * Ports are picked free and bound by the components a moment later; another
 * process (a test run starts several sandboxes, Redis and PostgreSQL at
 * once) can take one in between. A component that exits on a taken port is
 * retried with fresh ports, a couple of times; any other failure is final.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  if (options.nodes === 'real') return startRealAsSandbox(options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSandboxOnce(options);
    } catch (error) {
      const portTaken =
        error instanceof ComponentExitedError && /address already in use/.test(error.logTail);
      if (!portTaken || attempt >= 3) throw error;
      options.log?.(`${error.component} found its port taken; starting again on fresh ports`);
      await rm(dirname(error.logPath), { recursive: true, force: true });
    }
  }
}

async function startSandboxOnce(options: SandboxOptions): Promise<Sandbox> {
  const log = options.log ?? (() => {});
  if (!existsSync('/usr/bin/setpriv')) {
    throw new Error(
      'setpriv (Debian package util-linux) is required to tie components to the launcher',
    );
  }
  const binaries = await ensureSandboxBinaries({ log });
  await sweepStaleRuns();
  await mkdir(RUNS_DIR, { recursive: true });
  const runDir = await mkdtemp(join(RUNS_DIR, `run-${process.pid}-`));
  await writeFile(join(runDir, 'owner.pid'), String(process.pid));

  const components: Component[] = [];
  let keepRunDir = options.keepRunDir ?? false;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse dependency order: clients first, then the apiserver, etcd last.
    const byName = (name: string) => components.filter((c) => c.name === name);
    await Promise.all(
      components.filter((c) => !['kube-apiserver', 'etcd'].includes(c.name)).map((c) => c.stop()),
    );
    for (const c of byName('kube-apiserver')) await c.stop();
    for (const c of byName('etcd')) await c.stop();
    if (!keepRunDir) await rm(runDir, { recursive: true, force: true });
  };

  try {
    const started = Date.now();
    const pki = await generatePki(IDENTITIES);
    const files = await writePki(runDir, pki);
    const ports = {
      etcdClient: await freePort(),
      etcdPeer: await freePort(),
      apiserver: await freePort(),
      controllerManager: await freePort(),
      scheduler: await freePort(),
    };
    const server = `https://127.0.0.1:${ports.apiserver}`;
    const adminTls: TlsClient = { ca: pki.ca.cert, ...pki.clients.admin };
    const start = (name: ComponentName, binary: string, args: string[]) => {
      const allArgs = [...args, ...(options.extraArgs?.[name] ?? [])];
      const component = new Component(name, binary, allArgs, join(runDir, `${name}.log`));
      components.push(component);
      return component;
    };

    const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    const etcd = start('etcd', binaries.etcd, [
      '--name=sandbox',
      `--data-dir=${join(runDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=sandbox=${peerUrl}`,
      // A throwaway cluster: durability buys nothing and fsync costs seconds.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await waitFor('etcd /health to report healthy', WAIT.etcd, [etcd], async () => {
      const res = await httpGetText(`${etcdUrl}/health`);
      return res.status === 200 && res.body.includes('"true"') ? true : describe(res);
    });
    log(`etcd ready (${ms(started)})`);

    const apiserver = start('kube-apiserver', binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--cert-dir=${join(runDir, 'apiserver-certs')}`,
      `--tls-cert-file=${files.apiserverCert}`,
      `--tls-private-key-file=${files.apiserverKey}`,
      `--client-ca-file=${files.caCert}`,
      '--authorization-mode=Node,RBAC',
      // Off by default upstream; Services' externalIPs can capture traffic (CVE-2020-8554).
      '--enable-admission-plugins=DenyServiceExternalIPs',
      '--service-cluster-ip-range=10.96.0.0/12',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${files.saPublic}`,
      `--service-account-signing-key-file=${files.saPrivate}`,
      '--allow-privileged=true',
      '--profiling=false',
      '--endpoint-reconciler-type=lease',
    ]);
    await waitFor('kube-apiserver /readyz', WAIT.apiserver, [etcd, apiserver], async () => {
      const res = await httpsRequest(`${server}/readyz`, adminTls);
      return res.status === 200 ? true : describe(res);
    });
    log(`kube-apiserver ready (${ms(started)})`);

    const kubeconfigs: Record<string, string> = {};
    for (const name of Object.keys(IDENTITIES)) {
      kubeconfigs[name] = join(runDir, `${name}.kubeconfig`);
      await writeFile(
        kubeconfigs[name],
        kubeconfig(server, pki.ca.cert, IDENTITIES[name].user, pki.clients[name]),
        {
          mode: 0o600,
        },
      );
    }

    // Both serve /healthz on loopback and check callers against the apiserver
    // with their own identity (delegated authentication and authorization).
    const servingArgs = (identity: string, port: number) => [
      `--kubeconfig=${kubeconfigs[identity]}`,
      `--authentication-kubeconfig=${kubeconfigs[identity]}`,
      `--authorization-kubeconfig=${kubeconfigs[identity]}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(runDir, `${identity}-certs`)}`,
      '--leader-elect=false',
      '--profiling=false',
    ];
    const controllerManager = start('kube-controller-manager', binaries.kubeControllerManager, [
      ...servingArgs('kube-controller-manager', ports.controllerManager),
      `--service-account-private-key-file=${files.saPrivate}`,
      `--root-ca-file=${files.caCert}`,
      '--use-service-account-credentials=true',
      `--cluster-signing-cert-file=${files.caCert}`,
      `--cluster-signing-key-file=${files.caKey}`,
      '--cluster-name=sandbox',
      '--controllers=*,bootstrapsigner,tokencleaner',
    ]);
    const scheduler = start(
      'kube-scheduler',
      binaries.kubeScheduler,
      servingArgs('kube-scheduler', ports.scheduler),
    );
    const kwok = start('kwok', binaries.kwok, [
      `--kubeconfig=${kubeconfigs.kwok}`,
      `--config=${binaries.kwokStages}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.244.0.0/16',
      '--node-lease-duration-seconds=40',
    ]);
    const all = [etcd, apiserver, controllerManager, scheduler, kwok];

    const layout = { controlPlanes: options.controlPlanes ?? 1, workers: options.workers ?? 2 };
    const nodes = nodeManifests(layout, binaries.versions.kubernetes);
    const nodeNames = nodes.map((n) => (n as { metadata: { name: string } }).metadata.name);
    for (const manifest of nodes) {
      const res = await httpsRequest(`${server}/api/v1/nodes`, adminTls, 'POST', manifest);
      if (res.status !== 201) throw new Error(`creating a fake node failed: ${describe(res)}`);
    }

    await Promise.all([
      waitFor('kube-controller-manager /healthz', WAIT.components, all, async () =>
        healthy(
          await httpsRequest(`https://127.0.0.1:${ports.controllerManager}/healthz`, 'insecure'),
        ),
      ),
      waitFor('kube-scheduler /healthz', WAIT.components, all, async () =>
        healthy(await httpsRequest(`https://127.0.0.1:${ports.scheduler}/healthz`, 'insecure')),
      ),
    ]);
    log(`controller-manager and scheduler healthy (${ms(started)})`);

    await waitFor(
      `${nodeNames.length} nodes Ready without the not-ready taint (kwok)`,
      WAIT.nodes,
      all,
      async () => {
        const res = await httpsRequest(`${server}/api/v1/nodes`, adminTls);
        if (res.status !== 200) return describe(res);
        const items = (JSON.parse(res.body) as { items: NodeStatusView[] }).items;
        const notReady = items.filter((n) => !nodeSchedulableReady(n)).map((n) => n.metadata.name);
        return notReady.length === 0 && items.length === nodeNames.length
          ? true
          : `not ready yet: ${notReady.join(', ') || `${items.length} of ${nodeNames.length} nodes exist`}`;
      },
    );
    // Pods cannot be created in a namespace until its default ServiceAccount exists.
    await waitFor(
      'the default ServiceAccount in namespace default',
      WAIT.components,
      all,
      async () =>
        healthy(
          await httpsRequest(
            `${server}/api/v1/namespaces/default/serviceaccounts/default`,
            adminTls,
          ),
        ),
    );
    log(`sandbox ready (${ms(started)})`);

    let deathWatch: Promise<{ component: string; exit: string; logTail: string }> | undefined;
    return {
      kubeconfigPath: kubeconfigs.admin,
      server,
      runDir,
      binaries,
      nodeNames,
      pids: () => Object.fromEntries(components.map((c) => [c.name, c.pid])),
      whenComponentDies: () =>
        (deathWatch ??= Promise.race(
          components.map(async (c) => ({
            component: c.name,
            exit: await c.whenExited(),
            logTail: c.lastLines(),
          })),
        )),
      stop,
    };
  } catch (error) {
    // Keep the run directory: its logs are the evidence of what went wrong.
    keepRunDir = true;
    await stop();
    if (error instanceof Error && !error.message.includes(runDir)) {
      error.message += `\n(component logs kept in ${runDir})`;
    }
    throw error;
  }
}

interface NodeStatusView {
  metadata: { name: string };
  spec?: { taints?: { key: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

function nodeSchedulableReady(node: NodeStatusView): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const notReadyTaint = node.spec?.taints?.some((t) =>
    t.key.startsWith('node.kubernetes.io/not-ready'),
  );
  return Boolean(ready) && !notReadyTaint;
}

function healthy(res: HttpResult): true | string {
  return res.status === 200 ? true : describe(res);
}

function describe(res: HttpResult): string {
  return `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
}

function ms(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

async function writePki(dir: string, pki: Awaited<ReturnType<typeof generatePki>>) {
  const files = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    saPublic: join(dir, 'sa.pub'),
    saPrivate: join(dir, 'sa.key'),
  };
  await writeFile(files.caCert, pki.ca.cert);
  await writeFile(files.caKey, pki.ca.key, { mode: 0o600 });
  await writeFile(files.apiserverCert, pki.apiserver.cert);
  await writeFile(files.apiserverKey, pki.apiserver.key, { mode: 0o600 });
  await writeFile(files.saPublic, pki.serviceAccount.publicKey);
  await writeFile(files.saPrivate, pki.serviceAccount.privateKey, { mode: 0o600 });
  return files;
}

function kubeconfig(server: string, caPem: string, user: string, credential: KeyPairPem): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'sandbox', cluster: { server, 'certificate-authority-data': b64(caPem) } },
      ],
      users: [
        {
          name: user,
          user: {
            'client-certificate-data': b64(credential.cert),
            'client-key-data': b64(credential.key),
          },
        },
      ],
      contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user } }],
      'current-context': 'sandbox',
    },
    null,
    2,
  );
}

/**
 * Removes run directories left by launchers that were killed before they
 * could clean up, and for a real cluster's run everything it recorded on the
 * host (processes, cgroups, network namespaces, interfaces, kernel settings).
 */
export async function sweepStaleRuns(): Promise<void> {
  const entries = await readdir(RUNS_DIR).catch(() => [] as string[]);
  await Promise.all(
    entries.map(async (entry) => {
      const dir = join(RUNS_DIR, entry);
      const owner = Number(await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => '0'));
      if (!owner || processAlive(owner)) return;
      await removeRealLeftovers(dir);
      await rm(dir, { recursive: true, force: true });
    }),
  );
}

/** A real cluster behind the launcher's interface. */
async function startRealAsSandbox(options: SandboxOptions): Promise<Sandbox> {
  await sweepStaleRuns();
  const workers = options.workers ?? 1;
  const real = await startRealSandbox({
    nodes: [
      'controlplane',
      ...Array.from({ length: workers }, (_, i) => `node${String(i + 1).padStart(2, '0')}`),
    ],
    log: options.log,
    keepRunDir: options.keepRunDir,
    runsDir: RUNS_DIR,
    pushRegistry: options.pushRegistry,
    userNamespaces: options.userNamespaces,
  });
  return {
    kubeconfigPath: real.kubeconfigPath,
    server: real.server,
    runDir: real.runDir,
    binaries: real.binaries,
    nodeNames: real.nodeNames,
    real,
    pids: () =>
      Object.fromEntries(
        real.nodes.flatMap((node) =>
          node.supervisor
            .names()
            .map((name) => [`${node.name}/${name}`, node.supervisor.status(name).pid]),
        ),
      ),
    whenComponentDies: () => real.whenComponentDies(),
    stop: () => real.stop(),
  };
}
