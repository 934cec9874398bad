import type { PrometheusWriter } from '../metrics/prometheus.ts';
import type { JobStatus } from './job-row.ts';
import type { JobMetrics, Percentiles } from './metrics.ts';

/**
 * The job queue in the Prometheus text format, from a {@link JobMetrics} snapshot (`collectJobMetrics`). Every
 * family is a gauge or a summary computed from the `job-queue` table at scrape time: the queue keeps no
 * cumulative counters, so there is no `_total` here, and the summaries' `_count`/`_sum` cover the metrics
 * window (jobs completed in the last `windowMs`), not a process lifetime.
 *
 * Cost of a scrape = the cost of `collectJobMetrics`: two scans (unfinished jobs; jobs finished in the window),
 * each ⌈rows / 1000⌉ list round trips with a minimum of 1 and a maximum of ⌈maxRows / 1000⌉ (10 at the default
 * 10,000) — 2 round trips while each scan has fewer than 1,000 rows, never more than 20.
 */

/** Statuses of unfinished jobs (and dead letters) reported as queue depth. */
const DEPTH_STATUSES: readonly JobStatus[] = ['PENDING', 'RETRYING', 'PROCESSING', 'DEAD_LETTER'];
/** Final statuses reported as finished within the window. */
const FINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'DEAD_LETTER', 'CANCELLED'];
const QUANTILES = [
  [0.5, 'p50'],
  [0.95, 'p95'],
  [0.99, 'p99'],
] as const;

/** Options of {@link writeJobMetrics}. */
export interface JobPrometheusOptions {
  /** Job types always reported (0 when none are queued), so series do not vanish. Others appear when queued. */
  types?: readonly string[];
}

/** Adds the job-queue families (names `resilience_jobs_*`) to `writer`. */
export function writeJobMetrics(
  writer: PrometheusWriter,
  m: JobMetrics,
  options: JobPrometheusOptions = {},
): PrometheusWriter {
  const types = [...new Set([...(options.types ?? []), ...Object.keys(m.depthByType)])].sort();
  const seconds = (ms: number | null) => (ms === null ? Number.NaN : ms / 1000);
  const summary = (phase: string, p: Percentiles) => ({
    labels: { phase },
    quantiles: QUANTILES.map(([quantile, key]) => ({ quantile, value: seconds(p[key]) })),
    sum: p.sum / 1000,
    count: p.count,
  });
  writer
    .gauge(
      'resilience_jobs_queue_depth',
      'Jobs waiting, running or dead-lettered, by type and status.',
      types.flatMap((type) =>
        DEPTH_STATUSES.map((status) => ({
          labels: { type, status },
          value: m.depthByType[type]?.[status] ?? 0,
        })),
      ),
    )
    .gauge('resilience_jobs_due', 'Jobs due now (run-at passed) and not claimed yet.', m.due)
    .gauge(
      'resilience_jobs_oldest_due_age_seconds',
      'Age of the oldest due job (now minus its run-at), seconds; 0 when none is due.',
      m.oldestDueAgeMs === null ? 0 : m.oldestDueAgeMs / 1000,
    )
    .gauge(
      'resilience_jobs_finished_in_window',
      'Jobs that reached a final status within the metrics window, by status.',
      FINAL_STATUSES.map((status) => ({ labels: { status }, value: m.finishedInWindow[status] })),
    )
    .gauge(
      'resilience_jobs_completed_per_second',
      'Throughput: jobs completed per second, averaged over the metrics window.',
      m.throughputPerMinute / 60,
    )
    .gauge(
      'resilience_jobs_failure_ratio',
      '(FAILED + DEAD_LETTER) / all jobs finished within the metrics window; no sample when none finished.',
      m.failureRate === null ? [] : [{ value: m.failureRate }],
    )
    .summary(
      'resilience_jobs_latency_seconds',
      'Latency of jobs completed within the metrics window: phase="total" enqueue to completion, "wait" due ' +
        'to claim, "run" claim to completion. _count and _sum cover the window, not a process lifetime.',
      [summary('total', m.totalLatencyMs), summary('wait', m.waitLatencyMs), summary('run', m.runLatencyMs)],
    )
    .gauge(
      'resilience_jobs_metrics_window_seconds',
      'Length of the metrics window, seconds.',
      m.windowMs / 1000,
    )
    .gauge('resilience_jobs_metrics_scanned_rows', 'Job rows read by this scrape.', m.scanned)
    .gauge(
      'resilience_jobs_metrics_truncated',
      'Whether a scan stopped at its row limit (1: the figures cover only the rows read).',
      m.truncated ? 1 : 0,
    );
  return writer;
}
