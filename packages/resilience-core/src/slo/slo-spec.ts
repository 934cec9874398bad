import { z } from 'zod';
import { ID_PATTERN } from '../ids.ts';
import { lazySchema } from '../schema/lazy-schema.ts';

/**
 * A service-level objective over one function's execution records.
 *
 * - `availability`: good = a finished execution answered below 500 (Appwrite records `status: failed` exactly
 *   when the response status is ≥ 500, ../shared/appwrite-platform.md §F5), bad = `failed`.
 * - `latency`: good = a finished execution that took at most `thresholdMs`; "p95 < 1 s" is the objective 0.95
 *   with `thresholdMs` 1,000 (at most 5 % of requests slower than a second).
 *
 * Only executions of the listed `triggers` count (default `http`: cron and event runs last their budget by
 * design and are nobody's request).
 */
export const sloSpecSchema = lazySchema(() =>
  z
    .object({
      /** Stable id, e.g. `create-recognition-availability` (metric label `slo`). */
      id: z.string().regex(ID_PATTERN),
      /** The function whose execution records are the SLI. */
      functionId: z.string().regex(ID_PATTERN),
      kind: z.enum(['availability', 'latency']),
      /** Target fraction of good events in (0, 1), e.g. 0.9995. */
      objective: z.number().gt(0).lt(1),
      /** The SLO window (error budget period), days. Default 30. */
      windowDays: z.number().int().min(1).max(90).default(30),
      /** Latency SLOs: the slowest good execution, ms. Required for `latency`. */
      thresholdMs: z.number().int().min(1).max(900_000).optional(),
      /** Execution triggers that count. Default `['http']`. */
      triggers: z
        .array(z.enum(['http', 'schedule', 'event']))
        .min(1)
        .default(['http']),
      /** One line for people. */
      description: z.string().max(200).default(''),
    })
    .strict()
    .refine((s) => s.kind !== 'latency' || s.thresholdMs !== undefined, {
      message: 'a latency SLO needs thresholdMs',
      path: ['thresholdMs'],
    }),
);

/** A parsed SLO (defaults applied). */
export type SloSpec = z.output<typeof sloSpecSchema>;
/** An SLO as declared in code. */
export type SloSpecInput = z.input<typeof sloSpecSchema>;

/** Parses SLO declarations; a bad one throws (it is a programming mistake), ids must be unique. */
export function defineSlos(specs: readonly SloSpecInput[]): SloSpec[] {
  const parsed = specs.map((s) => sloSpecSchema.parse(s));
  const ids = new Set<string>();
  for (const s of parsed) {
    if (ids.has(s.id)) throw new Error(`duplicate SLO id ${s.id}`);
    ids.add(s.id);
  }
  return parsed;
}

/** The error budget as a fraction of events: `1 − objective`. */
export function errorBudget(spec: Pick<SloSpec, 'objective'>): number {
  return 1 - spec.objective;
}
