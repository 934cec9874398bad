/**
 * The resilience suite's crash scenario, short form: a real worker process SIGKILLed while it holds leases;
 * one drain after the leases expire completes everything, nothing lost, nothing run twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type System, startSystem } from './system.ts';
import { runWorkerCrash } from './worker-crash.ts';

let system: System;
beforeAll(async () => {
  system = await startSystem();
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

describe('a worker killed while it holds leases', () => {
  it('one drain after the leases expire completes every job exactly once', async () => {
    const { figures, violations } = await runWorkerCrash(system, {
      jobs: 120,
      lanes: 6,
      batch: 10,
      completeFirst: 10,
      leaseMs: 1_500,
    });
    console.log(`worker crash: ${JSON.stringify(figures)}`);
    expect(violations).toEqual([]);
    // More leases than one claim batch (10): a recovery sweep of one batch per drain would leave some behind.
    expect(figures.leasesHeldAtKill).toBeGreaterThan(10);
    expect(figures).toMatchObject({ jobs: 120, lost: 0, ranTwice: 0 });
    expect(figures.recoveredInOneDrain).toBe(figures.leasesHeldAtKill);
    expect(figures.rescuerRuns + figures.completedBeforeKill).toBe(120);
  }, 120_000);
});
