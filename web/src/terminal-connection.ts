import { nextBackoff, type Timers } from './backoff.js';
import { WriteFlow } from './terminal-flow.js';
import {
  afterClose,
  parseServerMessage,
  STOP_MESSAGES,
  type ClientMessage,
  type StopReason,
  type TerminalSize,
} from './terminal-protocol.js';

/** How often the connection is pinged (proxies close idle streams; the round trip is shown). */
export const PING_MS = 20_000;
/** A ping unanswered this long means the connection is gone, whatever the socket says. */
export const PONG_TIMEOUT_MS = 2 * PING_MS;
/** From opening a socket to the server's `ready`: longer, and the attempt is given up and retried. */
export const CONNECT_TIMEOUT_MS = 20_000;

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface LinkStatus {
  state: LinkState;
  /** Why the connection stays closed until the candidate acts (null otherwise). */
  stopped: StopReason | null;
  /** What the candidate should read: the server's notice, or why it is reconnecting. */
  message: string | null;
  /** The last ping's round trip. */
  rttMs: number | null;
  /** When the next attempt starts, while reconnecting (by `now()`). */
  retryAt: number | null;
}

export interface ReadyInfo {
  resumed: boolean;
  replayedBytes: number;
  graceSeconds: number;
}

/** What a socket reports; the browser's WebSocket is adapted to it by {@link openWebSocket}. */
export interface SocketEvents {
  open(): void;
  message(data: ArrayBuffer | string): void;
  close(code: number): void;
}

export interface TerminalSocket {
  send(data: string | Uint8Array<ArrayBuffer>): void;
  close(code?: number): void;
}

export interface TerminalConnectionOptions {
  open(size: TerminalSize, events: SocketEvents): TerminalSocket;
  /** The terminal's size now. */
  size(): TerminalSize;
  /** Hands the shell's output to the terminal; `written` once it has been parsed. */
  write(bytes: Uint8Array, written: () => void): void;
  onStatus(status: LinkStatus): void;
  /** The server attached this connection to a shell: a new one, or the running one with its recent output. */
  onReady?(ready: ReadyInfo): void;
  timers: Timers;
  now(): number;
}

const LOST = 'The connection to the terminal was lost.';

/**
 * The terminal's connection to its shell: one WebSocket at a time, retried
 * with backoff after a drop or a restart, left closed (with the server's
 * reason) when the shell was taken over, exited or the exam ended. Pings
 * measure the round trip and find connections that died silently; the
 * output is flow-controlled by {@link WriteFlow}.
 */
/** The largest input frame sent (the server refuses frames above 64 KiB). */
export const MAX_INPUT_FRAME = 16 * 1024;

export class TerminalConnection {
  private socket: TerminalSocket | null = null;
  private isOpen = false;
  private retry: unknown = null;
  private pinger: unknown = null;
  private connectTimer: unknown = null;
  private delay: number | null = null;
  private pingSince: number | null = null;
  private serverMessage: string | null = null;
  private sentSize: TerminalSize | null = null;
  private readonly flow = new WriteFlow();
  private status: LinkStatus = {
    state: 'closed',
    stopped: null,
    message: null,
    rttMs: null,
    retryAt: null,
  };

  constructor(private readonly options: TerminalConnectionOptions) {}

  get current(): LinkStatus {
    return this.status;
  }

  /** Connects, unless a connection is up or on its way. */
  start(): void {
    if (this.socket || this.retry !== null) return;
    this.connect('connecting');
  }

  /** Connects now: after a stop, during a backoff, or over a working connection (taking the shell back). */
  reconnect(): void {
    this.drop();
    this.delay = null;
    this.connect('connecting');
  }

  /** Closes for good (the exam ended, the pane is gone). */
  stop(message: string | null = null): void {
    this.drop();
    this.update({ state: 'closed', stopped: null, message, retryAt: null });
  }

  /** Sends what the candidate typed or pasted; false when there is no connection to take it. */
  input(bytes: Uint8Array<ArrayBuffer>): boolean {
    if (!this.isOpen || !this.socket || bytes.length === 0) return false;
    // The server takes frames of up to 64 KiB: a large paste goes in pieces.
    for (let at = 0; at < bytes.length; at += MAX_INPUT_FRAME) {
      this.socket.send(bytes.slice(at, at + MAX_INPUT_FRAME));
    }
    return true;
  }

  resize(size: TerminalSize): void {
    if (!this.isOpen || sameSize(size, this.sentSize)) return;
    this.sentSize = size;
    this.send({ type: 'resize', cols: size.cols, rows: size.rows });
  }

