import { RequestWindows } from './request-windows.js';

describe('RequestWindows', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('allows the limit per window per key, then says how long until the window ends', () => {
    const windows = new RequestWindows({ limit: 2, windowMs: 60_000 }, 100, now);
    expect(windows.count('a')).toEqual({ allowed: true });
    clock += 10_000;
    expect(windows.count('a')).toEqual({ allowed: true });
    expect(windows.count('a')).toEqual({ allowed: false, retryAfterMs: 50_000 });
    expect(windows.count('b')).toEqual({ allowed: true });
    clock += 50_000;
    expect(windows.count('a')).toEqual({ allowed: true });
  });

  it('counts nothing with a limit of 0', () => {
    const windows = new RequestWindows({ limit: 0, windowMs: 1000 }, 100, now);
    for (let i = 0; i < 5; i++) expect(windows.count('a')).toEqual({ allowed: true });
    expect(windows.size).toBe(0);
  });

  it('stays within its size under a flood of distinct keys, dropping expired and then the oldest', () => {
    const windows = new RequestWindows({ limit: 1, windowMs: 1000 }, 10, now);
    for (let i = 0; i < 10; i++) windows.count(`old-${i}`);
    clock += 2000; // every window over
    windows.count('new-0');
    expect(windows.size).toBe(1);
    for (let i = 1; i < 50; i++) windows.count(`new-${i}`);
    expect(windows.size).toBeLessThanOrEqual(10);
    // The newest key is still counted: a second request inside its window is refused.
    expect(windows.count('new-49').allowed).toBe(false);
  });
});
