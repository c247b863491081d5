import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Stops what the global setup started (once, however many projects ran). */
export default async function globalTeardown() {
  const services = globalThis.__ckaServices;
  globalThis.__ckaServices = undefined;
  if (services) await (await services).stop();
  unmountTestHomes();
}

/**
 * The terminal's tmpfs homes outlive an engine on purpose (a restart keeps
 * them); the engines of the tests are gone now, so their homes go too.
 */
function unmountTestHomes() {
  const prefixes = ['engine-test-', 'engine-kill-'].map((p) => join(tmpdir(), p));
  let mounts = [];
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1])
      .filter((point) => point && prefixes.some((p) => point.startsWith(p)));
  } catch {
    return;
  }
  for (const point of mounts.sort((a, b) => b.length - a.length)) {
    spawnSync('umount', ['-l', point]);
  }
}
