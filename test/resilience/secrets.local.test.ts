/** The resilience suite's secrets scenario: no execution's stored logs carry a key, a JWT or a secret variable. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSecretScan } from './secrets.ts';
import { type System, startSystem } from './system.ts';

let system: System;
beforeAll(async () => {
  system = await startSystem();
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

describe('secrets in execution logs', () => {
  it("no execution's logs or errors carry the API key, a dynamic key, a JWT or a secret variable", async () => {
    const { figures, violations } = await runSecretScan(system, { rounds: 1 });
    console.log(`secrets: ${JSON.stringify(figures)}`);
    expect(violations).toEqual([]);
    expect(figures.executions).toBeGreaterThanOrEqual(25);
    expect(figures.logLines).toBeGreaterThan(figures.executions);
    // The control function that prints its secrets is caught: the scan can fail.
    expect(figures.controlDetections).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
