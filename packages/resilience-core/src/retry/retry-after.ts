/**
 * Reads a server's "come back later" hint, in milliseconds from `now`, from an error carrying
 * `retryAfterSeconds` (ResilienceError) or from an HTTP response (or an error holding one in `response`) with a
 * `Retry-After` header in seconds or as an HTTP date. `undefined` when there is none or it is unparseable.
 */
export function retryAfterMs(source: unknown, now: number): number | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const s = source as { retryAfterSeconds?: unknown; headers?: unknown; response?: unknown };
  if (
    typeof s.retryAfterSeconds === 'number' &&
    Number.isFinite(s.retryAfterSeconds) &&
    s.retryAfterSeconds >= 0
  ) {
    return s.retryAfterSeconds * 1000;
  }
  const header = headerValue(s.headers, 'retry-after');
  if (header !== undefined) return parseRetryAfter(header, now);
  if (s.response !== undefined && s.response !== source) return retryAfterMs(s.response, now);
  return undefined;
}

/** Parses a `Retry-After` header value (delta-seconds or HTTP-date) into ms from `now`. */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const h = headers as { get?: unknown } & Record<string, unknown>;
  if (typeof h.get === 'function') {
    const v = (h.get as (n: string) => unknown).call(headers, name);
    return typeof v === 'string' ? v : undefined;
  }
  for (const [key, v] of Object.entries(h)) if (key.toLowerCase() === name && typeof v === 'string') return v;
  return undefined;
}
