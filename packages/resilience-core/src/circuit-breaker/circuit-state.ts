import { z } from 'zod';
import { lazySchema } from '../schema/lazy-schema.ts';

/**
 * The breaker's state as a serialisable union: what the `circuit-breakers` table stores, what `toJSON()`
 * returns and what `initialState` accepts. Only CLOSED and OPEN are ever stored: HALF_OPEN is derived from the
 * clock (an OPEN, non-isolated state whose `openUntil` has passed), so the OPEN → HALF_OPEN move needs no write
 * and no timer — every execution sees it the moment its clock passes `openUntil`.
 */

/** The states callers see (the seed's names). */
export type CircuitStatus = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

const epochMs = lazySchema(() => z.number().int().nonnegative());

/** CLOSED: calls flow; outcomes are counted in the window of this `version`. */
export const closedStateSchema = lazySchema(() =>
  z.object({
    state: z.literal('CLOSED'),
    /** Increases by one on every written transition; outcome buckets and probe slots are keyed by it. */
    version: z.number().int().nonnegative(),
    /** When this state began (epoch ms). */
    changedAt: epochMs,
    /** Consecutive re-openings not yet forgiven (drives the growing open duration); 0 after a healthy spell. */
    reopenCount: z.number().int().nonnegative(),
  }),
);

/** OPEN: calls are rejected until `openUntil`; then the breaker is HALF_OPEN and admits probes. */
export const openStateSchema = lazySchema(() =>
  z.object({
    state: z.literal('OPEN'),
    version: z.number().int().positive(),
    /** When this state began (epoch ms). */
    changedAt: epochMs,
    /** When probes may start (epoch ms); `null` when isolated (stays open until `reset()`). */
    openUntil: epochMs.nullable(),
    /** Forced open by an operator (`isolate()`); never half-opens on its own. */
    isolated: z.boolean(),
    /** Consecutive re-openings (0 for the first opening); the open duration grows with it. */
    reopenCount: z.number().int().nonnegative(),
    /** Why it opened, for humans (e.g. `failure rate 60% >= 50% over 10 calls`). */
    reason: z.string().max(256),
  }),
);

/** The stored breaker state (zod schema of the union). */
export const circuitStateSchema = lazySchema(() =>
  z.discriminatedUnion('state', [closedStateSchema, openStateSchema]),
);

/** The stored breaker state. */
export type CircuitState = z.infer<typeof circuitStateSchema>;
/** The CLOSED member of {@link CircuitState}. */
export type ClosedState = z.infer<typeof closedStateSchema>;
/** The OPEN member of {@link CircuitState}. */
export type OpenState = z.infer<typeof openStateSchema>;

/** The state of a breaker nobody has written yet: CLOSED at version 0. */
export function initialCircuitState(now = 0): ClosedState {
  return { state: 'CLOSED', version: 0, changedAt: now, reopenCount: 0 };
}

/** The state callers see at `now`: OPEN turns HALF_OPEN once `openUntil` has passed (never when isolated). */
export function circuitStatus(state: CircuitState, now: number): CircuitStatus {
  if (state.state === 'CLOSED') return 'CLOSED';
  if (state.isolated || state.openUntil === null) return 'OPEN';
  return now >= state.openUntil ? 'HALF_OPEN' : 'OPEN';
}
