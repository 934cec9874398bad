import { describe, expect, it } from 'vitest';
import type { ExecutionInfo } from '../ports/functions-platform.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { memoryExecutionCounter } from '../testing/memory-execution-counter.ts';
import { BURN_RATE_RULES, burnRate, errorBudgetRemaining, firingAlerts } from './burn-rate.ts';
import { evaluateSlos } from './evaluate-slo.ts';
import { FUNCTION_SLOS } from './function-slos.ts';
import { memoryAlertLedger, notifierAlertSender, type SloAlert, sendSloAlerts } from './slo-alerts.ts';
import { defineSlos } from './slo-spec.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

function exec(at: number, opts: Partial<ExecutionInfo> = {}): ExecutionInfo {
  return {
    id: `e${at}-${Math.random()}`,
    functionId: 'create-recognition',
    deploymentId: 'd1',
    status: 'completed',
    trigger: 'http',
    requestMethod: 'POST',
    requestPath: '/recognitions',
    responseStatusCode: 201,
    responseBody: '',
    durationMs: 100,
    createdAt: at,
    ...opts,
  };
}

/** `n` executions spread evenly over [from, to), the first `bad` of every `every` failed. */
function traffic(from: number, to: number, n: number, badEvery = 0, opts: Partial<ExecutionInfo> = {}) {
  const out: ExecutionInfo[] = [];
  for (let i = 0; i < n; i++) {
    const at = from + Math.floor(((to - from) * i) / n);
    const bad = badEvery > 0 && i % badEvery === 0;
    out.push(exec(at, bad ? { status: 'failed', responseStatusCode: 500, ...opts } : opts));
  }
  return out;
}

describe('FUNCTION_SLOS', () => {
  it('is exactly what defineSlos makes of it (valid, every default spelled out)', () => {
    expect(defineSlos(FUNCTION_SLOS)).toEqual(FUNCTION_SLOS);
  });
});

describe('burn rates', () => {
  it.each([
    // bad, total, objective, burn rate
    [0, 0, 0.9995, 0],
    [0, 1000, 0.9995, 0],
    [1, 2000, 0.9995, 1],
    [72, 10_000, 0.9995, 14.4],
    [30, 10_000, 0.9995, 6],
    [5, 100, 0.95, 1],
    [100, 100, 0.9995, 2000],
  ])('%i bad of %i at %f burns %f× the budget', (bad, total, objective, expected) => {
    expect(burnRate({ bad, total }, objective)).toBeCloseTo(expected, 9);
  });

  it.each([
    [0, 0, 1],
    [0, 10_000, 1],
    [1, 10_000, 0.8],
    [5, 10_000, 0],
    [10, 10_000, -1],
  ])('%i bad of %i at 99.95%% leaves %f of the budget', (bad, total, expected) => {
    expect(errorBudgetRemaining({ bad, total }, 0.9995)).toBeCloseTo(expected, 9);
  });

  it.each([
    // 5m, 30m, 1h, 6h → rules that fire
    [{ '5m': 15, '30m': 0, '1h': 15, '6h': 0 }, ['fast']],
    [{ '5m': 14.4, '30m': 0, '1h': 20, '6h': 0 }, []], // not strictly above
    [{ '5m': 20, '30m': 20, '1h': 14, '6h': 3 }, []], // long window too slow for both
    [{ '5m': 0, '30m': 0, '1h': 100, '6h': 100 }, []], // already over: short windows reset
    [{ '5m': 1, '30m': 7, '1h': 7, '6h': 6.5 }, ['slow']],
    [{ '5m': 30, '30m': 30, '1h': 30, '6h': 30 }, ['fast', 'slow']],
    [{ '1h': 30 }, []], // a missing window never fires
  ])('burn rates %o fire %o', (rates, expected) => {
    expect(firingAlerts(rates).map((a) => a.rule)).toEqual(expected);
  });

  it('uses the workbook factors and windows', () => {
    expect(BURN_RATE_RULES.map((r) => [r.name, r.factor, r.long.name, r.short.name])).toEqual([
      ['fast', 14.4, '1h', '5m'],
      ['slow', 6, '6h', '30m'],
    ]);
  });
});

