import type { Clock } from '../ports/clock.ts';
import {
  ALERT_WINDOWS,
  BURN_RATE_RULES,
  type BurnRateRule,
  burnRate,
  errorBudgetRemaining,
  type FiringAlert,
  firingAlerts,
  type SloCounts,
  type SloWindow,
} from './burn-rate.ts';
import type { ExecutionCounter, ExecutionCountFilter } from './execution-counter.ts';
import type { SloSpec } from './slo-spec.ts';

/** One window of an SLO's status. */
export interface SloWindowStatus extends SloCounts {
  window: string;
  ms: number;
  /** bad / total (0 with no events). */
  badRatio: number;
  burnRate: number;
  /** False when a count hit the backend's cap even after splitting (the figures are then lower bounds). */
  exact: boolean;
}

/** An SLO as of one evaluation. */
export interface SloStatus {
  spec: SloSpec;
  at: number;
  /** The whole SLO window (`windowDays`). */
  slo: SloWindowStatus;
  /** The alert windows (5m, 30m, 1h, 6h). */
  windows: SloWindowStatus[];
  /** Fraction of the error budget left over the SLO window (≤ 0 = exhausted). */
  budgetRemaining: number;
  /** The rules that fire now. */
  alerts: FiringAlert[];
}

/** One evaluation of a set of SLOs. */
export interface SloEvaluation {
  at: number;
  statuses: SloStatus[];
  /** Count calls made (each one list call reading at most one row), all issued concurrently. */
  roundTrips: number;
}

/** Options of {@link evaluateSlos}. */
export interface EvaluateSlosOptions {
  counter: ExecutionCounter;
  clock: Clock;
  rules?: readonly BurnRateRule[];
  /**
   * How often a capped count is split in halves. Default 4: a count that stays capped costs at most 31 calls
   * (16 intervals at the deepest level) and is exact while no sixteenth of the window holds 5,000 executions
   * (Appwrite's count cap); beyond that the window's figures are lower bounds (`exact: false`).
   */
  maxSplitDepth?: number;
}

/**
 * Evaluates SLOs from execution records. Per function, the SLOs share their `total` counts: one evaluation
 * makes (1 + number of SLOs) counts per window × 5 windows (the SLO window and 5m, 30m, 1h, 6h), all at once
 * — 15 round trips, one row read each, for create-recognition's two SLOs while no window holds more than
 * 5,000 executions (a capped count is split, see `maxSplitDepth`).
 */
export async function evaluateSlos(
  specs: readonly SloSpec[],
  options: EvaluateSlosOptions,
): Promise<SloEvaluation> {
  const at = options.clock.now();
  const depth = options.maxSplitDepth ?? 4;
  const rules = options.rules ?? BURN_RATE_RULES;
  const totals = new Map<string, Promise<Counted>>();
  let roundTrips = 0;
  const count = (filter: Omit<ExecutionCountFilter, 'since' | 'until'>, w: SloWindow) =>
    countSplit(options.counter, { ...filter, since: at - w.ms, until: at + 1 }, depth).then((c) => {
      roundTrips += c.calls;
      return c;
    });
  const statuses = await Promise.all(
    specs.map(async (spec) => {
      const windows: SloWindow[] = [{ name: 'slo', ms: spec.windowDays * 86_400_000 }, ...ALERT_WINDOWS];
      const base = { functionId: spec.functionId, triggers: spec.triggers };
      const bad =
        spec.kind === 'availability'
          ? ({ kind: 'error' } as const)
          : ({ kind: 'slow', slowerThanMs: spec.thresholdMs! } as const);
      const shareKey = `${spec.functionId}|${[...spec.triggers].sort().join(',')}|${spec.windowDays}`;
      const statuses = await Promise.all(
        windows.map(async (w) => {
          const totalKey = `${shareKey}|${w.name}`;
          let total = totals.get(totalKey);
          if (!total) {
            total = count(base, w);
            totals.set(totalKey, total);
          }
          const [t, b] = await Promise.all([total, count({ ...base, bad }, w)]);
          const counts = { total: t.count, bad: Math.min(b.count, t.count) };
          return {
            window: w.name,
            ms: w.ms,
            ...counts,
            badRatio: counts.total ? counts.bad / counts.total : 0,
            burnRate: burnRate(counts, spec.objective),
            exact: t.exact && b.exact,
          } satisfies SloWindowStatus;
        }),
      );
      const slo = statuses[0]!;
      const alertWindows = statuses.slice(1);
      const rates = Object.fromEntries(alertWindows.map((s) => [s.window, s.burnRate]));
      return {
        spec,
        at,
        slo,
        windows: alertWindows,
        budgetRemaining: errorBudgetRemaining(slo, spec.objective),
        alerts: firingAlerts(rates, rules),
      } satisfies SloStatus;
    }),
  );
  return { at, statuses, roundTrips };
}

interface Counted {
  count: number;
  exact: boolean;
  calls: number;
}

/** Counts an interval; when the backend capped the count, splits the interval in halves (up to `depth`). */
async function countSplit(
  counter: ExecutionCounter,
  filter: ExecutionCountFilter,
  depth: number,
): Promise<Counted> {
  const c = await counter.count(filter);
  if (!c.capped) return { count: c.count, exact: true, calls: 1 };
  if (depth <= 0 || filter.until - filter.since < 2) return { count: c.count, exact: false, calls: 1 };
  const mid = Math.floor((filter.since + filter.until) / 2);
  const [a, b] = await Promise.all([
    countSplit(counter, { ...filter, until: mid }, depth - 1),
    countSplit(counter, { ...filter, since: mid }, depth - 1),
  ]);
  return { count: a.count + b.count, exact: a.exact && b.exact, calls: 1 + a.calls + b.calls };
}
