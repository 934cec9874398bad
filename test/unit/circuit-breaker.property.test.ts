import fc from 'fast-check';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { CircuitBreaker, type CircuitBreakerOptions } from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { serverError } from '../circuit-breaker-helpers.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

function fleet(maxProbes: number, successesToClose: number, size: number) {
  const clock = new ManualClock();
  const store = new MemoryTableStore({ clock });
  const options: CircuitBreakerOptions = {
    window: { type: 'count', size: 4 },
    minimumCalls: 4,
    openDuration: { baseMs: 1_000, multiplier: 2, maxMs: 8_000 },
    halfOpen: { maxProbes, successesToClose, leaseMs: 60_000 },
    cacheTtlMs: 100,
  };
  const executions = Array.from(
    { length: size },
    (_, i) => new CircuitBreaker('prop', options, { clock, store, instanceId: `e${i}` }),
  );
  return { clock, executions };
}

async function openIt(b: CircuitBreaker) {
  for (let i = 0; i < 4; i++) await b.execute(() => Promise.reject(serverError())).catch(() => undefined);
  await b.flush();
  expect(b.status).toBe('OPEN');
}

describe('circuit breaker properties', () => {
  it('half-open never admits more probes than allowed, fleet-wide, however calls interleave', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 10 }),
        // Per execution: how many calls it makes at once, and how many ticks each call takes.
        fc.array(
          fc.record({ calls: fc.integer({ min: 1, max: 4 }), ticks: fc.integer({ min: 0, max: 5 }) }),
          {
            minLength: 10,
            maxLength: 10,
          },
        ),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        async (maxProbes, size, plans, outcomes) => {
          const { clock, executions } = fleet(maxProbes, maxProbes, size);
          await openIt(executions[0]!);
          await clock.advance(1_000);
          let started = 0;
          let inFlight = 0;
          let maxInFlight = 0;
          const dep = async () => {
            const ok = outcomes[started++ % outcomes.length];
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            for (let t = 0; t < (plans[started % plans.length]?.ticks ?? 0); t++) await tick();
            inFlight--;
            if (!ok) throw serverError();
            return 'ok';
          };
          await Promise.all(
            executions.map((b, i) =>
              Promise.all(
                Array.from({ length: plans[i]!.calls }, () => b.execute(dep).catch(() => undefined)),
              ),
            ),
          );
          const admitted = executions.reduce((n, b) => n + b.snapshot().counters.probes.admitted, 0);
          // Every dependency call in this burst was a probe: the breaker never closed with an open window
          // of failures unless the probes succeeded, after which calls are ordinary closed calls.
          const closedCalls = executions.reduce(
            (n, b) => n + b.snapshot().counters.calls - b.snapshot().counters.probes.admitted,
            0,
          );
          expect(admitted).toBeLessThanOrEqual(maxProbes);
          expect(admitted).toBeGreaterThanOrEqual(1);
          expect(started).toBe(admitted + closedCalls - 4);
          if (closedCalls - 4 === 0) expect(maxInFlight).toBeLessThanOrEqual(maxProbes);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('closes for every execution once the probes succeed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((max) => fc.tuple(fc.constant(max), fc.integer({ min: 1, max }))),
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 0, max: 3 }),
        async ([maxProbes, successesToClose], size, failedEpisodes) => {
          const { clock, executions } = fleet(maxProbes, successesToClose, size);
          await openIt(executions[0]!);
          // Some episodes first fail (each re-opens for longer) before the dependency recovers.
          let wait = 1_000;
          for (let e = 0; e < failedEpisodes; e++) {
            await clock.advance(wait);
            await Promise.all(
              executions.map((b) => b.execute(() => Promise.reject(serverError())).catch(() => undefined)),
            );
            expect(executions[0]!.toJSON()).toMatchObject({ state: 'OPEN' });
            wait = Math.min(wait * 2, 8_000);
          }
          await clock.advance(wait);
          // Healthy again: executions keep calling until each has seen the breaker close.
          for (let round = 0; round < successesToClose + 2; round++) {
            await Promise.all(executions.map((b) => b.execute(async () => 'ok').catch(() => undefined)));
            await clock.advance(100);
          }
          expect(executions.map((b) => b.status)).toEqual(executions.map(() => 'CLOSED'));
          const state = executions[0]!.toJSON();
          expect(state).toMatchObject({ state: 'CLOSED', version: failedEpisodes + 2 });
          const admitted = executions.reduce((n, b) => n + b.snapshot().counters.probes.admitted, 0);
          expect(admitted).toBeLessThanOrEqual(failedEpisodes * maxProbes + maxProbes);
        },
      ),
      { numRuns: 60 },
    );
  });
});
