/**
 * The stale-OPEN case over real HTTP: a warm process (job-worker) keeps an OPEN breaker in its cache while an
 * operator resets the breaker from another process (create-recognition's key-only route). Once its cache is
 * older than the TTL, the worker's next call re-reads the shared state before rejecting, so it runs at once
 * instead of failing (and pushing a deferred notification into a retry backoff). Time is a ManualClock; the
 * state goes through the local Appwrite server with one SDK client per process.
 */
import { CircuitBreaker, circuitBreakerTables } from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTables, startLocalWithTables } from './appwrite-local-helpers.ts';
import { callOnce, dependency, fleetOptions } from './circuit-breaker-helpers.ts';

let local: LocalTables;

beforeAll(async () => {
  local = await startLocalWithTables(circuitBreakerTables);
});

afterAll(async () => {
  await local?.stop();
});

describe('circuit breaker over the local Appwrite server: stale OPEN after a reset elsewhere', () => {
  it('the warm worker admits calls past its TTL, 20 at once sharing one state read', async () => {
    const clock = new ManualClock();
    const worker = new CircuitBreaker('stale-open', fleetOptions, {
      clock,
      store: local.store(),
      instanceId: 'job-worker',
    });
    const operator = new CircuitBreaker('stale-open', fleetOptions, {
      clock,
      store: local.store(),
      instanceId: 'create-recognition',
    });
    for (let i = 0; i < fleetOptions.minimumCalls!; i++) await callOnce(worker, dependency(clock, 'fail'));
    await worker.flush();
    expect(worker.status).toBe('OPEN');

    await operator.reset();
    expect(operator.status).toBe('CLOSED');
    await clock.advance(fleetOptions.cacheTtlMs!);

    const requests = local.server.stats.requests;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => callOnce(worker, dependency(clock, 'ok'))),
    );
    expect(results).toEqual(Array(20).fill('ran'));
    expect(local.server.stats.requests - requests).toBe(1); // one getRow of the shared state
    expect(worker.status).toBe('CLOSED');
    expect(worker.snapshot().counters).toMatchObject({
      rejections: { open: 0 },
      refreshesBeforeReject: { waited: 20, timedOut: 0 },
      storageRoundTrips: { callPath: 1 }, // the cold read only
    });
    await worker.flush();
  });
});
