import fc from 'fast-check';
import { hasCode } from 'resilience-core';
import type { RolloutView } from 'resilience-core/deployment';
import { simBundle } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fastPolicy, flush, settle, simWorld } from '../deploy-sim.ts';

/**
 * Invariants of the rollout state machine under any version behaviour, any options, and an orchestrator
 * killed at any platform call (before or after the call took effect) and then resumed by a new run.
 */
describe('rollout invariants (property)', () => {
  it('ends terminal, with the right deployment active, never switching a broken build or health', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          // Weighted towards good versions, so the success path is exercised under kills too.
          buildOk: fc.constantFrom(true, true, true, false),
          healthy: fc.constantFrom(true, true, true, false),
          failOnLive: fc.constantFrom(false, false, false, true),
          slow: fc.constantFrom(false, false, false, true),
          skipHealthCheck: fc.boolean(),
          autoRollback: fc.boolean(),
          killAt: fc.option(fc.nat(40), { nil: undefined }),
          killAfterEffect: fc.boolean(),
        }),
        async (c) => {
          const w = simWorld();
          let calls = 0;
          if (c.killAt !== undefined) {
            w.platform.interceptor = async (_method, _args, proceed) => {
              if (calls++ !== c.killAt) return proceed();
              if (c.killAfterEffect) await proceed();
              return new Promise(() => {}); // the run dies here
            };
          }
          const code = simBundle({
            buildOk: c.buildOk,
            healthStatus: c.healthy ? 200 : 503,
            failOnLive: c.failOnLive,
            latencyMs: c.slow ? 9_000 : 20,
          });
          const input = {
            functionId: 'app',
            code,
            skipHealthCheck: c.skipHealthCheck,
            autoRollback: c.autoRollback,
            policy: { ...fastPolicy, maxP95LatencyMs: 5_000 },
          };
          const first = w.orchestrator().start(input);
          let view: RolloutView | null = null;
          try {
            view = await settle(w.clock, first, 10 * 60_000);
          } catch (error) {
            if (!String(error).includes('did not settle')) throw error;
          }
          if (view === null) {
            // Killed: the next run, after the dead run's lease, resumes (with the code, as `npm run rollout` would).
            w.platform.interceptor = null;
            await w.clock.advance(25_000);
            await flush();
            const resumed = await settle(w.clock, w.orchestrator().resume('app', { code })).catch(
              (e: unknown) => e,
            );
            if (hasCode(resumed, 'NOT_FOUND')) {
              // Died before the rollout was recorded: nothing may have changed.
              expect(w.platform.activeOf('app')).toBe(w.blue);
              return;
            }
            if (resumed instanceof Error) throw resumed;
            view = resumed as RolloutView;
          }
          expect(view.done).toBe(true);
          const active = w.platform.activeOf('app');
          const green = view.green.deploymentId;
          if (view.status === 'succeeded') {
            expect(active).toBe(green);
            expect(c.buildOk).toBe(true);
          }
          if (view.status === 'rolled_back') expect(active).toBe(w.blue);
          if (view.status === 'failed' && !view.green.active) expect(active).toBe(w.blue);
          if (!c.buildOk) expect(active).toBe(w.blue);
          if (!c.healthy && !c.skipHealthCheck) expect(active).toBe(w.blue);
          // A good version succeeds, killed or not (the next run converges).
          if (c.buildOk && c.healthy && !c.failOnLive && !c.slow) {
            expect(view.status).toBe('succeeded');
          }
          if ((c.failOnLive || c.slow) && (c.healthy || c.skipHealthCheck) && c.buildOk && c.autoRollback) {
            expect(['rolled_back', 'failed']).toContain(view.status);
            expect(active).toBe(w.blue);
          }
          expect((await w.orchestrator().history('app')).rollouts).toHaveLength(1);
        },
      ),
      { numRuns: 80 },
    );
  }, 120_000);
});