describe('SLO declarations', () => {
  it('declares create-recognition 99.95 % over 30 days and p95 under 1 s', () => {
    const cr = FUNCTION_SLOS.filter((s) => s.functionId === 'create-recognition');
    expect(cr.map((s) => [s.kind, s.objective, s.windowDays, s.thresholdMs])).toEqual([
      ['availability', 0.9995, 30, undefined],
      ['latency', 0.95, 30, 1000],
    ]);
  });

  it('refuses a latency SLO without a threshold and duplicate ids', () => {
    expect(() => defineSlos([{ id: 'x', functionId: 'f', kind: 'latency', objective: 0.9 }])).toThrow(
      /thresholdMs/,
    );
    const a = { id: 'x', functionId: 'f', kind: 'availability' as const, objective: 0.9 };
    expect(() => defineSlos([a, a])).toThrow(/duplicate/);
  });
});

describe('evaluateSlos', () => {
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  const now = clock.now();

  it('computes budget and burn per window from the records, in 15 round trips for two SLOs', async () => {
    const records = [
      // 30 days of healthy traffic: 20,000 requests, 4 errors (0.02 %: 40 % of the budget).
      ...traffic(now - 30 * 24 * HOUR + 1, now - 6 * HOUR, 20_000, 5000),
      // the last hour: 1,000 requests, 1 in 50 failed (2 % = 40× burn), and slow ones.
      ...traffic(now - HOUR + 1, now, 1000, 50),
      ...traffic(now - 10 * MIN, now, 100, 0, { durationMs: 1500 }),
      // records that never count: cron runs, unfinished, other functions, the future
      exec(now - MIN, { trigger: 'schedule', status: 'failed' }),
      exec(now - MIN, { status: 'processing' }),
      exec(now - MIN, { functionId: 'job-worker', status: 'failed' }),
      exec(now + MIN, { status: 'failed' }),
    ];
    const counter = memoryExecutionCounter(() => records);
    const evaluation = await evaluateSlos(FUNCTION_SLOS, { counter, clock });
    expect(evaluation.roundTrips).toBe(15);
    expect(counter.calls).toBe(15);
    const [availability, latency] = evaluation.statuses;
    expect(availability!.slo.total).toBe(21_100);
    expect(availability!.slo.bad).toBe(24);
    expect(availability!.budgetRemaining).toBeCloseTo(1 - 24 / (21_100 * 0.0005), 9);
    const hour = availability!.windows.find((w) => w.window === '1h')!;
    expect(hour).toMatchObject({ total: 1100, bad: 20 });
    expect(hour.burnRate).toBeCloseTo(20 / 1100 / 0.0005, 9);
    expect(availability!.alerts.map((a) => a.rule)).toEqual(['fast', 'slow']);
    // 100 of the last 5 min's requests are slower than 1 s
    const fiveMin = latency!.windows.find((w) => w.window === '5m')!;
    expect(fiveMin.bad).toBe(50);
    expect(fiveMin.total).toBeGreaterThan(50);
    expect(latency!.slo.bad).toBe(100);
  });

  it('splits a capped count into halves until it is exact', async () => {
    const records = traffic(now - 50 * MIN, now, 12_000, 100);
    const counter = memoryExecutionCounter(() => records, { cap: 5000 });
    const [only] = defineSlos([
      { id: 'a', functionId: 'create-recognition', kind: 'availability', objective: 0.999 },
    ]);
    const evaluation = await evaluateSlos([only!], { counter, clock });
    const hour = evaluation.statuses[0]!.windows.find((w) => w.window === '1h')!;
    expect(hour).toMatchObject({ total: 12_000, bad: 120, exact: true });
    expect(evaluation.roundTrips).toBeGreaterThan(10);
    const shallow = await evaluateSlos([only!], { counter, clock, maxSplitDepth: 0 });
    expect(shallow.statuses[0]!.windows.find((w) => w.window === '1h')).toMatchObject({
      total: 5000,
      exact: false,
    });
  });
});

