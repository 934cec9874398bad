import { z } from 'zod';
import { countsAsFailure } from '../error-classification.ts';
import { errors } from '../errors.ts';
import { NAME_PATTERN } from '../ids.ts';
import { lazySchema } from '../schema/lazy-schema.ts';

/** Breaker names: 1–64 characters of `[a-zA-Z0-9._-]`, starting alphanumeric (e.g. `slack`, `db.users`). */
export const breakerNameSchema = lazySchema(() => z.string().regex(NAME_PATTERN, 'invalid breaker name'));

/**
 * A per-organization breaker's scope (the organization id): 1–64 characters, as the `scope` column holds it.
 * Names and scopes reach row ids only through `stableId`, so two that differ only in case or accents never share
 * a row, whatever the collation.
 */
export const breakerScopeSchema = lazySchema(() => z.string().min(1).max(64));

/** The sliding window over which the failure and slow-call rates are computed. */
export const windowOptionsSchema = lazySchema(() =>
  z.discriminatedUnion('type', [
    z.object({
      /** The last `size` calls. */
      type: z.literal('count'),
      /** Calls in the window. Default 20. */
      size: z.number().int().min(1).max(10_000).default(20),
      /**
       * Width of the shared counter buckets (ms). Fleet-wide, "the last `size` calls" is approximated by the newest
       * buckets of the current closed period holding at least `size` calls. Default 1000.
       */
      bucketMs: z.number().int().min(100).max(3_600_000).default(1000),
    }),
    z.object({
      /** The calls of the last `durationMs`. */
      type: z.literal('time'),
      /** Window length (ms). Default 60 000. */
      durationMs: z.number().int().min(1000).max(86_400_000).default(60_000),
      /** Bucket width (ms); the window slides one bucket at a time. Default max(1000, durationMs / 10). */
      bucketMs: z.number().int().min(100).max(3_600_000).optional(),
    }),
  ]),
);

/** Data options of a breaker (everything but functions), validated with zod; see each field for its default. */
export const circuitBreakerSettingsSchema = lazySchema(() =>
  z.object({
    /** Sliding window. Default `{ type: 'count', size: 20 }`. */
    window: windowOptionsSchema.default({ type: 'count', size: 20, bucketMs: 1000 }),
    /** Calls the window must hold before any rate is judged, so one failure never trips it. Default 10. */
    minimumCalls: z.number().int().min(1).default(10),
    /** Open when failures / calls reaches this percentage. Default 50. */
    failureRateThreshold: z.number().gt(0).max(100).default(50),
    /**
     * A call taking at least this long (ms) is slow. Default off: measuring a duration costs a second clock
     * read per call (the presets turn it on where slowness matters).
     */
    slowCallDurationMs: z.number().int().positive().optional(),
    /** Open when slow calls / calls reaches this percentage (100 = only when every call is slow). Default 100. */
    slowCallRateThreshold: z.number().gt(0).max(100).default(100),
    /** Open duration: `baseMs * multiplier^reopenCount`, capped at `maxMs`. */
    openDuration: z
      .object({
        /** First open duration (ms). Default 30 000. */
        baseMs: z.number().int().positive().default(30_000),
        /** Growth per consecutive re-opening. Default 2. */
        multiplier: z.number().min(1).max(10).default(2),
        /** Cap (ms). Default 300 000. */
        maxMs: z.number().int().positive().default(300_000),
        /** Closed this long (ms) without tripping, the re-open count is forgiven. Default 600 000. */
        resetAfterMs: z.number().int().nonnegative().default(600_000),
      })
      .default({ baseMs: 30_000, multiplier: 2, maxMs: 300_000, resetAfterMs: 600_000 }),
    /** HALF_OPEN probing. */
    halfOpen: z
      .object({
        /** Probes admitted fleet-wide per half-open episode. Default 1. */
        maxProbes: z.number().int().min(1).max(20).default(1),
        /** Successful probes that close the breaker (≤ maxProbes); any counted probe failure re-opens. Default maxProbes. */
        successesToClose: z.number().int().min(1).max(20).optional(),
        /**
         * Lease of a probe slot (ms): a probe is also timed out at this bound, and a slot whose holder died is taken
         * over once its lease has expired, so a dead probe never blocks recovery. Default 30 000.
         */
        leaseMs: z.number().int().positive().default(30_000),
      })
      .default({ maxProbes: 1, leaseMs: 30_000 }),
    /** Per-call timeout (ms): the call's AbortSignal fires and the call fails with TIMEOUT. Default none. */
    callTimeoutMs: z.number().int().positive().optional(),
    /** How long (ms) an execution trusts its cached shared state before re-reading it in the background. Default 1000. */
    cacheTtlMs: z.number().int().min(0).default(1000),
    /**
     * How long (ms) a call waits for a fresh read of the shared state before it is rejected on a cached OPEN
     * (or isolated) state older than `cacheTtlMs`, so an operator's reset or another execution's close is not
     * missed for a cache TTL. On timeout the cached decision stands; if the read fails, `onStoreUnavailable`
     * decides. Only rejections wait: the closed path never does. 0 = reject on the cached state. Default 500.
     */
    refreshBeforeRejectMs: z.number().int().min(0).max(10_000).default(500),
    /**
     * What to do while the state table is unreachable: `local` decides on this execution's own outcomes (a
     * per-process breaker), `fail-open` admits every call, `fail-closed` rejects every call. Default `local`.
     */
    onStoreUnavailable: z.enum(['local', 'fail-open', 'fail-closed']).default('local'),
  }),
);

