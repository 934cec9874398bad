import { hasCode } from 'resilience-core';
import { createSloGate, type ExecutionInfo, ROLLOUTS_TABLE } from 'resilience-core/deployment';
import { defineSlos } from 'resilience-core/slo';
import { memoryExecutionCounter, simBundle } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fastPolicy, settle, simWorld } from '../deploy-sim.ts';

const SLOS = defineSlos([
  { id: 'app-availability', functionId: 'app', kind: 'availability', objective: 0.999 },
]);

function records(now: number, total: number, failed: number): ExecutionInfo[] {
  return Array.from({ length: total }, (_, i) => ({
    id: `x${i}`,
    functionId: 'app',
    deploymentId: 'blue',
    status: i < failed ? ('failed' as const) : ('completed' as const),
    trigger: 'http',
    requestMethod: 'POST',
    requestPath: '/',
    responseStatusCode: i < failed ? 500 : 200,
    responseBody: '',
    durationMs: 10,
    createdAt: now - 1000 - i * 1000,
  }));
}

describe('SLO gate of a rollout', () => {
  it('refuses a rollout of a function whose error budget is exhausted, writing nothing', async () => {
    const w = simWorld();
    // 2 failed of 1,000 at 99.9 %: twice the budget spent.
    const history = records(w.clock.now(), 1000, 2);
    const gate = createSloGate({
      slos: SLOS,
      counter: memoryExecutionCounter(() => history),
      clock: w.clock,
    });
    const o = w.orchestrator({ sloGate: gate });
    const error = await o
      .start({ functionId: 'app', code: simBundle({ version: 'v2' }), policy: fastPolicy })
      .catch((e: unknown) => e);
    expect(hasCode(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toMatch(
      /error budget exhausted: app-availability -100\.0% of budget left/,
    );
    expect((await w.store.list(ROLLOUTS_TABLE, {})).rows).toHaveLength(0);
    expect(w.platform.activeOf('app')).toBe(w.blue);
  });

  it('lets a forced rollout through and records that it was forced', async () => {
    const w = simWorld();
    const history = records(w.clock.now(), 1000, 2);
    const gate = createSloGate({
      slos: SLOS,
      counter: memoryExecutionCounter(() => history),
      clock: w.clock,
    });
    const view = await settle(
      w.clock,
      w
        .orchestrator({ sloGate: gate })
        .start(
          { functionId: 'app', code: simBundle({ version: 'v2' }), policy: fastPolicy },
          { forceSlo: true },
        ),
    );
    expect(view.status).toBe('succeeded');
    const first = w.events[0]!;
    expect(first.level).toBe('warn');
    expect(first.message).toMatch(/FORCED despite an exhausted error budget \(app-availability/);
  });

  it('admits a rollout while budget remains', async () => {
    const w = simWorld();
    const history = records(w.clock.now(), 1000, 0);
    const gate = createSloGate({
      slos: SLOS,
      counter: memoryExecutionCounter(() => history),
      clock: w.clock,
    });
    expect(await gate.admit('app', { force: false })).toBeNull();
    expect(await gate.admit('other', { force: false })).toBeNull();
  });

  it('fails the watch of a green that burns the budget faster than 14.4×, even under the policy error rate', async () => {
    const run = async (withGate: boolean) => {
      const w = simWorld();
      const gate = createSloGate({ slos: SLOS, counter: memoryExecutionCounter(() => []), clock: w.clock });
      const o = w.orchestrator({
        ...(withGate ? { sloGate: gate } : {}),
        onEvent: (e) => {
          w.events.push(e);
          if (e.status === 'watching' && e.message.startsWith('verified')) void w.platform.traffic('app', 20);
        },
      });
      // Users' requests fail on green; health probes pass. maxErrorRate 1 keeps the policy's own check quiet.
      const view = await settle(
        w.clock,
        o.start({
          functionId: 'app',
          code: simBundle({ version: 'v2', status: 500 }),
          policy: { ...fastPolicy, maxErrorRate: 1 },
        }),
      );
      return { view, w };
    };
    const without = await run(false);
    expect(without.view.status).toBe('succeeded');
    const gated = await run(true);
    expect(gated.view.status).toBe('rolled_back');
    expect(gated.view.reason).toMatch(
      /SLO app-availability: green burns the error budget [\d.]+× .*above the fast-burn threshold 14\.4×/,
    );
    expect(gated.w.platform.activeOf('app')).toBe(gated.w.blue);
  });
});
