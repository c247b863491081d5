import type { RequestWindow } from '../config/config.schema.js';

/** What one request's count came to: allowed, or refused until `retryAfterMs` from now. */
export type WindowVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Fixed windows counted per key (a client in one bucket), in memory. A client
 * gets `limit` requests per window; the count starts afresh when the window
 * that its first request opened is over. Memory is bounded: entries whose
 * window is over are dropped when the table reaches `maxKeys`, and if every
 * entry is still live, the oldest are dropped (a flood of distinct addresses
 * loses the oldest counts rather than the process's memory).
 */
export class RequestWindows {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly window: RequestWindow,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  count(key: string): WindowVerdict {
    if (this.window.limit === 0) return { allowed: true };
    const now = this.now();
    let entry = this.windows.get(key);
    if (!entry || entry.endsAt <= now) {
      if (!entry && this.windows.size >= this.maxKeys) this.makeRoom(now);
      entry = { count: 0, endsAt: now + this.window.windowMs };
      // Re-inserted, so the map's order stays the order windows opened in.
      this.windows.delete(key);
      this.windows.set(key, entry);
    }
    entry.count++;
    if (entry.count <= this.window.limit) return { allowed: true };
    return { allowed: false, retryAfterMs: entry.endsAt - now };
  }

  private makeRoom(now: number): void {
    for (const [key, entry] of this.windows) if (entry.endsAt <= now) this.windows.delete(key);
    // Oldest first (insertion order): drop a tenth so this is not paid on every request.
    const excess = this.windows.size - Math.floor(this.maxKeys * 0.9);
    if (excess <= 0) return;
    let dropped = 0;
    for (const key of this.windows.keys()) {
      if (dropped++ >= excess) break;
      this.windows.delete(key);
    }
  }
}
