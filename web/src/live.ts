import type { StateEvent } from './api.js';
import { nextBackoff, type Timers } from './backoff.js';

/**
 * Keeps the console in step with the server: the session's event stream
 * (Server-Sent Events) while it works; when it fails, polling with backoff,
 * trying the stream again at every step until it opens.
 */

/** The part of EventSource used here, so tests can pass a fake. */
export interface EventStream {
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'state', listener: (event: MessageEvent<string>) => void): void;
  close(): void;
}

export interface LiveOptions {
  open(): EventStream;
  /** Fetches the session once (used while the stream is down). */
  poll(): Promise<void>;
  onState(event: StateEvent, receivedAt: number): void;
  timers: Timers;
  now: () => number;
}

export class LiveConnection {
  private stream: EventStream | null = null;
  private retry: unknown = null;
  private delay: number | null = null;
  private stopped = false;

  constructor(private readonly options: LiveOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.stream?.close();
    this.stream = null;
    if (this.retry !== null) this.options.timers.clear(this.retry);
    this.retry = null;
  }

  private connect(): void {
    const stream = this.options.open();
    this.stream = stream;
    stream.addEventListener('open', () => {
      this.delay = null;
    });
    stream.addEventListener('state', (event) => {
      const receivedAt = this.options.now();
      let parsed: StateEvent;
      try {
        parsed = JSON.parse(event.data) as StateEvent;
      } catch {
        return;
      }
      this.options.onState(parsed, receivedAt);
    });
    stream.addEventListener('error', () => {
      // EventSource would retry on its own, but silently and without telling
      // us what changed meanwhile: take over, and poll until it opens again.
      if (this.stream !== stream) return;
      stream.close();
      this.stream = null;
      this.fallBack();
    });
  }

  private fallBack(): void {
    if (this.stopped || this.retry !== null) return;
    this.delay = nextBackoff(this.delay);
    this.retry = this.options.timers.set(() => {
      this.retry = null;
      void this.options
        .poll()
        .catch(() => undefined)
        .then(() => {
          if (!this.stopped) this.connect();
        });
    }, this.delay);
  }
}
