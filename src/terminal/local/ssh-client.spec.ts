import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeShellIndex, sshClientScript } from './ssh-client.js';

/**
 * The jail's ssh client, run by the system's Python against a relay folder
 * of this test's (the realnode suite runs it against real nodes).
 */
let dir: string;
let script: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ssh-client-'));
  script = join(dir, 'ssh');
  await writeFile(script, sshClientScript().replace('RELAY = "/run/cka"', `RELAY = "${dir}"`));
  await writeFile(
    join(dir, 'nodes.json'),
    nodeShellIndex([
      { cluster: 'k8s-c1', node: 'controlplane' },
      { cluster: 'k8s-c1', node: 'node01' },
      { cluster: 'k8s-c2', node: 'controlplane' },
    ]),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const ssh = (...args: string[]) =>
  new Promise<{ code: number; stderr: string }>((done) =>
    execFile('python3', [script, ...args], { timeout: 10_000 }, (error, _stdout, stderr) =>
      done({ code: error ? Number(error.code) : 0, stderr }),
    ),
  );

describe('the ssh client of the exam terminal', () => {
  it('indexes node shells by cluster and node, in relay order', () => {
    expect(
      JSON.parse(
        nodeShellIndex([
          { cluster: 'a', node: 'cp' },
          { cluster: 'b', node: 'cp' },
        ]),
      ),
    ).toEqual({
      'a/cp': 'n0.sock',
      'b/cp': 'n1.sock',
    });
  });

  it('says which nodes there are when the host is unknown, and how to use it', async () => {
    expect(await ssh('-o', 'StrictHostKeyChecking=no', 'k8s-c1/node09', 'true')).toEqual({
      code: 255,
      stderr:
        'ssh: Could not resolve hostname k8s-c1/node09: Name or service not known (nodes of k8s-c1: controlplane, node01)\n',
    });
    expect((await ssh()).stderr).toMatch(/^usage: ssh <node> \[command \.\.\.\]/);
  });

  it('reports a node whose shell does not answer like ssh does', async () => {
    expect(await ssh('root@k8s-c2/controlplane', 'true')).toEqual({
      code: 255,
      stderr: 'ssh: connect to host controlplane: No such file or directory\n',
    });
  });
});