describe('sendSloAlerts', () => {
  it('sends each firing alert once per alert window, and again in the next window', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    let records = traffic(clock.now() - HOUR + 1, clock.now(), 200, 2);
    const counter = memoryExecutionCounter(() => records);
    const sent: SloAlert[] = [];
    const deps = { sender: { send: async (a: SloAlert) => void sent.push(a) }, ledger: memoryAlertLedger() };
    const slos = FUNCTION_SLOS.filter((s) => s.kind === 'availability');
    const first = await sendSloAlerts((await evaluateSlos(slos, { counter, clock })).statuses, deps);
    expect(first.map((o) => [o.key, o.outcome])).toEqual([
      [`slo:create-recognition-availability:fast:${Date.parse('2026-03-01T12:00:00Z')}`, 'sent'],
      [`slo:create-recognition-availability:slow:${Date.parse('2026-03-01T12:00:00Z')}`, 'sent'],
    ]);
    clock.advance(10 * MIN);
    records = [...records, ...traffic(clock.now() - 10 * MIN, clock.now(), 100, 2)];
    const again = await sendSloAlerts((await evaluateSlos(slos, { counter, clock })).statuses, deps);
    expect(again.map((o) => o.outcome)).toEqual(['duplicate', 'duplicate']);
    clock.advance(HOUR);
    records = [...records, ...traffic(clock.now() - HOUR, clock.now(), 400, 2)];
    const next = await sendSloAlerts((await evaluateSlos(slos, { counter, clock })).statuses, deps);
    // 13:10: a new 1 h window (sent again), the same 6 h window (not)
    expect(next.map((o) => o.outcome)).toEqual(['sent', 'duplicate']);
    expect(sent.filter((a) => a.rule === 'fast')).toHaveLength(2);
    expect(sent[0]!.title).toMatch(/create-recognition-availability: fast burn/);
  });

  it('gives the claim back when the send fails, so the next evaluation retries', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    const records = traffic(clock.now() - HOUR + 1, clock.now(), 200, 2);
    const counter = memoryExecutionCounter(() => records);
    const slos = FUNCTION_SLOS.filter((s) => s.kind === 'availability');
    const ledger = memoryAlertLedger();
    let fail = true;
    const sender = {
      send: async () => {
        if (fail) throw new Error('slack down');
      },
    };
    const statuses = (await evaluateSlos(slos, { counter, clock })).statuses;
    expect((await sendSloAlerts(statuses, { sender, ledger }))[0]).toMatchObject({ outcome: 'failed' });
    fail = false;
    expect((await sendSloAlerts(statuses, { sender, ledger }))[0]).toMatchObject({ outcome: 'sent' });
  });

  it('goes through the notifier with the alert key as idempotency key, failing when every channel refused', async () => {
    const calls: unknown[][] = [];
    let status: 'sent' | 'failed' = 'sent';
    const notifier = {
      notify: async (...args: unknown[]) => {
        calls.push(args);
        return [{ channel: 'slack' as const, status }];
      },
    };
    const sender = notifierAlertSender(notifier);
    const alert: SloAlert = {
      sloId: 's',
      functionId: 'f',
      rule: 'fast',
      key: 'slo:s:fast:0',
      title: 't',
      text: 'x',
    };
    await sender.send(alert);
    expect(calls[0]).toEqual(['ops', { title: 't', text: 'x' }, { idempotencyKey: 'slo:s:fast:0' }]);
    status = 'failed';
    await expect(sender.send(alert)).rejects.toThrow(/refused/);
  });
});
