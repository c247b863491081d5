import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ClusterClient } from '../../cluster/cluster-client.js';
import { runChecks, type RunOptions } from '../check-runner.js';
import { ClusterReads } from '../cluster-reads.js';
import type { HostExec } from './verdict.js';

/**
 * The node-level kinds with this machine standing in for the node: the
 * scripts they build run in a real bash here, against files in a scratch
 * folder (the realnode suite runs them on real node hosts).
 */
const localHost: HostExec = (script, timeoutMs) =>
  new Promise((done) =>
    execFile('bash', ['-c', script], { timeout: timeoutMs }, (error, stdout, stderr) =>
      done({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        stdout,
        stderr,
      }),
    ),
  );

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'host-kinds-'));
  await writeFile(
    join(dir, 'kubelet.yaml'),
    'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: /etc/kubernetes/manifests\nclusterDNS: [10.96.0.10]\n',
  );
  await chmod(join(dir, 'kubelet.yaml'), 0o600);
  await writeFile(join(dir, 'broken.yaml'), 'a: [unclosed\n');
  await symlink(join(dir, 'nowhere'), join(dir, 'dangling'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function grade(checks: object[], options: Partial<RunOptions> = {}) {
  const reads = new ClusterReads({} as ClusterClient);
  return runChecks(
    [
      {
        id: 't',
        questionId: 'q',
        cluster: 'k8s-c1',
        variables: {},
        answer: null,
        checks: checks as never,
      },
    ],
    {
      readsFor: () => reads,
      loadGrader: async () => {
        throw new Error('no graders');
      },
      concurrency: 4,
      settleFrom: 0,
      hostFor: (alias, node) => {
        if (node === 'gone') return async () => Promise.reject(new Error('connection refused'));
        expect(alias).toBe('k8s-c1');
        return localHost;
      },
      ...options,
    },
  ).then((m) => Object.fromEntries(m.get('t')!.map((o) => [o.checkId, o])));
}

const file = (id: string, extra: object) => ({
  id,
  kind: 'file',
  description: id,
  node: 'node01',
  ...extra,
});

describe('node-level check kinds', () => {
  it('file: existence, mode, owner, content by pattern and as YAML, each failure saying what it found', async () => {
    const path = () => join(dir, 'kubelet.yaml');
    const me = userInfo().username;
    const r = await grade([
      file('all', {
        path: path(),
        mode: '0600',
        owner: me,
        contains: '^staticPodPath: /etc/kubernetes/manifests$',
        match: { kind: 'KubeletConfiguration', clusterDNS: ['10.96.0.10'] },
      }),
      file('absent', { path: join(dir, 'nope'), exists: false }),
      file('missing', { path: join(dir, 'nope') }),
      file('present', { path: path(), exists: false }),
      file('mode', { path: path(), mode: '644' }),
      file('owner', { path: path(), owner: 'nobody' }),
      file('contains', { path: path(), contains: '^clusterDomain:' }),
      file('match', { path: path(), match: { staticPodPath: '/etc/kubernetes/other' } }),
      file('yaml', { path: join(dir, 'broken.yaml'), match: { a: [] } }),
      file('dir', { path: dir, contains: 'x' }),
      file('dangling', { path: join(dir, 'dangling'), mode: '600' }),
      file('quote', { path: join(dir, `it's $(touch ${join(dir, 'pwned')})`) }),
      file('unreachable', { node: 'gone', path: path() }),
    ]);
    expect(r.all).toMatchObject({ status: 'passed' });
    expect(r.absent).toMatchObject({ status: 'passed' });
    expect(r.missing).toMatchObject({
      status: 'failed',
      message: `${join(dir, 'nope')} on node01 does not exist`,
    });
    expect(r.present.message).toBe(`${path()} on node01 exists, and should not`);
    expect(r.mode.message).toBe(`${path()} on node01 has mode 600, expected 644`);
    expect(r.owner.message).toBe(`${path()} on node01 is owned by ${me}, expected nobody`);
    expect(r.contains.message).toBe(`${path()} on node01 has nothing matching /^clusterDomain:/`);
    expect(r.match.message).toBe(
      `${path()} on node01: staticPodPath: expected "/etc/kubernetes/other", got "/etc/kubernetes/manifests"`,
    );
    expect(r.yaml.message).toMatch(/broken\.yaml on node01 is not valid YAML or JSON: /);
    expect(r.dir.message).toBe(`${dir} on node01 is a directory, not a file`);
    expect(r.dangling.message).toBe(
      `${join(dir, 'dangling')} on node01 is a symbolic link to nothing`,
    );
    // A path is data, never shell: nothing ran.
    expect(r.quote.status).toBe('failed');
    expect(
      await localHost(`ls ${JSON.stringify(dir)} | grep -c pwned || true`, 5000),
    ).toMatchObject({ stdout: '0\n' });
    // A host that cannot be reached is undecided, never the candidate's failure.
    expect(r.unreachable).toMatchObject({
      status: 'error',
      message: 'could not decide: connection refused',
    });
  });

  it('command: exit code and output by pattern; service: systemctl is-active', async () => {
    const command = (id: string, extra: object) => ({
      id,
      kind: 'command',
      description: id,
      node: 'node01',
      ...extra,
    });
    const r = await grade([
      command('ok', { command: 'echo "Ready True"', stdout: '^Ready True$' }),
      command('exit', { command: 'echo oops >&2; exit 3' }),
      command('expected-exit', { command: 'exit 3', exitCode: 3 }),
      command('output', { command: 'echo NotReady', stdout: '^Ready' }),
      command('slow', { command: 'sleep 5', runTimeout: 1 }),
    ]);
    expect(r.ok.status).toBe('passed');
    expect(r.exit.message).toBe('on node01, the command exited 3, expected 0: oops');
    expect(r['expected-exit'].status).toBe('passed');
    expect(r.output.message).toBe(
      'on node01, the command printed nothing matching /^Ready/ (it printed: NotReady)',
    );
    expect(r.slow.status).toBe('failed');
  });

  it('in a shared environment there are no hosts: undecided, with the reason', async () => {
    const r = await grade([file('f', { path: '/etc/hostname' })], { hostFor: undefined });
    expect(r.f).toMatchObject({
      status: 'error',
      message: 'could not decide: node node01: node hosts exist only in a dedicated environment',
    });
  });
});
