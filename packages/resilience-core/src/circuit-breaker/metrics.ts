import type { CircuitStatus } from './circuit-state.ts';
import type { WindowCounts } from './window.ts';

/** Why a call was rejected without running. */
export type RejectionReason = 'open' | 'isolated' | 'half-open-full' | 'store-unavailable';

/** A state change this execution made or observed. */
export interface CircuitTransition {
  from: CircuitStatus;
  to: CircuitStatus;
  /** When it was seen (epoch ms). */
  at: number;
  /** The stored version after it. */
  version: number;
  /** Why (e.g. the failure rate that tripped it, `probe succeeded`, `isolated by operator`). */
  reason: string;
  /** Whether this execution wrote it (`local`), or learned it from the shared state (`observed`). */
  origin: 'local' | 'observed';
}

/** Events a breaker emits; listeners get them synchronously and must not throw. */
export type CircuitEvent =
  | ({ type: 'transition'; breaker: string } & CircuitTransition)
  | { type: 'rejection'; breaker: string; reason: RejectionReason; at: number }
  /** `durationMs` is `null` unless slow-call detection is on (`slowCallDurationMs`). */
  | {
      type: 'failure';
      breaker: string;
      at: number;
      durationMs: number | null;
      timeout: boolean;
      error: unknown;
    }
  | { type: 'storage'; breaker: string; at: number; status: 'ok' | 'unreachable'; error?: string };

/** Plain counters since this breaker instance started (per execution / process, not fleet-wide). */
export interface CircuitCounters {
  /** Calls that ran (closed calls and probes). */
  calls: number;
  successes: number;
  /** Errors that counted against the breaker. */
  failures: number;
  /** Errors the failure predicate did not count (e.g. a dependency's 4xx). */
  ignoredErrors: number;
  /** Calls slower than `slowCallDurationMs` (successful or not). */
  slowCalls: number;
  /** Calls that failed with TIMEOUT. */
  timeouts: number;
  /** Calls answered by the fallback. */
  fallbacks: number;
  rejections: Record<RejectionReason, number>;
  probes: { admitted: number; succeeded: number; failed: number; leaseLost: number };
  /** Storage round trips: awaited by a caller, or done in the background. */
  storageRoundTrips: { callPath: number; background: number };
  /**
   * Calls about to be rejected on a stale cached OPEN state that first waited for a fresh read (`waited`),
   * and how many of those waits ran out of `refreshBeforeRejectMs` (`timedOut`). The read itself is counted
   * in `storageRoundTrips.background`.
   */
  refreshesBeforeReject: { waited: number; timedOut: number };
}

/** Everything a metrics endpoint needs about one breaker, JSON-serialisable. */
export interface CircuitSnapshot {
  name: string;
  /** The shared row id (includes the organization for per-organization breakers). */
  key: string;
  scope: string | null;
  state: CircuitStatus;
  version: number;
  /** When the state began (epoch ms). */
  changedAt: number;
  /** When OPEN ends (epoch ms), when open and not isolated. */
  openUntil: number | null;
  isolated: boolean;
  /** The last window totals this execution knows (shared when the store is reachable, else local). */
  window: WindowCounts;
  counters: CircuitCounters;
  /** The last transitions seen (newest last, at most 20). */
  transitions: CircuitTransition[];
  storage: {
    /** `shared` with a TableStore, `local-only` without one. */
    mode: 'shared' | 'local-only';
    status: 'ok' | 'unreachable';
    /** Since when unreachable (epoch ms). */
    since: number | null;
    lastError: string | null;
  };
}

/** Fresh zeroed counters. */
export function emptyCounters(): CircuitCounters {
  return {
    calls: 0,
    successes: 0,
    failures: 0,
    ignoredErrors: 0,
    slowCalls: 0,
    timeouts: 0,
    fallbacks: 0,
    rejections: { open: 0, isolated: 0, 'half-open-full': 0, 'store-unavailable': 0 },
    probes: { admitted: 0, succeeded: 0, failed: 0, leaseLost: 0 },
    storageRoundTrips: { callPath: 0, background: 0 },
    refreshesBeforeReject: { waited: 0, timedOut: 0 },
  };
}
