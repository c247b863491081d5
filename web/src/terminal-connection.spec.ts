import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { browserTimers } from './backoff.js';
import {
  MAX_INPUT_FRAME,
  CONNECT_TIMEOUT_MS,
  type LinkStatus,
  PING_MS,
  PONG_TIMEOUT_MS,
  type ReadyInfo,
  type SocketEvents,
  TerminalConnection,
  type TerminalSocket,
} from './terminal-connection.js';
import type { TerminalSize } from './terminal-protocol.js';

/** A stand-in for the WebSocket that the test drives. */
class FakeSocket implements TerminalSocket {
  readonly sent: (string | Uint8Array)[] = [];
  closedWith: number | undefined | null = null;

  constructor(
    readonly size: TerminalSize,
    readonly events: SocketEvents,
  ) {}

  send(data: string | Uint8Array<ArrayBuffer>): void {
    this.sent.push(data);
  }

  close(code?: number): void {
    this.closedWith = code;
  }

  /** The JSON control messages sent, parsed. */
  get controls(): Record<string, unknown>[] {
    return this.sent
      .filter((d): d is string => typeof d === 'string')
      .map((d) => JSON.parse(d) as Record<string, unknown>);
  }

  ready(resumed = false): void {
    this.events.message(
      JSON.stringify({ type: 'ready', resumed, replayedBytes: 0, graceSeconds: 600 }),
    );
  }

  output(bytes: number[] | Uint8Array): void {
    this.events.message(Uint8Array.from(bytes).buffer);
  }

