import { jest } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TerminalService } from '../../src/terminal/terminal.service.js';
import { freePort } from '../../sandbox/http.js';
import { E2E_BANK, isolatedEnv, REPO_ROOT, startTestApp, type TestApp } from '../support/app.js';
import { bearer, type Candidate, startCandidate } from '../support/candidate.js';
import { eventually } from '../support/eventually.js';
import { processesMentioning, processesOfUid, uidOf } from '../support/processes.js';
import { TerminalClient } from '../support/terminal-client.js';

jest.setTimeout(180_000);

const portOf = (url: string) => new URL(url).port;

/**
 * The jail matrix: what a candidate's shell must not reach, each an assertion
 * on what the shell actually gets. The shell is attacked from inside, as a
 * candidate would, on the real engine with the sandbox, Redis and PostgreSQL
 * running beside it.
 */
describe('the terminal jail', () => {
  let t: TestApp;
  let base: string;
  let terminals: TerminalService;
  let c: Candidate;
  let term: TerminalClient;
  let other: Candidate;
  let engineFiles: { sqlite: string; env: string; recordings: string; runDir: string };

  beforeAll(async () => {
    const env = await isolatedEnv({
      TERMINAL_ENABLED: 'true',
      TERMINAL_HOME_MB: '8',
      TERMINAL_MEMORY_MB: '128',
      TERMINAL_PIDS_MAX: '64',
    });
    // A secrets file where an operator keeps one, beside the database.
    const envFile = join(env.SQLITE_PATH, '..', '.env');
    await writeFile(envFile, 'DATABASE_URL=postgres://secret@db/engine\n');
    // An operator's extra read-only bind (course files for the candidate).
    const notes = join(env.SQLITE_PATH, '..', 'notes.txt');
    await writeFile(notes, 'course notes\n', { mode: 0o644 });
    env.TERMINAL_EXTRA_BINDS = `${notes}:/opt/course/notes.txt`;
    engineFiles = {
      sqlite: env.SQLITE_PATH,
      env: envFile,
      recordings: env.TERMINAL_RECORDINGS_DIR,
      runDir: env.TERMINAL_RUN_DIR,
    };
    t = await startTestApp(env);
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    terminals = t.app.get(TerminalService);
    c = await startCandidate(t, 'open-long', 'Mallory');
    other = await startCandidate(t, 'open-long', 'Victim');
    const victim = await TerminalClient.open(base, bearer(other.token));
    await victim.run('echo victim-secret > ~/secret.txt');
    victim.close();
    term = await TerminalClient.open(base, bearer(c.token));
  });
  afterAll(async () => {
    term?.close();
    await t?.close();
  });

  /** Runs a command in the jail and returns its output plus `rc=<exit code>`. */
  const attempt = (command: string) => term.run(`${command} 2>&1; echo rc=$?`, 30_000);
  const failed = (output: string) => expect(output).not.toMatch(/rc=0\n$/);
  const tcp = (host: string, port: string | number) =>
    attempt(`timeout 5 bash -c 'exec 3<>/dev/tcp/${host}/${port}'`);

  it('1: cannot read the engine’s database file', async () => {
    const out = await attempt(`cat ${engineFiles.sqlite}`);
    failed(out);
    expect(out).toContain('No such file');
  });

  it('2: cannot read the engine’s .env', async () => {
    failed(await attempt(`cat ${engineFiles.env}`));
    failed(await attempt(`ls ${REPO_ROOT}`));
  });

  it('3: cannot see the recordings folder', async () => {
    failed(await attempt(`ls ${engineFiles.recordings}`));
  });

  it('4: cannot see another candidate’s home, nor the homes folder', async () => {
    failed(await attempt(`ls ${join(engineFiles.runDir, 'homes')}`));
    expect(await attempt('command ls /home')).toBe('candidate\nrc=0\n');
    // Every place a home could be mounted or copied to.
    const grep = await attempt('grep -rs victim-secret /home /tmp /run /etc /dev/shm');
    expect(grep).not.toContain('victim-secret\n');
  });

  it('5: lists no host process (its own PID namespace)', async () => {
    const ps = await attempt('ps -e -o comm=');
    expect(ps).not.toMatch(/node|etcd|kube-apiserver|redis|postgres/);
    expect(ps.split('\n').filter(Boolean).length).toBeLessThan(12);
  });

  it('6: cannot connect to Redis by TCP', async () => {
    failed(await tcp('127.0.0.1', portOf(process.env.TEST_REDIS_URL!)));
  });

  it('7: cannot connect to PostgreSQL by TCP', async () => {
    failed(await tcp('127.0.0.1', portOf(process.env.TEST_POSTGRES_URL!)));
  });

  it('8: cannot connect to the engine’s own port', async () => {
    failed(await tcp('127.0.0.1', portOf(base)));
  });

  it('9: cannot connect to the sandbox’s etcd', async () => {
    const etcd = processesMentioning('--listen-client-urls=http://127.0.0.1:')[0];
    expect(etcd).toBeDefined();
    const port = /--listen-client-urls=http:\/\/127\.0\.0\.1:(\d+)/.exec(etcd.cmdline)![1];
    failed(await tcp('127.0.0.1', port));
  });

  it('10: reaches nothing on the host’s network addresses', async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!address) throw new Error('this machine has no non-loopback IPv4 address to try');
    failed(await tcp(address, portOf(base)));
    // Its only network device is loopback.
    expect(await attempt('ls /sys/class/net 2>/dev/null || cat /proc/net/dev')).not.toMatch(
      /eth|ens|veth/,
    );
  });

  it('11: cannot write outside its home and /tmp', async () => {
    for (const path of ['/usr/x', '/etc/x', '/x', '/usr/local/bin/x', '/run/cka/x']) {
      failed(await attempt(`touch ${path}`));
    }
    expect(await attempt('touch ~/ok /tmp/ok')).toBe('rc=0\n');
  });

  it('12: cannot mount', async () => {
    failed(await attempt('mount -t tmpfs none /tmp'));
  });

  it('13: cannot create namespaces (user, network, mount)', async () => {
    failed(await attempt('unshare -U true'));
    failed(await attempt('unshare -rn true'));
    failed(await attempt('unshare -m true'));
  });

  it('14: cannot raise its limits or reach its cgroup', async () => {
    failed(await attempt('ulimit -Hn 1048576'));
    failed(await attempt('ls /sys/fs/cgroup'));
  });

  it('15: has no capabilities and no way to root (setuid, su)', async () => {
    expect(await attempt('grep CapEff /proc/self/status')).toContain('0000000000000000');
    failed(await attempt('su -c id root < /dev/null'));
    expect(await attempt('grep NoNewPrivs /proc/self/status')).toContain('1');
  });

  it('16: gets none of the engine’s environment', async () => {
    const env = await attempt('env');
    expect(env).not.toMatch(/SQLITE|REDIS|DATABASE|QUEUE_PREFIX|KUBECONFIG=|TERMINAL_/);
  });

  it('17: filling the home stops at its size, and the engine is fine', async () => {
    const out = await attempt('dd if=/dev/zero of=~/big bs=1M count=64');
    expect(out).toContain('No space left on device');
    const size = Number((await term.run('du -m ~/big | cut -f1')).trim());
    expect(size).toBeLessThanOrEqual(8);
    await term.run('rm -f ~/big');
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
  });

  it('18: memory beyond its limit is refused (the shell survives)', async () => {
    const out = await attempt(`python3 -c "x = bytearray(512 * 1024 * 1024); print(len(x))"`);
    failed(out);
    expect(await term.run('echo alive')).toBe('alive\n');
  });

  it('19: cannot reach another terminal to inject keystrokes (TIOCSTI)', async () => {
    // Its /dev/pts is a devpts of its own: no other candidate's terminal exists there.
    expect(await attempt('command ls /dev/pts')).toBe('ptmx\nrc=0\n');
    const out = await attempt(
      `python3 -c "
import fcntl, glob, os, termios
for path in glob.glob('/dev/pts/[0-9]*') + glob.glob('/dev/tty[0-9]*'):
    try:
        fd = os.open(path, os.O_RDWR)
        fcntl.ioctl(fd, termios.TIOCSTI, b'x')
        print('injected', path)
    except OSError as e:
        print('refused', path, e.errno)
print('done')
"`,
    );
    expect(out).not.toContain('injected');
  });

  it('20: cannot read the host’s secrets in /etc (shadow, the engine’s config)', async () => {
    failed(await attempt('cat /etc/shadow'));
    failed(await attempt('ls /root'));
    expect(await attempt('cat /etc/passwd | cut -d: -f1')).toBe('root\ncandidate\nnobody\nrc=0\n');
  });

  it('21: the API server answers only as the candidate (nothing in kube-system)', async () => {
    expect(await attempt('kubectl get secrets -n kube-system')).toMatch(/forbidden/i);
    expect(await attempt('kubectl auth can-i create pods -n kube-system')).toMatch(/^no\n/);
  });

  it('24: holds no descriptor of the engine’s: no other candidate’s terminal (PTY master)', async () => {
    // The victim's shell was open when this one started: node-pty's child inherits the engine's descriptors.
    // The shell's own descriptors, listed by a child (so the listing adds none of its own).
    const links = await term.run('command ls -l --color=never /proc/$$/fd | tail -n +2');
    expect(links).not.toContain('ptmx');
    const extra = links
      .trim()
      .split('\n')
      .map((line) => /(\d+) -> (.*)$/.exec(line))
      .filter((match) => match && ![0, 1, 2, 255].includes(Number(match[1])))
      .map((match) => match![0]);
    expect(extra).toEqual([]);
  });

  it('25: typing into a shell that reads nothing is dropped beyond a bound, not queued in the engine', async () => {
    const flooder = await startCandidate(t, 'open-long', 'Flooder');
    const flood = await TerminalClient.open(base, bearer(flooder.token));
    flood.type('stty raw -echo; sleep 600\r');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const frame = Buffer.alloc(60 * 1024, 'a');
    for (let i = 0; i < 200; i++) flood.ws.send(frame, { binary: true }); // 12 MB
    await flood.waitForControl((c) => c.code === 'input-dropped', 30_000);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    flood.close();
  });

  it('23: an extra bind is readable and read-only', async () => {
    expect(await attempt('cat /opt/course/notes.txt')).toBe('course notes\nrc=0\n');
    failed(await attempt('echo more >> /opt/course/notes.txt'));
    failed(await attempt('touch /opt/course/x'));
  });

  it('22: a fork bomb stays inside its pids limit; the engine stays responsive; ending the shell ends the bomb', async () => {
    const bomber = await startCandidate(t, 'open-long', 'Bomber');
    const bomb = await TerminalClient.open(base, bearer(bomber.token));
    await bomb.run('true');
    const uid = (await terminals.processes(bomber.id)).map(uidOf).find((u) => u > 0)!;
    bomb.type("bash -c ':(){ :|:& };:' &\r");
    await eventually(
      'the bomb to fill its pids limit',
      async () => (await terminals.processes(bomber.id)).length,
      (n) => n >= 40,
      30_000,
    );
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(processesOfUid(uid).length).toBeLessThanOrEqual(64 + 2);
    }
    await t.http.post('/api/sessions/me/submit').set(bearer(bomber.token)).expect(200);
    await eventually(
      'every process of the bomb to be gone',
      async () => processesOfUid(uid).length,
      (n) => n === 0,
      20_000,
    );
  });
});

