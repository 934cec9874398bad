import type { PrometheusSample, PrometheusWriter } from '../metrics/prometheus.ts';
import type { Clock } from '../ports/clock.ts';
import type { ListResult, Row, TableStore } from '../ports/table-store.ts';
import { type CircuitStatus, circuitStatus } from './circuit-state.ts';
import type { CircuitSnapshot, RejectionReason } from './metrics.ts';
import { circuitStateFromRow } from './shared-circuit-store.ts';
import { CIRCUIT_BREAKERS_TABLE, circuitBreakerRowSchema } from './tables.ts';

/**
 * Circuit breakers in the Prometheus text format. Two sources, told apart by their labels:
 *
 * - Fleet-wide, from the `circuit-breakers` table (what every execution sees): state, isolation, re-openings,
 *   when the state began, and `transitions_total` (the row's version: +1 per written transition, so it is a
 *   true fleet-wide counter). Labels `breaker`, `scope` (the organization of a per-organization breaker, `""`
 *   for a global one).
 * - Per runtime process, from the registry's snapshots: calls, successes, failures, rejections by reason, slow
 *   calls, timeouts, fallbacks, probes and storage round trips. These counters live in one warm container and
 *   each scrape lands on whichever container Appwrite picks, so every series carries a `process` label (a
 *   random id per container) that keeps it monotonic; sum them with `sum by (breaker) (rate(...))`. A breaker a
 *   process has not used has no per-process series there.
 *
 * A scrape reads the state table only: ⌈min(rows, maxBreakers) / 1000⌉ list round trips (1 for up to 1,000
 * breakers), nothing else — outcome buckets are not read.
 */

/** One stored breaker as the metrics see it (state derived with the clock, as callers would see it). */
export interface StoredBreakerState {
  /** The row id. */
  key: string;
  name: string;
  /** Organization of a per-organization breaker; `null` for a global one. */
  scope: string | null;
  state: CircuitStatus;
  /** Written transitions so far (fleet-wide). */
  version: number;
  /** When the state began, epoch ms. */
  changedAt: number;
  /** When OPEN ends (epoch ms); `null` when closed or isolated. */
  openUntil: number | null;
  isolated: boolean;
  reopenCount: number;
  /** Why it last opened; `null` when closed. */
  reason: string | null;
}

/**
 * One `circuit-breakers` row as callers would see it at `now` (HALF_OPEN derived from the clock). The row is
 * parsed with the row schema: a corrupt row throws (it is a bug, not a metric).
 */
export function storedBreakerFromRow(raw: Row, now: number): StoredBreakerState {
  const row = circuitBreakerRowSchema.parse(raw);
  return {
    key: raw.$id,
    name: row.name,
    scope: row.scope,
    state: circuitStatus(circuitStateFromRow(row), now),
    version: row.version,
    changedAt: row.changedAt,
    openUntil: row.state === 'OPEN' && !row.isolated ? row.openUntil : null,
    isolated: row.isolated ?? false,
    reopenCount: row.reopenCount ?? 0,
    reason: row.reason,
  };
}

/** The stored breakers, with how the read went. */
export interface StoredBreakers {
  breakers: StoredBreakerState[];
  /** True when more than `maxBreakers` rows exist (the rest are not reported). */
  truncated: boolean;
  /** List calls made. */
  roundTrips: number;
}

/** Rows per list page (the TableStore cap). */
const PAGE = 1000;

/**
 * Reads every stored breaker, at most `maxBreakers` (default 5,000): one list call per 1,000 rows, each row
 * through {@link storedBreakerFromRow}.
 */
export async function readStoredBreakers(
  store: TableStore,
  clock: Clock,
  options: { maxBreakers?: number } = {},
): Promise<StoredBreakers> {
  const max = Math.max(1, Math.floor(options.maxBreakers ?? 5_000));
  const now = clock.now();
  const breakers: StoredBreakerState[] = [];
  let cursor: string | null = null;
  let roundTrips = 0;
  let truncated = false;
  do {
    const page: ListResult = await store.list(CIRCUIT_BREAKERS_TABLE, {
      limit: Math.min(PAGE, max - breakers.length),
      ...(cursor ? { cursor } : {}),
    });
    roundTrips++;
    for (const raw of page.rows) breakers.push(storedBreakerFromRow(raw, now));
    cursor = page.nextCursor;
    if (cursor && breakers.length >= max) {
      truncated = true;
      break;
    }
  } while (cursor);
  breakers.sort((a, b) => a.name.localeCompare(b.name) || (a.scope ?? '').localeCompare(b.scope ?? ''));
  return { breakers, truncated, roundTrips };
}

/** The runtime process the per-process counters belong to. */
export interface MetricsProcess {
  /** A random id per container (label `process`). */
  id: string;
  /** When the process started, epoch ms. */
  startedAt: number;
}

/** What {@link writeCircuitBreakerMetrics} renders. */
export interface CircuitBreakerMetricsInput {
  stored: StoredBreakers;
  process: MetricsProcess;
  /** This process's breaker snapshots (`registry.snapshot()`). */
  snapshots: readonly CircuitSnapshot[];
}

const STATES: readonly CircuitStatus[] = ['CLOSED', 'OPEN', 'HALF_OPEN'];
const REASONS: readonly RejectionReason[] = ['open', 'isolated', 'half-open-full', 'store-unavailable'];