  notice(code: string, message: string): void {
    this.events.message(JSON.stringify({ type: 'notice', code, message }));
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const statuses: LinkStatus[] = [];
  const writes: { bytes: Uint8Array; written: () => void }[] = [];
  const readies: ReadyInfo[] = [];
  let size: TerminalSize = { cols: 80, rows: 24 };
  const connection = new TerminalConnection({
    open: (s, events) => {
      const socket = new FakeSocket(s, events);
      sockets.push(socket);
      return socket;
    },
    size: () => size,
    write: (bytes, written) => writes.push({ bytes, written }),
    onStatus: (status) => statuses.push(status),
    onReady: (ready) => readies.push(ready),
    timers: browserTimers,
    now: () => Date.now(),
  });
  return {
    connection,
    sockets,
    writes,
    readies,
    socket: () => sockets[sockets.length - 1],
    status: () => statuses[statuses.length - 1],
    setSize: (next: TerminalSize) => (size = next),
  };
}

/** Starts and gets to `ready` on the first socket. */
function connected() {
  const t = setup();
  t.connection.start();
  t.socket().events.open();
  t.socket().ready();
  return t;
}

beforeEach(() => {
  jest.useFakeTimers({ now: Date.parse('2030-05-01T10:00:00Z') });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('TerminalConnection: connecting', () => {
  it('opens at the terminal’s size and is connected once the server says ready', () => {
    const t = setup();
    t.connection.start();
    expect(t.sockets).toHaveLength(1);
    expect(t.socket().size).toEqual({ cols: 80, rows: 24 });
    expect(t.status().state).toBe('connecting');
    t.socket().events.open();
    expect(t.status().state).toBe('connecting');
    t.socket().ready(true);
    expect(t.status()).toMatchObject({ state: 'connected', message: null, stopped: null });
    expect(t.readies).toEqual([
      { type: 'ready', resumed: true, replayedBytes: 0, graceSeconds: 600 },
    ]);
  });

  it('does not open a second socket when started twice', () => {
    const t = setup();
    t.connection.start();
    t.connection.start();
    expect(t.sockets).toHaveLength(1);
  });

  it('sends the size once ready if it changed while connecting, and only changes after', () => {
    const t = setup();
    t.connection.start();
    t.socket().events.open();
    t.setSize({ cols: 100, rows: 30 });
    t.socket().ready();
    expect(t.socket().controls).toEqual([{ type: 'resize', cols: 100, rows: 30 }]);
    t.connection.resize({ cols: 100, rows: 30 });
    t.connection.resize({ cols: 120, rows: 30 });
    expect(t.socket().controls).toEqual([
      { type: 'resize', cols: 100, rows: 30 },
      { type: 'resize', cols: 120, rows: 30 },
    ]);
  });

  it('gives up on a socket that never gets ready, and tries again', () => {
    const t = setup();
    t.connection.start();
    t.socket().events.open();
    jest.advanceTimersByTime(CONNECT_TIMEOUT_MS);
    expect(t.sockets[0].closedWith).toBeUndefined();
    expect(t.status().state).toBe('reconnecting');
    jest.advanceTimersByTime(2000);
    expect(t.sockets).toHaveLength(2);
  });

  it('retries when the socket cannot even be created', () => {
    let opens = 0;
    const statuses: LinkStatus[] = [];
    const connection = new TerminalConnection({
      open: () => {
        opens++;
        throw new Error('SecurityError');
      },
      size: () => ({ cols: 80, rows: 24 }),
      write: () => undefined,
      onStatus: (s) => statuses.push(s),
      timers: browserTimers,
      now: () => Date.now(),
    });
    connection.start();
    expect(statuses[statuses.length - 1].state).toBe('reconnecting');
    jest.advanceTimersByTime(2000);
    expect(opens).toBe(2);
    connection.stop();
  });
});

describe('TerminalConnection: bytes', () => {
  it('sends input as binary frames, only while open', () => {
    const t = setup();
    t.connection.start();
    expect(t.connection.input(new Uint8Array([0x6c, 0x73]))).toBe(false);
    t.socket().events.open();
    expect(t.connection.input(new Uint8Array([0x6c, 0x73]))).toBe(true);
    expect(t.connection.input(new Uint8Array([]))).toBe(false);
    expect(t.socket().sent).toEqual([new Uint8Array([0x6c, 0x73])]);
  });

  it('sends a large paste in frames the server accepts, in order', () => {
    const t = setup();
    t.connection.start();
    t.socket().events.open();
    const paste = new Uint8Array(MAX_INPUT_FRAME * 2 + 5).map((_, i) => i % 251);
    expect(t.connection.input(paste)).toBe(true);
    const frames = t.socket().sent as Uint8Array[];
    expect(frames.map((f) => f.length)).toEqual([MAX_INPUT_FRAME, MAX_INPUT_FRAME, 5]);
    expect(Array.from(frames.flatMap((f) => Array.from(f)))).toEqual(Array.from(paste));
  });

  it('hands binary frames to the terminal as bytes, multi-byte characters split across frames included', () => {
    const t = connected();
    // "é" is C3 A9: split over two frames, it must reach the terminal as those bytes.
    t.socket().output([0x41, 0xc3]);
    t.socket().output([0xa9]);
    expect(t.writes.map((w) => [...w.bytes])).toEqual([[0x41, 0xc3], [0xa9]]);
  });

  it('asks the server to pause while the terminal is behind, and to resume once it caught up', () => {
    const t = connected();
    const chunk = new Uint8Array(64 * 1024).fill(0x78);
    for (let i = 0; i < 9; i++) t.socket().output(chunk);
    expect(t.socket().controls).toEqual([{ type: 'pause' }]);
    for (const write of t.writes.splice(0, 8)) write.written();
    expect(t.socket().controls).toEqual([{ type: 'pause' }, { type: 'resume' }]);
  });

  it('tells a new connection to pause when the terminal is still behind', () => {
    const t = connected();
    const chunk = new Uint8Array(600 * 1024).fill(0x78);
    t.socket().output(chunk);
    t.socket().events.close(1006);
    jest.advanceTimersByTime(2000);
    t.socket().events.open();
    expect(t.socket().controls).toEqual([{ type: 'pause' }]);
    // The old write completes: the new connection may go on.
    t.writes[0].written();
    expect(t.socket().controls).toEqual([{ type: 'pause' }, { type: 'resume' }]);
  });

  it('ignores text frames it does not understand', () => {
    const t = connected();
    t.socket().events.message('{"type":"future"}');
    t.socket().events.message('garbage');
    expect(t.status().state).toBe('connected');
    expect(t.writes).toEqual([]);
  });
});

describe('TerminalConnection: pings', () => {
  it('pings every 20 s and shows the round trip', () => {
    const t = connected();
    jest.advanceTimersByTime(PING_MS);
    const [ping] = t.socket().controls;
    expect(ping).toEqual({ type: 'ping', t: Date.now() });
    jest.advanceTimersByTime(35);
    t.socket().events.message(JSON.stringify({ type: 'pong', t: ping.t }));
    expect(t.status().rttMs).toBe(35);
  });

  it('takes a connection whose pings go unanswered for dead, and reconnects', () => {
    const t = connected();
    jest.advanceTimersByTime(PONG_TIMEOUT_MS);
    expect(t.sockets).toHaveLength(1);
    jest.advanceTimersByTime(PING_MS);
    expect(t.sockets[0].closedWith).toBeUndefined();
    expect(t.status()).toMatchObject({
      state: 'reconnecting',
      message: 'The connection to the terminal was lost.',
    });
    jest.advanceTimersByTime(2000);
    expect(t.sockets).toHaveLength(2);
    // The dead socket's late close changes nothing.
    t.sockets[0].events.close(1006);
    jest.advanceTimersByTime(2000);
    expect(t.sockets).toHaveLength(2);
  });
});

describe('TerminalConnection: closes', () => {
  it('reconnects after a drop with backoff, and is connected again once ready', () => {
    const t = connected();
    t.socket().events.close(1006);
    expect(t.status()).toMatchObject({ state: 'reconnecting', stopped: null });
    jest.advanceTimersByTime(1999);
    expect(t.sockets).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(t.sockets).toHaveLength(2);
    expect(t.status().state).toBe('reconnecting');
    // The second attempt fails too: the next waits twice as long.
    t.socket().events.close(1006);
    jest.advanceTimersByTime(3999);
    expect(t.sockets).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(t.sockets).toHaveLength(3);
    t.socket().events.open();
    t.socket().ready(true);
    expect(t.status()).toMatchObject({ state: 'connected', message: null });
    // A later drop starts from the first delay again.
    t.socket().events.close(1006);
    jest.advanceTimersByTime(2000);
    expect(t.sockets).toHaveLength(4);
  });

  it('reconnects after the engine restarted, saying so', () => {
    const t = connected();
    t.socket().notice('restarting', 'The exam service is restarting: reconnect in a moment.');
    t.socket().events.close(1012);
    expect(t.status()).toMatchObject({
      state: 'reconnecting',
      message: 'The exam service is restarting: reconnect in a moment.',
    });
    jest.advanceTimersByTime(2000);
    expect(t.sockets).toHaveLength(2);
  });

  it('reconnects after an internal error', () => {
    const t = connected();
    t.socket().notice('error', 'The terminal failed. Reconnect to start a new shell.');
    t.socket().events.close(1011);
    expect(t.status().state).toBe('reconnecting');
  });

  it('stays closed when taken over, with the server’s words, until asked to reconnect', () => {
    const t = connected();
    t.socket().notice('taken-over', 'This terminal was opened in another window.');
    t.socket().events.close(4001);
    expect(t.status()).toMatchObject({
      state: 'closed',
      stopped: 'taken-over',
      message: 'This terminal was opened in another window.',
    });
    jest.advanceTimersByTime(120_000);
    expect(t.sockets).toHaveLength(1);
    t.connection.reconnect();
    expect(t.sockets).toHaveLength(2);
    expect(t.status()).toMatchObject({ state: 'connecting', stopped: null, message: null });
  });

  it('stays closed when the session ended, the shell exited or the terminal is not available', () => {
    for (const [code, reason] of [
      [4002, 'ended'],
      [4003, 'shell-exited'],
      [4009, 'not-available'],
    ] as const) {
      const t = connected();
      // No notice before the close: the console has its own words.
      t.socket().events.close(code);
      expect(t.status()).toMatchObject({ state: 'closed', stopped: reason });
      expect(t.status().message).toMatch(/\w/);
      jest.advanceTimersByTime(120_000);
      expect(t.sockets).toHaveLength(1);
    }
  });

  it('does not carry a notice over to the next connection', () => {
    const t = connected();
    t.socket().notice('restarting', 'Restarting.');
    t.socket().events.close(1012);
    jest.advanceTimersByTime(2000);
    t.socket().events.open();
    t.socket().events.close(4003);
    expect(t.status().message).toBe('The shell exited.');
  });

  it('reconnects at once when asked during a backoff, from the first delay', () => {
    const t = connected();
    t.socket().events.close(1006);
    t.connection.reconnect();
    expect(t.sockets).toHaveLength(2);
    // The retry that was pending is cancelled.
    jest.advanceTimersByTime(CONNECT_TIMEOUT_MS - 1);
    expect(t.sockets).toHaveLength(2);
    expect(t.status().state).toBe('connecting');
  });

  it('closes the working socket when asked to reconnect over it, and ignores its close', () => {
    const t = connected();
    const first = t.socket();
    t.connection.reconnect();
    expect(first.closedWith).toBe(1000);
    first.events.close(1000);
    expect(t.sockets).toHaveLength(2);
    expect(t.status().state).toBe('connecting');
  });

  it('stops for good: closes the socket, cancels retries, sends nothing more', () => {
    const t = connected();
    const socket = t.socket();
    t.connection.stop('Access to the exam clusters has ended.');
    expect(socket.closedWith).toBe(1000);
    expect(t.status()).toMatchObject({
      state: 'closed',
      stopped: null,
      message: 'Access to the exam clusters has ended.',
    });
    expect(t.connection.input(new Uint8Array([1]))).toBe(false);
    jest.advanceTimersByTime(120_000);
    expect(t.sockets).toHaveLength(1);
    expect(socket.sent).toEqual([]);
  });
});
