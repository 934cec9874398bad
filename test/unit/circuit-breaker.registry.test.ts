import { hasCode } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  CIRCUIT_BREAKER_BUCKETS_TABLE,
  CircuitBreaker,
  callWithCircuitBreaker,
  circuitBreakerPresets,
  circuitBreakers,
  configureCircuitBreakers,
  pruneCircuitBreakerRows,
  resolveCircuitBreakerOptions,
} from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { serverError } from '../circuit-breaker-helpers.ts';

describe('presets and the seed API', () => {
  it('every preset is a valid configuration', () => {
    for (const [name, preset] of Object.entries(circuitBreakerPresets)) {
      const o = resolveCircuitBreakerOptions(preset);
      expect(o.halfOpen.successesToClose, name).toBeLessThanOrEqual(o.halfOpen.maxProbes);
      expect(o.callTimeoutMs, name).toBeDefined();
      expect(o.slowCallDurationMs, name).toBeDefined();
    }
  });

  it('callWithCircuitBreaker runs through the named preset breaker, shared once configured', async () => {
    const clock = new ManualClock();
    const store = new MemoryTableStore({ clock });
    configureCircuitBreakers({ store, clock });
    expect(await callWithCircuitBreaker('slack', async () => 'posted')).toBe('posted');
    // slack: 5 calls minimum, 50% failures.
    for (let i = 0; i < 5; i++) {
      expect(await callWithCircuitBreaker('slack', () => Promise.reject(serverError()), 'fallback')).toBe(
        'fallback',
      );
    }
    await circuitBreakers().flush();
    const error = await callWithCircuitBreaker('slack', async () => 'posted').catch((e: unknown) => e);
    expect(hasCode(error, 'CIRCUIT_OPEN')).toBe(true);
    expect(circuitBreakers().get('slack').options.callTimeoutMs).toBe(5_000);
    // Another execution (a new registry over the same table) sees it open too.
    const other = configureCircuitBreakers({ store, clock });
    expect(
      await other.call(
        'slack',
        async () => 'posted',
        (e) => (hasCode(e, 'CIRCUIT_OPEN') ? 'deferred' : 'x'),
      ),
    ).toBe('deferred');
    // Names that are not presets get the registry defaults.
    expect(other.get('billing-api').options.window).toEqual({ type: 'count', size: 20, bucketMs: 1000 });
  });

  it('hydrates a per-process breaker from toJSON()', async () => {
    const clock = new ManualClock();
    const a = new CircuitBreaker('dep', { minimumCalls: 2, window: { type: 'count', size: 2 } }, { clock });
    for (let i = 0; i < 2; i++) await a.execute(() => Promise.reject(serverError())).catch(() => undefined);
    const b = new CircuitBreaker('dep', {}, { clock, initialState: JSON.parse(JSON.stringify(a.toJSON())) });
    expect(b.status).toBe('OPEN');
  });

  it('prunes outcome buckets and probe leases older than a cutoff', async () => {
    const clock = new ManualClock();
    const store = new MemoryTableStore({ clock });
    const b = new CircuitBreaker(
      'dep',
      { window: { type: 'time', durationMs: 10_000, bucketMs: 1_000 } },
      { clock, store },
    );
    await b.execute(async () => 1);
    await clock.advance(5_000);
    await b.execute(async () => 1);
    await b.flush();
    await clock.advance(1_000);
    await b.execute(async () => 1);
    await b.flush();
    // One counter per second that saw calls: t0, t0+5s, t0+6s.
    expect((await store.list(CIRCUIT_BREAKER_BUCKETS_TABLE)).rows).toHaveLength(3);
    expect(await pruneCircuitBreakerRows(store, clock.now() - 500)).toBe(2);
    expect((await store.list(CIRCUIT_BREAKER_BUCKETS_TABLE)).rows).toHaveLength(1);
  });
});
