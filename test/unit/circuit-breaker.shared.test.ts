import { hasCode, isResilienceError, stableId } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  CIRCUIT_BREAKER_PROBES_TABLE,
  CIRCUIT_BREAKERS_TABLE,
  CircuitBreaker,
  type CircuitEvent,
  circuitBreakerKey,
} from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  callOnce,
  dependency,
  memoryBreakers,
  serverError,
  sharedOptions,
  sleeperRegistered,
} from '../circuit-breaker-helpers.ts';

describe('shared circuit breaker', () => {
  it('does no storage round trip on the closed path once warm, and batches outcomes in the background', async () => {
    const { clock, memory, make } = memoryBreakers();
    const b = make();
    expect(await b.execute(async () => 1)).toBe(1);
    const afterCold = memory.stats.calls;
    expect(b.snapshot().counters.storageRoundTrips.callPath).toBe(1); // the cold read
    for (let i = 0; i < 1000; i++) await b.execute(async () => i);
    expect(memory.stats.calls).toBe(afterCold);
    expect(b.snapshot().counters.storageRoundTrips).toEqual({ callPath: 1, background: 0 });
    // After the TTL: one call serves from cache and refreshes in the background (state read + one increment).
    await clock.advance(1_000);
    await b.execute(async () => 0);
    await b.flush();
    // In the background: the refresh (state read + create of the first second's counter, 1001 calls), then
    // flush() for the last call (only the create of its second's counter: the state was read moments ago and
    // is still fresh). Callers awaited none of it.
    expect(b.snapshot().counters.storageRoundTrips).toEqual({ callPath: 1, background: 3 });
    const buckets = await memory.list('circuit-breaker-buckets', {
      orderBy: [{ field: 'bucketStart', direction: 'asc' }],
    });
    expect(buckets.rows.map((r) => r.count)).toEqual([1001, 1]);
  });

  it('a cold execution reads the shared state once, however many calls arrive at once', async () => {
    const { make } = memoryBreakers();
    const b = make();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => b.execute(async () => i)));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b.snapshot().counters.storageRoundTrips.callPath).toBe(1);
  });

  it('adds up outcomes of concurrent executions instead of overwriting them', async () => {
    const { clock, memory, make } = memoryBreakers();
    const fleet = Array.from({ length: 10 }, (_, i) => make(`e${i}`));
    await Promise.all(
      fleet.map(async (b) => {
        for (let i = 0; i < 7; i++) await b.execute(async () => i);
        await clock.advance(0);
      }),
    );
    await Promise.all(fleet.map((b) => b.flush()));
    // Flushed on the first TTL expiry; force it by moving time.
    await clock.advance(1_000);
    await Promise.all(
      fleet.map(async (b) => {
        await b.execute(async () => 0);
        await b.flush();
      }),
    );
    const rows = (await memory.list('circuit-breaker-buckets')).rows;
    expect(rows.reduce((n, r) => n + (r.count as number), 0)).toBe(10 * 8);
  });

  it('lets another execution take over a probe whose holder died once its lease expires', async () => {
    const { clock, memory, make } = memoryBreakers();
    const a = make('a');
    for (let i = 0; i < 4; i++) await callOnce(a, dependency(clock, 'fail'));
    await a.flush();
    expect(a.status).toBe('OPEN');
    await clock.advance(10_000);
    // An execution claimed the probe slot and then died (its row stays, pending, until the lease ends).
    const version = a.toJSON().version;
    await memory.create(CIRCUIT_BREAKER_PROBES_TABLE, stableId('cbp', a.key, version, 0), {
      breakerKey: a.key,
      version,
      slot: 0,
      holder: 'dead',
      leaseUntil: clock.now() + 5_000,
      generation: 0,
      outcome: 'pending',
    });
    const b = make('b');
    expect(await callOnce(b, dependency(clock, 'ok'))).toBe('half-open-full');
    await clock.advance(4_999);
    expect(await callOnce(b, dependency(clock, 'ok'))).toBe('half-open-full');
    // The lease has expired; b asks the table again at most once per cache TTL.
    await clock.advance(1_000);
    expect(await callOnce(b, dependency(clock, 'ok'))).toBe('ran');
    expect(b.status).toBe('CLOSED');
    const probe = await memory.get(CIRCUIT_BREAKER_PROBES_TABLE, stableId('cbp', a.key, version, 0));
    expect(probe).toMatchObject({ holder: 'b', outcome: 'success', generation: 2 });
  });

  it('times a probe out at its lease, counts it as a failure and re-opens for longer', async () => {
    const { clock, make } = memoryBreakers();
    const a = make();
    for (let i = 0; i < 4; i++) await callOnce(a, dependency(clock, 'fail'));
    await a.flush();
    await clock.advance(10_000);
    const hanging = a.execute(
      (signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
    );
    const outcome = hanging.then(
      () => 'resolved',
      (e: unknown) => (isResilienceError(e) ? e.code : 'other'),
    );
    await sleeperRegistered(clock);
    await clock.advance(5_000);
    expect(await outcome).toBe('TIMEOUT');
    expect(a.status).toBe('OPEN');
    const s = a.toJSON();
    expect(s.state === 'OPEN' && s.openUntil! - clock.now()).toBe(20_000);
    expect(a.snapshot().counters).toMatchObject({ timeouts: 1, probes: { admitted: 1, failed: 1 } });
  });

  it('isolate and reset by one execution reach the others within their cache TTL', async () => {
    const { clock, make } = memoryBreakers();
    const a = make('a');
    const b = make('b');
    expect(await callOnce(b, dependency(clock, 'ok'))).toBe('ran');
    await a.isolate('maintenance');
    expect(await callOnce(a, dependency(clock, 'ok'))).toBe('isolated');
    expect(await callOnce(b, dependency(clock, 'ok'))).toBe('ran'); // b's cache is still fresh
    await clock.advance(1_000);
    await callOnce(b, dependency(clock, 'ok')); // serves from cache, refreshes in the background
    await b.flush();
    expect(await callOnce(b, dependency(clock, 'ok'))).toBe('isolated');
    await b.reset();
    expect(await callOnce(b, dependency(clock, 'ok'))).toBe('ran');
    await clock.advance(1_000);
    await callOnce(a, dependency(clock, 'ok'));
    await a.flush();
    expect(a.status).toBe('CLOSED');
  });

  it('rejections say why, with Retry-After; fallbacks can be values or functions', async () => {
    const { clock, make } = memoryBreakers();
    const b = make();
    for (let i = 0; i < 4; i++) await callOnce(b, dependency(clock, 'fail'));
    await b.flush();
    await clock.advance(2_500);
    const error = await b.execute(async () => 'x').catch((e: unknown) => e);
    expect(hasCode(error, 'CIRCUIT_OPEN')).toBe(true);
    expect(error).toMatchObject({
      status: 503,
      retryAfterSeconds: 8,
      details: { breaker: 'dep', reason: 'open', state: 'OPEN' },
    });
    expect(await b.execute(async () => 'x', { fallback: 'cached' })).toBe('cached');
    expect(
      await b.execute(async () => 'x', {
        fallback: (e) => (hasCode(e, 'CIRCUIT_OPEN') ? String(e.details?.reason) : '?'),
      }),
    ).toBe('open');
    expect(b.snapshot().counters).toMatchObject({ fallbacks: 2, rejections: { open: 3 } });
  });

  it('fails calls over callTimeoutMs with TIMEOUT and passes the abort to the call', async () => {
    const { clock, make } = memoryBreakers({ callTimeoutMs: 100 });
    const b = make();
    let aborted = false;
    const p = b
      .execute(
        (signal) =>
          new Promise<string>((resolve) => {
            signal?.addEventListener('abort', () => {
              aborted = true;
              resolve('late');
            });
          }),
      )
      .catch((e: unknown) => e);
    await sleeperRegistered(clock);
    await clock.advance(100);
    const error = await p;
    expect(hasCode(error, 'TIMEOUT')).toBe(true);
    expect(aborted).toBe(true);
    expect(b.snapshot().counters).toMatchObject({ calls: 1, failures: 1, timeouts: 1 });
  });

  it('emits transitions with times, and a snapshot a metrics endpoint can serve', async () => {
    const { clock, make } = memoryBreakers();
    const b = make();
    const events: CircuitEvent[] = [];
    b.on((e) => events.push(e));
    for (let i = 0; i < 4; i++) await callOnce(b, dependency(clock, 'fail'));
    await b.flush();
    const t0 = clock.now();
    await clock.advance(10_000);
    await callOnce(b, dependency(clock, 'ok'));
    const transitions = events
      .filter((e) => e.type === 'transition')
      .map((e) => e.type === 'transition' && [e.from, e.to, e.at - t0, e.origin]);
    expect(transitions).toEqual([
      ['CLOSED', 'OPEN', 0, 'local'],
      ['OPEN', 'HALF_OPEN', 10_000, 'observed'],
      ['HALF_OPEN', 'CLOSED', 10_000, 'local'],
    ]);
    const snap = b.snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap).toMatchObject({
      name: 'dep',
      state: 'CLOSED',
      version: 2,
      counters: { calls: 5, failures: 4, successes: 1 },
    });
    expect(snap.transitions).toHaveLength(3);
  });

  it('keeps per-organization breakers apart', async () => {
    const clock = new ManualClock();
    const store = new MemoryTableStore({ clock });
    const orgA = new CircuitBreaker('slack', sharedOptions, { clock, store, scope: 'orgA' });
    const orgB = new CircuitBreaker('slack', sharedOptions, { clock, store, scope: 'orgB' });
    for (let i = 0; i < 4; i++) await callOnce(orgA, dependency(clock, 'fail'));
    await orgA.flush();
    expect(orgA.status).toBe('OPEN');
    expect(await callOnce(orgB, dependency(clock, 'ok'))).toBe('ran');
    const row = await store.get(CIRCUIT_BREAKERS_TABLE, circuitBreakerKey('slack', 'orgA'));
    expect(row).toMatchObject({ name: 'slack', scope: 'orgA', state: 'OPEN', version: 1 });
    expect(await store.get(CIRCUIT_BREAKERS_TABLE, circuitBreakerKey('slack', 'orgB'))).toBeNull();
  });

  it('rejects invalid options and names with INVALID_INPUT', () => {
    expect(() => new CircuitBreaker('bad name!', {})).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    const e = (() => {
      try {
        new CircuitBreaker('x', { failureRateThreshold: 0, halfOpen: { maxProbes: 1, successesToClose: 2 } });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(e).toMatchObject({ code: 'INVALID_INPUT' });
    expect(() => new CircuitBreaker('x', { halfOpen: { maxProbes: 1, successesToClose: 2 } })).toThrow(
      /Invalid/,
    );
  });

  describe('when the state store is unreachable', () => {
    it("'local' keeps protecting with this execution's own outcomes, reports it, and writes its state back on recovery", async () => {
      const { clock, control, memory, make } = memoryBreakers();
      const b = make();
      const events: string[] = [];
      b.on((e) => {
        if (e.type === 'storage') events.push(e.status);
      });
      expect(await callOnce(b, dependency(clock, 'ok'))).toBe('ran');
      control.down = true;
      await clock.advance(1_000);
      for (let i = 0; i < 4; i++) await callOnce(b, dependency(clock, 'fail'));
      await b.flush();
      expect(b.snapshot().storage).toMatchObject({
        mode: 'shared',
        status: 'unreachable',
        lastError: 'RETRYABLE: store unreachable',
      });
      expect(b.status).toBe('OPEN');
      expect(await callOnce(b, dependency(clock, 'ok'))).toBe('open');
      control.down = false;
      await clock.advance(1_000);
      await callOnce(b, dependency(clock, 'ok'));
      await b.flush();
      expect(events).toEqual(['unreachable', 'ok']);
      expect(await memory.get(CIRCUIT_BREAKERS_TABLE, b.key)).toMatchObject({ state: 'OPEN', version: 1 });
    });

    it("'fail-closed' rejects with store-unavailable; 'fail-open' admits", async () => {
      for (const [policy, expected] of [
        ['fail-closed', 'store-unavailable'],
        ['fail-open', 'ran'],
      ] as const) {
        const { clock, control, make } = memoryBreakers({ onStoreUnavailable: policy });
        const b = make();
        control.down = true;
        expect(await callOnce(b, dependency(clock, 'ok')), policy).toBe(expected);
        expect(b.snapshot().storage.status).toBe('unreachable');
      }
    });
  });

  it('over the system clock, reads time once per event-loop turn yet refreshes after the TTL', async () => {
    // Turn reuse exists only over systemClock, so the test fakes `Date` (what systemClock reads) instead of
    // passing a ManualClock; setImmediate stays real, as it marks the end of a turn.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 0, 1) });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const store = new MemoryTableStore();
    const b = new CircuitBreaker('real', { cacheTtlMs: 20 }, { store });
    await b.execute(async () => 1);
    for (let i = 0; i < 100; i++) await b.execute(async () => i);
    expect(b.snapshot().counters.storageRoundTrips).toEqual({ callPath: 1, background: 0 });
    vi.advanceTimersByTime(30);
    await new Promise((r) => setImmediate(r)); // the burst's turn ends
    await b.execute(async () => 0);
    await b.flush();
    expect(b.snapshot().counters.storageRoundTrips.background).toBeGreaterThanOrEqual(2);
    expect(b.snapshot().counters.storageRoundTrips.callPath).toBe(1);
  });

  it('counts a failing dependency as failures and a 4xx as ignored', async () => {
    const { make } = memoryBreakers();
    const b = make();
    await b
      .execute(async () => {
        throw serverError();
      })
      .catch(() => undefined);
    await b
      .execute(async () => {
        throw Object.assign(new Error('nope'), { status: 404 });
      })
      .catch(() => undefined);
    expect(b.snapshot().counters).toMatchObject({ failures: 1, ignoredErrors: 1 });
  });
});
