import { createRequire } from 'node:module';
import { ConsecutiveBreaker, CountBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { CircuitBreaker, systemClock } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { type Bench, compareRounds, type Figure, median } from './lib.ts';

// opossum ships no types; we only need `fire`.
const require = createRequire(import.meta.url);
const Opossum = require('opossum') as new (
  action: () => Promise<unknown>,
  options: Record<string, unknown>,
) => { fire(): Promise<unknown>; shutdown(): void };

const ROUNDS = 9;
const ROUND_MS = 120;

/**
 * Per-call cost of a CLOSED breaker around an async no-op: ours (shared state over a TableStore, warm cache)
 * beside a bare call, cockatiel 3 and opossum 9, measured in one run. Also counts the storage round trips made
 * during the timed calls: awaited by callers (must be 0) and in the background (cache refresh + batched outcome
 * flush, about one of each per `cacheTtlMs`).
 *
 * Fairness: every candidate wraps the same `async () => undefined` the same way (`() => x.execute(noop)`), gets
 * the same warm-up (2,000 calls, then 200 per round), and is timed in ROUNDS interleaved rounds whose order
 * rotates; the target ratio is the median of the per-round ratios (both sides measured moments apart).
 * Peers are configured for the least work they allow: cockatiel's `circuitBreaker(handleAll, …)` with no retry
 * policy around it, with a ConsecutiveBreaker (its cheapest; the target is checked against it) and, for
 * information, a CountBreaker (failure rate over the last 20 calls, the same rule as our default window);
 * opossum with its per-call timeout timer off. Ours reads the clock once per event-loop turn (see
 * `CircuitBreaker.startTurn`); the timed loop below never yields, so a second row of ours reads the clock on
 * every call, as it would with one call per turn.
 */
const bench: Bench = {
  name: 'circuit-breaker',
  async run(ctx) {
    const noop = async () => undefined;
    const store = new MemoryTableStore();
    const ours = new CircuitBreaker('bench', {}, { store });
    await ours.execute(noop); // cold start: the one state read
    // Not `systemClock` itself, so the breaker reads it on every call instead of once per turn.
    const perCallClock = { now: () => Date.now(), sleep: systemClock.sleep };
    const oursPerCall = new CircuitBreaker('bench-per-call', {}, { store, clock: perCallClock });
    await oursPerCall.execute(noop);
    const cockatiel = circuitBreaker(handleAll, {
      halfOpenAfter: 10_000,
      breaker: new ConsecutiveBreaker(5),
    });
    const cockatielCount = circuitBreaker(handleAll, {
      halfOpenAfter: 10_000,
      breaker: new CountBreaker({ threshold: 0.5, size: 20, minimumNumberOfCalls: 10 }),
    });
    // Opossum's per-call timeout timer is off, so this compares breaker bookkeeping only.
    const opossum = new Opossum(noop, { timeout: false });

    const storeCallsBefore = store.stats.calls;
    const callPathBefore = ours.snapshot().counters.storageRoundTrips.callPath;
    const callsBefore = ours.snapshot().counters.calls;
    const samples = await compareRounds(
      {
        bare: () => noop(),
        ours: () => ours.execute(noop),
        oursPerCall: () => oursPerCall.execute(noop),
        cockatiel: () => cockatiel.execute(noop),
        cockatielCount: () => cockatielCount.execute(noop),
        opossum: () => opossum.fire(),
      },
      ROUNDS,
      ROUND_MS,
    );
    const ns = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    const perRound = (a: string, b: string) => median(samples[a]!.map((v, i) => v / samples[b]![i]!));
    await oursPerCall.flush();
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
    const ratio = perRound('ours', 'cockatiel');
    const ratioCount = perRound('ours', 'cockatielCount');
    const ratioPerCall = perRound('oursPerCall', 'cockatiel');
    const row = (candidate: string, key: string, vsCockatiel: number) => ({
      candidate,
      'ns/call': round(ns[key]!),
      'x bare': round(perRound(key, 'bare')),
      'x cockatiel (consecutive)': round(vsCockatiel),
    });

    ctx.table(
      `closed breaker around an async no-op (medians of ${ROUNDS} interleaved rounds; ratios = median of per-round ratios)`,
      [
        row('bare call', 'bare', perRound('bare', 'cockatiel')),
        row('ours (shared, warm)', 'ours', ratio),
        row('ours, clock read every call', 'oursPerCall', ratioPerCall),
        row('cockatiel 3.2.1 ConsecutiveBreaker(5)', 'cockatiel', 1),
        row(
          'cockatiel 3.2.1 CountBreaker(50 % of 20)',
          'cockatielCount',
          perRound('cockatielCount', 'cockatiel'),
        ),
        row('opossum 9.0.0 (timeout off)', 'opossum', perRound('opossum', 'cockatiel')),
      ],
    );
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
        name: 'breaker.closed.ratio.count-breaker',
        value: ratioCount,
        unit: 'ratio',
        peer: 'cockatiel CountBreaker',
        peerValue: 1,
      },
      {
        name: 'breaker.closed.ratio.clock-every-call',
        value: ratioPerCall,
        unit: 'ratio',
        peer: 'cockatiel',
        peerValue: 1,
      },
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
