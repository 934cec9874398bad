import { backoffDelay } from '../retry/backoff.ts';

/** Retry delay policy of a job (all durations in milliseconds). */
export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. Default 1000. */
  baseMs: number;
  /** Cap of any one delay. Default 3,600,000 (1 h). */
  maxMs: number;
}

/** The policy used when an enqueue names none. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 3_600_000 };

/**
 * Delay before retry number `retry` (1 for the first retry): {@link backoffDelay} with `jitter: 'equal'` —
 * min(maxMs, baseMs × 2^(retry−1)), half fixed, half uniformly random — so retries of jobs that failed together
 * spread out but never come back sooner than half the nominal delay. Pure: randomness is passed in (`random()`
 * in [0, 1)). Returns whole milliseconds.
 */
export function calculateDelay(
  retry: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  return backoffDelay(Math.max(1, Math.floor(retry)), { ...policy, jitter: 'equal' }, random);
}
