/**
 * How a delay is drawn below its ceiling (the nominal exponential delay):
 * - `full`: uniform in [0, ceiling) — spreads a fleet that failed together the most (AWS "full jitter");
 * - `equal`: half fixed, half uniform, in [ceiling/2, ceiling) — never sooner than half the nominal delay;
 * - `band`: uniform in [0.8, 1.2) × ceiling, then capped at `maxMs` and at least 1 ms (±20 % around nominal);
 * - `none`: exactly the ceiling.
 */
export type Jitter = 'full' | 'equal' | 'band' | 'none';

/** The one option vocabulary of exponential backoff (all durations in milliseconds). */
export interface Backoff {
  /** Nominal delay of the first retry. */
  baseMs: number;
  /** Cap of the nominal delay (and of a `band` delay). */
  maxMs: number;
  /** Growth per retry. Default 2. */
  factor?: number;
  /** How the delay is drawn below the ceiling. */
  jitter: Jitter;
}

/**
 * Nominal delay of retry `retry` (1-based; below 1 counts as 1): min(maxMs, baseMs × factor^(retry−1)).
 * Always finite: an overflowing (or NaN) product yields `maxMs`.
 */
export function backoffCeiling(retry: number, backoff: Omit<Backoff, 'jitter'>): number {
  const raw = backoff.baseMs * (backoff.factor ?? 2) ** Math.max(0, retry - 1);
  return Number.isFinite(raw) ? Math.min(backoff.maxMs, raw) : backoff.maxMs;
}

/**
 * Delay before retry `retry` (1-based) as a pure function, in whole milliseconds: the ceiling of
 * {@link backoffCeiling} drawn down by `backoff.jitter` with `random` (values in [0, 1); anything outside is
 * clamped into it, so a bad source never yields a delay outside the jitter's range). Every backoff in the
 * project — retry(), the Appwrite adapter, job retries, rollout polls, the rollout CLI — calls this.
 */
export function backoffDelay(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(retry, backoff);
  if (backoff.jitter === 'none') return Math.floor(ceiling);
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  switch (backoff.jitter) {
    case 'full':
      return Math.floor(r * ceiling);
    case 'equal':
      return Math.floor(ceiling / 2 + (r * ceiling) / 2);
    case 'band':
      return Math.round(Math.min(backoff.maxMs, Math.max(1, ceiling * (0.8 + 0.4 * r))));
  }
}

/** Settings of {@link retry}'s exponential backoff (its public option names; mapped onto {@link Backoff}). */
export interface BackoffOptions {
  /** Delay cap of the first retry (ms). Default 100. */
  baseDelayMs?: number;
  /** Largest delay (ms). Default 10 000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
}

/**
 * "Full jitter" backoff: {@link backoffDelay} with `jitter: 'full'` in retry()'s option names — a uniform
 * delay in [0, min(maxDelayMs, baseDelayMs × multiplier^(retry−1))) for the `retry`-th retry (1-based).
 */
export function fullJitterDelay(
  retry: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  return backoffDelay(
    retry,
    {
      baseMs: options.baseDelayMs ?? 100,
      maxMs: options.maxDelayMs ?? 10_000,
      factor: options.multiplier ?? 2,
      jitter: 'full',
    },
    random,
  );
}