  private connect(state: 'connecting' | 'reconnecting'): void {
    const size = this.options.size();
    this.sentSize = size;
    this.serverMessage = null;
    this.update({
      state,
      stopped: null,
      message: state === 'reconnecting' ? this.status.message : null,
      retryAt: null,
    });
    let socket: TerminalSocket | null = null;
    const events: SocketEvents = {
      open: () => {
        if (socket && this.socket === socket) this.opened();
      },
      message: (data) => {
        if (socket && this.socket === socket) this.received(data);
      },
      close: (code) => {
        if (socket && this.socket === socket) this.closed(code);
      },
    };
    try {
      socket = this.options.open(size, events);
    } catch {
      this.scheduleRetry(LOST);
      return;
    }
    this.socket = socket;
    this.connectTimer = this.options.timers.set(() => {
      this.connectTimer = null;
      if (this.status.state !== 'connected') this.lost();
    }, CONNECT_TIMEOUT_MS);
  }

  private opened(): void {
    this.isOpen = true;
    this.pingSince = null;
    // A new connection starts unpaused on the server; the terminal may still be behind.
    if (this.flow.paused) this.send({ type: 'pause' });
    this.pinger = this.options.timers.set(() => this.ping(), PING_MS);
  }

  private ping(): void {
    this.pinger = null;
    const now = this.options.now();
    if (this.pingSince !== null && now - this.pingSince >= PONG_TIMEOUT_MS) {
      this.lost();
      return;
    }
    this.pingSince ??= now;
    this.send({ type: 'ping', t: now });
    this.pinger = this.options.timers.set(() => this.ping(), PING_MS);
  }

  private received(data: ArrayBuffer | string): void {
    if (typeof data !== 'string') {
      this.output(new Uint8Array(data));
      return;
    }
    const message = parseServerMessage(data);
    if (!message) return;
    switch (message.type) {
      case 'ready':
        this.delay = null;
        this.clearConnectTimer();
        this.update({ state: 'connected', stopped: null, message: null, retryAt: null });
        // The size may have changed while the connection was being set up.
        this.resize(this.options.size());
        this.options.onReady?.(message);
        break;
      case 'pong':
        this.pingSince = null;
        this.update({ rttMs: Math.max(0, Math.round(this.options.now() - message.t)) });
        break;
      case 'notice':
        // The close that follows says what to do; this says why.
        this.serverMessage = message.message;
        break;
    }
  }

  private output(bytes: Uint8Array): void {
    const length = bytes.length;
    if (this.flow.queued(length) === 'pause') this.send({ type: 'pause' });
    this.options.write(bytes, () => {
      if (this.flow.written(length) === 'resume') this.send({ type: 'resume' });
    });
  }

  private closed(code: number): void {
    const message = this.serverMessage;
    this.release();
    const outcome = afterClose(code);
    if (outcome.reconnect) {
      this.scheduleRetry(message ?? LOST);
      return;
    }
    this.delay = null;
    this.update({
      state: 'closed',
      stopped: outcome.reason,
      message: message ?? STOP_MESSAGES[outcome.reason],
      retryAt: null,
    });
  }

  /** The connection is dead although the socket has not said so: abandon it and retry. */
  private lost(): void {
    const socket = this.socket;
    this.release();
    socket?.close();
    this.scheduleRetry(LOST);
  }

  private scheduleRetry(message: string): void {
    this.delay = nextBackoff(this.delay);
    const delay = this.delay;
    this.update({
      state: 'reconnecting',
      stopped: null,
      message,
      retryAt: this.options.now() + delay,
    });
    this.retry = this.options.timers.set(() => {
      this.retry = null;
      this.connect('reconnecting');
    }, delay);
  }

  /** Forgets the socket (its late events are ignored) and its timers. */
  private release(): void {
    this.socket = null;
    this.isOpen = false;
    this.pingSince = null;
    this.clearConnectTimer();
    if (this.pinger !== null) this.options.timers.clear(this.pinger);
    this.pinger = null;
  }

  private drop(): void {
    if (this.retry !== null) this.options.timers.clear(this.retry);
    this.retry = null;
    const socket = this.socket;
    this.release();
    socket?.close(1000);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) this.options.timers.clear(this.connectTimer);
    this.connectTimer = null;
  }

  private send(message: ClientMessage): void {
    if (this.isOpen && this.socket) this.socket.send(JSON.stringify(message));
  }

  private update(patch: Partial<LinkStatus>): void {
    this.status = { ...this.status, ...patch };
    this.options.onStatus(this.status);
  }
}

function sameSize(a: TerminalSize, b: TerminalSize | null): boolean {
  return b !== null && a.cols === b.cols && a.rows === b.rows;
}

/** The browser's WebSocket as a {@link TerminalSocket}: binary frames as ArrayBuffers. */
export function openWebSocket(url: string, events: SocketEvents): TerminalSocket {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => events.open();
  ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => events.message(event.data);
  ws.onclose = (event) => events.close(event.code);
  return {
    send: (data) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close: (code) => {
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN)
        ws.close(code);
    },
  };
}
