import { describe, expect, it } from '@jest/globals';
import { mapLimit } from './map-limit.js';

describe('mapLimit', () => {
  it('keeps the items order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const delays = [30, 5, 20, 1, 15, 2, 8];
    const results = await mapLimit(delays, 3, async (ms, i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return `${i}:${ms}`;
    });
    expect(results).toEqual(delays.map((ms, i) => `${i}:${ms}`));
    expect(most).toBe(3);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n);
        await new Promise((r) => setTimeout(r, n === 2 ? 1 : 20));
        if (n === 2) throw new Error('two failed');
        return n;
      }),
    ).rejects.toThrow('two failed');
    await new Promise((r) => setTimeout(r, 50));
    // 1 and 2 ran at once; 2 failed first, so 3 onwards never started.
    expect(started).toEqual([1, 2]);
  });

  it('an empty list is an empty result', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});
