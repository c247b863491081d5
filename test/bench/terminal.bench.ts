/**
 * `npm run bench:terminal`: the browser terminal, against the built engine in
 * its own process with its own sandbox cluster (see engine-process.ts), over
 * real WebSockets from this process. Prints:
 *
 * 1. Time from Begin (the request) to a prompt on screen: the candidate's
 *    kubeconfig minted, the jail and its relay started, bash and its
 *    completion loaded (median and worst of --starts; goal <= 300 ms).
 * 2. Keystroke echo round trip through the WebSocket (one character typed,
 *    until bash echoes it back) with 1 shell open, then with --shells open
 *    (default 50; goal p99 <= 10 ms at 50 on 2 cores).
 * 3. Memory per idle shell on top of bash: the jail's other processes
 *    (bwrap, its init, the API relay) by PSS, and the engine's own growth
 *    per shell (goal <= 5 MB).
 * 4. Recording size: a scripted exam task (kubectl reads, a manifest written
 *    in vim, apply, describe, explain) recorded as asciicast, times the
 *    number of tasks in a 2-hour exam (17).
 *
 *   npm run bench:terminal -- [--shells 50] [--starts 10] [--keys 300]
 */
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TerminalClient } from '../support/terminal-client.js';
import { startEngine, startSession, type StartedSession, untilActive } from './engine-process.js';

const { values } = parseArgs({
  options: {
    shells: { type: 'string', default: '50' },
    starts: { type: 'string', default: '10' },
    keys: { type: 'string', default: '300' },
  },
});
const SHELLS = Number(values.shells);
const STARTS = Number(values.starts);
const KEYS = Number(values.keys);
const TASKS_PER_EXAM = 17;

