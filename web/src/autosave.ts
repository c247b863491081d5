import { nextBackoff, type Timers } from './backoff.js';

/**
 * Everything the candidate types is saved without a Save button: edits are
 * merged per key (one task, or the notepad), sent after a short pause, and
 * kept (persisted by the caller, e.g. to localStorage) until the server has
 * acknowledged them, so that neither a dropped connection nor a reload loses
 * a keystroke. One request per key at a time, so responses cannot arrive out
 * of order and overwrite a newer value.
 */

export type Fields = Record<string, unknown>;
export type SaveStatus = 'saved' | 'saving' | 'offline' | 'error';

/** offline: try again later; rejected: the server refused it, sending it again will not help. */
export type FailureKind = 'offline' | 'rejected';

export interface SaveQueueOptions {
  send(key: string, fields: Fields): Promise<void>;
  classify(error: unknown): FailureKind;
  /** Called with every unacknowledged edit whenever that set changes. */
  persist(unsaved: Record<string, Fields>): void;
  /** The status or the unsaved edits changed. */
  onChange(): void;
  onRejected(key: string, fields: Fields, error: unknown): void;
  timers: Timers;
  debounceMs: number;
}

export class SaveQueue {
  private readonly unsaved = new Map<string, Fields>();
  /** The request under way for a key; settles once its outcome is applied. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private debounce: unknown = null;
  private retry: unknown = null;
  private retryDelay: number | null = null;
  private offline = false;
  private lastError: string | null = null;

  constructor(
    private readonly options: SaveQueueOptions,
    restored: Record<string, Fields> = {},
  ) {
    for (const [key, fields] of Object.entries(restored)) {
      if (Object.keys(fields).length > 0) this.unsaved.set(key, { ...fields });
    }
  }

  get status(): SaveStatus {
    if (this.unsaved.size > 0) return this.offline ? 'offline' : 'saving';
    return this.lastError ? 'error' : 'saved';
  }

  get errorMessage(): string | null {
    return this.lastError;
  }

  /** Edits of `key` the server has not acknowledged yet (they win over server values). */
  unsavedFields(key: string): Fields | undefined {
    return this.unsaved.get(key);
  }

  get hasUnsaved(): boolean {
    return this.unsaved.size > 0;
  }

  edit(key: string, fields: Fields, immediate = false): void {
    this.unsaved.set(key, { ...this.unsaved.get(key), ...fields });
    this.persist();
    this.options.onChange();
    if (immediate) {
      void this.send(key);
    } else {
      this.schedule(this.options.debounceMs);
    }
  }

  /**
   * Sends every unsaved edit now; resolves once each has been answered,
   * including what was typed while a request for it was already under way.
   */
  async flush(): Promise<void> {
    this.cancel();
    await Promise.all([...this.unsaved.keys()].map((key) => this.send(key)));
  }

  /** The connection is back (or another request just succeeded): retry at once. */
  resume(): void {
    if (this.offline && this.unsaved.size > 0) void this.flush();
  }

  /** The session is over: nothing left can be saved. */
  discard(): void {
    this.cancel();
    this.unsaved.clear();
    this.offline = false;
    this.persist();
    this.options.onChange();
  }

  dispose(): void {
    this.cancel();
  }

  private schedule(ms: number): void {
    if (this.debounce !== null) this.options.timers.clear(this.debounce);
    this.debounce = this.options.timers.set(() => {
      this.debounce = null;
      void this.flush();
    }, ms);
  }

  private cancel(): void {
    if (this.debounce !== null) this.options.timers.clear(this.debounce);
    if (this.retry !== null) this.options.timers.clear(this.retry);
    this.debounce = null;
    this.retry = null;
  }

  private async send(key: string): Promise<void> {
    // One request per key at a time: wait for the one under way (a flush
    // before submitting must not resolve while the last edits are unsent).
    for (let running = this.inFlight.get(key); running; running = this.inFlight.get(key)) {
      await running;
      // It failed for want of a connection: the retry timer takes over.
      if (this.offline) return;
    }
    const fields = this.unsaved.get(key);
    if (!fields) return;
    const sent = { ...fields };
    let settled = () => {};
    this.inFlight.set(key, new Promise<void>((resolve) => (settled = resolve)));
    try {
      await this.options.send(key, sent);
      this.offline = false;
      this.retryDelay = null;
      this.lastError = null;
      this.acknowledge(key, sent);
    } catch (error) {
      if (this.options.classify(error) === 'offline') {
        this.offline = true;
        this.retryLater();
      } else {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.acknowledge(key, sent);
        this.options.onRejected(key, sent, error);
      }
    } finally {
      this.inFlight.delete(key);
      settled();
      this.options.onChange();
    }
    // Typed while the request was under way: send that too.
    if (!this.offline && this.unsaved.has(key)) this.schedule(this.options.debounceMs);
  }

  /** Drops the fields just sent, unless they were changed again in the meantime. */
  private acknowledge(key: string, sent: Fields): void {
    const current = this.unsaved.get(key);
    if (!current) return;
    for (const [field, value] of Object.entries(sent)) {
      if (Object.is(current[field], value)) delete current[field];
    }
    if (Object.keys(current).length === 0) this.unsaved.delete(key);
    this.persist();
  }

  private retryLater(): void {
    if (this.retry !== null) return;
    this.retryDelay = nextBackoff(this.retryDelay);
    this.retry = this.options.timers.set(() => {
      this.retry = null;
      void this.flush();
    }, this.retryDelay);
  }

  private persist(): void {
    this.options.persist(Object.fromEntries(this.unsaved));
  }
}
