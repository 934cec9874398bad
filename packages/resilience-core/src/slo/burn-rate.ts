/**
 * Burn rates and multi-window, multi-burn-rate alerting as in Google's SRE workbook, chapter "Alerting on SLOs"
 * (§ 6): an alert fires when BOTH its long and its short window burn faster than its factor — the long window
 * proves the budget is really being spent, the short one that it still is (so the alert resets soon after a
 * fix). Pure functions; the counts come from `evaluate-slo.ts`.
 */

/** A named lookback, ms. */
export interface SloWindow {
  /** `5m`, `30m`, `1h`, `6h`, or `slo` for the whole SLO window. */
  name: string;
  ms: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** One alert rule: fires when burn(long) > factor and burn(short) > factor. */
export interface BurnRateRule {
  /** `fast` (page) or `slow` (page, later). */
  name: 'fast' | 'slow';
  factor: number;
  long: SloWindow;
  short: SloWindow;
  /** Share of a 30-day budget one long window at `factor` spends (for the message). */
  budgetSpent: number;
}

/**
 * The workbook's two paging rules for a 30-day SLO: 14.4× over 1 h and 5 m (2 % of the budget in an hour),
 * 6× over 6 h and 30 m (5 % in six hours).
 */
export const BURN_RATE_RULES: readonly BurnRateRule[] = [
  {
    name: 'fast',
    factor: 14.4,
    long: { name: '1h', ms: HOUR },
    short: { name: '5m', ms: 5 * MINUTE },
    budgetSpent: 0.02,
  },
  {
    name: 'slow',
    factor: 6,
    long: { name: '6h', ms: 6 * HOUR },
    short: { name: '30m', ms: 30 * MINUTE },
    budgetSpent: 0.05,
  },
];

/** The short windows the rules need, shortest first. */
export const ALERT_WINDOWS: readonly SloWindow[] = [
  { name: '5m', ms: 5 * MINUTE },
  { name: '30m', ms: 30 * MINUTE },
  { name: '1h', ms: HOUR },
  { name: '6h', ms: 6 * HOUR },
];

/** Good and bad events in a window. */
export interface SloCounts {
  total: number;
  bad: number;
}

/**
 * How fast a window spends the budget: its bad fraction over the budget fraction (1 = exactly the whole
 * budget over the SLO window). 0 with no events: no traffic spends nothing.
 */
export function burnRate(counts: SloCounts, objective: number): number {
  if (counts.total <= 0) return 0;
  return counts.bad / counts.total / (1 - objective);
}

/**
 * Error budget left over the SLO window, as a fraction of the budget: 1 untouched, 0 spent, negative when
 * overspent. 1 with no events.
 */
export function errorBudgetRemaining(counts: SloCounts, objective: number): number {
  if (counts.total <= 0) return 1;
  const allowed = counts.total * (1 - objective);
  return 1 - counts.bad / allowed;
}

/** A rule that fires, with the burn rates that made it fire. */
export interface FiringAlert {
  rule: BurnRateRule['name'];
  factor: number;
  longWindow: string;
  shortWindow: string;
  longBurnRate: number;
  shortBurnRate: number;
}

/** The rules that fire for the given burn rates by window name (a missing window never fires). */
export function firingAlerts(
  burnRates: Readonly<Record<string, number>>,
  rules: readonly BurnRateRule[] = BURN_RATE_RULES,
): FiringAlert[] {
  return rules.flatMap((r) => {
    const long = burnRates[r.long.name];
    const short = burnRates[r.short.name];
    if (long === undefined || short === undefined) return [];
    if (!(long > r.factor && short > r.factor)) return [];
    return [
      {
        rule: r.name,
        factor: r.factor,
        longWindow: r.long.name,
        shortWindow: r.short.name,
        longBurnRate: long,
        shortBurnRate: short,
      },
    ];
  });
}

/** The fast-burn factor (the watch fails a rollout above it). */
export const FAST_BURN_FACTOR = BURN_RATE_RULES[0]!.factor;
