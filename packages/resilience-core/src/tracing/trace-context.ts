import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the one representation of a trace in the core.
 *
 * An execution continues the caller's trace when it sends a valid `traceparent`, else starts a new one; every
 * log line carries `traceId` and `spanId`. A job stores the `traceparent` of the request that enqueued it; the
 * worker that runs it logs the same trace id with a span of its own ({@link childSpan}); an outgoing webhook
 * call sends `traceparent` ({@link formatTraceparent}) so the receiver joins the trace.
 */
export interface TraceContext {
  /** 32 lower-case hex characters, not all zero. */
  traceId: string;
  /** 16 lower-case hex characters, not all zero: this span. */
  spanId: string;
  /** The span this one continues (the caller's span id), when there was one. */
  parentSpanId?: string;
  /** The `sampled` flag (trace-flags bit 0). */
  sampled: boolean;
}

/** `version-traceid-parentid-flags`, version 00 (later versions may append fields, which are ignored). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Reads a `traceparent` header. Returns `null` for anything invalid (wrong shape, version ff, an all-zero
 * trace or parent id, extra fields on version 00), as the spec requires: the receiver then starts a new trace.
 * The result's `spanId` is the caller's span id; call {@link childSpan} to get this process's span.
 */
export function parseTraceparent(header: string | undefined | null): TraceContext | null {
  if (typeof header !== 'string') return null;
  const match = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match;
  if (!version || !traceId || !spanId || !flags) return null;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return null;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** The `traceparent` header value for a context (version 00). */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

/** A new span in the same trace, whose parent is `parent`'s span. */
export function childSpan(parent: TraceContext, random: (bytes: number) => string = randomHex): TraceContext {
  return {
    traceId: parent.traceId,
    spanId: nonZero(random, 8),
    parentSpanId: parent.spanId,
    sampled: parent.sampled,
  };
}

/** A new trace with a root span (sampled). */
export function newTrace(random: (bytes: number) => string = randomHex): TraceContext {
  return { traceId: nonZero(random, 16), spanId: nonZero(random, 8), sampled: true };
}

/** The context of an incoming request or job: a child span of a valid `traceparent`, else a new trace. */
export function continueTrace(
  traceparent: string | undefined | null,
  random: (bytes: number) => string = randomHex,
): TraceContext {
  const parent = parseTraceparent(traceparent);
  return parent ? childSpan(parent, random) : newTrace(random);
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function nonZero(random: (bytes: number) => string, bytes: number): string {
  for (;;) {
    const hex = random(bytes).toLowerCase();
    if (hex.length === bytes * 2 && /^[0-9a-f]+$/.test(hex) && !/^0+$/.test(hex)) return hex;
  }
}
