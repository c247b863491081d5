import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FIRST_RETRY_MS, MAX_RETRY_MS, browserTimers, nextBackoff } from './backoff.js';

describe('nextBackoff', () => {
  it('starts at 2 s and doubles', () => {
    expect(FIRST_RETRY_MS).toBe(2000);
    expect(nextBackoff(null)).toBe(2000);
    expect(nextBackoff(2000)).toBe(4000);
    expect(nextBackoff(4000)).toBe(8000);
  });

  it('never exceeds 30 s, however long the connection stays down', () => {
    expect(MAX_RETRY_MS).toBe(30_000);
    const delays: number[] = [];
    let delay: number | null = null;
    for (let i = 0; i < 10; i++) delays.push((delay = nextBackoff(delay)));
    expect(delays).toEqual([
      2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe('browserTimers', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('calls back after the delay', () => {
    const callback = jest.fn();
    browserTimers.set(callback, 1000);
    jest.advanceTimersByTime(999);
    expect(callback).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('does not call back once cleared', () => {
    const callback = jest.fn();
    const handle = browserTimers.set(callback, 1000);
    browserTimers.clear(handle);
    jest.advanceTimersByTime(5000);
    expect(callback).not.toHaveBeenCalled();
  });
});
