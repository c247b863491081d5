import { jest } from '@jest/globals';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { StaffRole } from '../../src/auth/api-token.entity.js';
import { TerminalService } from '../../src/terminal/terminal.service.js';
import { readVersions } from '../../sandbox/versions.js';
import { isolatedEnv, startTestApp, type TestApp } from '../support/app.js';
import { bearer, type Candidate, startCandidate } from '../support/candidate.js';
import { kubectl } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { processesOfUid, uidOf } from '../support/processes.js';
import { TerminalClient, UpgradeRefused } from '../support/terminal-client.js';

jest.setTimeout(120_000);

/**
 * The browser terminal over a real WebSocket, against the engine on the
 * sandbox: a jailed shell per session, with the candidate's kubeconfig, that
 * survives a reload (replay, same shell), ends with every process at the
 * deadline and at submit, and is recorded.
 */
describe('the browser terminal', () => {
  let t: TestApp;
  let base: string;
  let terminals: TerminalService;
  beforeAll(async () => {
    t = await startTestApp(
      await isolatedEnv({ TERMINAL_ENABLED: 'true', TERMINAL_GRACE_SECONDS: '3' }),
    );
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    terminals = t.app.get(TerminalService);
  });
  afterAll(() => t?.close());

  const open = (c: Candidate, size?: { cols: number; rows: number }) =>
    TerminalClient.open(base, bearer(c.token), size);

  /** The outer uid the session's shell runs as (from its cgroup's processes; 0 is the launcher before it drops root). */
  const shellUid = async (c: Candidate) => {
    const uids = (await terminals.processes(c.id)).map(uidOf).filter((uid) => uid > 0);
    expect(uids.length).toBeGreaterThan(0);
    return uids[0];
  };

  it('runs kubectl against the session: its pods, its contexts, the k alias', async () => {
    const c = await startCandidate(t, 'slow-grade', 'Ada');
    const term = await open(c);
    expect(term.controls[0]).toMatchObject({ type: 'ready', resumed: false });
    expect(await term.run('kubectl get pods -o name')).toContain('pod/stuck');
    expect((await term.run('kubectl config get-contexts -o name')).trim().split('\n')).toEqual([
      'main',
    ]);
    expect(await term.run('kubectl config current-context')).toContain('main');
    expect(await term.run('k get pods -o name')).toContain('pod/stuck');
    expect(await term.run('echo $EDITOR; whoami; hostname')).toBe('vim\ncandidate\ncka-exam\n');
    expect(await term.run('complete -p k')).toContain('__start_kubectl');
    term.close();
  });

  it('a resize changes stty size', async () => {
    const c = await startCandidate(t, 'open-long', 'Resi');
    const term = await open(c, { cols: 100, rows: 30 });
    expect(await term.run('stty size')).toBe('30 100\n');
    term.resize(132, 43);
    await eventually(
      'the new size',
      () => term.run('stty size'),
      (size) => size === '43 132\n',
    );
    term.close();
  });

  it('a second connection takes the shell over: the screen is replayed, the shell is the same', async () => {
    const c = await startCandidate(t, 'open-long', 'Reload');
    const first = await open(c);
    await first.run('export X=kept-$((6*7)); echo before-reload');
    const pid = await first.run('echo $$');
    const second = await open(c);
    expect(second.controls[0]).toMatchObject({ type: 'ready', resumed: true });
    expect(second.controls[0].replayedBytes).toBeGreaterThan(0);
    expect(second.text).toContain('before-reload');
    await expect(first.closed).resolves.toEqual({ code: 4001, reason: 'taken over' });
    expect(first.controls.at(-1)).toMatchObject({ type: 'notice', code: 'taken-over' });
    expect(await second.run('echo $X')).toBe('kept-42\n');
    expect(await second.run('echo $$')).toBe(pid);
    second.close();
  });

  it('a dropped connection keeps the shell for the grace period; then it ends, and the home stays', async () => {
    const c = await startCandidate(t, 'open-long', 'Drop');
    const first = await open(c);
    await first.run('echo notes > ~/notes.txt; export Y=still-here');
    const uid = await shellUid(c);
    first.close();
    await first.closed;
    // Within the grace (3 s): the same shell.
    const again = await open(c);
    expect(again.controls[0]).toMatchObject({ type: 'ready', resumed: true });
    expect(await again.run('echo $Y')).toBe('still-here\n');
    again.close();
    await again.closed;
    // After it: every process is gone, checked from outside.
    await eventually(
      'the shell to end after its grace',
      async () => processesOfUid(uid).length,
      (n) => n === 0,
      15_000,
    );
    const fresh = await open(c);
    expect(fresh.controls[0]).toMatchObject({ type: 'ready', resumed: false });
    expect(await fresh.run('echo "[$Y]"; cat ~/notes.txt')).toBe('[]\nnotes\n');
    fresh.close();
  });

  it('at the deadline the socket closes with a notice and nothing of the shell survives, not even nohup, setsid or a double fork', async () => {
    // `expiring` lasts 20 s from Begin.
    const c = await startCandidate(t, 'expiring', 'Deadline');
    const term = await open(c);
    await term.run(
      'nohup sleep 600 >/dev/null 2>&1 & setsid sleep 601 >/dev/null 2>&1 < /dev/null & (sleep 602 &) ; disown -a; true',
    );
    const uid = await shellUid(c);
    expect(processesOfUid(uid).length).toBeGreaterThanOrEqual(4);
    const closed = await term.closed;
    expect(closed).toEqual({ code: 4002, reason: 'time-up' });
    expect(term.controls.at(-1)).toMatchObject({ type: 'notice', code: 'time-up' });
    await eventually(
      'every process of the shell to be gone',
      async () => processesOfUid(uid),
      (pids) => pids.length === 0,
      10_000,
    );
    // And no new shell after the end.
    const late = await open(c);
    await expect(late.closed).resolves.toMatchObject({ code: 4002 });
  });

  it('submit closes the terminal the same way, and the recording is then the candidate’s to read', async () => {
    const c = await startCandidate(t, 'open-long', 'Submit');
    const term = await open(c);
    await term.run('setsid sleep 900 >/dev/null 2>&1 < /dev/null & echo recorded-line-$((2+3))');
    const uid = await shellUid(c);
    // Before the end, the recording is not the candidate's to read.
    const early = await t.http.get('/api/sessions/me/terminal.cast').set(bearer(c.token));
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('SESSION_NOT_ENDED');

    await t.http.post('/api/sessions/me/submit').set(bearer(c.token)).expect(200);
    await expect(term.closed).resolves.toEqual({ code: 4002, reason: 'submitted' });
    await eventually(
      'every process of the shell to be gone',
      async () => processesOfUid(uid),
      (pids) => pids.length === 0,
      10_000,
    );

    const cast = await t.http
      .get('/api/sessions/me/terminal.cast')
      .set(bearer(c.token))
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    const lines = (cast.body as string).trim().split('\n');
    const header = JSON.parse(lines[0]) as { version: number; width: number; height: number };
    expect(header).toMatchObject({ version: 2, width: 120, height: 40 });
    const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    expect(
      events
        .filter((e) => e[1] === 'o')
        .map((e) => e[2])
        .join(''),
    ).toContain('recorded-line-5');
    expect(events.some((e) => e[1] === 'm' && e[2] === 'shell ended: submitted')).toBe(true);
    // Times never go backwards.
    const times = events.map((e) => e[0]);
    expect(times).toEqual(times.toSorted((a, b) => a - b));

    const trainer = await t.staffToken(StaffRole.TRAINER);
    const staff = await t.http.get(`/api/sessions/${c.id}/terminal.cast`).set(bearer(trainer));
    expect(staff.status).toBe(200);
    expect(staff.headers['content-type']).toContain('application/x-asciicast');
    // A candidate cannot read another session's recording through the staff route.
    const other = await startCandidate(t, 'open-long', 'Nosy');
    const nosy = await t.http.get(`/api/sessions/${c.id}/terminal.cast`).set(bearer(other.token));
    expect(nosy.status).toBe(403);

    // The staff report page plays it with the self-hosted player; the candidate's page has none.
    const staffHtml = await eventually(
      'the graded report',
      () => t.http.get(`/api/sessions/${c.id}/report.html`).set(bearer(trainer)),
      (res) => res.status === 200,
      60_000,
    );
    expect(staffHtml.text).toContain('id="recording-player"');
    expect(staffHtml.text).toMatch(
      /<script type="module" src="\/assets\/replay-[\w-]+\.js"><\/script>/,
    );
    expect(staffHtml.text).toContain('recorded-line-5');
    expect(staffHtml.text).toContain("script-src 'self' 'wasm-unsafe-eval'");
    const ownHtml = await t.http.get('/api/sessions/me/report.html').set(bearer(c.token));
    expect(ownHtml.status).toBe(200);
    expect(ownHtml.text).not.toContain('recording-player');
    expect(ownHtml.text).toContain("default-src 'none'; style-src 'unsafe-inline'");

    // Removing the session removes its recording with its report, and frees its namespaces.
    const admin = await t.staffToken(StaffRole.ADMIN);
    const path = join(t.config.terminal.recordingsDir, `${c.id}.cast`);
    expect(existsSync(path)).toBe(true);
    expect((await t.http.delete(`/api/sessions/${other.id}`).set(bearer(admin))).status).toBe(409);
    await t.http.delete(`/api/sessions/${c.id}`).set(bearer(admin)).expect(204);
    expect(existsSync(path)).toBe(false);
    const left = await kubectl([
      'get',
      'namespace',
      c.namespace,
      '--ignore-not-found',
      '-o',
      'jsonpath={.status.phase}',
    ]);
    expect(['', 'Terminating']).toContain(left.stdout);
    expect(
      (await t.http.get(`/api/sessions/${c.id}/terminal.cast`).set(bearer(trainer))).status,
    ).toBe(404);
    expect((await t.http.get(`/api/sessions/${c.id}/report`).set(bearer(trainer))).status).toBe(
      404,
    );
  });

  it('a question’s files are in a new home, the candidate’s to change; a later shell keeps the changes; helm runs', async () => {
    const c = await startCandidate(t, 'with-files', 'Files');
    const first = await open(c);
    // Rendered with the session's variables; a verbatim file as written.
    expect(await first.run('cat ~/app/config.yaml')).toBe(`namespace: ${c.namespace}\n`);
    expect(await first.run('~/bin/hello.sh')).toBe(`hello from ${c.namespace}\n`);
    expect(await first.run('grep name: ~/charts/demo/templates/configmap.yaml')).toBe(
      '  name: {{ .Release.Name }}-settings\n',
    );
    expect(
      await first.run(
        'stat -c "%U %a %n" ~/app ~/app/config.yaml ~/bin/hello.sh | sed "s#$HOME#~#"',
      ),
    ).toBe('candidate 755 ~/app\ncandidate 644 ~/app/config.yaml\ncandidate 755 ~/bin/hello.sh\n');
    // From outside: owned by the session's own uid, like the rest of its home.
    const uid = await shellUid(c);
    const home = join(t.config.terminal.runDir, 'homes', c.id);
    for (const path of ['app', 'app/config.yaml', 'charts/demo/templates/configmap.yaml'])
      expect((await stat(join(home, path))).uid).toBe(uid);

    expect(await first.run('which helm; helm version --short')).toBe(
      `/usr/local/bin/helm\n${readVersions().helm}\n`,
    );
    // helm reaches the API server through the jail's relay, as the candidate.
    expect(await first.run('helm install demo ~/charts/demo >/dev/null 2>&1; echo rc=$?')).toBe(
      'rc=0\n',
    );
    expect(await first.run('complete -p helm')).toContain('__start_helm');
    expect(await first.run('helm list -q; kubectl get configmap demo-settings -o name')).toBe(
      'demo\nconfigmap/demo-settings\n',
    );

    await first.run('echo changed > ~/app/config.yaml; rm ~/bin/hello.sh');
    first.close();
    await first.closed;
    await eventually(
      'the shell to end after its grace',
      async () => processesOfUid(uid).length,
      (n) => n === 0,
      15_000,
    );
    const fresh = await open(c);
    expect(fresh.controls[0]).toMatchObject({ type: 'ready', resumed: false });
    expect(await fresh.run('cat ~/app/config.yaml; ls ~/bin')).toBe('changed\n');
    fresh.close();
  });

  it('two candidates: different users, different homes', async () => {
    const a = await startCandidate(t, 'open-long', 'Alice');
    const b = await startCandidate(t, 'open-long', 'Bob');
    const ta = await open(a);
    const tb = await open(b);
    await ta.run('echo alice-secret > ~/mine.txt');
    expect(await tb.run('cat ~/mine.txt 2>&1; ls ~')).not.toContain('alice-secret');
    expect(await shellUid(a)).not.toBe(await shellUid(b));
    ta.close();
    tb.close();
  });

  it('refuses anonymous, staff and cross-site connections, and sessions not begun', async () => {
    const refused = (headers: Record<string, string>) =>
      TerminalClient.open(base, headers).then(
        () => undefined,
        (error: unknown) => error,
      );
    const anonymous = await refused({});
    expect(anonymous).toBeInstanceOf(UpgradeRefused);
    expect((anonymous as UpgradeRefused).status).toBe(401);

    const trainer = await t.staffToken(StaffRole.TRAINER);
    expect(((await refused(bearer(trainer))) as UpgradeRefused).status).toBe(403);

    const c = await startCandidate(t, 'open-long', 'Cookie');
    const cookie = `cka_session=${c.token}`;
    const crossSite = await refused({ cookie, origin: 'https://evil.example' });
    expect((crossSite as UpgradeRefused).status).toBe(403);
    expect((crossSite as UpgradeRefused).body).toContain('CROSS_ORIGIN_REFUSED');
    expect(((await refused({ cookie })) as UpgradeRefused).status).toBe(403);
    // The same cookie from this site's page works.
    const host = new URL(base).host;
    const own = await TerminalClient.open(base, { cookie, origin: `http://${host}` });
    expect(own.controls[0]).toMatchObject({ type: 'ready' });
    own.close();

    // A loop of connections is refused before the upgrade (30 a minute per session).
    let refusedAt = 0;
    for (let i = 1; i <= 31 && !refusedAt; i++) {
      const attempt = await TerminalClient.open(base, bearer(c.token)).then(
        (client) => {
          client.close();
          return undefined;
        },
        (error: unknown) => error,
      );
      if (attempt instanceof UpgradeRefused && attempt.status === 429) refusedAt = i;
    }
    expect(refusedAt).toBeGreaterThan(25);

    // A session still in its briefing: accepted, then closed with the reason.
    const created = await t.http
      .post('/api/sessions')
      .send({ examId: 'open-long', candidateName: 'Early' })
      .expect(201);
    const token = created.body.sessionToken as string;
    await eventually(
      'ready',
      async () => (await t.http.get('/api/sessions/me').set(bearer(token))).body.state as string,
      (state) => state === 'ready',
    );
    const early = await TerminalClient.open(base, bearer(token));
    await expect(early.closed).resolves.toMatchObject({ code: 4009 });
    expect(early.controls.at(-1)).toMatchObject({ type: 'notice', code: 'not-available' });
  });

  it('reports the terminal as available and counts shells in /metrics', async () => {
    const c = await startCandidate(t, 'open-long', 'Metrics');
    const status = await t.http.get('/api/sessions/me/terminal').set(bearer(c.token)).expect(200);
    expect(status.body).toEqual({ available: true });
    const term = await open(c);
    await term.run('true');
    const metrics = (await t.http.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^terminal_shells_open [1-9]/m);
    expect(metrics).toMatch(/^terminal_bytes_total\{direction="out"\} [1-9]/m);
    expect(metrics).toMatch(/^terminal_reconnects_total \d/m);
    expect(metrics).toMatch(/^terminal_shell_ends_total\{reason="submitted"\} [1-9]/m);
    term.close();
  });
});
