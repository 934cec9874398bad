import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  errors,
  hasCode,
  type TableStore,
} from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { callOnce, dependency } from './circuit-breaker-helpers.ts';

/**
 * A call that a stale cached OPEN state would turn away waits (bounded) for a fresh read of the shared state
 * first: an operator's reset in another process must not keep this one rejecting for a cache TTL.
 */

const options: CircuitBreakerOptions = {
  window: { type: 'count', size: 10 },
  minimumCalls: 4,
  failureRateThreshold: 50,
  openDuration: { baseMs: 10_000, multiplier: 2, maxMs: 60_000 },
  halfOpen: { maxProbes: 1, leaseMs: 5_000 },
  cacheTtlMs: 1_000,
  refreshBeforeRejectMs: 300,
};

/**
 * A store whose operations can fail (as a network outage) or hang until released, and which counts the
 * calls that reach it.
 */
function controllableStore(inner: TableStore) {
  const control = { down: false, hanging: false, calls: 0, release: () => {} };
  let gate = Promise.resolve();
  const wrapper = {} as TableStore;
  for (const method of [
    'create',
    'get',
    'update',
    'upsert',
    'delete',
    'list',
    'increment',
    'transaction',
  ] as const) {
    (wrapper as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      control.calls++;
      if (control.hanging) await gate;
      if (control.down) throw errors.retryable('store unreachable');
      return (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  const hang = () => {
    control.hanging = true;
    gate = new Promise<void>((resolve) => {
      control.release = () => {
        control.hanging = false;
        resolve();
      };
    });
  };
  return { store: wrapper, control, hang };
}

function setup(extra: CircuitBreakerOptions = {}) {
  const clock = new ManualClock();
  const memory = new MemoryTableStore({ clock });
  const { store, control, hang } = controllableStore(memory);
  const make = (id: string) =>
    new CircuitBreaker('dep', { ...options, ...extra }, { clock, store, instanceId: id });
  // `worker` keeps a cached OPEN state; `operator` is another process (the key-only reset route).
  const worker = make('worker');
  const operator = make('operator');
  return { clock, memory, control, hang, worker, operator, make };
}

/** Trips `b` with failing calls and lets its background check write OPEN. */
async function trip(b: CircuitBreaker, clock: ManualClock): Promise<void> {
  for (let i = 0; i < 4; i++) await callOnce(b, dependency(clock, 'fail'));
  await b.flush();
  expect(b.status).toBe('OPEN');
}

/** Waits until the code under test is sleeping on the manual clock (its timeout timer is armed). */
async function sleeperRegistered(clock: ManualClock): Promise<void> {
  for (let i = 0; i < 1000 && clock.pending === 0; i++) await new Promise((r) => setImmediate(r));
  expect(clock.pending).toBeGreaterThan(0);
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
