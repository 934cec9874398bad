/**
 * Sequential round trips of a piece of work: the longest chain of HTTP requests in which each one started only
 * after the previous one had answered. Requests are seen through undici's diagnostics channels (node-appwrite
 * sends every request through undici), so Teams lookups, row calls and each HTTP call of a transaction count
 * alike. Requests started side by side (Promise.all) overlap and form one step of the chain. A count, not a time:
 * it does not depend on how fast the machine or the server is.
 */
import diagnostics from 'node:diagnostics_channel';

interface Span {
  start: number;
  end: number;
}

/** What {@link measureCriticalPath} reports. */
export interface CriticalPath<T> {
  result: T;
  /** HTTP requests started. */
  requests: number;
  /** The longest chain of requests that each started after the previous one ended. */
  sequential: number;
}

let tick = 0;
const open = new Map<object, Span>();
let spans: Span[] | null = null;

const onCreate = (message: unknown) => {
  if (!spans) return;
  const span = { start: ++tick, end: Number.POSITIVE_INFINITY };
  open.set((message as { request: object }).request, span);
  spans.push(span);
};
const onEnd = (message: unknown) => {
  const request = (message as { request: object }).request;
  const span = open.get(request);
  if (!span) return;
  span.end = ++tick;
  open.delete(request);
};

/** Runs `fn` and measures its requests; only one measurement at a time (the channels are process-wide). */
export async function measureCriticalPath<T>(fn: () => Promise<T>): Promise<CriticalPath<T>> {
  if (spans) throw new Error('measureCriticalPath is already measuring');
  spans = [];
  diagnostics.subscribe('undici:request:create', onCreate);
  diagnostics.subscribe('undici:request:trailers', onEnd);
  diagnostics.subscribe('undici:request:error', onEnd);
  try {
    const result = await fn();
    const seen = spans;
    return { result, requests: seen.length, sequential: chainLength(seen) };
  } finally {
    spans = null;
    open.clear();
    diagnostics.unsubscribe('undici:request:create', onCreate);
    diagnostics.unsubscribe('undici:request:trailers', onEnd);
    diagnostics.unsubscribe('undici:request:error', onEnd);
  }
}

/** The longest chain of spans, each starting after the previous ended. */
function chainLength(all: readonly Span[]): number {
  const byStart = [...all].sort((a, b) => a.start - b.start);
  const depth = new Map<Span, number>();
  let longest = 0;
  for (const span of byStart) {
    let d = 1;
    for (const before of byStart) {
      if (before.start >= span.start) break;
      if (before.end < span.start) d = Math.max(d, (depth.get(before) ?? 1) + 1);
    }
    depth.set(span, d);
    longest = Math.max(longest, d);
  }
  return longest;
}
