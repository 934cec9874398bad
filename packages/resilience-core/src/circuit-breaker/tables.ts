import { z } from 'zod';
import { lazySchema } from '../schema/lazy-schema.ts';
import type { TableSpec } from '../schema/table-spec.ts';
import { OUTCOME_KINDS } from './window.ts';

/**
 * The breaker's three tables. Only API keys (the functions) can touch them.
 * - `circuit-breakers`: one row per breaker (id `stableId('cb', name[, organizationId])`), written only on
 *   transitions, with a version compare-and-set.
 * - `circuit-breaker-buckets`: outcome counters per (breaker, state version, time bucket, kind), incremented
 *   atomically so concurrent executions add up.
 * - `circuit-breaker-probes`: one row per half-open probe slot (breaker, open version, slot), created by exactly
 *   one execution, under a lease that another execution can take over once it expires.
 */

/** Table ids. */
export const CIRCUIT_BREAKERS_TABLE = 'circuit-breakers';
export const CIRCUIT_BREAKER_BUCKETS_TABLE = 'circuit-breaker-buckets';
export const CIRCUIT_BREAKER_PROBES_TABLE = 'circuit-breaker-probes';

/** Highest `reopenCount` stored (the column's max); the open duration is capped long before it. */
export const REOPEN_COUNT_MAX = 1_000_000;
/** Highest probe slot number the column accepts (`halfOpen.maxProbes` is at most 20). */
const PROBE_SLOT_MAX = 100;

/** A `circuit-breakers` row (column values). */
export const circuitBreakerRowSchema = lazySchema(() =>
  z.object({
    /** Breaker name, e.g. `slack`. */
    name: z.string().min(1).max(64),
    /** Organization (Appwrite team id) for per-organization breakers; `null` for a global one. */
    scope: z.string().max(64).nullable(),
    /** Stored state: `CLOSED` or `OPEN` (HALF_OPEN is derived from `openUntil` and the clock). */
    state: z.enum(['CLOSED', 'OPEN']),
    /** Compare-and-set counter: +1 per transition (starts at 1 on the first write). */
    version: z.number().int().positive(),
    /** When the state began (epoch ms). */
    changedAt: z.number().int().nonnegative(),
    /** When OPEN ends and probing may start (epoch ms); `null` when CLOSED or isolated. */
    openUntil: z.number().int().nonnegative().nullable(),
    /** Forced open by an operator. Default false. */
    isolated: z.boolean().nullable(),
    /** Consecutive re-openings (drives the growing open duration), at most {@link REOPEN_COUNT_MAX}. Default 0. */
    reopenCount: z.number().int().nonnegative().max(REOPEN_COUNT_MAX).nullable(),
    /** Why it last opened (≤ 256 characters); `null` when closed. */
    reason: z.string().max(256).nullable(),
  }),
);
/** A `circuit-breakers` row (column values). */
export type CircuitBreakerRow = z.infer<typeof circuitBreakerRowSchema>;

/** A `circuit-breaker-buckets` row: one counter. */
export const circuitBucketRowSchema = lazySchema(() =>
  z.object({
    /** The breaker's row id. */
    breakerKey: z.string().min(1).max(36),
    /** The CLOSED state version these outcomes were seen under. */
    version: z.number().int().nonnegative(),
    /** Bucket start (epoch ms, a multiple of the window's bucketMs). */
    bucketStart: z.number().int().nonnegative(),
    /** Outcome kind: ok, fail, slowOk, slowFail. */
    kind: z.enum(OUTCOME_KINDS),
    /** Calls with this outcome in this bucket (≥ 0). */
    count: z.number().int().nonnegative(),
  }),
);
/** A `circuit-breaker-buckets` row. */
export type CircuitBucketRow = z.infer<typeof circuitBucketRowSchema>;

