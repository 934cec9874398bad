import type { z } from 'zod';
import { type FieldIssue, isResilienceError, ResilienceError } from '../errors.ts';

/**
 * What a route handler returns: a status (default 200), a JSON body and extra headers. `text` sends a plain
 * text body instead of `body` (content-type `text/plain; charset=utf-8` unless `headers` names another).
 */
export interface RouteResult {
  status?: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** The one error envelope every failure renders as. */
export interface ErrorEnvelope {
  ok: false;
  error: {
    code: string;
    message: string;
    details?: Record<string, unknown>;
    issues?: FieldIssue[];
    /**
     * On every 429 and 503: seconds after which a retry may succeed (the `Retry-After` header's value), or `null`
     * when waiting does not help (a gauge quota). In the body because Appwrite's execution record keeps only
     * content-type and content-length: a `functions.createExecution` caller never sees the headers.
     */
    retryAfterSeconds?: number | null;
    /** The `RateLimit-Limit` / `-Remaining` / `-Reset` figures of the response, when it carries them. */
    rateLimit?: RateLimitFigures;
  };
  /** The execution's trace id, to quote in a support request. */
  traceId?: string;
}

/** The IETF RateLimit header figures, as a body field. `resetSeconds` is `null` when the limit never resets. */
export interface RateLimitFigures {
  limit: number;
  remaining: number;
  resetSeconds: number | null;
}

/** Codes whose responses tell the client when to come back. */
const RETRY_AFTER_DEFAULT: Partial<Record<string, number>> = {
  RETRYABLE: 1,
  CIRCUIT_OPEN: 5,
  QUOTA_EXCEEDED: 60,
  RATE_LIMITED: 1,
  // The write may have applied: re-read (or repeat with the same idempotency key) after a moment.
  OUTCOME_UNKNOWN: 1,
};

/** Client-facing messages for errors translated from Appwrite (their own messages are for logs). */
const DEPENDENCY_MESSAGES: Partial<Record<string, string>> = {
  INVALID_INPUT: 'The request was refused by a backing service (invalid id, cursor or value)',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflicting change; retry the request',
  BOUND_EXCEEDED: 'A limit would be crossed; nothing was written',
  RETRYABLE: 'Temporarily unavailable; retry later',
};

/**
 * The one error → response mapping: a ResilienceError renders with its code's status (400 with issues, 401,
 * 403, 404, 409, 429 with `Retry-After`, 503, 504…) plus its own headers (`retryAfterSeconds: null` → no
 * `Retry-After`, e.g. a gauge quota refusal, which waiting does not cure); anything else is a 500 with a
 * generic message (the cause is logged, never sent). An error translated from an Appwrite response
 * (`details.appwriteStatus`: the SDK's message, table names, row ids) keeps its code and status but gets a generic
 * message and no details, unless `options.dependencyDetails` (the kit sets it for server calls, i.e. API-key
 * holders, who see all of that anyway). Envelope: `{ ok:false, error:{ code, message, details?,
 * issues? }, traceId? }`.
 */
export function toResponse(
  error: unknown,
  traceId?: string,
  options: { dependencyDetails?: boolean } = {},
): Required<Omit<RouteResult, 'text'>> & { body: ErrorEnvelope } {
  if (!isResilienceError(error)) {
    return {
      status: 500,
      headers: {},
      body: {
        ok: false,
        error: { code: 'INTERNAL', message: 'Internal error' },
        ...(traceId ? { traceId } : {}),
      },
    };
  }
  const status = error.status ?? 500;
  const headers: Record<string, string> = { ...(error.headers ?? {}) };
  // `null` means the error knows no retry time exists (a gauge quota never resets): no default either.
  const retryAfter =
    error.retryAfterSeconds === null
      ? undefined
      : (error.retryAfterSeconds ?? RETRY_AFTER_DEFAULT[error.code]);
  const throttled = status === 429 || status === 503;
  const retryAfterSeconds = retryAfter === undefined ? null : Math.max(0, Math.ceil(retryAfter));
  if (retryAfterSeconds !== null && throttled) headers['retry-after'] = String(retryAfterSeconds);
  const rateLimit = rateLimitFigures(headers);
  const internal = status >= 500 && error.code === 'INTERNAL';
  // An error translated from an Appwrite response (the adapter puts `appwriteStatus` in its details) carries the
  // SDK's message, table names and row ids: the client gets the code and a generic message only.
  const fromDependency =
    !options.dependencyDetails && error.details !== undefined && 'appwriteStatus' in error.details;
  const generic = internal || fromDependency;
  return {
    status,
    headers,
    body: {
      ok: false,
      error: {
        code: error.code,
        message: internal
          ? 'Internal error'
          : fromDependency
            ? (DEPENDENCY_MESSAGES[error.code] ?? 'The request could not be completed')
            : error.message,
        ...(error.details && !generic ? { details: error.details } : {}),
        ...(error.issues?.length ? { issues: error.issues } : {}),
        // The headers' figures again, for callers that only see the body (executions through the SDK).
        ...(throttled ? { retryAfterSeconds } : {}),
        ...(rateLimit ? { rateLimit } : {}),
      },
      ...(traceId ? { traceId } : {}),
    },
  };
}

/** The RateLimit-* headers (any case) as numbers; `undefined` unless Limit and Remaining are both present. */
function rateLimitFigures(headers: Record<string, string>): RateLimitFigures | undefined {
  const byName = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const number = (name: string) => {
    const v = byName.get(name);
    const n = v === undefined ? Number.NaN : Number(v);
    return Number.isFinite(n) ? n : null;
  };
  const limit = number('ratelimit-limit');
  const remaining = number('ratelimit-remaining');
  if (limit === null || remaining === null) return undefined;
  return { limit, remaining, resetSeconds: number('ratelimit-reset') };
}

/** The field problems of a zod failure, as `{ path: 'a.b.0', message }`. */
export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** An INVALID_INPUT error for a zod failure on the given part of the request. */
export function invalidInput(part: string, error: z.ZodError): ResilienceError {
  return new ResilienceError('INVALID_INPUT', `Invalid ${part}`, { issues: zodIssues(error) });
}
