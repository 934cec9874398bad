/**
 * The SLO gate's admission rules, table-driven: an exhausted error budget refuses a rollout only when the SLO
 * window holds enough events for the budget to be at least one bad event (⌈1 / (1 − objective)⌉, or the
 * gate's `minEvents`); below that the rollout is admitted with a low-traffic note in its first history entry.
 */
import { hasCode } from 'resilience-core';
import { createSloGate, type ExecutionInfo, minEventsFor, ROLLOUTS_TABLE } from 'resilience-core/deployment';
import { defineSlos, FUNCTION_SLOS, type SloSpecInput } from 'resilience-core/slo';
import { ManualClock, memoryExecutionCounter, simBundle } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fastPolicy, settle, simWorld } from '../deploy-sim.ts';

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
    createdAt: now - 1000 - i * 10,
  }));
}

const availability = (objective: number): SloSpecInput => ({
  id: 'app-availability',
  functionId: 'app',
  kind: 'availability',
  objective,
});

describe('minEventsFor', () => {
  it.each([
    [0.9995, 2000],
    [0.999, 1000],
    [0.99, 100],
    [0.95, 20],
    [0.9, 10],
    [0.5, 2],
    [0.3, 2],
  ])('objective %s → %s events', (objective, events) => {
    expect(minEventsFor(objective)).toBe(events);
    // At that many events the budget is at least one bad event; one fewer and it is not.
    expect(events * (1 - objective)).toBeGreaterThanOrEqual(1 - 1e-9);
    expect((events - 1) * (1 - objective)).toBeLessThan(1);
  });
});