/** Data options of a breaker, as accepted (defaults optional). */
export type CircuitBreakerSettings = z.input<typeof circuitBreakerSettingsSchema>;

/** Everything a breaker can be configured with. */
export interface CircuitBreakerOptions extends CircuitBreakerSettings {
  /** Which errors count as failures. Default {@link countsAsFailure}: 5xx, 408, 429, timeouts and network errors do; a dependency's other 4xx do not. */
  isFailure?: (error: unknown) => boolean;
}

/** Options after validation and defaults. */
export type ResolvedCircuitBreakerOptions = Omit<
  z.output<typeof circuitBreakerSettingsSchema>,
  'window' | 'halfOpen'
> & {
  window:
    | { type: 'count'; size: number; bucketMs: number }
    | { type: 'time'; durationMs: number; bucketMs: number };
  halfOpen: { maxProbes: number; successesToClose: number; leaseMs: number };
  isFailure: (error: unknown) => boolean;
};

/** Validates options and fills defaults; bad options throw INVALID_INPUT listing every problem. */
export function resolveCircuitBreakerOptions(
  options: CircuitBreakerOptions = {},
): ResolvedCircuitBreakerOptions {
  const { isFailure, ...settings } = options;
  const parsed = circuitBreakerSettingsSchema.safeParse(settings);
  if (!parsed.success) {
    throw errors.invalidInput(
      'Invalid circuit breaker options',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  const s = parsed.data;
  const window =
    s.window.type === 'count'
      ? s.window
      : { ...s.window, bucketMs: s.window.bucketMs ?? Math.max(1000, Math.floor(s.window.durationMs / 10)) };
  const successesToClose = s.halfOpen.successesToClose ?? s.halfOpen.maxProbes;
  if (successesToClose > s.halfOpen.maxProbes) {
    throw errors.invalidInput('Invalid circuit breaker options', [
      { path: 'halfOpen.successesToClose', message: 'must not exceed halfOpen.maxProbes' },
    ]);
  }
  if (s.openDuration.maxMs < s.openDuration.baseMs) {
    throw errors.invalidInput('Invalid circuit breaker options', [
      { path: 'openDuration.maxMs', message: 'must be at least openDuration.baseMs' },
    ]);
  }
  return {
    ...s,
    window,
    halfOpen: { ...s.halfOpen, successesToClose },
    isFailure: isFailure ?? countsAsFailure,
  };
}

/** How long the breaker stays open after its `reopenCount`-th consecutive re-opening (ms). */
export function openDurationFor(
  reopenCount: number,
  o: ResolvedCircuitBreakerOptions['openDuration'],
): number {
  const raw = o.baseMs * o.multiplier ** Math.max(0, reopenCount);
  return Math.min(o.maxMs, Number.isFinite(raw) ? Math.round(raw) : o.maxMs);
}
