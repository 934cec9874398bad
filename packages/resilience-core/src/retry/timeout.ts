import { ResilienceError } from '../errors.ts';
import { type Clock, systemClock } from '../ports/clock.ts';

/** Options of {@link withTimeout}. */
export interface TimeoutOptions {
  /** Time source (a ManualClock in tests). Default the system clock. */
  clock?: Clock;
  /** An outer signal: aborting it aborts the call too. */
  signal?: AbortSignal;
  /** What is being timed, for the error message. Default `call`. */
  what?: string;
}

/** The TIMEOUT error {@link withTimeout} raises (`details.timeoutMs`). */
export function timeoutError(ms: number, what = 'call'): ResilienceError {
  return new ResilienceError('TIMEOUT', `${what} timed out after ${ms} ms`, { details: { timeoutMs: ms } });
}

/**
 * Runs `fn` with an AbortSignal that fires after `ms` (or when `options.signal` aborts). Settles as soon as the
 * signal fires, even if `fn` ignores it: with a TIMEOUT error on expiry, with the outer signal's reason on abort.
 */
export async function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T> | T,
  ms: number,
  options: TimeoutOptions = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const outer = options.signal;
  if (outer?.aborted) throw outer.reason;
  const controller = new AbortController();
  const timer = new AbortController();
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  clock.sleep(ms, timer.signal).then(
    () => controller.abort(timeoutError(ms, options.what)),
    // The timer was cancelled because the call settled first.
    () => undefined,
  );
  try {
    return await Promise.race([Promise.resolve().then(() => fn(controller.signal)), aborted]);
  } finally {
    timer.abort();
    outer?.removeEventListener('abort', onOuterAbort);
  }
}
