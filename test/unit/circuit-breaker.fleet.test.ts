import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fleetOptions, runFleetScenario } from '../circuit-breaker-helpers.ts';

describe('20 concurrent executions sharing one memory table', () => {
  it('open for all of them within the configured volume, then recover through exactly one probe', async () => {
    const clock = new ManualClock();
    const store = new MemoryTableStore({ clock });
    const report = await runFleetScenario(store, clock, () => new Promise((r) => setImmediate(r)));
    console.log('fleet (memory):', JSON.stringify(report));
    // The window needs minimumCalls; each of the 20 executions may have one more call in flight when it trips.
    expect(report.failingCalls).toBeGreaterThanOrEqual(fleetOptions.minimumCalls!);
    expect(report.failingCalls).toBeLessThanOrEqual(fleetOptions.minimumCalls! + 20);
    expect(new Set(report.statusesAfterFailures)).toEqual(new Set(['OPEN']));
    expect(report.probesAdmitted).toBe(1);
    expect(report.rejectionsWhileHalfOpen.every((r) => r === 'half-open-full')).toBe(true);
    expect(new Set(report.statusesAfterRecovery)).toEqual(new Set(['CLOSED']));
    expect(report.steadyStateCallPathRoundTrips).toEqual(Array(20).fill(0));
  });
});
