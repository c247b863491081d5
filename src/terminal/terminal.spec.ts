import { jest } from '@jest/globals';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AsciicastRecorder } from './asciicast.js';
import { jailKubeconfig } from './local/jail-environment.js';
import { ReplayBuffer } from './replay-buffer.js';
import { parseClientMessage, sizeOf } from './terminal.protocol.js';

describe('ReplayBuffer', () => {
  it('keeps everything until full, in order', () => {
    const buffer = new ReplayBuffer(16);
    buffer.append(Buffer.from('abc\n'));
    buffer.append(Buffer.from('def'));
    expect(buffer.contents().toString()).toBe('abc\ndef');
  });

  it('keeps the last bytes once full, starting after a line break', () => {
    const buffer = new ReplayBuffer(10);
    buffer.append(Buffer.from('line-1\nline-2\n'));
    buffer.append(Buffer.from('xy'));
    // The ring holds "\nline-2\nxy"; what precedes its first line break is cut.
    expect(buffer.contents().toString()).toBe('line-2\nxy');
    buffer.append(Buffer.from('\nz'));
    // "ine-2\nxy\nz": the partial "ine-2" goes.
    expect(buffer.contents().toString()).toBe('xy\nz');
  });

  it('takes a chunk larger than itself', () => {
    const buffer = new ReplayBuffer(4);
    buffer.append(Buffer.from('0123456\n89'));
    expect(buffer.contents().toString()).toBe('89');
  });
});

describe('AsciicastRecorder', () => {
  it('writes a v2 header, output decoded across chunk boundaries, resizes and markers', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'cast-')), 's.cast');
    const recorder = await AsciicastRecorder.open(path, { cols: 80, rows: 24 }, 1024 * 1024, 't');
    const euro = Buffer.from('€');
    recorder.output(euro.subarray(0, 1));
    recorder.output(Buffer.concat([euro.subarray(1), Buffer.from('!')]));
    recorder.resize(100, 30);
    recorder.marker('done');
    await recorder.close();
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(lines.slice(1).map((e: unknown[]) => [e[1], e[2]])).toEqual([
      ['o', '€!'],
      ['r', '100x30'],
      ['m', 'done'],
    ]);
  });

  it('stops at its size with a marker, and a later shell appends after the header', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'cast-')), 's.cast');
    const first = await AsciicastRecorder.open(path, { cols: 80, rows: 24 }, 1024, 't');
    for (let i = 0; i < 100; i++) first.output(Buffer.from(`line ${i}\r\n`));
    await first.close();
    const text = await readFile(path, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    expect(text).toContain('recording stopped: it reached its size limit');
    const second = await AsciicastRecorder.open(path, { cols: 90, rows: 20 }, 1024 * 1024, 't');
    second.output(Buffer.from('again'));
    await second.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.filter((l) => l.includes('"version":2'))).toHaveLength(1);
  });
});

describe('AsciicastRecorder under a flood', () => {
  it('records a burst, cuts the rest with a line saying how much, and goes on recording', async () => {
    let now = 1_000_000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const path = join(await mkdtemp(join(tmpdir(), 'cast-')), 's.cast');
      const recorder = await AsciicastRecorder.open(path, { cols: 80, rows: 24 }, 64 << 20, 't');
      const chunk = Buffer.alloc(64 * 1024, 'y');
      for (let i = 0; i < 48; i++) recorder.output(chunk); // 3 MiB at once
      now += 2000; // two seconds later: 128 KiB of budget back
      recorder.output(Buffer.from('after the flood'));
      await recorder.close();
      const events = (await readFile(path, 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l) as [number, string, string]);
      const recorded = events
        .filter((e) => e[1] === 'o')
        .map((e) => e[2])
        .join('');
      expect(recorded.length).toBeLessThan(1.2 * 1024 * 1024);
      expect(events).toContainEqual([2, 'm', '2097152 bytes of output not recorded (a flood)']);
      expect(recorded.endsWith('after the flood')).toBe(true);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('jailKubeconfig', () => {
  const kubeconfig = (servers: string[]) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: servers.map((server, i) => ({ name: `c${i}`, cluster: { server } })),
    });

  it('keeps a loopback server where it is, and relays it', () => {
    const { text, relays } = jailKubeconfig(kubeconfig(['https://127.0.0.1:6443']));
    expect(relays).toEqual([{ port: 6443, target: { host: '127.0.0.1', port: 6443 } }]);
    const config = parse(text) as { clusters: { cluster: Record<string, string> }[] };
    expect(config.clusters[0].cluster).toEqual({ server: 'https://127.0.0.1:6443' });
  });

  it('moves other servers to loopback ports, keeping their names for TLS, one relay per address', () => {
    const { text, relays } = jailKubeconfig(
      kubeconfig(['https://k8s.example:6443', 'https://10.0.0.5:443', 'https://k8s.example:6443']),
    );
    expect(relays.map((r) => r.target)).toEqual([
      { host: 'k8s.example', port: 6443 },
      { host: '10.0.0.5', port: 443 },
    ]);
    const clusters = (parse(text) as { clusters: { cluster: Record<string, string> }[] }).clusters;
    expect(clusters.map((c) => c.cluster)).toEqual([
      { server: 'https://127.0.0.1:16443', 'tls-server-name': 'k8s.example' },
      { server: 'https://127.0.0.1:16444', 'tls-server-name': '10.0.0.5' },
      { server: 'https://127.0.0.1:16443', 'tls-server-name': 'k8s.example' },
    ]);
  });
});

describe('the terminal protocol', () => {
  it('accepts the control messages it knows, within bounds', () => {
    expect(parseClientMessage('{"type":"resize","cols":120,"rows":40}')).toEqual({
      type: 'resize',
      cols: 120,
      rows: 40,
    });
    expect(parseClientMessage('{"type":"ping","t":5}')).toEqual({ type: 'ping', t: 5 });
    expect(parseClientMessage('{"type":"pause"}')).toEqual({ type: 'pause' });
  });

  it('ignores anything else', () => {
    for (const text of [
      'not json',
      'null',
      '{"type":"resize","cols":0,"rows":40}',
      '{"type":"resize","cols":99999,"rows":40}',
      '{"type":"resize","cols":1.5,"rows":40}',
      '{"type":"exec","command":"id"}',
    ]) {
      expect(parseClientMessage(text)).toBeUndefined();
    }
    expect(sizeOf('80', '24')).toEqual({ cols: 80, rows: 24 });
    expect(sizeOf('x', '24')).toBeUndefined();
  });
});
