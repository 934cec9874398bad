/** Settings of exponential backoff. */
export interface BackoffOptions {
  /** Delay cap of the first retry (ms). Default 100. */
  baseDelayMs?: number;
  /** Largest delay (ms). Default 10 000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
}

/**
 * "Full jitter" backoff as a pure function: a uniform delay in [0, min(maxDelayMs, baseDelayMs * multiplier^(retry-1)))
 * for the `retry`-th retry (1-based). `random` is injectable for tests. Full jitter spreads a fleet of cold
 * executions that failed together, instead of making them retry in lockstep.
 */
export function fullJitterDelay(
  retry: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  const multiplier = options.multiplier ?? 2;
  const ceiling = Math.min(max, base * multiplier ** Math.max(0, retry - 1));
  return Math.floor(random() * (Number.isFinite(ceiling) ? ceiling : max));
}
