/**
 * The resilience suite's fuzz scenario, short form (`npm run chaos` runs the long one): every route of every
 * function, no 5xx, a 400 always names the field, a rejected request writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz.ts';
import { leakedSecrets, type System, startSystem } from './system.ts';

let system: System;
beforeAll(async () => {
  system = await startSystem();
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

describe('fuzzing every route of every function', () => {
  it('no 5xx, 400s name the field, rejected requests write nothing, no secret in any log', async () => {
    const { figures, violations } = await runFuzz(system, { perRoute: 6, seed: 11 });
    console.log(`fuzz: ${JSON.stringify(figures)}`);
    expect(violations.slice(0, 20)).toEqual([]);
    expect(figures.routes).toBeGreaterThanOrEqual(30);
    expect(figures.requests).toBeGreaterThan(figures.routes * 6);
    expect(figures.serverErrors).toBe(0);
    expect(figures.writesByRejected).toBe(0);
    expect(figures.rowChecks).toBeGreaterThan(0);
    expect(leakedSecrets(system.logLines, system.secrets)).toEqual([]);
    expect(system.logLines.length).toBeGreaterThan(figures.requests);
  }, 120_000);
});
