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
    const cockatiel = circuitBreaker(handleAll, {
      halfOpenAfter: 10_000,
      breaker: new ConsecutiveBreaker(5),
    });
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
    // The loop above is one long event-loop turn (every await resolves as a microtask), during which the hot
    // path's per-turn time stands still. Real traffic yields to the event loop; count round trips over 2 s of
    // that too: callers must await none, and the background should make ~2 per cache TTL (refresh + flush).
    const traffic = await steadyTraffic(ours, noop, 2_000);
    const counters = ours.snapshot().counters;
    const calls = counters.calls - callsBefore;
    const callPath = counters.storageRoundTrips.callPath - callPathBefore;
    const background = store.stats.calls - storeCallsBefore;
    const ratio = ns.ours! / ns.cockatiel!;

    ctx.table('closed breaker around an async no-op (median of 5 interleaved rounds)', [
      { candidate: 'bare call', 'ns/call': round(ns.bare!), 'x bare': 1 },
      { candidate: 'ours (shared, warm)', 'ns/call': round(ns.ours!), 'x bare': round(ns.ours! / ns.bare!) },
      {
        candidate: 'cockatiel 3.2.1',
        'ns/call': round(ns.cockatiel!),
        'x bare': round(ns.cockatiel! / ns.bare!),
      },
      { candidate: 'opossum 9.0.0', 'ns/call': round(ns.opossum!), 'x bare': round(ns.opossum! / ns.bare!) },
    ]);
    ctx.table('storage round trips of our breaker on the closed path', [
      {
        run: 'timed calls above (one event-loop turn)',
        calls,
        'awaited by callers': callPath,
        'background (refresh + flush)': background,
      },
      {
        run: '2 s of traffic, yielding every 100 calls',
        calls: traffic.calls,
        'awaited by callers': traffic.callPath,
        'background (refresh + flush)': traffic.background,
      },
    ]);

    const figures: Figure[] = [
      { name: 'breaker.closed.bare', value: ns.bare!, unit: 'ns/call' },
      {
        name: 'breaker.closed.ours',
        value: ns.ours!,
        unit: 'ns/call',
        peer: 'cockatiel',
        peerValue: ns.cockatiel!,
      },
      { name: 'breaker.closed.opossum', value: ns.opossum!, unit: 'ns/call' },
      {
        name: 'breaker.closed.ratio',
        value: ratio,
        unit: 'ratio',
        peer: 'cockatiel',
        peerValue: 1,
        target: '<= 0.5 x cockatiel',
        pass: ratio <= 0.5,
      },
      {
        name: 'breaker.closed.round-trips.call-path',
        value: callPath + traffic.callPath,
        unit: 'round-trips',
        target: '0',
        pass: callPath + traffic.callPath === 0,
      },
      {
        name: 'breaker.closed.round-trips.background-per-second',
        value: traffic.background / 2,
        unit: 'round-trips/s',
      },
    ];
    return figures;
  },
};

/** Calls through the breaker for `ms` of wall time, yielding to the event loop every 100 calls. */
async function steadyTraffic(breaker: CircuitBreaker, fn: () => Promise<undefined>, ms: number) {
  const before = breaker.snapshot().counters;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < 100; i++) await breaker.execute(fn);
    await new Promise((r) => setImmediate(r));
  }
  await breaker.flush();
  const after = breaker.snapshot().counters;
  return {
    calls: after.calls - before.calls,
    callPath: after.storageRoundTrips.callPath - before.storageRoundTrips.callPath,
    background: after.storageRoundTrips.background - before.storageRoundTrips.background,
  };
}

function round(n: number): number {
  return Number(n.toPrecision(4));
}

export default bench;
