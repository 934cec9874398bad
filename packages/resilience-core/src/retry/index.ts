export {
  type Backoff,
  type BackoffOptions,
  backoffCeiling,
  backoffDelay,
  fullJitterDelay,
  type Jitter,
} from './backoff.ts';
export { isRetryable, provesNotProcessed, type RetryOptions, retry } from './retry.ts';
export { parseRetryAfter, retryAfterMs } from './retry-after.ts';
export { type TimeoutOptions, timeoutError, withTimeout } from './timeout.ts';
