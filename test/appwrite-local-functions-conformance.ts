/**
 * Helpers of the Functions and Teams conformance suites (test/conformance/{functions,teams}-*.test.ts): what
 * Appwrite's PHP e2e tests read from a raw response (the status code, a validator) read here through the real
 * node-appwrite SDK and the local server's request trace.
 */

import type { TraceEntry } from 'appwrite-local';
import { AppwriteException, type Client } from 'node-appwrite';
import { expect } from 'vitest';

/** The status of the last response the server sent (the call just made: the suites run one call at a time). */
export function lastStatus(trace: readonly TraceEntry[], method?: string): number {
  const entries = method ? trace.filter((e) => e.method === method) : trace;
  const last = entries[entries.length - 1];
  if (!last) throw new Error('no request traced yet');
  return last.status;
}

/** The JSON body of the last response (undefined when it had none, as a 204). */
export function lastBody(trace: readonly TraceEntry[]): unknown {
  return trace[trace.length - 1]?.json;
}

/** Awaits a call that must fail; returns its AppwriteException (the PHP tests read status and type from it). */
export async function failure<T>(promise: Promise<T>): Promise<AppwriteException> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected the call to fail, it answered ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof AppwriteException)) throw outcome.error;
  return outcome.error;
}

/** Utopia's DatetimeValidator, as the tests use it: a date string that parses. */
export function isValidDatetime(value: unknown): boolean {
  return typeof value === 'string' && value !== '' && !Number.isNaN(Date.parse(value));
}

/** Headers that make a {@link rawCall} a guest's: the SDK client's key header blanked. */
export const AS_GUEST = { 'X-Appwrite-Key': '' };

/**
 * A raw call through the SDK's transport (`client.call`), for requests the typed methods cannot send as the PHP
 * test does (missing required params, extra params, wrong types). Resolves to the parsed body.
 */
export function rawCall(
  client: Client,
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
  path: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const url = new URL(client.config.endpoint + path);
  const all = { 'content-type': 'application/json', 'X-Appwrite-Project': client.config.project, ...headers };
  return client.call(method, url, all, params) as Promise<Record<string, unknown>>;
}

/** PHP's assertIsInt. */
export function expectInt(value: unknown): void {
  expect(Number.isInteger(value)).toBe(true);
}