/** A `circuit-breaker-probes` row: one half-open probe slot. */
export const circuitProbeRowSchema = lazySchema(() =>
  z.object({
    /** The breaker's row id. */
    breakerKey: z.string().min(1).max(36),
    /** The OPEN state version this half-open episode belongs to. */
    version: z.number().int().positive(),
    /** Slot number, 0 ≤ slot < halfOpen.maxProbes. */
    slot: z.number().int().nonnegative().max(PROBE_SLOT_MAX),
    /** The breaker instance holding the lease (a per-process id). */
    holder: z.string().min(1).max(36),
    /** Lease end (epoch ms); after it another execution may take the slot over. */
    leaseUntil: z.number().int().nonnegative(),
    /** Compare-and-set counter: +1 on every takeover or completion. Starts at 0. */
    generation: z.number().int().nonnegative(),
    /** `pending` while probing, then `success` or `failure`. */
    outcome: z.enum(['pending', 'success', 'failure']),
  }),
);
/** A `circuit-breaker-probes` row. */
export type CircuitProbeRow = z.infer<typeof circuitProbeRowSchema>;

const epochMsColumn = (key: string, required: boolean) =>
  ({ key, type: 'integer', required, min: 0, max: Number.MAX_SAFE_INTEGER }) as const;

/** Every table of the circuit breaker. */
export const circuitBreakerTables: TableSpec[] = [
  {
    $id: CIRCUIT_BREAKERS_TABLE,
    rowSchema: circuitBreakerRowSchema,
    name: 'Circuit breakers',
    columns: [
      { key: 'name', type: 'string', size: 64, required: true },
      { key: 'scope', type: 'string', size: 64, required: false },
      { key: 'state', type: 'string', format: 'enum', elements: ['CLOSED', 'OPEN'], required: true },
      {
        key: 'version',
        type: 'integer',
        required: true,
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
        counter: true,
      },
      epochMsColumn('changedAt', true),
      epochMsColumn('openUntil', false),
      { key: 'isolated', type: 'boolean', required: false, default: false },
      { key: 'reopenCount', type: 'integer', required: false, default: 0, min: 0, max: REOPEN_COUNT_MAX },
      { key: 'reason', type: 'string', size: 256, required: false },
    ],
    indexes: [{ key: 'name_scope', type: 'key', columns: ['name', 'scope'] }],
  },
  {
    $id: CIRCUIT_BREAKER_BUCKETS_TABLE,
    rowSchema: circuitBucketRowSchema,
    name: 'Circuit breaker outcome buckets',
    columns: [
      { key: 'breakerKey', type: 'string', size: 36, required: true },
      { key: 'version', type: 'integer', required: true, min: 0, max: Number.MAX_SAFE_INTEGER },
      epochMsColumn('bucketStart', true),
      { key: 'kind', type: 'string', format: 'enum', elements: [...OUTCOME_KINDS], required: true },
      { key: 'count', type: 'integer', required: true, min: 0, max: Number.MAX_SAFE_INTEGER, counter: true },
    ],
    indexes: [
      {
        key: 'window',
        type: 'key',
        columns: ['breakerKey', 'version', 'bucketStart'],
        orders: ['ASC', 'ASC', 'DESC'],
      },
      { key: 'age', type: 'key', columns: ['bucketStart'] },
    ],
  },
  {
    $id: CIRCUIT_BREAKER_PROBES_TABLE,
    rowSchema: circuitProbeRowSchema,
    name: 'Circuit breaker probe leases',
    columns: [
      { key: 'breakerKey', type: 'string', size: 36, required: true },
      { key: 'version', type: 'integer', required: true, min: 0, max: Number.MAX_SAFE_INTEGER },
      { key: 'slot', type: 'integer', required: true, min: 0, max: PROBE_SLOT_MAX },
      { key: 'holder', type: 'string', size: 36, required: true },
      epochMsColumn('leaseUntil', true),
      {
        key: 'generation',
        type: 'integer',
        required: true,
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
        counter: true,
      },
      {
        key: 'outcome',
        type: 'string',
        format: 'enum',
        elements: ['pending', 'success', 'failure'],
        required: true,
      },
    ],
    indexes: [
      { key: 'episode', type: 'key', columns: ['breakerKey', 'version', 'outcome'] },
      { key: 'age', type: 'key', columns: ['leaseUntil'] },
    ],
  },
];
