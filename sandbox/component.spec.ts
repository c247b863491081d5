import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Component, ComponentExitedError } from './component.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'component-spec-'));
});

const sh = (name: string, script: string) =>
  new Component(name, '/bin/sh', ['-c', script], join(dir, `${name}.log`));

describe('Component', () => {
  it('records how the process ended and its last output lines, in the log file too', async () => {
    const c = sh('noisy', 'for i in 1 2 3 4 5; do echo out$i; done; echo err-last >&2; exit 3');
    expect(await c.whenExited()).toBe('exit code 3');
    expect(c.exit).toBe('exit code 3');
    expect(c.lastLines(2).split('\n')).toHaveLength(2);
    expect(c.lastLines()).toContain('out5');
    expect(c.lastLines()).toContain('err-last');
    await c.stop();
    expect(await readFile(c.logPath, 'utf8')).toContain('out1');

    const error = c.exitedError();
    expect(error).toBeInstanceOf(ComponentExitedError);
    expect(error.message).toContain('noisy exited (exit code 3)');
    expect(error.message).toContain('err-last');
  });

  it('reports an exit only once the output still in its pipes is in the log', async () => {
    // The background writer keeps the pipe open past the shell's exit: output that
    // arrives after the exit event, as a busy pipe's last chunk does.
    const c = sh('late', '(sleep 0.3; echo late-words) & echo early; exit 1');
    expect(await c.whenExited()).toBe('exit code 1');
    expect(await readFile(c.logPath, 'utf8')).toBe('early\nlate-words\n');
    await c.stop();
  });

  it('does not wait for ever on a grandchild that holds its pipes', async () => {
    const c = sh('holder', '(exec sleep 30) & exit 0');
    const started = Date.now();
    expect(await c.whenExited()).toBe('exit code 0');
    expect(Date.now() - started).toBeLessThan(5000);
    await c.stop();
    process.kill(-c.pid!, 'SIGKILL'); // the sleep, in the shell's process group
  });

  it('closes its log when the process ends by itself', async () => {
    const open = async () => (await readdir('/proc/self/fd')).length;
    const before = await open();
    const runs = Array.from({ length: 20 }, (_, i) => sh(`brief${i}`, 'echo once'));
    await Promise.all(runs.map((c) => c.whenExited()));
    // 20 leaked log files would show; a few descriptors come and go on their own.
    expect((await open()) - before).toBeLessThan(5);
  });

  it('runs on when its log cannot be written, and says so', async () => {
    const c = new Component('homeless', '/bin/sh', ['-c', 'echo hi'], join(dir, 'no/such/dir.log'));
    expect(await c.whenExited()).toBe('exit code 0');
    expect(c.lastLines()).toMatch(/log .*no\/such\/dir\.log not written: ENOENT/);
    expect(c.lastLines()).toContain('hi');
    await c.stop();
  });

  it('stops a running process with SIGTERM', async () => {
    const c = sh('sleeper', 'exec sleep 100');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(c.exit).toBeUndefined();
    await c.stop();
    expect(c.exit).toBe('signal SIGTERM');
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const c = sh('stubborn', "trap '' TERM; echo ready; while :; do sleep 0.05; done");
    while (!c.lastLines().includes('ready'))
      await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await c.stop(300);
    expect(c.exit).toBe('signal SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('reports a binary that cannot be started', async () => {
    const c = new Component('missing', join(dir, 'no-such-binary'), [], join(dir, 'missing.log'));
    // setpriv execs the binary; a missing one ends it with 127, as a shell would.
    expect(await c.whenExited()).toBe('exit code 127');
    expect(c.lastLines()).toContain('No such file or directory');
    await c.stop();
  });
});