describe('SloGate.admit', () => {
  type Row = {
    name: string;
    objective: number;
    total: number;
    failed: number;
    minEvents?: number;
    force?: boolean;
    expect: 'admit' | 'refuse' | RegExp;
  };
  const rows: Row[] = [
    { name: 'budget left', objective: 0.9995, total: 3000, failed: 1, expect: 'admit' },
    { name: 'no traffic at all', objective: 0.9995, total: 0, failed: 0, expect: 'admit' },
    {
      name: 'one failure of 100 at 99.95 %: low traffic',
      objective: 0.9995,
      total: 100,
      failed: 1,
      expect:
        /^admitted on low traffic despite an exhausted error budget \(app-availability -1900\.0% of budget left \(1\/100 bad over 30 d\), fewer than the 2000 events that refuse\)$/,
    },
    {
      name: '1,999 events at 99.95 %: still low traffic',
      objective: 0.9995,
      total: 1999,
      failed: 2,
      expect: /^admitted on low traffic .*fewer than the 2000 events/,
    },
    {
      name: '2,000 events, 2 failed at 99.95 %: refused',
      objective: 0.9995,
      total: 2000,
      failed: 2,
      expect: 'refuse',
    },
    {
      name: '2,000 events, 1 failed at 99.95 %: budget just spent',
      objective: 0.9995,
      total: 2000,
      failed: 1,
      expect: 'refuse',
    },
    { name: '10 events, 5 failed at 90 %: refused', objective: 0.9, total: 10, failed: 5, expect: 'refuse' },
    {
      name: '9 events, 5 failed at 90 %: low traffic',
      objective: 0.9,
      total: 9,
      failed: 5,
      expect: /fewer than the 10 events that refuse/,
    },
    {
      name: 'explicit minEvents lowers the bar',
      objective: 0.9995,
      total: 5,
      failed: 1,
      minEvents: 5,
      expect: 'refuse',
    },
    {
      name: 'explicit minEvents raises the bar',
      objective: 0.9,
      total: 20,
      failed: 10,
      minEvents: 21,
      expect: /fewer than the 21 events that refuse/,
    },
    {
      name: 'forced past a refusal',
      objective: 0.9,
      total: 10,
      failed: 5,
      force: true,
      expect:
        /^FORCED despite an exhausted error budget \(app-availability -400\.0% of budget left \(5\/10 bad over 30 d\)\)$/,
    },
  ];
  it.each(rows)('$name', async (row) => {
    const clock = new ManualClock();
    const history = records(clock.now(), row.total, row.failed);
    const counter = memoryExecutionCounter(() => history);
    const gate = createSloGate({
      slos: defineSlos([availability(row.objective)]),
      counter,
      clock,
      ...(row.minEvents !== undefined ? { minEvents: row.minEvents } : {}),
    });
    const result = await gate.admit('app', { force: row.force === true }).then(
      (note) => ({ note }),
      (error: unknown) => ({ error }),
    );
    if (row.expect === 'refuse') {
      expect('error' in result && hasCode(result.error, 'CONFLICT')).toBe(true);
      expect(String((result as { error: Error }).error.message)).toMatch(
        /^error budget exhausted: app-availability .*Rollouts of app are frozen/,
      );
    } else if (row.expect === 'admit') {
      expect(result).toEqual({ note: null });
    } else {
      expect('note' in result ? result.note : result.error).toMatch(row.expect);
    }
    // One evaluation: (1 + 1 SLO) counts × 5 windows.
    expect(counter.calls).toBe(10);
  });

  it('refuses when one SLO has the events and forces past it while noting the quiet one', async () => {
    const clock = new ManualClock();
    const history = records(clock.now(), 50, 10);
    const slos = defineSlos([
      { ...availability(0.9), id: 'app-availability-90' },
      { ...availability(0.9995), id: 'app-availability-9995' },
    ]);
    const gate = createSloGate({ slos, counter: memoryExecutionCounter(() => history), clock });
    const refused = await gate.admit('app', { force: false }).catch((e: unknown) => e);
    expect(hasCode(refused, 'CONFLICT')).toBe(true);
    expect((refused as Error).message).toMatch(/app-availability-90 /);
    expect((refused as Error).message).not.toMatch(/app-availability-9995/);
    const note = await gate.admit('app', { force: true });
    expect(note).toMatch(
      /^FORCED despite an exhausted error budget \(app-availability-90 .*\); admitted on low traffic despite an exhausted error budget \(app-availability-9995 .*fewer than the 2000 events/,
    );
  });

  it('costs nothing for a function without SLOs, and 15 counts for create-recognition', async () => {
    const clock = new ManualClock();
    const counter = memoryExecutionCounter(() => []);
    const gate = createSloGate({ slos: FUNCTION_SLOS, counter, clock });
    expect(await gate.admit('job-worker', { force: false })).toBeNull();
    expect(counter.calls).toBe(0);
    expect(await gate.admit('create-recognition', { force: false })).toBeNull();
    // (1 shared total + 2 SLOs' bad counts) × 5 windows, as evaluate-slo.ts states.
    expect(counter.calls).toBe(15);
  });

  it('rejects a minEvents that is not a whole number ≥ 0', () => {
    for (const minEvents of [-1, 1.5, Number.NaN]) {
      expect(() =>
        createSloGate({
          slos: [],
          counter: memoryExecutionCounter(() => []),
          clock: new ManualClock(),
          minEvents,
        }),
      ).toThrow(/minEvents must be a whole number/);
    }
  });
});

describe('a rollout admitted on low traffic', () => {
  it('starts, and its first history entry records the low-traffic admission', async () => {
    const w = simWorld();
    // 1 failed of 100 at 99.95 %: the budget (0.05 of an event) is spent 20 times over, on too few events.
    const history = records(w.clock.now(), 100, 1);
    const gate = createSloGate({
      slos: defineSlos([availability(0.9995)]),
      counter: memoryExecutionCounter(() => history),
      clock: w.clock,
    });
    const view = await settle(
      w.clock,
      w
        .orchestrator({ sloGate: gate })
        .start({ functionId: 'app', code: simBundle({ version: 'v2' }), policy: fastPolicy }),
    );
    expect(view.status).toBe('succeeded');
    const first = w.events[0]!;
    expect(first.status).toBe('pending');
    expect(first.level).toBe('warn');
    expect(first.message).toMatch(
      /; admitted on low traffic despite an exhausted error budget \(app-availability/,
    );
    const rows = (await w.store.list(ROLLOUTS_TABLE, {})).rows;
    expect(rows).toHaveLength(1);
  });
});
