/**
 * `npm run sandbox`: builds the sandbox if needed, runs it in the foreground,
 * prints `KUBECTL=<path>`, `HELM=<path>` and `KUBECONFIG=<path>` (last),
 * each alone on a line, once it is ready, and stops
 * everything on Ctrl-C, SIGTERM or SIGHUP, or when whoever started it ends:
 * the first ancestor that is not npm, sh or tsx, or the process whose pid is in
 * SANDBOX_OWNER_PID (scripts/start.sh sets it), and every process in between.
 *
 *   npm run sandbox -- [--real | --nodes fake|real|auto] [--workers N] [--control-planes N]
 *                      [--keep] [--build-only]
 *
 * --real (--nodes real): a kubeadm cluster whose pods run (a control plane
 * and N real workers, default 1) instead of kwok's fake nodes; with
 * --build-only, build its binaries too. --nodes auto: real where this
 * machine can run real nodes, else fake, saying why in one line.
 *                      [--arg component=--flag=value ...]
 */
import { parseArgs } from 'node:util';
import { ensureRealNodeBinaries, ensureSandboxBinaries } from './build.js';
import { COMPONENT_NAMES, type ComponentName, type Sandbox, startSandbox } from './launcher.js';
import { watchOwner } from './owner.js';
import { checkRealNodeHost, RealNodeHostError } from './real/preflight.js';

const USAGE = `usage: npm run sandbox -- [--real | --nodes fake|real|auto] [--workers N] [--control-planes N]
                          [--user-namespaces] [--keep] [--build-only] [--arg component=--flag=value ...]
  --real          a kubeadm cluster whose pods run (a control plane and --workers real workers, default 1)
  --user-namespaces  real nodes in user namespaces: root on a node is not root here (as dedicated exams run)
  --nodes auto    real nodes where this machine can run them, else kwok's fake ones
  --build-only    build the binaries (with --real, the real-node ones too) and exit
  --keep          leave the cluster running when this process ends
  --arg           an extra flag for a control-plane component (fake nodes)`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        workers: { type: 'string' },
        'control-planes': { type: 'string', default: '1' },
        keep: { type: 'boolean', default: false },
        'build-only': { type: 'boolean', default: false },
        real: { type: 'boolean', default: false },
        'user-namespaces': { type: 'boolean', default: false },
        nodes: { type: 'string' },
        arg: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    // An unknown or malformed option: say which, and how to call it, without a stack.
    process.stderr.write(`[sandbox] ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const values = parseOptions();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`[sandbox] ${line}\n`);

function count(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > 50) {
    log(`--${name} must be a whole number from ${min} to 50, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

function extraArgs(raw: string[]): Partial<Record<ComponentName, string[]>> {
  const result: Partial<Record<ComponentName, string[]>> = {};
  for (const item of raw) {
    const at = item.indexOf('=');
    const name = item.slice(0, at) as ComponentName;
    if (at < 0 || !COMPONENT_NAMES.includes(name)) {
      log(
        `--arg must look like <component>=<flag> with component one of ${COMPONENT_NAMES.join(', ')}, got "${item}"`,
      );
      process.exit(2);
    }
    (result[name] ??= []).push(item.slice(at + 1));
  }
  return result;
}

function ownerPid(): number | undefined {
  const raw = process.env.SANDBOX_OWNER_PID;
  if (raw === undefined || raw === '') return undefined;
  const pid = Number(raw);
  if (!Number.isInteger(pid) || pid < 2) {
    log(`SANDBOX_OWNER_PID must be a process id above 1, got "${raw}"`);
    process.exit(2);
  }
  return pid;
}

/** Which nodes to start: --nodes wins over --real; auto asks the machine. */
async function nodeKind(): Promise<'fake' | 'real'> {
  const asked = values.nodes ?? (values.real ? 'real' : 'fake');
  if (asked === 'fake' || asked === 'real') return asked;
  if (asked !== 'auto') {
    log(`--nodes must be fake, real or auto, got "${asked}"`);
    process.exit(2);
  }
  try {
    await checkRealNodeHost();
    return 'real';
  } catch (error) {
    if (!(error instanceof RealNodeHostError)) throw error;
    log(`${error.message}; starting fake (kwok) nodes instead`);
    return 'fake';
  }
}

async function main(): Promise<void> {
  const kind = await nodeKind();
  if (values['build-only']) {
    const binaries = await ensureSandboxBinaries({ log });
    log(`binaries in ${binaries.dir}; helm: ${binaries.helm}`);
    if (kind === 'real') {
      const real = await ensureRealNodeBinaries({ log });
      log(`real-node binaries in ${real.dir}`);
    }
    return;
  }
  // A real worker costs a few hundred MB; a fake one nothing.
  const workers = count('workers', values.workers ?? (kind === 'real' ? '1' : '2'), 0);
  const controlPlanes = count('control-planes', values['control-planes'], 1);

  let sandbox: Sandbox | undefined;
  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${reason})`);
    await sandbox?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => void shutdown('SIGHUP', 0));
  // npm and tsx sit between a terminal (or a script) and this process; if any
  // of them, or the one who ran them, is killed outright, we must not outlive it.
  const chain = watchOwner(
    ownerPid(),
    (gone) =>
      void shutdown(`${gone.comm} (pid ${gone.pid}), which started this sandbox, exited`, 1),
  );
  const owner = chain.at(-1);
  if (owner) log(`runs while ${owner.comm} (pid ${owner.pid}) and the processes up to it live`);

  sandbox = await startSandbox({
    workers,
    controlPlanes,
    keepRunDir: values.keep,
    extraArgs: extraArgs(values.arg),
    nodes: kind,
    userNamespaces: values['user-namespaces'],
    log,
  });
  if (stopping) return;
  log(
    `server ${sandbox.server}; nodes: ${sandbox.nodeNames.join(', ')}; logs in ${sandbox.runDir}`,
  );
  log(`kubectl: ${sandbox.binaries.kubectl}; helm: ${sandbox.binaries.helm}`);
  // The engine's terminal runs this kubectl (the cluster's own minor version) and helm.
  process.stdout.write(`KUBECTL=${sandbox.binaries.kubectl}\n`);
  process.stdout.write(`HELM=${sandbox.binaries.helm}\n`);
  process.stdout.write(`KUBECONFIG=${sandbox.kubeconfigPath}\n`);

  const death = await sandbox.whenComponentDies();
  if (stopping) return;
  log(`${death.component} exited unexpectedly (${death.exit}); last lines:\n${death.logTail}`);
  await shutdown(`${death.component} died`, 1);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
