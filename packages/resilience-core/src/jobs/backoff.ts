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
 * Delay before retry number `retry` (1 for the first retry): exponential, min(maxMs, baseMs × 2^(retry−1)),
 * with "equal jitter" — half fixed, half uniformly random — so retries of jobs that failed together spread
 * out but never come back sooner than half the nominal delay. Pure: randomness is passed in (`random()` in
 * [0, 1)). Returns whole milliseconds.
 */
export function calculateDelay(
  retry: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(retry));
  // 2^(n-1) overflows to Infinity well before n = 1100; the min() keeps the result finite.
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(n - 1, 1000));
  const half = nominal / 2;
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(half + r * half);
}
