/** The breaker's local window (lazy success runs) and its hot-path time reuse within one event-loop turn. */
import fc from 'fast-check';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { CircuitBreaker, LocalWindow } from 'resilience-core/circuit-breaker';
import { describe, expect, it, onTestFinished, vi } from 'vitest';

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

describe('hot-path time reuse within an event-loop turn (system clock)', () => {
  it('after a burst of calls in one turn, a later turn reads the clock again and sees an isolate', async () => {
    // Turn reuse exists only over systemClock, so the test fakes `Date` (what systemClock reads) instead of
    // passing a ManualClock; setImmediate stays real, as it marks the end of a turn.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 0, 1) });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const store = new MemoryTableStore();
    const a = new CircuitBreaker('turns', { cacheTtlMs: 30 }, { store });
    const b = new CircuitBreaker('turns', { cacheTtlMs: 30 }, { store });
    const ok = async () => 'ok';
    await a.execute(ok);
    // A burst in one turn: the breaker starts reusing the turn's time after a few same-millisecond reads.
    for (let i = 0; i < 200; i++) await a.execute(ok);
    await b.isolate('test');
    vi.advanceTimersByTime(80);
    const nextTurn = () => new Promise((r) => setImmediate(r));
    await nextTurn();
    // The cache expired in (system) time; the turn that read the old time is over, so the next calls notice
    // (the first one starts the background re-read, a later one sees its result).
    let rejected: unknown = null;
    for (let i = 0; i < 20 && !rejected; i++) {
      await a.execute(ok).catch((e: unknown) => {
        rejected = e;
      });
      await nextTurn();
    }
    expect(rejected).toMatchObject({ code: 'CIRCUIT_OPEN', details: { reason: 'isolated' } });
    await a.flush();
  });
});
