import { describe, expect, it } from 'vitest';
import { forEachLimited } from './for-each-limited.ts';

describe('forEachLimited (the one bounded-concurrency loop)', () => {
  it('visits every item once, in start order, never more than `limit` at a time', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const items = Array.from({ length: 23 }, (_, i) => i);
    await forEachLimited(items, 4, async (i) => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      for (let k = 0; k < (i % 3) + 1; k++) await Promise.resolve();
      running--;
    });
    expect(started).toEqual(items);
    expect(peak).toBe(4);
  });

  it('a limit below 1 still runs every item, one at a time; no items, no call', async () => {
    const seen: string[] = [];
    let running = 0;
    let peak = 0;
    await forEachLimited(['a', 'b', 'c'], 0, async (x) => {
      seen.push(x);
      running++;
      peak = Math.max(peak, running);
      await Promise.resolve();
      running--;
    });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(peak).toBe(1);
    await forEachLimited([], 5, async () => {
      throw new Error('not called');
    });
  });

  it('rejects with the first failure', async () => {
    await expect(
      forEachLimited([1, 2, 3], 2, async (i) => {
        if (i === 2) throw new Error('boom 2');
      }),
    ).rejects.toThrow('boom 2');
  });
});
