import { errors } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { ExecutionInfo } from '../ports/functions-platform.ts';
import { burnRate, FAST_BURN_FACTOR } from '../slo/burn-rate.ts';
import { evaluateSlos, type SloStatus } from '../slo/evaluate-slo.ts';
import type { ExecutionCounter } from '../slo/execution-counter.ts';
import type { SloSpec } from '../slo/slo-spec.ts';
import { isErrorExecution, isFinishedExecution, isRequestExecution } from './watch-analysis.ts';

/**
 * The SLO gate of a rollout (the orchestrator's `sloGate` option):
 * - `admit`, before anything is written: a function with an SLO whose error budget is exhausted (remaining ≤ 0
 *   over its window) is refused with `CONFLICT` — the budget says stop shipping and fix reliability — unless
 *   the rollout is forced, which the rollout's first history entry then records (`admit` returns that note).
 *   One SLO evaluation of the function (15 count calls for create-recognition, see `evaluate-slo.ts`; none for
 *   a function without SLOs).
 * - The low-traffic rule of `admit`: a budget is `(1 − objective) × events`, so with few events a single failure
 *   spends all of it (99.95 % over 100 executions: a budget of 0.05 of a bad event) and would freeze every
 *   rollout of a quiet function, fixes included. An exhausted budget refuses only when the SLO window holds at
 *   least `minEventsFor(spec)` events — by default the fewest for which the budget is one whole bad event,
 *   `⌈1 / (1 − objective)⌉` (2,000 for 99.95 %, 20 for 95 %), or the gate's explicit `minEvents` — so that what
 *   refuses is a rate the data can show, not one unlucky request. Below that the rollout is admitted and the
 *   first history entry records why (`admitted on low traffic: …`), as it records a forced admission.
 * - `watch`, at each watch evaluation, from the green executions the watch already read (no extra round
 *   trip): fails the rollout when green burns an SLO's budget faster than the fast-burn factor (14.4×) over
 *   at least `minSamples` finished executions.
 */
export interface SloGate {
  admit(functionId: string, options: { force: boolean }): Promise<string | null>;
  watch(functionId: string, executions: readonly ExecutionInfo[], minSamples: number): string | null;
}

/** Options of {@link createSloGate}. */
export interface SloGateOptions {
  slos: readonly SloSpec[];
  counter: ExecutionCounter;
  clock: Clock;
  /** Burn rate above which the watch fails. Default 14.4 (the fast-burn rule). */
  fastBurnFactor?: number;
  /**
   * Events an SLO window must hold before an exhausted budget refuses a rollout (the low-traffic rule).
   * Default per SLO: {@link minEventsFor}, the fewest events whose budget is one whole bad event.
   */
  minEvents?: number;
}

/**
 * The fewest events in an SLO window for which its error budget is at least one bad event:
 * `⌈1 / (1 − objective)⌉` (2,000 for 0.9995, 1,000 for 0.999, 10 for 0.9). The tolerance absorbs the binary
 * rounding of `1 − objective` (1 / (1 − 0.9995) is 2000.0000000002 in floating point).
 */
export function minEventsFor(objective: number): number {
  return Math.max(1, Math.ceil(1 / (1 - objective) - 1e-6));
}

/** Builds the gate over declared SLOs and an execution counter. */
export function createSloGate(options: SloGateOptions): SloGate {
  const factor = options.fastBurnFactor ?? FAST_BURN_FACTOR;
  if (options.minEvents !== undefined && !(Number.isInteger(options.minEvents) && options.minEvents >= 0)) {
    throw errors.invalidInput(`minEvents must be a whole number ≥ 0, got ${options.minEvents}`, [
      { path: 'minEvents', message: 'not a whole number ≥ 0' },
    ]);
  }
  return {
    async admit(functionId, { force }) {
      const specs = options.slos.filter((s) => s.functionId === functionId);
      if (!specs.length) return null;
      const { statuses } = await evaluateSlos(specs, { counter: options.counter, clock: options.clock });
      const exhausted = statuses.filter((s) => s.budgetRemaining <= 0);
      if (!exhausted.length) return null;
      const needed = (s: SloStatus) => options.minEvents ?? minEventsFor(s.spec.objective);
      const refusing = exhausted.filter((s) => s.slo.total >= needed(s));
      const quiet = exhausted.filter((s) => s.slo.total < needed(s));
      const notes: string[] = [];
      if (refusing.length) {
        const what = refusing.map(describeExhausted).join('; ');
        if (!force) {
          throw errors.conflict(
            `error budget exhausted: ${what}. Rollouts of ${functionId} are frozen until the budget recovers; ` +
              'force the rollout to ship a fix anyway',
            { functionId, slos: refusing.map((s) => s.spec.id) },
          );
        }
        notes.push(`FORCED despite an exhausted error budget (${what})`);
      }
      if (quiet.length) {
        const what = quiet
          .map((s) => `${describeExhausted(s)}, fewer than the ${needed(s)} events that refuse`)
          .join('; ');
        notes.push(`admitted on low traffic despite an exhausted error budget (${what})`);
      }
      return notes.join('; ');
    },
    watch(functionId, executions, minSamples) {
      const requests = executions.filter((e) => isFinishedExecution(e) && isRequestExecution(e));
      if (requests.length < Math.max(1, minSamples)) return null;
      for (const spec of options.slos.filter((s) => s.functionId === functionId)) {
        const bad = requests.filter((e) =>
          spec.kind === 'availability' ? isErrorExecution(e) : e.durationMs > spec.thresholdMs!,
        ).length;
        const rate = burnRate({ total: requests.length, bad }, spec.objective);
        if (rate > factor) {
          return (
            `SLO ${spec.id}: green burns the error budget ${rate.toFixed(1)}× (${bad}/${requests.length} ` +
            `${spec.kind === 'availability' ? 'errors' : `slower than ${spec.thresholdMs} ms`}), above the ` +
            `fast-burn threshold ${factor}×`
          );
        }
      }
      return null;
    },
  };
}

function describeExhausted(s: SloStatus): string {
  return `${s.spec.id} ${(s.budgetRemaining * 100).toFixed(1)}% of budget left (${s.slo.bad}/${s.slo.total} bad over ${s.spec.windowDays} d)`;
}