const QUESTION = `id: bench-term
title: Scale the web Deployment
domain: workloads-scheduling
weight: 1
vars:
  ns: { namespace: web }
setup: |
  apiVersion: v1
  kind: ConfigMap
  metadata: { name: hint, namespace: "{{ns}}" }
  data: { note: scale web to 3 }
task: Create a Deployment web with 3 replicas of nginx in {{ns}}.
checks:
  - id: web
    kind: resource
    apiVersion: apps/v1
    resourceKind: Deployment
    name: web
    namespace: "{{ns}}"
    match: { spec: { replicas: 3 } }
    points: 1
    description: web has 3 replicas
solution:
  explanation: kubectl create deployment.
  commands: ['kubectl -n {{ns}} create deployment web --image=nginx --replicas=3']
`;
const EXAM = `id: bench-term
title: Terminal bench
durationMinutes: 120
open: true
questions: [bench-term]
`;

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (n: number) => `${n.toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

async function pss(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
}
async function rss(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
}
async function comm(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
}

/** Every shell cgroup's processes (as root on cgroup v1), by cgroup. */
async function shellGroups(): Promise<number[][]> {
  const root = '/sys/fs/cgroup/pids/cka-terminal';
  const groups: number[][] = [];
  for (const instance of await readdir(root).catch(() => [])) {
    for (const shell of await readdir(join(root, instance), { withFileTypes: true }).catch(
      () => [],
    )) {
      if (!shell.isDirectory()) continue;
      const procs = await readFile(join(root, instance, shell.name, 'cgroup.procs'), 'utf8');
      groups.push(procs.split('\n').filter(Boolean).map(Number));
    }
  }
  return groups;
}

/** One keystroke's round trip: type a character, wait for bash to echo it, erase it. */
async function echoTimes(terminals: TerminalClient[], keys: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < keys; i++) {
    const term = terminals[i % terminals.length];
    const before = term.text.length;
    const started = performance.now();
    term.type('x');
    while (!term.text.slice(before).includes('x')) await new Promise((r) => setImmediate(r));
    times.push(performance.now() - started);
    const erase = term.text.length;
    term.type('\x7f');
    while (term.text.length === erase) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
  }
  return times.sort((a, b) => a - b);
}

const bank = await mkdtemp(join(tmpdir(), 'bench-terminal-bank-'));
await writeFile(join(bank, 'bench-term.yaml'), QUESTION);
await mkdir(join(bank, 'exams'));
await writeFile(join(bank, 'exams', 'bench-term.yaml'), EXAM);
const engine = await startEngine({
  QUESTIONS_DIR: bank,
  TERMINAL_ENABLED: 'true',
  // A keystroke's echo is what is measured, not how fast sessions start.
  TERMINAL_GRACE_SECONDS: '600',
});
try {
  const ready = async (name: string): Promise<StartedSession> => {
    const session = await startSession(engine.base, 'bench-term', name);
    const headers = { authorization: `Bearer ${session.token}` };
    for (;;) {
      const me = (await (await fetch(`${engine.base}/api/sessions/me`, { headers })).json()) as {
        state: string;
      };
      if (me.state === 'ready') return session;
      if (me.state === 'provisioning_failed') throw new Error('provisioning failed');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  // 1. Begin to prompt.
  const starts: number[] = [];
  const begins: number[] = [];
  const open: TerminalClient[] = [];
  for (let i = 0; i < STARTS; i++) {
    const session = await ready(`start-${i}`);
    const started = performance.now();
    await untilActive(engine.base, session);
    begins.push(performance.now() - started);
    const term = await TerminalClient.open(engine.base, {
      authorization: `Bearer ${session.token}`,
    });
    await term.waitFor(/\$ $/, 10_000);
    starts.push(performance.now() - started);
    open.push(term);
  }
  starts.sort((a, b) => a - b);
  begins.sort((a, b) => a - b);
  console.log(
    `Begin to prompt (${STARTS} sessions): median ${ms(quantile(starts, 0.5))}, worst ${ms(starts.at(-1)!)} ` +
      `(of which the Begin request: median ${ms(quantile(begins, 0.5))})`,
  );

  // 2. Echo with 1 shell, then with SHELLS.
  const one = await echoTimes([open[0]], KEYS);
  console.log(
    `keystroke echo, 1 shell typing, ${open.length} open: p50 ${ms(quantile(one, 0.5))}, p99 ${ms(quantile(one, 0.99))} (${KEYS} keys)`,
  );
  const engineBefore = await rss(engine.pid);
  const shellsBefore = open.length;
  while (open.length < SHELLS) {
    const session = await ready(`shell-${open.length}`);
    await untilActive(engine.base, session);
    const term = await TerminalClient.open(engine.base, {
      authorization: `Bearer ${session.token}`,
    });
    await term.waitFor(/\$ $/, 10_000);
    open.push(term);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const many = await echoTimes(open, KEYS);
  console.log(
    `keystroke echo, ${open.length} shells open, typed into in turn: p50 ${ms(quantile(many, 0.5))}, p99 ${ms(quantile(many, 0.99))} (${KEYS} keys)`,
  );

  // 3. Memory per idle shell.
  const engineAfter = await rss(engine.pid);
  const groups = await shellGroups();
  let others = 0;
  let bashes = 0;
  for (const pids of groups) {
    for (const pid of pids) {
      const bytes = await pss(pid);
      if ((await comm(pid)) === 'bash') bashes += bytes;
      else others += bytes;
    }
  }
  const perShellJail = others / groups.length;
  const perShellEngine = Math.max(0, engineAfter - engineBefore) / (open.length - shellsBefore);
  console.log(
    `memory per idle shell on top of bash (${groups.length} shells): jail processes ${mb(perShellJail)} PSS ` +
      `+ engine ${mb(perShellEngine)} RSS growth = ${mb(perShellJail + perShellEngine)} (bash itself: ${mb(bashes / groups.length)} PSS)`,
  );

  // 4. A scripted task, recorded.
  const term = open[0];
  const script = [
    'kubectl get pods -A -o wide',
    'kubectl -n $(kubectl config view --minify -o jsonpath="{..namespace}") get cm -o yaml',
    'kubectl create deployment web --image=nginx --replicas=2 --dry-run=client -o yaml > web.yaml',
    'kubectl explain deployment.spec.strategy',
    'kubectl apply -f web.yaml',
    'kubectl get deploy web -o wide',
    'kubectl describe deploy web',
    'kubectl scale deploy web --replicas=3',
    'kubectl get events --sort-by=.lastTimestamp | tail -20',
    'cat web.yaml',
  ];
  const castPath = join(engine.dir, 'recordings');
  const sizeOf = async () =>
    (await readdir(castPath)).length
      ? (await Promise.all((await readdir(castPath)).map((f) => stat(join(castPath, f))))).reduce(
          (max, s) => Math.max(max, s.size),
          0,
        )
      : 0;
  const before = await sizeOf();
  for (const command of script) await term.run(command, 30_000);
  // A manifest edited in vim: open, type 30 lines, save.
  term.type('vim pod.yaml\r');
  await new Promise((r) => setTimeout(r, 500));
  term.type('i');
  for (let i = 0; i < 30; i++) {
    term.type(`  line-${i}: ${'value '.repeat(4)}\r`);
    await new Promise((r) => setTimeout(r, 20));
  }
  term.type('\x1b:wq\r');
  await term.waitFor(/written[\s\S]*\$ $/, 10_000);
  await term.run('wc -l pod.yaml', 10_000);
  await new Promise((r) => setTimeout(r, 500));
  const perTask = (await sizeOf()) - before;
  console.log(
    `recording: one scripted task ${(perTask / 1024).toFixed(1)} KiB; a ${TASKS_PER_EXAM}-task 2-hour exam about ${mb(perTask * TASKS_PER_EXAM)} (cap TERMINAL_RECORDING_MAX_MB, default 32)`,
  );
  for (const t of open) t.close();
} finally {
  await engine.stop();
}
