import { describe, expect, it } from '@jest/globals';
import {
  ALERT_MINUTES,
  PUSHED_UNCERTAINTY_MS,
  ServerClock,
  URGENT_MS,
  clockJumped,
  crossedAlert,
  formatRemaining,
  remainingMs,
  sampleFromExchange,
  sampleFromPush,
} from './clock.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A browser clock under the test's control. */
function browserClock(startMs: number) {
  let now = startMs;
  return {
    now: () => now,
    advance: (ms: number) => (now += ms),
    set: (ms: number) => (now = ms),
  };
}

describe('sampleFromExchange', () => {
  it('takes the server time as read at the midpoint of the round trip', () => {
    // Browser clock 10 s behind the server; the request took 200 ms and the
    // server read its clock 100 ms in.
    const sentAt = 1_000_000;
    const receivedAt = sentAt + 200;
    const serverTime = sentAt + 100 + 10 * SECOND;
    expect(sampleFromExchange(serverTime, sentAt, receivedAt)).toEqual({
      offsetMs: 10 * SECOND,
      uncertaintyMs: 100,
    });
  });

  it('for a whole-second Date header, assumes the middle of that second and widens the error bound', () => {
    // The header truncates the server's reading (12:00:00.700 becomes 12:00:00):
    // wherever in the second the server read its clock, the true offset must
    // lie within the stated bound.
    const sentAt = 5_000_000;
    const receivedAt = sentAt + 200;
    for (let within = 0; within < 1000; within += 50) {
      const serverRead = 7_000_000 + within; // on the server's clock, 100 ms into the round trip
      const browserAtRead = sentAt + 100;
      const header = Math.floor(serverRead / 1000) * 1000;
      const sample = sampleFromExchange(header, sentAt, receivedAt, 1000);
      const offset = serverRead - browserAtRead;
      expect(sample.uncertaintyMs).toBe(100 + 500);
      expect(Math.abs(sample.offsetMs - offset)).toBeLessThanOrEqual(sample.uncertaintyMs);
    }
  });

  it('gives a slow exchange a larger uncertainty than a fast one', () => {
    const fast = sampleFromExchange(10_000, 0, 50);
    const slow = sampleFromExchange(10_000, 0, 4_000);
    expect(slow.uncertaintyMs).toBeGreaterThan(fast.uncertaintyMs);
  });

  it('gives no confidence to an exchange whose round trip went backwards (the browser clock was set back meanwhile)', () => {
    // Sent at 12:00 by the old clock; the clock was then set back an hour;
    // the answer arrived 100 ms later by the new clock.
    const sentAt = 12 * HOUR;
    const receivedAt = sentAt - HOUR + 100;
    const sample = sampleFromExchange(sentAt + 50, sentAt, receivedAt);
    expect(sample.uncertaintyMs).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('sampleFromPush', () => {
  it('takes the one-way offset with a fixed uncertainty', () => {
    expect(sampleFromPush(10_000, 7_000)).toEqual({
      offsetMs: 3_000,
      uncertaintyMs: PUSHED_UNCERTAINTY_MS,
    });
  });
});

describe('ServerClock', () => {
  it('is the browser clock until a sample arrives', () => {
    const browser = browserClock(42_000);
    const clock = new ServerClock(browser.now);
    expect(clock.offsetMs).toBe(0);
    expect(clock.serverNow()).toBe(42_000);
  });

  it('follows the server, not the browser, when the browser clock is hours off', () => {
    const server = Date.parse('2030-05-01T10:00:00Z');
    const browser = browserClock(server + 3 * HOUR); // three hours ahead
    const clock = new ServerClock(browser.now);
    clock.observe(sampleFromExchange(server + 40, browser.now(), browser.now() + 80));
    expect(Math.abs(clock.serverNow() - server)).toBeLessThanOrEqual(40);
    browser.advance(10 * MINUTE);
    expect(Math.abs(clock.serverNow() - (server + 10 * MINUTE))).toBeLessThanOrEqual(40);
  });

  it('trusts the most precise sample, whatever the order they arrived in', () => {
    const clock = new ServerClock(() => 0);
    clock.observe({ offsetMs: 5_000, uncertaintyMs: 900 });
    clock.observe({ offsetMs: 4_000, uncertaintyMs: 20 });
    clock.observe({ offsetMs: 6_000, uncertaintyMs: PUSHED_UNCERTAINTY_MS });
    expect(clock.offsetMs).toBe(4_000);
  });

  it('prefers a measured round trip to a pushed event timestamp', () => {
    const clock = new ServerClock(() => 0);
    clock.observe(sampleFromPush(9_000, 0)); // one-way delay unknown
    clock.observe(sampleFromExchange(8_100, 0, 200)); // ±100 ms
    expect(clock.offsetMs).toBe(8_000);
  });

  it('keeps only the last eight samples, so an old precise one ages out', () => {
    const clock = new ServerClock(() => 0);
    clock.observe({ offsetMs: 1, uncertaintyMs: 1 });
    for (let i = 0; i < 7; i++) clock.observe({ offsetMs: 100 + i, uncertaintyMs: 500 - i });
    expect(clock.offsetMs).toBe(1);
    clock.observe({ offsetMs: 200, uncertaintyMs: 400 });
    expect(clock.offsetMs).toBe(200);
  });

  it('forgets every estimate on reset', () => {
    const clock = new ServerClock(() => 1_000);
    clock.observe({ offsetMs: 7_000, uncertaintyMs: 10 });
    clock.reset();
    expect(clock.offsetMs).toBe(0);
    expect(clock.serverNow()).toBe(1_000);
  });

  it('is not misled by an exchange that spanned the browser clock being set back an hour', () => {
    const server = Date.parse('2030-05-01T10:00:00Z');
    const browser = browserClock(server);
    const clock = new ServerClock(browser.now);

    // A request goes out; while it is under way the candidate sets the
    // browser clock back an hour. The store notices the jump on its next
    // tick and resets the clock, then the answer arrives.
    const sentAt = browser.now();
    browser.set(browser.now() - HOUR + 30);
    clock.reset();
    browser.advance(70);
    clock.observe(sampleFromExchange(server + 50, sentAt, browser.now()));
    // The refresh the store sends after the jump.
    const refreshSent = browser.now();
    browser.advance(100);
    clock.observe(sampleFromExchange(server + 150, refreshSent, browser.now()));

    expect(Math.abs(clock.serverNow() - (server + 200))).toBeLessThanOrEqual(50);
  });
});

describe('clockJumped', () => {
  const at = (wall: number, monotonic: number) => ({ wall, monotonic });

  it('does not fire when wall and monotonic clocks advance together, within the tolerance', () => {
    expect(clockJumped(at(1_000_000, 500), at(1_000_250, 750))).toBe(false);
    expect(clockJumped(at(1_000_000, 500), at(1_002_250, 750))).toBe(false);
  });

  it('fires when the wall clock is set forward or back', () => {
    expect(clockJumped(at(1_000_000, 500), at(1_000_000 + HOUR, 750))).toBe(true);
    expect(clockJumped(at(1_000_000, 500), at(1_000_000 - HOUR, 750))).toBe(true);
    expect(clockJumped(at(1_000_000, 500), at(1_000_000 + 2_251, 750))).toBe(true);
  });

  it('fires when the machine slept (the wall clock ran on, the monotonic clock did not)', () => {
    expect(clockJumped(at(1_000_000, 500), at(1_000_000 + 20 * MINUTE, 800))).toBe(true);
  });
});

describe('remainingMs', () => {
  const deadline = '2030-05-01T12:00:00.000Z';
  const deadlineMs = Date.parse(deadline);

  it('counts down to the deadline by the given server time', () => {
    expect(remainingMs(deadline, deadlineMs - 90 * MINUTE)).toBe(90 * MINUTE);
    expect(remainingMs(deadline, deadlineMs - 1)).toBe(1);
  });

  it('is zero, not negative, once the deadline has passed', () => {
    expect(remainingMs(deadline, deadlineMs)).toBe(0);
    expect(remainingMs(deadline, deadlineMs + HOUR)).toBe(0);
  });

  it('is null without a (valid) deadline', () => {
    expect(remainingMs(null, 0)).toBeNull();
    expect(remainingMs('', 0)).toBeNull();
    expect(remainingMs('not a date', 0)).toBeNull();
  });

  it('gives the same countdown whether the browser clock is right or hours off', () => {
    const server = deadlineMs - 45 * MINUTE;
    const countdowns = [0, 3 * HOUR, -5 * HOUR].map((browserError) => {
      const browser = browserClock(server + browserError);
      const clock = new ServerClock(browser.now);
      clock.observe(sampleFromExchange(server + 60, browser.now(), browser.now() + 120));
      browser.advance(5 * MINUTE);
      return remainingMs(deadline, clock.serverNow());
    });
    expect(countdowns).toEqual([40 * MINUTE, 40 * MINUTE, 40 * MINUTE]);
  });
});

describe('formatRemaining', () => {
  it('shows minutes and seconds under an hour, hours above', () => {
    expect(formatRemaining(42 * MINUTE + 7 * SECOND)).toBe('42:07');
    expect(formatRemaining(5 * MINUTE)).toBe('5:00');
    expect(formatRemaining(9 * SECOND)).toBe('0:09');
    expect(formatRemaining(HOUR + 5 * MINUTE + 9 * SECOND)).toBe('1:05:09');
    expect(formatRemaining(2 * HOUR)).toBe('2:00:00');
  });

  it('rounds partial seconds up, so 0:00 is shown only when time is up', () => {
    expect(formatRemaining(1)).toBe('0:01');
    expect(formatRemaining(999)).toBe('0:01');
    expect(formatRemaining(0)).toBe('0:00');
    expect(formatRemaining(59 * MINUTE + 59 * SECOND + 1)).toBe('1:00:00');
  });
});

describe('crossedAlert', () => {
  it('warns at 30, 15 and 5 minutes, and the timer turns urgent at 5', () => {
    expect(ALERT_MINUTES).toEqual([30, 15, 5]);
    expect(URGENT_MS).toBe(5 * MINUTE);
  });

  it('reports the threshold passed between two readings', () => {
    expect(crossedAlert(30 * MINUTE + 100, 30 * MINUTE - 150)).toBe(30);
    expect(crossedAlert(15 * MINUTE + 1, 15 * MINUTE)).toBe(15);
    expect(crossedAlert(5 * MINUTE + 250, 5 * MINUTE - 0)).toBe(5);
  });

  it('reports nothing between thresholds, or once past one', () => {
    expect(crossedAlert(29 * MINUTE, 28 * MINUTE)).toBeNull();
    expect(crossedAlert(30 * MINUTE, 30 * MINUTE - 250)).toBeNull();
    expect(crossedAlert(4 * MINUTE, 0)).toBeNull();
  });

  it('does not announce a threshold already passed when the console opens', () => {
    expect(crossedAlert(null, 20 * MINUTE)).toBeNull();
    expect(crossedAlert(null, 30 * MINUTE)).toBeNull();
  });

  it('does not fire when time goes back up (a clock correction)', () => {
    expect(crossedAlert(29 * MINUTE, 31 * MINUTE)).toBeNull();
  });

  it('announces only the most urgent threshold when several were passed at once (the laptop slept)', () => {
    expect(crossedAlert(40 * MINUTE, 4 * MINUTE)).toBe(5);
    expect(crossedAlert(40 * MINUTE, 20 * MINUTE)).toBe(30);
  });

  it('over a whole exam ticking every 250 ms, fires exactly once at 30, 15 and 5 minutes, with the browser clock hours off', () => {
    const server = Date.parse('2030-05-01T10:00:00Z');
    const deadline = new Date(server + 2 * HOUR).toISOString();
    const browser = browserClock(server - 7 * HOUR);
    const clock = new ServerClock(browser.now);
    clock.observe(sampleFromExchange(server + 20, browser.now(), browser.now() + 40));

    const fired: { minutes: number; left: number }[] = [];
    let previous: number | null = null;
    for (;;) {
      const left = remainingMs(deadline, clock.serverNow());
      if (left === null) throw new Error('no deadline');
      const minutes = crossedAlert(previous, left);
      if (minutes !== null) fired.push({ minutes, left });
      previous = left;
      if (left === 0) break;
      browser.advance(250);
    }

    expect(fired.map((f) => f.minutes)).toEqual([30, 15, 5]);
    // Each at its threshold, not a tick late.
    for (const { minutes, left } of fired) {
      expect(left).toBeLessThanOrEqual(minutes * MINUTE);
      expect(left).toBeGreaterThan(minutes * MINUTE - 250);
    }
  });
});
