import { newId } from '../ids.ts';

/** W3C `traceparent`: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The trace id of an execution: the trace id of an incoming W3C `traceparent` (so a caller's trace continues),
 * else `x-appwrite-execution-id`, else a fresh id (local runs).
 */
export function traceIdOf(headers: Record<string, string | undefined>): string {
  const parent = headers.traceparent?.trim().toLowerCase();
  const match = parent ? TRACEPARENT.exec(parent) : null;
  if (match?.[1] && !/^0+$/.test(match[1])) return match[1];
  const execution = headers['x-appwrite-execution-id']?.trim();
  if (execution) return execution;
  return newId();
}
