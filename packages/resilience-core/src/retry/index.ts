export { type BackoffOptions, fullJitterDelay } from './backoff.ts';
export { isRetryable, provesNotProcessed, type RetryOptions, retry } from './retry.ts';
export { parseRetryAfter, retryAfterMs } from './retry-after.ts';
export { type TimeoutOptions, timeoutError, withTimeout } from './timeout.ts';
