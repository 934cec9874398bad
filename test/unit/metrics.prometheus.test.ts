/**
 * Prometheus exposition of the circuit breakers (create-recognition `GET /metrics`) and of the job queue
 * (job-worker `GET /metrics?format=prometheus` / `accept: text/plain`): exact output for fixed snapshots, the
 * storage round trips a scrape costs, and the routes (API key only, content type, JSON kept by default).
 */
import createRecognition from 'fn-create-recognition/src/main.ts';
import jobWorker from 'fn-job-worker/src/main.ts';
import { MemoryOrgDirectory, MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  CIRCUIT_BREAKERS_TABLE,
  type CircuitSnapshot,
  circuitBreakerKey,
  readStoredBreakers,
  writeCircuitBreakerMetrics,
} from 'resilience-core/circuit-breaker';
import {
  collectJobMetrics,
  createJobQueue,
  type JobMetrics,
  productJobTypes,
  writeJobMetrics,
} from 'resilience-core/jobs';
import { PrometheusWriter } from 'resilience-core/metrics';
import { invoke, ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';

const T0 = Date.UTC(2026, 0, 1);

function breakerRow(name: string, scope: string | null, extra: Record<string, unknown>) {
  return {
    name,
    scope,
    state: 'CLOSED',
    version: 1,
    changedAt: T0,
    openUntil: null,
    isolated: false,
    reopenCount: 0,
    reason: null,
    ...extra,
  };
}

function snapshot(name: string, scope: string | null): CircuitSnapshot {
  return {
    name,
    key: 'k',
    scope,
    state: 'CLOSED',
    version: 2,
    changedAt: T0,
    openUntil: null,
    isolated: false,
    window: { calls: 12, failures: 3, slow: 1 },
    counters: {
      calls: 40,
      successes: 35,
      failures: 4,
      ignoredErrors: 1,
      slowCalls: 2,
      timeouts: 1,
      fallbacks: 6,
      rejections: { open: 5, isolated: 0, 'half-open-full': 1, 'store-unavailable': 0 },
      probes: { admitted: 2, succeeded: 1, failed: 1, leaseLost: 0 },
      storageRoundTrips: { callPath: 1, background: 9 },
      refreshesBeforeReject: { waited: 0, timedOut: 0 },
    },
    transitions: [],
    storage: { mode: 'shared', status: 'ok', since: null, lastError: null },
  };
}

describe('circuit breakers → Prometheus', () => {
  it('renders fleet-wide state from the table and per-process counters, exactly', async () => {
    const clock = new ManualClock(T0 + 60_000);
    const store = new MemoryTableStore({ clock });
    await store.create(
      CIRCUIT_BREAKERS_TABLE,
      circuitBreakerKey('slack', null),
      breakerRow('slack', null, { state: 'OPEN', version: 3, openUntil: T0 + 90_000, reopenCount: 1 }),
    );
    await store.create(
      CIRCUIT_BREAKERS_TABLE,
      circuitBreakerKey('teams', 'acme'),
      breakerRow('teams', 'acme', { state: 'OPEN', version: 1, openUntil: T0 + 30_000 }),
    );
    const stored = await readStoredBreakers(store, clock);
    const text = writeCircuitBreakerMetrics(new PrometheusWriter(), {
      stored,
      process: { id: 'p1', startedAt: T0 },
      snapshots: [snapshot('slack', null)],
    }).toString();
    expect(
      text,
    ).toBe(`# HELP resilience_circuit_breaker_state Shared breaker state as every execution sees it now: 1 for the current state, 0 for the others.
# TYPE resilience_circuit_breaker_state gauge
resilience_circuit_breaker_state{breaker="slack",scope="",state="CLOSED"} 0
resilience_circuit_breaker_state{breaker="slack",scope="",state="OPEN"} 1
resilience_circuit_breaker_state{breaker="slack",scope="",state="HALF_OPEN"} 0
resilience_circuit_breaker_state{breaker="teams",scope="acme",state="CLOSED"} 0
resilience_circuit_breaker_state{breaker="teams",scope="acme",state="OPEN"} 0
resilience_circuit_breaker_state{breaker="teams",scope="acme",state="HALF_OPEN"} 1
# HELP resilience_circuit_breaker_transitions_total State transitions written fleet-wide (the shared state version).
# TYPE resilience_circuit_breaker_transitions_total counter
resilience_circuit_breaker_transitions_total{breaker="slack",scope=""} 3
resilience_circuit_breaker_transitions_total{breaker="teams",scope="acme"} 1
# HELP resilience_circuit_breaker_isolated Forced open by an operator (1) or not (0).
# TYPE resilience_circuit_breaker_isolated gauge
resilience_circuit_breaker_isolated{breaker="slack",scope=""} 0
resilience_circuit_breaker_isolated{breaker="teams",scope="acme"} 0
# HELP resilience_circuit_breaker_reopen_count Consecutive re-openings not yet forgiven (drives the growing open duration).
# TYPE resilience_circuit_breaker_reopen_count gauge
resilience_circuit_breaker_reopen_count{breaker="slack",scope=""} 1
resilience_circuit_breaker_reopen_count{breaker="teams",scope="acme"} 0
# HELP resilience_circuit_breaker_state_changed_timestamp_seconds When the current state began, Unix seconds.
# TYPE resilience_circuit_breaker_state_changed_timestamp_seconds gauge
resilience_circuit_breaker_state_changed_timestamp_seconds{breaker="slack",scope=""} 1767225600
resilience_circuit_breaker_state_changed_timestamp_seconds{breaker="teams",scope="acme"} 1767225600
# HELP resilience_circuit_breaker_open_until_timestamp_seconds When an open (not isolated) breaker starts admitting probes, Unix seconds.
# TYPE resilience_circuit_breaker_open_until_timestamp_seconds gauge
resilience_circuit_breaker_open_until_timestamp_seconds{breaker="slack",scope=""} 1767225690
resilience_circuit_breaker_open_until_timestamp_seconds{breaker="teams",scope="acme"} 1767225630
# HELP resilience_circuit_breaker_states_truncated Whether more breakers are stored than one scrape reports (1) or not (0).
# TYPE resilience_circuit_breaker_states_truncated gauge
resilience_circuit_breaker_states_truncated 0
# HELP resilience_process_start_time_seconds When this runtime process (label process) started, Unix seconds.
# TYPE resilience_process_start_time_seconds gauge
resilience_process_start_time_seconds{process="p1"} 1767225600
# HELP resilience_circuit_breaker_calls_total Calls that ran through the breaker (closed calls and probes). Per runtime process.
# TYPE resilience_circuit_breaker_calls_total counter
resilience_circuit_breaker_calls_total{breaker="slack",scope="",process="p1"} 40
# HELP resilience_circuit_breaker_successes_total Calls that succeeded. Per runtime process.
# TYPE resilience_circuit_breaker_successes_total counter
resilience_circuit_breaker_successes_total{breaker="slack",scope="",process="p1"} 35
# HELP resilience_circuit_breaker_failures_total Calls whose error counted against the breaker. Per runtime process.
# TYPE resilience_circuit_breaker_failures_total counter
resilience_circuit_breaker_failures_total{breaker="slack",scope="",process="p1"} 4
# HELP resilience_circuit_breaker_ignored_errors_total Errors the failure predicate did not count (e.g. a dependency 4xx). Per runtime process.
# TYPE resilience_circuit_breaker_ignored_errors_total counter
resilience_circuit_breaker_ignored_errors_total{breaker="slack",scope="",process="p1"} 1
# HELP resilience_circuit_breaker_slow_calls_total Calls slower than the slow-call threshold. Per runtime process.
# TYPE resilience_circuit_breaker_slow_calls_total counter
resilience_circuit_breaker_slow_calls_total{breaker="slack",scope="",process="p1"} 2
# HELP resilience_circuit_breaker_timeouts_total Calls that failed with TIMEOUT. Per runtime process.
# TYPE resilience_circuit_breaker_timeouts_total counter
resilience_circuit_breaker_timeouts_total{breaker="slack",scope="",process="p1"} 1
# HELP resilience_circuit_breaker_fallbacks_total Calls answered by the fallback. Per runtime process.
# TYPE resilience_circuit_breaker_fallbacks_total counter
resilience_circuit_breaker_fallbacks_total{breaker="slack",scope="",process="p1"} 6
# HELP resilience_circuit_breaker_rejections_total Calls rejected without running, by reason. Per runtime process.
# TYPE resilience_circuit_breaker_rejections_total counter
resilience_circuit_breaker_rejections_total{breaker="slack",scope="",process="p1",reason="open"} 5
resilience_circuit_breaker_rejections_total{breaker="slack",scope="",process="p1",reason="isolated"} 0
resilience_circuit_breaker_rejections_total{breaker="slack",scope="",process="p1",reason="half-open-full"} 1
resilience_circuit_breaker_rejections_total{breaker="slack",scope="",process="p1",reason="store-unavailable"} 0
# HELP resilience_circuit_breaker_probes_total Half-open probes by result (admitted, succeeded, failed, lease_lost). Per runtime process.
# TYPE resilience_circuit_breaker_probes_total counter
resilience_circuit_breaker_probes_total{breaker="slack",scope="",process="p1",result="admitted"} 2
resilience_circuit_breaker_probes_total{breaker="slack",scope="",process="p1",result="succeeded"} 1
resilience_circuit_breaker_probes_total{breaker="slack",scope="",process="p1",result="failed"} 1
resilience_circuit_breaker_probes_total{breaker="slack",scope="",process="p1",result="lease_lost"} 0
# HELP resilience_circuit_breaker_storage_round_trips_total Shared-state round trips, awaited by a caller (path="call") or in the background. Per runtime process.
# TYPE resilience_circuit_breaker_storage_round_trips_total counter
resilience_circuit_breaker_storage_round_trips_total{breaker="slack",scope="",process="p1",path="call"} 1
resilience_circuit_breaker_storage_round_trips_total{breaker="slack",scope="",process="p1",path="background"} 9
# HELP resilience_circuit_breaker_window_calls Calls in the failure-rate window as this process last saw it (fleet-wide when the store is reachable).
# TYPE resilience_circuit_breaker_window_calls gauge
resilience_circuit_breaker_window_calls{breaker="slack",scope="",process="p1"} 12
# HELP resilience_circuit_breaker_window_failures Failures in the failure-rate window as this process last saw it.
# TYPE resilience_circuit_breaker_window_failures gauge
resilience_circuit_breaker_window_failures{breaker="slack",scope="",process="p1"} 3
# HELP resilience_circuit_breaker_window_slow_calls Slow calls in the failure-rate window as this process last saw it.
# TYPE resilience_circuit_breaker_window_slow_calls gauge
resilience_circuit_breaker_window_slow_calls{breaker="slack",scope="",process="p1"} 1
# HELP resilience_circuit_breaker_store_up Whether this process reaches the shared state table (1) or runs on local state (0).
# TYPE resilience_circuit_breaker_store_up gauge
resilience_circuit_breaker_store_up{breaker="slack",scope="",process="p1"} 1
`);
  });

  it('a scrape reads the state table only: 1 list for up to 1,000 breakers, 3 for 2,500, bounded by maxBreakers', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryTableStore({ clock });
    for (let i = 0; i < 2500; i++) {
      await store.create(CIRCUIT_BREAKERS_TABLE, `b${i}`, breakerRow('slack', `org${i}`, {}));
    }
    const before = store.stats.calls;
    const all = await readStoredBreakers(store, clock);
    expect({ n: all.breakers.length, trips: all.roundTrips, truncated: all.truncated }).toEqual({
      n: 2500,
      trips: 3,
      truncated: false,
    });
    expect(store.stats.calls - before).toBe(3);
    const capped = await readStoredBreakers(store, clock, { maxBreakers: 1000 });
    expect({ n: capped.breakers.length, trips: capped.roundTrips, truncated: capped.truncated }).toEqual({
      n: 1000,
      trips: 1,
      truncated: true,
    });
    const small = new MemoryTableStore({ clock });
    await small.create(CIRCUIT_BREAKERS_TABLE, 'one', breakerRow('email', null, {}));
    const s = await readStoredBreakers(small, clock);
    expect([s.roundTrips, small.stats.calls - 1]).toEqual([1, 1]);
  });
});

