import { type ErrorCode, isResilienceError, ResilienceError } from '../../errors.ts';

/**
 * Translation of Appwrite failures into port errors. The only place that knows Appwrite's error `type`
 * strings; nothing above the adapter sees an `AppwriteException` or undici's `TypeError: fetch failed`.
 *
 * Read structurally (`code` = HTTP status, `type` = Appwrite error type) so it works on errors thrown by any
 * copy of node-appwrite, including the one bundled into a function.
 */

/** What a failed Appwrite call looked like, as far as translation needs it. */
export interface AppwriteFailure {
  /** HTTP status, or 0 for a network failure (no response). */
  status: number;
  /** Appwrite error type (e.g. `row_already_exists`), or `network` / `unknown`. */
  type: string;
  message: string;
  /**
   * True when the request provably did not reach Appwrite (connection refused, DNS failure) or was refused
   * before any work (429), so even a non-idempotent call may be retried.
   */
  notApplied: boolean;
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Reads an unknown thrown value as an {@link AppwriteFailure}. */
export function readFailure(error: unknown): AppwriteFailure {
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; type?: unknown; message?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.code === 'number' && e.code >= 100) {
      return {
        status: e.code,
        type: typeof e.type === 'string' && e.type ? e.type : 'unknown',
        message: typeof e.message === 'string' ? e.message : 'Appwrite error',
        notApplied: e.code === 429,
      };
    }
    const causeCode = networkCode(e);
    if (e.name === 'TypeError' || e.name === 'AbortError' || e.name === 'TimeoutError' || causeCode) {
      return {
        status: 0,
        type: 'network',
        message: typeof e.message === 'string' ? e.message : 'network failure',
        notApplied: causeCode !== undefined && NOT_SENT_CODES.has(causeCode),
      };
    }
  }
  return { status: 0, type: 'unknown', message: String(error), notApplied: false };
}

/** The first string `code` (e.g. `ECONNREFUSED`, `UND_ERR_SOCKET`) on the error or its `cause` chain. */
function networkCode(value: unknown, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 5) return undefined;
  const code = (value as { code?: unknown }).code;
  if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR)/.test(code)) return code;
  return networkCode((value as { cause?: unknown }).cause, depth + 1);
}

/** True for failures worth retrying: 429, any 5xx, and network failures (no response). */
export function isTransient(f: AppwriteFailure): boolean {
  return f.status === 429 || f.status >= 500 || f.type === 'network';
}

/**
 * True for failures that are definite answers rather than faults: 404, 409 and a 400 bound crossed. The port
 * turns them into results or the domain errors callers handle (NOT_FOUND, CONFLICT, BOUND_EXCEEDED), e.g. a
 * compare-and-set lost to a concurrent writer. Nothing was written, and nothing is wrong with the deployment.
 */
export function isAnswer(f: AppwriteFailure): boolean {
  return (
    f.status === 404 ||
    f.status === 409 ||
    (f.status === 400 && (f.type === 'column_limit_exceeded' || f.type === 'attribute_limit_exceeded'))
  );
}

/**
 * The port error for a failed Appwrite call. `context` names the table/row for the message and details.
 * Mapping (platform notes C1, C2, C6):
 * - 409 `row_already_exists` / `document_already_exists` / `transaction_conflict` / `row_update_conflict`,
 *   and any other 409 (unique index) → `CONFLICT`
 * - 404 (`row_not_found`, `document_not_found` in a commit, `column_not_found` from increment of a missing
 *   row) → `NOT_FOUND`
 * - 400 `column_limit_exceeded` / `attribute_limit_exceeded` → `BOUND_EXCEEDED`
 * - 429, 5xx, network, 410 `transaction_expired` → `RETRYABLE`
 * - other 400 (`general_query_invalid`, `general_cursor_not_found`, …) → `INVALID_INPUT`
 * - 401/403 (missing scope, bad key) → `INTERNAL`: a deployment misconfiguration, not the caller's fault.
 */
export function translateAppwriteError(
  error: unknown,
  context: { operation: string; table?: string; id?: string },
): ResilienceError {
  if (isResilienceError(error)) return error;
  const f = readFailure(error);
  const where = `${context.operation}${context.table ? ` ${context.table}` : ''}${context.id ? `/${context.id}` : ''}`;
  const details: Record<string, unknown> = {
    ...(context.table ? { table: context.table } : {}),
    ...(context.id ? { id: context.id } : {}),
    appwriteStatus: f.status,
    appwriteType: f.type,
  };
  const make = (code: ErrorCode, message: string) =>
    new ResilienceError(code, message, { details, cause: error });

  if (f.type === 'network' || f.type === 'unknown') {
    if (f.type === 'unknown' && f.status === 0) return make('INTERNAL', `${where}: ${f.message}`);
    return make('RETRYABLE', `${where}: Appwrite unreachable (${f.message})`);
  }
  if (f.status === 429) return make('RETRYABLE', `${where}: rate limited by Appwrite`);
  if (f.status >= 500) return make('RETRYABLE', `${where}: Appwrite ${f.status} ${f.type}`);
  if (f.status === 409) {
    const message =
      f.type === 'transaction_conflict'
        ? `${where}: transaction conflict (a row changed concurrently, a duplicate id or a unique index)`
        : `${where}: already exists or violates a unique index (${f.type})`;
    return make('CONFLICT', message);
  }
  if (f.status === 404) return make('NOT_FOUND', `${where}: not found (${f.type})`);
  if (f.status === 410) return make('RETRYABLE', `${where}: ${f.type}`);
  if (f.status === 400 && (f.type === 'column_limit_exceeded' || f.type === 'attribute_limit_exceeded')) {
    return make('BOUND_EXCEEDED', `${where}: the bound would be crossed; nothing was written`);
  }
  if (f.status === 401 || f.status === 403) {
    return make(
      'INTERNAL',
      `${where}: Appwrite refused the key (${f.type}); check the API key and its scopes`,
    );
  }
  if (f.status >= 400 && f.status < 500) return make('INVALID_INPUT', `${where}: ${f.message} (${f.type})`);
  return make('INTERNAL', `${where}: ${f.message}`);
}
