/** Retry delays: 2 s, doubling, at most 30 s. */
export const FIRST_RETRY_MS = 2000;
export const MAX_RETRY_MS = 30_000;

export function nextBackoff(previousMs: number | null): number {
  return previousMs === null ? FIRST_RETRY_MS : Math.min(previousMs * 2, MAX_RETRY_MS);
}

/** setTimeout and clearTimeout, injectable so the logic using them runs in tests. */
export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const browserTimers: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
