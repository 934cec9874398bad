/** The resilience suite's two-tenant scenario, short form: no cross-org read, write or existence leak. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leakedSecrets, type System, startSystem } from './system.ts';
import { runTenantProbes } from './tenants.ts';

let system: System;
beforeAll(async () => {
  system = await startSystem();
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

describe('two tenants probing each other', () => {
  it('every probe is refused, answers like a missing id, carries nothing of B, changes nothing of B', async () => {
    const { figures, violations } = await runTenantProbes(system, { rounds: 1 });
    console.log(`tenants: ${JSON.stringify(figures)}`);
    expect(violations).toEqual([]);
    expect(figures.probes).toBeGreaterThan(50);
    expect(figures).toMatchObject({ accepted: 0, oracles: 0, leaks: 0, crossWrites: 0, controls: 5 });
    expect(leakedSecrets(system.logLines, system.secrets)).toEqual([]);
  }, 120_000);
});
