/**
 * One error type for the whole core. Every failure carries a `code` literal; callers branch with
 * {@link hasCode} / {@link isResilienceError}, never with `instanceof` alone, because each function bundle
 * carries its own copy of the core and an error may cross bundle boundaries.
 */

/** Every code the core raises, with the HTTP status `toResponse` renders it as. */
export const errorStatus = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** The path exists but not for this method; the response names the allowed ones (`Allow`). */
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  /** A bounded increment/decrement would cross its bound; nothing was written. */
  BOUND_EXCEEDED: 409,
  LEASE_LOST: 409,
  QUOTA_EXCEEDED: 429,
  RATE_LIMITED: 429,
  /** A dependency is temporarily unavailable (429/5xx/network); safe to retry with backoff. */
  RETRYABLE: 503,
  /**
   * A write whose result is unknown: a transaction commit answered 400 `transaction_failed`, a 5xx, or no
   * response at all (platform notes §F3). It may or may not have applied; the caller re-reads to find out and
   * never assumes either result.
   */
  OUTCOME_UNKNOWN: 503,
  CIRCUIT_OPEN: 503,
  /** A dependency answered with an error that retrying will not fix (e.g. a webhook's 4xx); `details.status`. */
  DEPENDENCY_ERROR: 502,
  TIMEOUT: 504,
  INTERNAL: 500,
} as const;

/** A failure's code: one key of {@link errorStatus}. */
export type ErrorCode = keyof typeof errorStatus;

/** A problem with one field of some input, as listed in a 400 response. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Optional parts of a {@link ResilienceError}. */
export interface ResilienceErrorOptions {
  /** Structured, JSON-serialisable detail safe to show the caller (never secrets). */
  details?: Record<string, unknown>;
  /** Field problems for INVALID_INPUT. */
  issues?: FieldIssue[];
  /**
   * Seconds after which a retry may succeed (rendered as `Retry-After`). `null` says waiting will not help (e.g. a
   * gauge quota that never resets): no `Retry-After` is sent, not even the code's default.
   */
  retryAfterSeconds?: number | null;
  /** Extra response headers (e.g. RateLimit-*). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** The base error: a `code`, a message for humans, and optional details for the response body. */
export class ResilienceError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly issues?: FieldIssue[];
  /** See {@link ResilienceErrorOptions.retryAfterSeconds}; `null` = no retry time exists. */
  readonly retryAfterSeconds?: number | null;
  readonly headers?: Record<string, string>;
  /** Brand that survives bundle duplication (checked by {@link isResilienceError}). */
  readonly isResilienceError = true;

  constructor(code: ErrorCode, message: string, options: ResilienceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ResilienceError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
    if (options.issues !== undefined) this.issues = options.issues;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.headers !== undefined) this.headers = options.headers;
  }

  /** The HTTP status this error renders as. */
  get status(): number {
    return errorStatus[this.code];
  }
}

/** True for any ResilienceError, including one created by another bundle's copy of the core. */
export function isResilienceError(error: unknown): error is ResilienceError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { isResilienceError?: unknown }).isResilienceError === true &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/** True when `error` is a ResilienceError with one of the given codes. */
export function hasCode<C extends ErrorCode>(
  error: unknown,
  ...codes: C[]
): error is ResilienceError & { code: C } {
  return isResilienceError(error) && (codes as ErrorCode[]).includes(error.code);
}

/** Shorthand constructors, so call sites read as the condition they report. */
export const errors = {
  invalidInput: (message: string, issues: FieldIssue[] = []) =>
    new ResilienceError('INVALID_INPUT', message, { issues }),
  notFound: (message: string, details?: Record<string, unknown>) =>
    new ResilienceError('NOT_FOUND', message, details ? { details } : {}),
  conflict: (message: string, details?: Record<string, unknown>) =>
    new ResilienceError('CONFLICT', message, details ? { details } : {}),
  forbidden: (message: string) => new ResilienceError('FORBIDDEN', message),
  unauthorized: (message: string) => new ResilienceError('UNAUTHORIZED', message),
  boundExceeded: (message: string, details?: Record<string, unknown>) =>
    new ResilienceError('BOUND_EXCEEDED', message, details ? { details } : {}),
  retryable: (message: string, cause?: unknown, retryAfterSeconds?: number) =>
    new ResilienceError('RETRYABLE', message, {
      cause,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    }),
  outcomeUnknown: (message: string, cause?: unknown, details?: Record<string, unknown>) =>
    new ResilienceError('OUTCOME_UNKNOWN', message, { cause, ...(details ? { details } : {}) }),
  leaseLost: (message: string, details?: Record<string, unknown>) =>
    new ResilienceError('LEASE_LOST', message, details ? { details } : {}),
  internal: (message: string, cause?: unknown) => new ResilienceError('INTERNAL', message, { cause }),
};
