export { type BackoffOptions, fullJitterDelay } from './backoff.ts';
export { type RetryOptions, retry } from './retry.ts';
export { parseRetryAfter, retryAfterMs } from './retry-after.ts';
export { type TimeoutOptions, withTimeout } from './timeout.ts';
