import { isTransportError, isUnhealthyStatus, statusOf } from '../error-classification.ts';
import { hasCode, isResilienceError } from '../errors.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { type BackoffOptions, fullJitterDelay } from './backoff.ts';
import { retryAfterMs } from './retry-after.ts';
import { withTimeout } from './timeout.ts';

/** Options of {@link retry}; every field is optional. */
export interface RetryOptions extends BackoffOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** No retry is started (its delay included) once this much time (ms) has passed since the first attempt. Default 30 000. */
  maxElapsedMs?: number;
  /** Timeout of each attempt (ms): the attempt's AbortSignal fires and it fails with TIMEOUT. Default none. */
  attemptTimeoutMs?: number;
  /**
   * Whether repeating the call is safe. Default false: a non-idempotent call (a POST that creates something) is
   * tried once, and retried only after errors proving it never reached the server (connection refused, DNS, 429).
   */
  idempotent?: boolean;
  /**
   * The longest Retry-After hint (ms) this caller will sleep out; an error hinting longer is thrown at once, so
   * the caller can defer the work instead. `0` on a request path: never wait on a dependency's Retry-After.
   * Default no limit (still bounded by `maxElapsedMs`).
   */
  maxRetryAfterMs?: number;
  /** Which errors are worth retrying. Default {@link isRetryable}. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each retry's delay. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Aborts waiting and the current attempt. */
  signal?: AbortSignal;
  /** Time source. Default the system clock. */
  clock?: Clock;
  /** Random source in [0, 1) for jitter. Default Math.random. */
  random?: () => number;
}

/** Transient errors: timeouts, RETRYABLE, network errors and 408/429/5xx statuses. Never CIRCUIT_OPEN (the breaker already said when). */
export function isRetryable(error: unknown): boolean {
  if (isResilienceError(error)) {
    if (hasCode(error, 'TIMEOUT', 'RETRYABLE', 'RATE_LIMITED')) return true;
    if (hasCode(error, 'DEPENDENCY_ERROR')) {
      const status = statusOf(error);
      return status !== undefined && isUnhealthyStatus(status);
    }
    return false;
  }
  if (isTransportError(error)) return true;
  const status = statusOf(error);
  return status !== undefined && isUnhealthyStatus(status);
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** True when the error proves the request was not processed, so even a non-idempotent call may be repeated. */
export function provesNotProcessed(error: unknown): boolean {
  if (statusOf(error) === 429) return true;
  let e: unknown = error;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NEVER_SENT.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Calls `fn` until it succeeds, with exponential backoff and full jitter between attempts, at most
 * `maxAttempts` times and within `maxElapsedMs`. A `Retry-After` hint (from `retryAfterSeconds` or a response
 * header) lengthens the delay; when it would pass `maxElapsedMs` the last error is thrown at once. Composes
 * with a breaker either way round: `retry(() => breaker.execute(fn))` retries through it (its CIRCUIT_OPEN
 * rejections are not retried), `breaker.execute(() => retry(fn))` counts one outcome per retried call.
 */
export async function retry<T>(
  fn: (signal: AbortSignal | undefined, attempt: number) => Promise<T> | T,
  options: RetryOptions = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
  const maxElapsedMs = options.maxElapsedMs ?? 30_000;
  const shouldRetry = options.shouldRetry ?? isRetryable;
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw options.signal.reason;
    try {
      if (options.attemptTimeoutMs === undefined) return await fn(options.signal, attempt);
      return await withTimeout((signal) => fn(signal, attempt), options.attemptTimeoutMs, {
        clock,
        what: `attempt ${attempt}`,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (attempt >= maxAttempts || options.signal?.aborted || !shouldRetry(error, attempt)) throw error;
      if (options.idempotent !== true && !provesNotProcessed(error)) throw error;
      const now = clock.now();
      const hint = retryAfterMs(error, now);
      if (hint !== undefined && options.maxRetryAfterMs !== undefined && hint > options.maxRetryAfterMs)
        throw error;
      const delayMs = Math.max(fullJitterDelay(attempt, options, options.random), hint ?? 0);
      if (now + delayMs - started > maxElapsedMs) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await clock.sleep(delayMs, options.signal);
    }
  }
}
