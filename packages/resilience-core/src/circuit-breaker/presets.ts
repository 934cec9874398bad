import type { CircuitBreakerOptions } from './options.ts';

/**
 * Settings for the dependencies the product calls, by the seed's preset names. Chosen for how each one fails:
 *
 * | preset   | window           | min calls | opens at           | slow call        | open for        | probes | timeout |
 * |----------|------------------|-----------|--------------------|------------------|-----------------|--------|---------|
 * | slack    | last 20 calls    | 5         | 50% failures       | ≥ 5 s, 80% slow  | 30 s → ×2 → 5 min | 1    | 5 s     |
 * | teams    | last 20 calls    | 5         | 50% failures       | ≥ 5 s, 80% slow  | 30 s → ×2 → 5 min | 1    | 5 s     |
 * | email    | last 20 calls    | 5         | 50% failures       | ≥ 10 s, 80% slow | 60 s → ×2 → 10 min | 1   | 10 s    |
 * | database | last 30 s        | 20        | 50% failures       | ≥ 2 s, 50% slow  | 10 s → ×2 → 1 min | 3    | 5 s     |
 * | storage  | last 60 s        | 10        | 50% failures       | ≥ 10 s, 50% slow | 30 s → ×2 → 5 min | 2    | 30 s    |
 *
 * Webhooks (Slack, Teams) and email are low-volume, best-effort side effects: a count window with a small
 * minimum reacts within a handful of notifications, and the work they would have done is deferred, not lost.
 * The database is high-volume and on every request's path: a time window with a larger minimum avoids
 * tripping on a burst of a few errors, a short first open duration limits the outage we cause, and three probes
 * make the close decision less of a coin toss. Storage (file uploads) is slower by nature, hence the longer
 * timeout and slow threshold.
 */
export const circuitBreakerPresets = {
  slack: webhook(5_000, 30_000, 300_000),
  teams: webhook(5_000, 30_000, 300_000),
  email: webhook(10_000, 60_000, 600_000),
  database: {
    window: { type: 'time', durationMs: 30_000, bucketMs: 3_000 },
    minimumCalls: 20,
    failureRateThreshold: 50,
    slowCallDurationMs: 2_000,
    slowCallRateThreshold: 50,
    openDuration: { baseMs: 10_000, multiplier: 2, maxMs: 60_000, resetAfterMs: 300_000 },
    halfOpen: { maxProbes: 3, successesToClose: 3, leaseMs: 10_000 },
    callTimeoutMs: 5_000,
    cacheTtlMs: 1_000,
    onStoreUnavailable: 'local',
  },
  storage: {
    window: { type: 'time', durationMs: 60_000, bucketMs: 5_000 },
    minimumCalls: 10,
    failureRateThreshold: 50,
    slowCallDurationMs: 10_000,
    slowCallRateThreshold: 50,
    openDuration: { baseMs: 30_000, multiplier: 2, maxMs: 300_000, resetAfterMs: 600_000 },
    halfOpen: { maxProbes: 2, successesToClose: 2, leaseMs: 45_000 },
    callTimeoutMs: 30_000,
    cacheTtlMs: 2_000,
    onStoreUnavailable: 'local',
  },
} as const satisfies Record<string, CircuitBreakerOptions>;

/** A preset's name. */
export type CircuitBreakerPresetName = keyof typeof circuitBreakerPresets;

/** True when `name` is one of the presets. */
export function isPresetName(name: string): name is CircuitBreakerPresetName {
  return Object.hasOwn(circuitBreakerPresets, name);
}

function webhook(timeoutMs: number, openMs: number, maxOpenMs: number) {
  return {
    window: { type: 'count', size: 20, bucketMs: 1_000 },
    minimumCalls: 5,
    failureRateThreshold: 50,
    slowCallDurationMs: timeoutMs,
    slowCallRateThreshold: 80,
    openDuration: { baseMs: openMs, multiplier: 2, maxMs: maxOpenMs, resetAfterMs: 2 * maxOpenMs },
    halfOpen: { maxProbes: 1, successesToClose: 1, leaseMs: timeoutMs * 2 },
    callTimeoutMs: timeoutMs,
    cacheTtlMs: 2_000,
    onStoreUnavailable: 'local',
  } as const satisfies CircuitBreakerOptions;
}