/**
 * The engine stopped (SIGTERM: it ends every shell and tells the browser it
 * restarts) or killed with SIGKILL (its jails die with it: bwrap's
 * --die-with-parent and the PID namespace), including processes started with
 * setsid or nohup.
 */
describe('a terminal when the engine stops or is killed', () => {
  let engine: ChildProcess | undefined;
  afterEach(() => engine?.kill('SIGKILL'));

  it.each(['SIGKILL', 'SIGTERM'] as const)(
    '%s leaves no process of any shell behind',
    async (signal) => {
      if (!existsSync(join(REPO_ROOT, 'dist/src/main.js')))
        execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
      const port = await freePort();
      const dir = await mkdtemp(join(tmpdir(), 'engine-kill-'));
      await chmod(dir, 0o711);
      const env = {
        PORT: String(port),
        SQLITE_PATH: join(dir, 'engine.sqlite'),
        REDIS_URL: process.env.TEST_REDIS_URL!,
        QUEUE_PREFIX: `t-${randomBytes(4).toString('hex')}`,
        QUESTIONS_DIR: E2E_BANK,
        GRADERS_DIR: join(REPO_ROOT, 'graders'),
        KUBECONFIG: process.env.SANDBOX_KUBECONFIG!,
        LOG_LEVEL: 'warn',
        TERMINAL_ENABLED: 'true',
        TERMINAL_KUBECTL: process.env.SANDBOX_KUBECTL!,
        TERMINAL_RUN_DIR: join(dir, 'run'),
        TERMINAL_RECORDINGS_DIR: join(dir, 'recordings'),
        THROTTLE_PUBLIC: '0/60',
        THROTTLE_SESSION_START: '0/60',
      };
      const base = `http://127.0.0.1:${port}`;
      engine = spawn(process.execPath, [join(REPO_ROOT, 'dist/src/main.js')], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await eventually(
        'the engine to be healthy',
        async () => (await fetch(`${base}/health/live`).catch(() => undefined))?.status,
        (status) => status === 200,
        60_000,
      );
      const created = (await (
        await fetch(`${base}/api/sessions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ examId: 'open-long', candidateName: 'Killed' }),
        })
      ).json()) as { sessionToken: string };
      const auth = bearer(created.sessionToken);
      await eventually(
        'ready',
        async () =>
          (
            (await (await fetch(`${base}/api/sessions/me`, { headers: auth })).json()) as {
              state: string;
            }
          ).state,
        (state) => state === 'ready',
        60_000,
      );
      await fetch(`${base}/api/sessions/me/begin`, { method: 'POST', headers: auth });
      const term = await TerminalClient.open(base, auth);
      const marker = `orphan-${randomBytes(3).toString('hex')}`;
      await term.run(
        `setsid bash -c 'exec -a ${marker} sleep 900' >/dev/null 2>&1 < /dev/null & (nohup bash -c 'exec -a ${marker} sleep 901' >/dev/null 2>&1 &) ; true`,
      );
      await eventually(
        'the sleepers to run',
        async () => processesMentioning(marker).length,
        (n) => n === 2,
      );
      engine.kill(signal);
      const closed = await term.closed;
      // A stop says so (the console reconnects when the engine is back); a kill just drops.
      if (signal === 'SIGTERM') {
        expect(closed.code).toBe(1012);
        expect(term.controls.at(-1)).toMatchObject({ type: 'notice', code: 'restarting' });
      }
      await eventually(
        'every process of the shell to die with the engine',
        async () => processesMentioning(marker).map((p) => p.cmdline),
        (left) => left.length === 0,
        15_000,
      );
    },
  );
});
