import { z } from 'zod';
import type { ExecutionInfo } from '../ports/functions-platform.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import type { RolloutPolicy } from './rollout-policy.ts';

/** What the watch has seen of green so far; stored with the rollout (JSON). */
export const watchSummarySchema = lazySchema(() =>
  z.object({
    /** Finished executions of green in the window (traffic and probes). */
    samples: z.number().int().min(0),
    /** Of those, how many failed (status `failed` or a response status >= 500). */
    errors: z.number().int().min(0),
    /** `errors / samples`, 0 with no samples. */
    errorRate: z.number().min(0).max(1),
    /**
     * 95th-percentile duration in ms of the HTTP executions (0 with none). Cron and event runs count as samples
     * and errors but not here: a drain runs until its queue is empty or its budget is spent, by design.
     */
    p95LatencyMs: z.number().min(0),
    /** Synthetic probes sent so far. */
    probes: z.number().int().min(0),
    /** Evaluations done so far. */
    evaluations: z.number().int().min(0),
  }),
);

/** See {@link watchSummarySchema}. */
export type WatchSummary = z.infer<typeof watchSummarySchema>;

/** The outcome of one evaluation. `inconclusive` = not enough samples yet. */
export type WatchVerdict =
  | { kind: 'healthy'; summary: WatchSummary }
  | { kind: 'failing'; summary: WatchSummary; reason: string }
  | { kind: 'inconclusive'; summary: WatchSummary };

/** True when an execution counts as an error for the watch. */
export function isErrorExecution(e: ExecutionInfo): boolean {
  return e.status === 'failed' || e.responseStatusCode >= 500;
}

/** True when an execution has finished (only finished ones are evidence). */
export function isFinishedExecution(e: ExecutionInfo): boolean {
  return e.status === 'completed' || e.status === 'failed';
}

/** True for executions whose duration is request latency (not a cron or event run, which lasts its budget). */
export function isRequestExecution(e: ExecutionInfo): boolean {
  return e.trigger !== 'schedule' && e.trigger !== 'event';
}

/**
 * Judges green from its finished executions. No verdict below `minSamples`; at or above it, fails when the
 * error rate (all executions) exceeds `maxErrorRate` or the p95 latency of HTTP executions exceeds
 * `maxP95LatencyMs`.
 */
export function evaluateWatch(
  executions: readonly ExecutionInfo[],
  policy: Pick<RolloutPolicy, 'minSamples' | 'maxErrorRate' | 'maxP95LatencyMs'>,
  counters: { probes: number; evaluations: number },
): WatchVerdict {
  const finished = executions.filter(isFinishedExecution);
  const errors = finished.filter(isErrorExecution).length;
  const samples = finished.length;
  const summary: WatchSummary = {
    samples,
    errors,
    errorRate: samples ? errors / samples : 0,
    p95LatencyMs: p95(finished.filter(isRequestExecution).map((e) => e.durationMs)),
    probes: counters.probes,
    evaluations: counters.evaluations,
  };
  if (samples < policy.minSamples) return { kind: 'inconclusive', summary };
  if (summary.errorRate > policy.maxErrorRate)
    return {
      kind: 'failing',
      summary,
      reason: `error rate ${pct(summary.errorRate)} (${errors}/${samples}) above ${pct(policy.maxErrorRate)}`,
    };
  if (summary.p95LatencyMs > policy.maxP95LatencyMs)
    return {
      kind: 'failing',
      summary,
      reason: `p95 latency ${Math.round(summary.p95LatencyMs)} ms above ${policy.maxP95LatencyMs} ms`,
    };
  return { kind: 'healthy', summary };
}

function p95(values: number[]): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
