import type { z } from 'zod';
import { type FieldIssue, isResilienceError, ResilienceError } from '../errors.ts';

/** What a route handler returns: a status (default 200), a JSON body and extra headers. */
export interface RouteResult {
  status?: number;
  body?: unknown;
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
  };
  /** The execution's trace id, to quote in a support request. */
  traceId?: string;
}

/** Codes whose responses tell the client when to come back. */
const RETRY_AFTER_DEFAULT: Partial<Record<string, number>> = {
  RETRYABLE: 1,
  CIRCUIT_OPEN: 5,
  QUOTA_EXCEEDED: 60,
  RATE_LIMITED: 1,
};

/**
 * The one error → response mapping: a ResilienceError renders with its code's status (400 with issues, 401,
 * 403, 404, 409, 429 with `Retry-After`, 503, 504…) plus its own headers (`retryAfterSeconds: null` → no
 * `Retry-After`, e.g. a gauge quota refusal, which waiting does not cure); anything else is a 500 with a
 * generic message (the cause is logged, never sent). Envelope: `{ ok:false, error:{ code, message, details?,
 * issues? }, traceId? }`.
 */
export function toResponse(
  error: unknown,
  traceId?: string,
): Required<RouteResult> & { body: ErrorEnvelope } {
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
  if (retryAfter !== undefined && (status === 429 || status === 503)) {
    headers['retry-after'] = String(Math.max(0, Math.ceil(retryAfter)));
  }
  const internal = status >= 500 && error.code === 'INTERNAL';
  return {
    status,
    headers,
    body: {
      ok: false,
      error: {
        code: error.code,
        message: internal ? 'Internal error' : error.message,
        ...(error.details && !internal ? { details: error.details } : {}),
        ...(error.issues?.length ? { issues: error.issues } : {}),
      },
      ...(traceId ? { traceId } : {}),
    },
  };
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
