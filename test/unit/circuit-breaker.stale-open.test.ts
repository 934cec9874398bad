import { hasCode } from 'resilience-core';
import { CircuitBreaker, type CircuitBreakerOptions } from 'resilience-core/circuit-breaker';
import type { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { callOnce, dependency, memoryBreakers, sleeperRegistered } from '../circuit-breaker-helpers.ts';

/**
 * A call that a stale cached OPEN state would turn away waits (bounded) for a fresh read of the shared state
 * first: an operator's reset in another process must not keep this one rejecting for a cache TTL.
 */

function setup(extra: CircuitBreakerOptions = {}) {
  const world = memoryBreakers({ refreshBeforeRejectMs: 300, ...extra });
  // `worker` keeps a cached OPEN state; `operator` is another process (the key-only reset route).
  return { ...world, worker: world.make('worker'), operator: world.make('operator') };
}

/** Trips `b` with failing calls and lets its background check write OPEN. */
async function trip(b: CircuitBreaker, clock: ManualClock): Promise<void> {
  for (let i = 0; i < 4; i++) await callOnce(b, dependency(clock, 'fail'));
  await b.flush();
  expect(b.status).toBe('OPEN');
}

describe('circuit breaker: a stale cached OPEN state is re-read before rejecting', () => {
  it('after another process resets it, the next call past the TTL runs instead of being rejected', async () => {
    const { clock, worker, operator } = setup();
    await trip(worker, clock);
    await operator.reset();
    // Within the TTL the cache is trusted: a rejection, without any storage round trip or wait.
    const before = worker.snapshot().counters;
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('open');
    expect(worker.snapshot().counters.storageRoundTrips).toEqual(before.storageRoundTrips);
    expect(worker.snapshot().counters.refreshesBeforeReject).toEqual({ waited: 0, timedOut: 0 });

    await clock.advance(1_000);
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
    expect(worker.status).toBe('CLOSED');
    expect(worker.snapshot().counters.refreshesBeforeReject).toEqual({ waited: 1, timedOut: 0 });
    expect(worker.snapshot().transitions.at(-1)).toMatchObject({ to: 'CLOSED', origin: 'observed' });
  });

  it('without the wait (refreshBeforeRejectMs 0) the same call is rejected: the stale-OPEN behaviour fixed here', async () => {
    const { clock, worker, operator } = setup({ refreshBeforeRejectMs: 0 });
    await trip(worker, clock);
    await operator.reset();
    await clock.advance(1_000);
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('open');
    await worker.flush(); // the background refresh lands
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
  });

  it('an isolated breaker reset by an operator elsewhere admits calls past the TTL', async () => {
    const { clock, worker, operator } = setup();
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
    await operator.isolate('maintenance');
    await clock.advance(1_000);
    // A stale CLOSED cache serves the call and refreshes in the background (the closed path never waits).
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
    await worker.flush();
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('isolated');
    await operator.reset();
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('isolated'); // cache still fresh
    await clock.advance(1_000);
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
  });

  it('concurrent calls on a stale OPEN state share one state read', async () => {
    const { clock, worker, operator } = setup();
    await trip(worker, clock);
    await operator.reset();
    await clock.advance(1_000);
    const before = worker.snapshot().counters.storageRoundTrips;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => callOnce(worker, dependency(clock, 'ok'))),
    );
    expect(results).toEqual(Array(20).fill('ran'));
    const after = worker.snapshot().counters;
    expect(after.storageRoundTrips.callPath).toBe(before.callPath);
    expect(after.storageRoundTrips.background - before.background).toBe(1);
    expect(after.refreshesBeforeReject).toEqual({ waited: 20, timedOut: 0 });
  });

  it('still OPEN after the read: rejected once, and calls within the new TTL do not wait again', async () => {
    const { clock, worker } = setup();
    await trip(worker, clock);
    await clock.advance(1_000);
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('open');
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('open');
    expect(worker.snapshot().counters.refreshesBeforeReject).toEqual({ waited: 1, timedOut: 0 });
    expect(worker.snapshot().counters.rejections.open).toBe(2);
  });

  it('a read that outlasts refreshBeforeRejectMs falls back to the cached decision, and is not waited for twice', async () => {
    const { clock, worker, operator, hang, control } = setup();
    await trip(worker, clock);
    await operator.reset();
    await clock.advance(1_000);
    hang();
    const pending = callOnce(worker, dependency(clock, 'ok'));
    await sleeperRegistered(clock);
    await clock.advance(300);
    expect(await pending).toBe('open');
    // The same read is still hanging: the next call is rejected at once, without arming another wait.
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('open');
    expect(clock.pending).toBe(0);
    expect(worker.snapshot().counters.refreshesBeforeReject).toEqual({ waited: 1, timedOut: 1 });
    control.release();
    await worker.flush();
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
  });

  it.each([
    ['local', 'open'],
    ['fail-open', 'ran'],
    ['fail-closed', 'store-unavailable'],
  ] as const)("a read that fails follows onStoreUnavailable '%s'", async (policy, expected) => {
    const { clock, worker, control } = setup({ onStoreUnavailable: policy });
    await trip(worker, clock);
    await clock.advance(1_000);
    control.down = true;
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe(expected);
    expect(worker.snapshot().storage.status).toBe('unreachable');
    expect(worker.snapshot().counters.refreshesBeforeReject).toEqual({ waited: 1, timedOut: 0 });
  });

  it('a fresh cache whose openUntil has passed probes (HALF_OPEN) instead of rejecting', async () => {
    // The cache outlives the open duration here, so no refresh is involved: HALF_OPEN comes from the clock.
    const { clock, worker, control } = setup({ cacheTtlMs: 60_000 });
    await trip(worker, clock);
    await clock.advance(10_000);
    expect(worker.status).toBe('HALF_OPEN');
    const calls = control.calls;
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
    const c = worker.snapshot().counters;
    expect(c.probes).toMatchObject({ admitted: 1, succeeded: 1 });
    expect(c.rejections.open).toBe(0);
    expect(c.refreshesBeforeReject).toEqual({ waited: 0, timedOut: 0 });
    expect(control.calls).toBeGreaterThan(calls); // the probe slot claim and the close
    expect(worker.status).toBe('CLOSED');
  });

  it('a stale CLOSED cache never waits: the call runs while the read hangs', async () => {
    const { clock, worker, hang, control } = setup();
    expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
    const callPath = worker.snapshot().counters.storageRoundTrips.callPath;
    await clock.advance(1_000);
    hang();
    for (let i = 0; i < 5; i++) expect(await callOnce(worker, dependency(clock, 'ok'))).toBe('ran');
    expect(clock.pending).toBe(0);
    const c = worker.snapshot().counters;
    expect(c.storageRoundTrips.callPath).toBe(callPath);
    expect(c.refreshesBeforeReject).toEqual({ waited: 0, timedOut: 0 });
    control.release();
    await worker.flush();
  });

  it('rejects the option out of range with INVALID_INPUT', () => {
    expect(() => new CircuitBreaker('x', { refreshBeforeRejectMs: -1 })).toThrow(/Invalid/);
    try {
      new CircuitBreaker('x', { refreshBeforeRejectMs: 60_000 });
      expect.unreachable();
    } catch (error) {
      expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
    }
  });
});
