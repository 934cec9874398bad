/**
 * The fleet scenario against the local Appwrite server: 20 executions — separate breaker instances, each with
 * its own SDK client, like cold processes — share the `circuit-breakers` tables through real HTTP.
 */
import type { TableStore } from 'resilience-core';
import { CIRCUIT_BREAKERS_TABLE, circuitBreakerTables } from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTables, startLocalWithTables } from './appwrite-local-helpers.ts';
import { fleetOptions, runFleetScenario } from './circuit-breaker-helpers.ts';

let local: LocalTables;

beforeAll(async () => {
  local = await startLocalWithTables(circuitBreakerTables);
});

afterAll(async () => {
  await local?.stop();
});

describe('circuit breaker over the local Appwrite server', () => {
  it('20 concurrent executions: opens for all within the configured volume; recovery sends exactly one probe and all close', async () => {
    const clock = new ManualClock();
    // Each execution gets its own client: route every breaker's calls through a per-instance store.
    const stores = Array.from({ length: 20 }, () => local.store());
    let next = 0;
    const store: TableStore = new Proxy({} as TableStore, {
      get: (_t, method: keyof TableStore) => {
        const s = stores[next++ % stores.length]!;
        return (s[method] as (...a: unknown[]) => unknown).bind(s);
      },
    });
    const requestsBefore = local.server.stats.requests;
    const report = await runFleetScenario(
      store,
      clock,
      () => new Promise((r) => setTimeout(r, 2)),
      'fleet-local',
    );
    console.log(
      'fleet (appwrite-local):',
      JSON.stringify({ ...report, requests: local.server.stats.requests - requestsBefore }),
    );
    expect(report.failingCalls).toBeGreaterThanOrEqual(fleetOptions.minimumCalls!);
    expect(report.failingCalls).toBeLessThanOrEqual(fleetOptions.minimumCalls! + 20);
    expect(new Set(report.statusesAfterFailures)).toEqual(new Set(['OPEN']));
    // Exactly one probe; executions arriving after it closed the breaker call normally.
    expect(report.probesAdmitted).toBe(1);
    expect(report.rejectionsWhileHalfOpen.every((r) => r === 'half-open-full')).toBe(true);
    expect(report.recoveryCalls).toBe(20 - report.rejectionsWhileHalfOpen.length);
    expect(new Set(report.statusesAfterRecovery)).toEqual(new Set(['CLOSED']));
    expect(report.steadyStateCallPathRoundTrips).toEqual(Array(20).fill(0));
    const row = await local.store().get(CIRCUIT_BREAKERS_TABLE, 'cb.fleet-local');
    expect(row).toMatchObject({ name: 'fleet-local', state: 'CLOSED', version: 2 });
  });
});