const NO_JOBS = {
  PENDING: 0,
  PROCESSING: 0,
  COMPLETED: 0,
  FAILED: 0,
  RETRYING: 0,
  DEAD_LETTER: 0,
  CANCELLED: 0,
};
const NO_LATENCY = { count: 0, p50: null, p95: null, p99: null, max: null, sum: 0 };

function jobMetrics(overrides: Partial<JobMetrics> = {}): JobMetrics {
  return {
    at: T0,
    windowMs: 3_600_000,
    depth: { ...NO_JOBS },
    depthByType: {},
    due: 0,
    oldestDueAgeMs: null,
    finishedInWindow: { ...NO_JOBS },
    throughputPerMinute: 0,
    failureRate: null,
    totalLatencyMs: NO_LATENCY,
    runLatencyMs: NO_LATENCY,
    waitLatencyMs: NO_LATENCY,
    scanned: 0,
    truncated: false,
    ...overrides,
  };
}

describe('job queue → Prometheus', () => {
  it('renders depth by type and status, due age, throughput, failure ratio and latency summaries, exactly', () => {
    const m = jobMetrics({
      at: T0,
      windowMs: 3_600_000,
      depth: {
        PENDING: 3,
        PROCESSING: 1,
        COMPLETED: 0,
        FAILED: 0,
        RETRYING: 1,
        DEAD_LETTER: 2,
        CANCELLED: 0,
      },
      depthByType: {
        'generate-export': { PENDING: 2, PROCESSING: 1 },
        'send-notification': { PENDING: 1, RETRYING: 1, DEAD_LETTER: 2 },
      },
      due: 3,
      oldestDueAgeMs: 42_500,
      finishedInWindow: {
        PENDING: 0,
        PROCESSING: 0,
        COMPLETED: 120,
        FAILED: 1,
        RETRYING: 0,
        DEAD_LETTER: 2,
        CANCELLED: 1,
      },
      throughputPerMinute: 2,
      failureRate: 3 / 124,
      totalLatencyMs: { count: 120, p50: 1500, p95: 4000, p99: 9000, max: 12_000, sum: 240_000 },
      runLatencyMs: { count: 120, p50: 250, p95: 900, p99: 1200, max: 2000, sum: 36_000 },
      waitLatencyMs: { count: 0, p50: null, p95: null, p99: null, max: null, sum: 0 },
      scanned: 131,
      truncated: false,
    });
    const text = writeJobMetrics(new PrometheusWriter(), m, { types: ['cleanup-recognitions'] }).toString();
    expect(
      text,
    ).toBe(`# HELP resilience_jobs_queue_depth Jobs waiting, running or dead-lettered, by type and status.
# TYPE resilience_jobs_queue_depth gauge
resilience_jobs_queue_depth{type="cleanup-recognitions",status="PENDING"} 0
resilience_jobs_queue_depth{type="cleanup-recognitions",status="RETRYING"} 0
resilience_jobs_queue_depth{type="cleanup-recognitions",status="PROCESSING"} 0
resilience_jobs_queue_depth{type="cleanup-recognitions",status="DEAD_LETTER"} 0
resilience_jobs_queue_depth{type="generate-export",status="PENDING"} 2
resilience_jobs_queue_depth{type="generate-export",status="RETRYING"} 0
resilience_jobs_queue_depth{type="generate-export",status="PROCESSING"} 1
resilience_jobs_queue_depth{type="generate-export",status="DEAD_LETTER"} 0
resilience_jobs_queue_depth{type="send-notification",status="PENDING"} 1
resilience_jobs_queue_depth{type="send-notification",status="RETRYING"} 1
resilience_jobs_queue_depth{type="send-notification",status="PROCESSING"} 0
resilience_jobs_queue_depth{type="send-notification",status="DEAD_LETTER"} 2
# HELP resilience_jobs_due Jobs due now (run-at passed) and not claimed yet.
# TYPE resilience_jobs_due gauge
resilience_jobs_due 3
# HELP resilience_jobs_oldest_due_age_seconds Age of the oldest due job (now minus its run-at), seconds; 0 when none is due.
# TYPE resilience_jobs_oldest_due_age_seconds gauge
resilience_jobs_oldest_due_age_seconds 42.5
# HELP resilience_jobs_finished_in_window Jobs that reached a final status within the metrics window, by status.
# TYPE resilience_jobs_finished_in_window gauge
resilience_jobs_finished_in_window{status="COMPLETED"} 120
resilience_jobs_finished_in_window{status="FAILED"} 1
resilience_jobs_finished_in_window{status="DEAD_LETTER"} 2
resilience_jobs_finished_in_window{status="CANCELLED"} 1
# HELP resilience_jobs_completed_per_second Throughput: jobs completed per second, averaged over the metrics window.
# TYPE resilience_jobs_completed_per_second gauge
resilience_jobs_completed_per_second 0.03333333333333333
# HELP resilience_jobs_failure_ratio (FAILED + DEAD_LETTER) / all jobs finished within the metrics window; no sample when none finished.
# TYPE resilience_jobs_failure_ratio gauge
resilience_jobs_failure_ratio 0.024193548387096774
# HELP resilience_jobs_latency_seconds Latency of jobs completed within the metrics window: phase="total" enqueue to completion, "wait" due to claim, "run" claim to completion. _count and _sum cover the window, not a process lifetime.
# TYPE resilience_jobs_latency_seconds summary
resilience_jobs_latency_seconds{phase="total",quantile="0.5"} 1.5
resilience_jobs_latency_seconds{phase="total",quantile="0.95"} 4
resilience_jobs_latency_seconds{phase="total",quantile="0.99"} 9
resilience_jobs_latency_seconds_sum{phase="total"} 240
resilience_jobs_latency_seconds_count{phase="total"} 120
resilience_jobs_latency_seconds{phase="wait",quantile="0.5"} NaN
resilience_jobs_latency_seconds{phase="wait",quantile="0.95"} NaN
resilience_jobs_latency_seconds{phase="wait",quantile="0.99"} NaN
resilience_jobs_latency_seconds_sum{phase="wait"} 0
resilience_jobs_latency_seconds_count{phase="wait"} 0
resilience_jobs_latency_seconds{phase="run",quantile="0.5"} 0.25
resilience_jobs_latency_seconds{phase="run",quantile="0.95"} 0.9
resilience_jobs_latency_seconds{phase="run",quantile="0.99"} 1.2
resilience_jobs_latency_seconds_sum{phase="run"} 36
resilience_jobs_latency_seconds_count{phase="run"} 120
# HELP resilience_jobs_metrics_window_seconds Length of the metrics window, seconds.
# TYPE resilience_jobs_metrics_window_seconds gauge
resilience_jobs_metrics_window_seconds 3600
# HELP resilience_jobs_metrics_scanned_rows Job rows read by this scrape.
# TYPE resilience_jobs_metrics_scanned_rows gauge
resilience_jobs_metrics_scanned_rows 131
# HELP resilience_jobs_metrics_truncated Whether a scan stopped at its row limit (1: the figures cover only the rows read).
# TYPE resilience_jobs_metrics_truncated gauge
resilience_jobs_metrics_truncated 0
`);
  });

  it('omits the failure ratio sample when no job finished, and reports a 0 due age when none is due', () => {
    const text = writeJobMetrics(new PrometheusWriter(), jobMetrics()).toString();
    expect(text).toContain(
      '# TYPE resilience_jobs_failure_ratio gauge\n# HELP resilience_jobs_latency_seconds',
    );
    expect(text).toContain('\nresilience_jobs_oldest_due_age_seconds 0\n');
  });

  it('a scrape costs 2 list round trips below 1,000 rows per scan, and ⌈rows/1000⌉ per scan above', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryTableStore({ clock });
    const queue = createJobQueue({ store, clock, types: productJobTypes });
    for (let i = 0; i < 30; i++) {
      await queue.enqueue({ orgId: 'acme', type: 'cleanup-recognitions', payload: { daysOld: 90 } });
    }
    let before = store.stats.calls;
    const small = await collectJobMetrics({ store, clock });
    expect(small.depth.PENDING).toBe(30);
    expect(store.stats.calls - before).toBe(2);
    for (let i = 0; i < 1_970; i++) {
      await queue.enqueue({ orgId: 'acme', type: 'cleanup-recognitions', payload: { daysOld: 90 } });
    }
    before = store.stats.calls;
    const large = await collectJobMetrics({ store, clock });
    expect(large.depth.PENDING).toBe(2000);
    // 2 pages of unfinished jobs + 1 (empty) page of finished ones.
    expect(store.stats.calls - before).toBe(3);
  });
});

