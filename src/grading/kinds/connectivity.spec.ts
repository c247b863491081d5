import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ClusterClient } from '../../cluster/cluster-client.js';
import { runChecks } from '../check-runner.js';
import { ClusterReads } from '../cluster-reads.js';

/**
 * The connectivity kind with this machine standing in for the source pod:
 * the probe it builds runs in BusyBox's real nc here, against a listening
 * socket, a closed port and a name that does not resolve (bank:test runs it
 * in pods, through a NetworkPolicy: questions netpol-traffic and service-route).
 */
const pods: Record<string, object> = {
  client: {
    metadata: { name: 'client' },
    spec: { containers: [{ name: 'c' }] },
    status: { phase: 'Running' },
  },
  pending: {
    metadata: { name: 'pending' },
    spec: { containers: [{ name: 'c' }] },
    status: { phase: 'Pending' },
  },
  bare: {
    metadata: { name: 'bare' },
    spec: { containers: [{ name: 'c' }] },
    status: { phase: 'Running' },
  },
};
const execs: { pod: string; command: string[] }[] = [];
const cluster = {
  readJson: async (ref: { name: string }) => pods[ref.name],
  listJson: async () => Object.values(pods),
  podExec: (_ns: string, pod: string, _c: string, command: string[], timeoutMs: number) => {
    execs.push({ pod, command });
    // An image without nc, as a distroless one.
    const [program, ...args] = pod === 'bare' ? ['nc-missing'] : ['busybox', ...command];
    return new Promise((done, reject) =>
      execFile(program, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT')
          return reject(new Error('exec: "nc": executable file not found in $PATH: unknown'));
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      }),
    );
  },
} as unknown as ClusterClient;

let server: Server;
let open: number;
let closed: number;
beforeAll(async () => {
  server = createServer((socket) => socket.end()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  open = (server.address() as AddressInfo).port;
  const other = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => other.once('listening', r));
  closed = (other.address() as AddressInfo).port;
  await new Promise((r) => other.close(r));
});
afterAll(() => new Promise((r) => server.close(r)));

function grade(checks: object[]) {
  return runChecks(
    [
      {
        id: 't',
        questionId: 'q',
        cluster: 'k8s-c1',
        variables: {},
        answer: null,
        checks: checks.map((c, i) => ({
          id: `c${i}`,
          kind: 'connectivity',
          description: 'd',
          points: 1,
          reachable: true,
          connectTimeout: 2,
          timeout: 0,
          ...c,
        })) as never,
      },
    ],
    {
      readsFor: () => new ClusterReads(cluster),
      loadGrader: async () => {
        throw new Error('no graders');
      },
      concurrency: 4,
      settleFrom: 0,
    },
  ).then((m) => m.get('t')!);
}

describe('connectivity checks', () => {
  it('opens a real TCP connection from the pod: reachable, refused, unresolved, each said', async () => {
    const from = { namespace: 'app', name: 'client' };
    const [reached, refused, unresolved, blocked, leaked, absent] = await grade([
      { from, to: `127.0.0.1:${open}` },
      { from, to: `127.0.0.1:${closed}` },
      { from, to: 'db.nowhere.invalid:6379' },
      { from, to: `127.0.0.1:${closed}`, reachable: false },
      { from, to: `127.0.0.1:${open}`, reachable: false },
      // A target that is not there is not a blocked one.
      { from, to: 'db.nowhere.invalid:6379', reachable: false },
    ]);
    expect(reached.status).toBe('passed');
    expect(refused.message).toBe(
      `pod client cannot connect to 127.0.0.1:${closed}: the connection was refused`,
    );
    expect(unresolved.message).toBe(
      'pod client cannot connect to db.nowhere.invalid:6379: db.nowhere.invalid does not resolve',
    );
    expect(blocked.status).toBe('passed');
    expect(leaked.message).toBe(
      `pod client opened a connection to 127.0.0.1:${open}; it should be refused or dropped`,
    );
    expect(absent.message).toBe(
      'pod client could not tell whether db.nowhere.invalid:6379 is blocked: db.nowhere.invalid does not resolve',
    );
    expect(execs[0]).toEqual({
      pod: 'client',
      command: ['nc', '-w', '2', '127.0.0.1', String(open), '-e', 'true'],
    });
  });

  it('a source pod that is not running fails; one without nc is undecided, never the candidate’s failure', async () => {
    const [pending, selected, bare] = await grade([
      { from: { namespace: 'app', name: 'pending' }, to: `127.0.0.1:${open}` },
      { from: { namespace: 'app', labelSelector: 'app=x' }, to: `127.0.0.1:${open}` },
      { from: { namespace: 'app', name: 'bare' }, to: `127.0.0.1:${open}` },
    ]);
    expect(pending.message).toBe('Pod pending in app is Pending, so no traffic can start from it');
    // The first Running pod by name: bare has no nc.
    expect(selected.status).toBe('error');
    expect(bare).toMatchObject({ status: 'error' });
    expect(bare.message).toMatch(/pod bare \(container c\) has no nc to test/);
  });
});
