import fc from 'fast-check';
import { LocalWindow } from 'resilience-core';
import { describe, expect, it } from 'vitest';

const countWindow = (size: number) => ({ type: 'count' as const, size, bucketMs: 1000 });

describe('LocalWindow count window: successes taken as a pending run', () => {
  it('gives the same totals as recording every outcome one by one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        // kind 0..3; `lazy` says whether a success goes through recordOk; `read` asks for totals after it.
        fc.array(
          fc.record({ kind: fc.integer({ min: 0, max: 3 }), lazy: fc.boolean(), read: fc.boolean() }),
          {
            maxLength: 80,
          },
        ),
        (size, steps) => {
          const eager = new LocalWindow(countWindow(size));
          const lazy = new LocalWindow(countWindow(size));
          expect(lazy.lazyOk).toBe(true);
          for (const step of steps) {
            eager.record(0, step.kind);
            if (step.kind === 0 && step.lazy) lazy.recordOk();
            else lazy.record(0, step.kind);
            if (step.read) expect(lazy.totals(0)).toEqual(eager.totals(0));
          }
          expect(lazy.totals(0)).toEqual(eager.totals(0));
        },
      ),
    );
  });

  it('a run longer than the window leaves only successes, and clear() drops a pending run', () => {
    const w = new LocalWindow(countWindow(5));
    for (let i = 0; i < 5; i++) w.record(0, 1);
    expect(w.totals(0)).toEqual({ calls: 5, failures: 5, slow: 0 });
    for (let i = 0; i < 7; i++) w.recordOk();
    expect(w.totals(0)).toEqual({ calls: 5, failures: 0, slow: 0 });
    w.recordOk();
    w.clear();
    expect(w.totals(0)).toEqual({ calls: 0, failures: 0, slow: 0 });
  });

  it('time windows do not take lazy successes', () => {
    expect(new LocalWindow({ type: 'time', durationMs: 10_000, bucketMs: 1000 }).lazyOk).toBe(false);
  });
});
