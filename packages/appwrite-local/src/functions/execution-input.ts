/**
 * Validation of POST /functions/{id}/executions (§A4, §A6): body (≤ 10 MB), async, path (≤ 2048), method,
 * headers (keys `[A-Za-z0-9-]`, no lower-case `x-appwrite-` prefix, ≤ 100 keys, ≤ 16 KB), scheduledAt (ISO-8601,
 * minute precision, ≥ 1 minute ahead, async only). Every failure is a 400 that changes nothing.
 */
import { invalidArgument } from '../errors.ts';
import { optionalBoolean } from '../wire.ts';

/** Largest execution body, characters. */
export const MAX_BODY_CHARS = 10_000_000;
/** Longest execution path, characters. */
export const MAX_PATH_CHARS = 2048;
/** Methods an execution may use. */
export const EXECUTION_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;

/** A validated createExecution request. */
export interface ExecutionParams {
  body: string;
  async: boolean;
  path: string;
  method: string;
  headers: Record<string, string>;
  /** Epoch ms, when scheduled. */
  scheduledAt?: number;
}

/** Parses and validates the JSON body of createExecution; `now` is the server clock in epoch ms. */
export function parseExecutionParams(body: Record<string, unknown>, now: number): ExecutionParams {
  const text = body.body ?? '';
  if (typeof text !== 'string' || text.length > MAX_BODY_CHARS) {
    throw invalidArgument(
      `Invalid \`body\` param: Value must be a valid string and at most ${MAX_BODY_CHARS} chars`,
    );
  }
  const isAsync = optionalBoolean(body.async, 'async', false);
  const rawPath = body.path ?? '/';
  if (typeof rawPath !== 'string' || rawPath.length > MAX_PATH_CHARS) {
    throw invalidArgument(
      `Invalid \`path\` param: Value must be a valid string and at most ${MAX_PATH_CHARS} chars`,
    );
  }
  const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
  const method = body.method ?? 'POST';
  if (typeof method !== 'string' || !(EXECUTION_METHODS as readonly string[]).includes(method)) {
    throw invalidArgument(`Invalid \`method\` param: Value must be one of (${EXECUTION_METHODS.join(', ')})`);
  }
  const params: ExecutionParams = {
    body: text,
    async: isAsync,
    path,
    method,
    headers: parseHeaders(body.headers),
  };
  if (body.scheduledAt !== undefined && body.scheduledAt !== null && body.scheduledAt !== '') {
    params.scheduledAt = parseScheduledAt(body.scheduledAt, now);
    if (!isAsync)
      throw invalidArgument(
        'Scheduled executions must run asynchronously. Set scheduledAt to a future date, or set async to true.',
      );
  }
  return params;
}

function parseHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidArgument('Invalid `headers` param: Value must be a valid object.');
  const entries = Object.entries(value as Record<string, unknown>);
  const invalid = (why: string) => invalidArgument(`Invalid \`headers\` param: ${why}`);
  if (entries.length > 100) throw invalid('Maximum of 100 headers allowed.');
  let size = 0;
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    if (!/^[A-Za-z0-9-]+$/.test(key))
      throw invalid(`Header key "${key.slice(0, 64)}" may contain only alphanumerics and hyphens.`);
    if (key.startsWith('x-appwrite-')) throw invalid('Header keys starting with "x-appwrite-" are reserved.');
    if (typeof v !== 'string') throw invalid(`Header "${key}" must be a string.`);
    size += key.length + v.length;
    out[key] = v;
  }
  if (size > 16_384) throw invalid('Headers must be at most 16 KB in total.');
  return out;
}

function parseScheduledAt(value: unknown, now: number): number {
  const bad = (why: string) => invalidArgument(`Invalid \`scheduledAt\` param: ${why}`);
  if (typeof value !== 'string') throw bad('Value must be valid date in ISO 8601 format.');
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value) || Number.isNaN(ms)) {
    throw bad('Value must be valid date in ISO 8601 format.');
  }
  if (ms % 60_000 !== 0)
    throw bad('Value must be valid date with minutes precision (seconds and milliseconds must be 0).');
  if (ms < now + 60_000) throw bad('Value must be valid date at least 60 seconds in the future.');
  return ms;
}
