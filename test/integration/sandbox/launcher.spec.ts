import { jest } from '@jest/globals';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { SandboxBuildError, ensureSandboxBinaries } from '../../../sandbox/build.js';
import { ComponentExitedError } from '../../../sandbox/component.js';
import { startSandbox } from '../../../sandbox/launcher.js';
import { MODULES_DIR } from '../../../sandbox/versions.js';
import { adminKubeConfig } from '../../support/cluster.js';
import { eventually } from '../../support/eventually.js';
import {
  alive,
  descendantsOf,
  processesMentioning,
  runToExit,
  spawnUntilLine,
} from '../../support/processes.js';

jest.setTimeout(120_000);

const CLI = fileURLToPath(new URL('../../../sandbox/cli.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];

function componentPids(launcherPid: number): number[] {
  const found = descendantsOf(launcherPid).filter((p) =>
    COMPONENTS.some((name) => p.cmdline.includes(`/${name} `)),
  );
  return found.map((p) => p.pid);
}

async function allGone(pids: number[], what: string): Promise<void> {
  await eventually(
    what,
    async () => alive(pids),
    (left) => left.length === 0,
    10_000,
  );
}

describe('two sandboxes side by side', () => {
  it('a second sandbox runs on its own ports and stops without touching the first', async () => {
    const second = await startSandbox({ workers: 1 });
    try {
      expect(second.server).not.toBe(adminKubeConfig().getCurrentCluster()!.server);
      const kc = new KubeConfig();
      kc.loadFromFile(second.kubeconfigPath);
      const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items
        .map((n) => n.metadata!.name)
        .sort();
      expect(nodes).toEqual(['controlplane', 'node01']);
    } finally {
      await second.stop();
    }
    const pids = Object.values(second.pids()).filter((p): p is number => p !== undefined);
    expect(pids).toHaveLength(5);
    expect(alive(pids)).toEqual([]);
    expect(existsSync(second.runDir)).toBe(false);

    // The shared sandbox is unaffected.
    const first = await adminKubeConfig().makeApiClient(CoreV1Api).listNode();
    expect(first.items.length).toBeGreaterThanOrEqual(3);
  });
});

describe('no orphans', () => {
  it('SIGKILL of the launcher takes every component down with it', async () => {
    const { child, match } = await spawnUntilLine(
      process.execPath,
      ['--import', 'tsx', CLI, '--workers', '1'],
      /^KUBECONFIG=(.+)$/m,
      90_000,
    );
    const pids = componentPids(child.pid!);
    expect(pids).toHaveLength(5);
    expect(existsSync(match[1])).toBe(true);

    child.kill('SIGKILL');
    await allGone(pids, 'every component of the SIGKILLed launcher to exit');
  });

  it('SIGKILL of the process that started the launcher (tsx, npm) stops it and its components', async () => {
    // tsx runs the script in a child node process: killing tsx re-parents the launcher.
    const { child } = await spawnUntilLine(TSX, [CLI, '--workers', '1'], /^KUBECONFIG=/m, 90_000);
    const tree = descendantsOf(child.pid!).map((p) => p.pid);
    expect(tree.length).toBeGreaterThanOrEqual(6); // the launcher and its five components

    child.kill('SIGKILL');
    await allGone(tree, 'the launcher and its components to exit after their parent was killed');
  });

  it('SIGKILL of the shell that ran `npm run sandbox` stops it, though npm and tsx live on', async () => {
    // `; true` keeps bash from exec'ing npm: bash stays the owner, above npm, sh and tsx.
    const { child } = await spawnUntilLine(
      'bash',
      ['-c', 'npm run --silent sandbox -- --workers 1; true'],
      /^KUBECONFIG=/m,
      90_000,
    );
    const tree = descendantsOf(child.pid!);
    expect(tree.map((p) => p.cmdline).join('\n')).toMatch(/npm run/);
    expect(componentPids(child.pid!)).toHaveLength(5);

    child.kill('SIGKILL');
    await allGone(
      tree.map((p) => p.pid),
      'npm, tsx, the launcher and its components to exit after the shell that ran npm was killed',
    );
  });
});

describe('faults while starting', () => {
  it('a component that dies during start stops the others and reports its last log lines', async () => {
    const error = await startSandbox({
      workers: 1,
      extraArgs: { 'kube-apiserver': ['--no-such-flag'] },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ComponentExitedError);
    const exited = error as ComponentExitedError;
    expect(exited.component).toBe('kube-apiserver');
    expect(exited.logTail).toContain('unknown flag: --no-such-flag');
    expect(exited.message).toContain('kube-apiserver exited');
    // etcd had started first; it must be gone, and the logs kept for diagnosis.
    expect(exited.message).toContain(exited.logPath);
    const runDir = dirname(exited.logPath);
    expect(processesMentioning(runDir)).toEqual([]);
    expect(await readFile(join(runDir, 'kube-apiserver.log'), 'utf8')).toContain('--no-such-flag');
    await rm(runDir, { recursive: true, force: true });
  });

  it('the CLI exits non-zero and prints the dead component and its log lines', async () => {
    const result = await runToExit(
      process.execPath,
      ['--import', 'tsx', CLI, '--workers', '1', '--arg', 'kube-scheduler=--no-such-flag'],
      90_000,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('KUBECONFIG=');
    expect(result.stderr).toContain('kube-scheduler exited');
    expect(result.stderr).toContain('unknown flag: --no-such-flag');
    const runDir = dirname(/exited .*; log: (\S+)/.exec(result.stderr)![1]);
    expect(processesMentioning(runDir)).toEqual([]);
    await rm(runDir, { recursive: true, force: true });
  });

  it('the CLI rejects a malformed --arg before starting anything', async () => {
    const result = await runToExit(
      process.execPath,
      ['--import', 'tsx', CLI, '--arg', 'kubelet=--x'],
      30_000,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--arg must look like <component>=<flag>');
  });

  it('a failing build reports the build output and caches nothing', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'sandbox-broken-build-'));
    try {
      const modulesDir = join(scratch, 'modules');
      await cp(MODULES_DIR, modulesDir, { recursive: true });
      // Drop the checksums of the kubernetes module: go refuses to build (-mod=readonly).
      const goSum = join(modulesDir, 'control-plane', 'go.sum');
      const kept = (await readFile(goSum, 'utf8'))
        .split('\n')
        .filter((line) => !line.startsWith('k8s.io/kubernetes '));
      await writeFile(goSum, kept.join('\n'));

      const cacheDir = join(scratch, 'cache');
      const error = await ensureSandboxBinaries({ modulesDir, cacheDir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SandboxBuildError);
      expect((error as SandboxBuildError).logTail).toMatch(
        /missing go\.sum entry|verifying module|checksum/i,
      );
      expect((error as Error).message).toContain('sandbox build failed');
      // Nothing was published under the cache key, no half-built staging dir or
      // lock is left; only the build log remains.
      const entries = await readdir(cacheDir);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatch(/\.build\.log$/);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
