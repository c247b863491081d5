/**
 * The exam clock is the server's: the deadline is a server timestamp, and the
 * browser's own clock may be minutes or hours off. We estimate the offset
 * between the two from each exchange with the server (NTP-style: the server
 * read its clock somewhere inside the round trip, so the midpoint is the best
 * guess and half the round trip the error bound) and count down against
 * `Date.now() + offset`.
 */

export interface ClockSample {
  /** Server time minus browser time, in milliseconds. */
  offsetMs: number;
  /** How far off this estimate may be. */
  uncertaintyMs: number;
}

/**
 * From a request/response pair. `resolutionMs` is 1000 for the HTTP Date
 * header (whole seconds, truncated) and 0 for the ISO `serverTime` fields.
 */
export function sampleFromExchange(
  serverTimeMs: number,
  sentAtMs: number,
  receivedAtMs: number,
  resolutionMs = 0,
): ClockSample {
  const roundTrip = Math.max(0, receivedAtMs - sentAtMs);
  const serverMidpoint = serverTimeMs + resolutionMs / 2;
  return {
    offsetMs: serverMidpoint - (sentAtMs + roundTrip / 2),
    // A round trip cannot take negative time: the browser's clock was set
    // back while the request was under way, so sentAt is on the old clock
    // and the offset off by the jump. Clamped to zero it would look like the
    // most precise sample of all and win over every honest one.
    uncertaintyMs:
      receivedAtMs < sentAtMs ? Number.POSITIVE_INFINITY : roundTrip / 2 + resolutionMs / 2,
  };
}

/**
 * A pushed event's timestamp has no round trip to halve; its one-way delay is
 * unknown, so it only counts when no request/response sample is better.
 */
export const PUSHED_UNCERTAINTY_MS = 1000;

export function sampleFromPush(serverTimeMs: number, receivedAtMs: number): ClockSample {
  return { offsetMs: serverTimeMs - receivedAtMs, uncertaintyMs: PUSHED_UNCERTAINTY_MS };
}

const KEPT_SAMPLES = 8;

export class ServerClock {
  private samples: ClockSample[] = [];

  constructor(private readonly now: () => number = () => Date.now()) {}

  observe(sample: ClockSample): void {
    this.samples.push(sample);
    if (this.samples.length > KEPT_SAMPLES) this.samples.shift();
  }

  /** Forget every estimate: after the browser's clock jumped they are all wrong. */
  reset(): void {
    this.samples = [];
  }

  get offsetMs(): number {
    let best: ClockSample | null = null;
    for (const sample of this.samples) {
      if (!best || sample.uncertaintyMs < best.uncertaintyMs) best = sample;
    }
    return best ? best.offsetMs : 0;
  }

  serverNow(): number {
    return this.now() + this.offsetMs;
  }
}

/**
 * Whether the browser's wall clock jumped between two ticks (set by hand,
 * corrected by NTP, or the machine slept): the wall clock and the monotonic
 * clock should advance together.
 */
export function clockJumped(
  previous: { wall: number; monotonic: number },
  current: { wall: number; monotonic: number },
  toleranceMs = 2000,
): boolean {
  const wall = current.wall - previous.wall;
  const monotonic = current.monotonic - previous.monotonic;
  return Math.abs(wall - monotonic) > toleranceMs;
}

/** Milliseconds left until an ISO deadline, never negative; null when there is none. */
export function remainingMs(deadline: string | null, serverNowMs: number): number | null {
  if (!deadline) return null;
  const at = Date.parse(deadline);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - serverNowMs);
}

/** 1:05:09 or 42:07; counts whole seconds up so that 0:00 means time is up. */
export function formatRemaining(ms: number): string {
  const total = Math.ceil(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mm = String(minutes).padStart(hours > 0 ? 2 : 1, '0');
  const ss = String(seconds).padStart(2, '0');
  return hours > 0 ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Minutes left at which the candidate is warned, as on the real exam. */
export const ALERT_MINUTES = [30, 15, 5] as const;

/** Under this the timer turns red. */
export const URGENT_MS = 5 * 60_000;

/**
 * The alert threshold (in minutes) passed going from `previousMs` to
 * `currentMs` left, if any. Only a crossing counts, so opening the console
 * with 20 minutes left does not announce "30 minutes".
 */
export function crossedAlert(previousMs: number | null, currentMs: number): number | null {
  if (previousMs === null) return null;
  for (const minutes of [...ALERT_MINUTES].sort((a, b) => a - b)) {
    const at = minutes * 60_000;
    if (previousMs > at && currentMs <= at) return minutes;
  }
  return null;
}