describe('the metrics routes', () => {
  const key = { 'x-appwrite-key': 'secret' };

  it('create-recognition GET /metrics: API key only, Prometheus text with the stored breakers and this process', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryTableStore({ clock });
    const orgs = new MemoryOrgDirectory({ acme: { ann: ['owner'] } });
    const api = createRecognition.with({ env: {}, store, orgs, clock });
    const isolated = await invoke(api, {
      method: 'POST',
      path: '/circuit-breakers/slack/isolate',
      body: { reason: 'maintenance' },
      headers: key,
    });
    expect(isolated.status).toBe(200);

    const asUser = await invoke(api, {
      method: 'GET',
      path: '/metrics',
      headers: { 'x-appwrite-user-id': 'ann' },
    });
    expect(asUser.status).toBe(403);

    const before = store.stats.byMethod.list ?? 0;
    const calls = store.stats.calls;
    const out = await invoke(api, { method: 'GET', path: '/metrics', headers: key });
    expect(out.status).toBe(200);
    expect(out.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(store.stats.calls - calls).toBe(1);
    expect((store.stats.byMethod.list ?? 0) - before).toBe(1);
    const text = out.body as string;
    expect(text).toContain('resilience_circuit_breaker_state{breaker="slack",scope="",state="OPEN"} 1\n');
    expect(text).toContain('resilience_circuit_breaker_isolated{breaker="slack",scope=""} 1\n');
    expect(text).toContain('resilience_circuit_breaker_transitions_total{breaker="slack",scope=""} 1\n');
    expect(text).toMatch(
      /\nresilience_circuit_breaker_calls_total\{breaker="slack",scope="",process="[0-9a-f]+"\} 0\n/,
    );
    expect(text.endsWith('\n')).toBe(true);
  });

  it('job-worker GET /metrics keeps JSON by default and answers Prometheus text on ?format=prometheus or accept: text/plain', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryTableStore({ clock });
    const orgs = new MemoryOrgDirectory({ acme: { ann: ['owner'] } });
    const worker = jobWorker.with({ env: {}, store, orgs, clock });
    const queue = createJobQueue({ store, clock, types: productJobTypes });
    await queue.enqueue({ orgId: 'acme', type: 'generate-export', payload: {} });

    const json = await invoke(worker, { method: 'GET', path: '/metrics', headers: key });
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.body).toMatchObject({ depth: { PENDING: 1 }, due: 1 });

    for (const request of [
      { path: '/metrics?format=prometheus', headers: key },
      { path: '/metrics', headers: { ...key, accept: 'text/plain;version=0.0.4;q=0.3,*/*;q=0.2' } },
    ]) {
      const out = await invoke(worker, { method: 'GET', ...request });
      expect(out.status).toBe(200);
      expect(out.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = out.body as string;
      expect(text).toContain('resilience_jobs_queue_depth{type="generate-export",status="PENDING"} 1\n');
      expect(text).toContain('resilience_jobs_queue_depth{type="send-notification",status="PENDING"} 0\n');
      expect(text).toContain('\nresilience_jobs_due 1\n');
    }
    const forced = await invoke(worker, {
      method: 'GET',
      path: '/metrics?format=json',
      headers: { ...key, accept: 'text/plain' },
    });
    expect(forced.headers['content-type']).toBe('application/json');

    const bad = await invoke(worker, { method: 'GET', path: '/metrics?format=xml', headers: key });
    expect(bad.status).toBe(400);
    const user = await invoke(worker, {
      method: 'GET',
      path: '/metrics?format=prometheus',
      headers: { 'x-appwrite-user-id': 'ann' },
    });
    expect(user.status).toBe(403);
  });
});