/** Adds the circuit-breaker families (names `resilience_circuit_breaker_*`) to `writer`. */
export function writeCircuitBreakerMetrics(
  writer: PrometheusWriter,
  input: CircuitBreakerMetricsInput,
): PrometheusWriter {
  const stored = input.stored.breakers;
  const id = (b: { name: string; scope: string | null }) => ({ breaker: b.name, scope: b.scope ?? '' });
  const fleet = (value: (b: StoredBreakerState) => number | null): PrometheusSample[] =>
    stored.flatMap((b) => {
      const v = value(b);
      return v === null ? [] : [{ labels: id(b), value: v }];
    });

  writer
    .gauge(
      'resilience_circuit_breaker_state',
      'Shared breaker state as every execution sees it now: 1 for the current state, 0 for the others.',
      stored.flatMap((b) =>
        STATES.map((state) => ({ labels: { ...id(b), state }, value: b.state === state ? 1 : 0 })),
      ),
    )
    .counter(
      'resilience_circuit_breaker_transitions_total',
      'State transitions written fleet-wide (the shared state version).',
      fleet((b) => b.version),
    )
    .gauge(
      'resilience_circuit_breaker_isolated',
      'Forced open by an operator (1) or not (0).',
      fleet((b) => (b.isolated ? 1 : 0)),
    )
    .gauge(
      'resilience_circuit_breaker_reopen_count',
      'Consecutive re-openings not yet forgiven (drives the growing open duration).',
      fleet((b) => b.reopenCount),
    )
    .gauge(
      'resilience_circuit_breaker_state_changed_timestamp_seconds',
      'When the current state began, Unix seconds.',
      fleet((b) => b.changedAt / 1000),
    )
    .gauge(
      'resilience_circuit_breaker_open_until_timestamp_seconds',
      'When an open (not isolated) breaker starts admitting probes, Unix seconds.',
      fleet((b) => (b.openUntil === null ? null : b.openUntil / 1000)),
    )
    .gauge(
      'resilience_circuit_breaker_states_truncated',
      'Whether more breakers are stored than one scrape reports (1) or not (0).',
      input.stored.truncated ? 1 : 0,
    );

  const proc = input.process.id;
  const snaps = [...input.snapshots].sort(
    (a, b) => a.name.localeCompare(b.name) || (a.scope ?? '').localeCompare(b.scope ?? ''),
  );
  const local = (value: (s: CircuitSnapshot) => number): PrometheusSample[] =>
    snaps.map((s) => ({ labels: { ...id(s), process: proc }, value: value(s) }));
  const counters: [string, string, (s: CircuitSnapshot) => number][] = [
    ['calls', 'Calls that ran through the breaker (closed calls and probes).', (s) => s.counters.calls],
    ['successes', 'Calls that succeeded.', (s) => s.counters.successes],
    ['failures', 'Calls whose error counted against the breaker.', (s) => s.counters.failures],
    [
      'ignored_errors',
      'Errors the failure predicate did not count (e.g. a dependency 4xx).',
      (s) => s.counters.ignoredErrors,
    ],
    ['slow_calls', 'Calls slower than the slow-call threshold.', (s) => s.counters.slowCalls],
    ['timeouts', 'Calls that failed with TIMEOUT.', (s) => s.counters.timeouts],
    ['fallbacks', 'Calls answered by the fallback.', (s) => s.counters.fallbacks],
  ];
  writer.gauge(
    'resilience_process_start_time_seconds',
    'When this runtime process (label process) started, Unix seconds.',
    [{ labels: { process: proc }, value: input.process.startedAt / 1000 }],
  );
  for (const [name, help, value] of counters) {
    writer.counter(`resilience_circuit_breaker_${name}_total`, `${help} Per runtime process.`, local(value));
  }
  writer
    .counter(
      'resilience_circuit_breaker_rejections_total',
      'Calls rejected without running, by reason. Per runtime process.',
      snaps.flatMap((s) =>
        REASONS.map((reason) => ({
          labels: { ...id(s), process: proc, reason },
          value: s.counters.rejections[reason],
        })),
      ),
    )
    .counter(
      'resilience_circuit_breaker_probes_total',
      'Half-open probes by result (admitted, succeeded, failed, lease_lost). Per runtime process.',
      snaps.flatMap((s) =>
        (
          [
            ['admitted', s.counters.probes.admitted],
            ['succeeded', s.counters.probes.succeeded],
            ['failed', s.counters.probes.failed],
            ['lease_lost', s.counters.probes.leaseLost],
          ] as const
        ).map(([result, value]) => ({ labels: { ...id(s), process: proc, result }, value })),
      ),
    )
    .counter(
      'resilience_circuit_breaker_storage_round_trips_total',
      'Shared-state round trips, awaited by a caller (path="call") or in the background. Per runtime process.',
      snaps.flatMap((s) => [
        { labels: { ...id(s), process: proc, path: 'call' }, value: s.counters.storageRoundTrips.callPath },
        {
          labels: { ...id(s), process: proc, path: 'background' },
          value: s.counters.storageRoundTrips.background,
        },
      ]),
    )
    .gauge(
      'resilience_circuit_breaker_window_calls',
      'Calls in the failure-rate window as this process last saw it (fleet-wide when the store is reachable).',
      local((s) => s.window.calls),
    )
    .gauge(
      'resilience_circuit_breaker_window_failures',
      'Failures in the failure-rate window as this process last saw it.',
      local((s) => s.window.failures),
    )
    .gauge(
      'resilience_circuit_breaker_window_slow_calls',
      'Slow calls in the failure-rate window as this process last saw it.',
      local((s) => s.window.slow),
    )
    .gauge(
      'resilience_circuit_breaker_store_up',
      'Whether this process reaches the shared state table (1) or runs on local state (0).',
      local((s) => (s.storage.status === 'ok' ? 1 : 0)),
    );
  return writer;
}
