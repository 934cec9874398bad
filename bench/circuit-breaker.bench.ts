import { createRequire } from 'node:module';
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { CircuitBreaker } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { type Bench, compare, type Figure } from './lib.ts';

// opossum ships no types; we only need `fire`.
const require = createRequire(import.meta.url);
const Opossum = require('opossum') as new (
  action: () => Promise<unknown>,
  options: Record<string, unknown>,
) => { fire(): Promise<unknown>; shutdown(): void };

/**
 * Per-call cost of a CLOSED breaker around an async no-op: ours (shared state over a TableStore, warm cache)
 * beside a bare call, cockatiel 3 and opossum 9, measured interleaved in one run. Also counts the storage
 * round trips made during the timed calls: awaited by callers (must be 0) and in the background (cache
 * refresh + batched outcome flush, about one of each per `cacheTtlMs`).
 */
const bench: Bench = {
  name: 'circuit-breaker',
  async run(ctx) {
    const noop = async () => undefined;
    const store = new MemoryTableStore();
    const ours = new CircuitBreaker('bench', {}, { store });
    await ours.execute(noop); // cold start: the one state read
    const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
    // Opossum's per-call timeout timer is off, so this compares breaker bookkeeping only.
    const opossum = new Opossum(noop, { timeout: false });

    const storeCallsBefore = store.stats.calls;
    const callPathBefore = ours.snapshot().counters.storageRoundTrips.callPath;
    const callsBefore = ours.snapshot().counters.calls;
    const ns = await compare(
      {
        bare: () => noop(),
        ours: () => ours.execute(noop),
        cockatiel: () => cockatiel.execute(noop),
        opossum: () => opossum.fire(),
      },
      5,
      200,
    );
    await ours.flush();
    opossum.shutdown();
    const counters = ours.snapshot().counters;
    const calls = counters.calls - callsBefore;
    const callPath = counters.storageRoundTrips.callPath - callPathBefore;
    const background = store.stats.calls - storeCallsBefore;
    const ratio = ns.ours! / ns.cockatiel!;

    ctx.table('closed breaker around an async no-op (median of 5 interleaved rounds)', [
      { candidate: 'bare call', 'ns/call': round(ns.bare!), 'x bare': 1 },
      { candidate: 'ours (shared, warm)', 'ns/call': round(ns.ours!), 'x bare': round(ns.ours! / ns.bare!) },
      { candidate: 'cockatiel 3.2.1', 'ns/call': round(ns.cockatiel!), 'x bare': round(ns.cockatiel! / ns.bare!) },
      { candidate: 'opossum 9.0.0', 'ns/call': round(ns.opossum!), 'x bare': round(ns.opossum! / ns.bare!) },
    ]);
    ctx.table('storage round trips of our breaker during the timed calls', [
      { calls, 'awaited by callers': callPath, 'background (refresh + flush)': background, 'per 1M calls': round((background / calls) * 1e6) },
    ]);

    const figures: Figure[] = [
      { name: 'breaker.closed.bare', value: ns.bare!, unit: 'ns/call' },
      { name: 'breaker.closed.ours', value: ns.ours!, unit: 'ns/call', peer: 'cockatiel', peerValue: ns.cockatiel! },
      { name: 'breaker.closed.opossum', value: ns.opossum!, unit: 'ns/call' },
      { name: 'breaker.closed.ratio', value: ratio, unit: 'ratio', peer: 'cockatiel', peerValue: 1, target: '<= 0.5 x cockatiel', pass: ratio <= 0.5 },
      { name: 'breaker.closed.round-trips.call-path', value: callPath, unit: 'round-trips', target: '0', pass: callPath === 0 },
      { name: 'breaker.closed.round-trips.background-per-1M', value: (background / calls) * 1e6, unit: 'round-trips/1M calls' },
    ];
    return figures;
  },
};

function round(n: number): number {
  return Number(n.toPrecision(4));
}

export default bench;
