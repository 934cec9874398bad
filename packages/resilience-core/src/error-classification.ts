import { isResilienceError } from './errors.ts';

/**
 * Which errors say "the dependency is unhealthy" (and so count against a breaker, and are worth retrying).
 * A dependency answering 4xx is healthy — the request was wrong — except 408 (it timed out) and 429 (it is
 * overloaded). 5xx, timeouts, aborted and network errors are failures. Unknown errors count, to fail safe.
 */

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The HTTP status an error carries, wherever it keeps it (`status`, `statusCode`, numeric `code`, `response.status`, `details.status`). */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  const details = e.details as Record<string, unknown> | undefined;
  const response = e.response as Record<string, unknown> | undefined;
  for (const candidate of [details?.status, response?.status, e.status, e.statusCode, e.code]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate <= 599) return candidate;
  }
  return undefined;
}

/** True when an HTTP status means the dependency is unhealthy: 408, 429 or 5xx. */
export function isUnhealthyStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** True for timeouts, aborts and socket-level network errors. */
export function isTransportError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown; cause?: unknown; message?: unknown };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  // undici's fetch wraps socket errors as TypeError('fetch failed', { cause }).
  if (e.name === 'TypeError' && e.message === 'fetch failed') return true;
  return e.cause !== undefined && e.cause !== error && isTransportError(e.cause);
}

/** The default breaker predicate: does this error count as a failure of the dependency? */
export function countsAsFailure(error: unknown): boolean {
  if (isResilienceError(error)) {
    switch (error.code) {
      case 'TIMEOUT':
      case 'RETRYABLE':
      case 'CIRCUIT_OPEN':
      case 'INTERNAL':
        return true;
      case 'DEPENDENCY_ERROR': {
        const status = statusOf(error);
        return status === undefined || isUnhealthyStatus(status);
      }
      default:
        // INVALID_INPUT, NOT_FOUND, CONFLICT, FORBIDDEN, QUOTA_EXCEEDED…: the dependency answered.
        return false;
    }
  }
  if (isTransportError(error)) return true;
  const status = statusOf(error);
  if (status !== undefined) return isUnhealthyStatus(status);
  return true;
}

/**
 * The message of anything thrown: `error.message` of an Error, else `String(error)`. The one error-to-message
 * of the project; {@link messageOf} and {@link describeError} add a code in front.
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A readable message for any thrown value: `CODE: message` for a resilience error, else {@link errorText}. */
export function messageOf(error: unknown): string {
  return isResilienceError(error) ? `${error.code}: ${error.message}` : errorText(error);
}

/** A short, log-safe description of an error for events and logs: `CODE: message` (or `Name: message`), ≤ 200 characters. */
export function describeError(error: unknown): string {
  if (error instanceof Error)
    return `${(error as { code?: unknown }).code ?? error.name}: ${error.message}`.slice(0, 200);
  return errorText(error).slice(0, 200);
}
