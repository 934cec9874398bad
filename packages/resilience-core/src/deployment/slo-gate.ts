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
 *   One SLO evaluation of the function (15 count calls for create-recognition, see `evaluate-slo.ts`).
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
}

/** Builds the gate over declared SLOs and an execution counter. */
export function createSloGate(options: SloGateOptions): SloGate {
  const factor = options.fastBurnFactor ?? FAST_BURN_FACTOR;
  return {
    async admit(functionId, { force }) {
      const specs = options.slos.filter((s) => s.functionId === functionId);
      if (!specs.length) return null;
      const { statuses } = await evaluateSlos(specs, { counter: options.counter, clock: options.clock });
      const exhausted = statuses.filter((s) => s.budgetRemaining <= 0);
      if (!exhausted.length) return null;
      const what = exhausted.map(describeExhausted).join('; ');
      if (!force) {
        throw errors.conflict(
          `error budget exhausted: ${what}. Rollouts of ${functionId} are frozen until the budget recovers; ` +
            'force the rollout to ship a fix anyway',
          { functionId, slos: exhausted.map((s) => s.spec.id) },
        );
      }
      return `FORCED despite an exhausted error budget (${what})`;
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
