import { readStoredBreakers, writeCircuitBreakerMetrics } from 'resilience-core/circuit-breaker';
import { collectJobMetrics, type JobMetrics, productJobTypes, writeJobMetrics } from 'resilience-core/jobs';
import { PrometheusWriter } from 'resilience-core/metrics';
import { evaluateSlos, type SloEvaluation, writeSloMetrics } from 'resilience-core/slo';
import type { LiveSystem } from './live-system.ts';
import { loadQuotas } from './panels.ts';

/** The console process, for the per-process breaker counters (`process` label). */
const PROCESS = { id: `ops-console-${process.pid}`, startedAt: Date.now() };

/**
 * One scrape of `GET /metrics`: breakers (fleet-wide, from the state table), the job queue, quotas and SLOs,
 * each read live (the same reads as a console refresh, less the rollouts panel), in the Prometheus text format.
 * The last family says how many API calls the scrape made.
 */
export async function renderMetrics(sys: LiveSystem): Promise<string> {
  const before = sys.calls.total;
  const sections: Record<string, boolean> = {};
  // A section that cannot be read still writes its families (HELP/TYPE, no samples) and reports itself down.
  const read = <T>(name: string, load: () => Promise<T>, empty: T): Promise<T> =>
    load().then(
      (v) => {
        sections[name] = true;
        return v;
      },
      () => {
        sections[name] = false;
        return empty;
      },
    );
  const [stored, jobs, quotas, slos] = await Promise.all([
    read('breakers', () => readStoredBreakers(sys.store, sys.clock), {
      breakers: [],
      truncated: false,
      roundTrips: 0,
    }),
    read(
      'jobs',
      () => collectJobMetrics({ store: sys.store, clock: sys.clock, windowMs: 3_600_000 }),
      null as JobMetrics | null,
    ),
    read('quotas', () => loadQuotas(sys), { rows: [], pending: [] } as Awaited<
      ReturnType<typeof loadQuotas>
    >),
    read('slos', () => evaluateSlos(sys.slos, { counter: sys.counter, clock: sys.clock }), {
      at: sys.clock.now(),
      statuses: [],
      roundTrips: 0,
    } as SloEvaluation),
  ]);
  const writer = new PrometheusWriter();
  writeCircuitBreakerMetrics(writer, { stored, process: PROCESS, snapshots: sys.breakers.snapshot() });
  if (jobs) writeJobMetrics(writer, jobs, { types: productJobTypes.map((t) => t.type) });
  const q = (r: (typeof quotas.rows)[number]) => ({
    org: r.orgId,
    quota_type: r.quotaType,
    window: r.window,
  });
  writer
    .gauge(
      'resilience_quota_usage',
      'Units used in the current window (gauges: units held), per organization and quota type.',
      quotas.rows.map((r) => ({ labels: q(r), value: r.used })),
    )
    .gauge(
      'resilience_quota_limit',
      'Effective limit in the current window (plan or override, plus approved increases in force).',
      quotas.rows.map((r) => ({ labels: q(r), value: r.limit })),
    )
    .gauge(
      'resilience_quota_usage_ratio',
      'Used over limit in the current window (1 = the limit is reached).',
      quotas.rows.map((r) => ({ labels: q(r), value: r.limit > 0 ? r.used / r.limit : r.used > 0 ? 1 : 0 })),
    )
    .gauge(
      'resilience_quota_reset_timestamp_seconds',
      'When the current window ends and usage resets, Unix seconds (windowed quotas only).',
      quotas.rows.flatMap((r) =>
        r.resetsAt ? [{ labels: q(r), value: Date.parse(r.resetsAt) / 1000 }] : [],
      ),
    )
    .gauge(
      'resilience_quota_increase_requests_pending',
      'Increase requests waiting for an admin decision, per organization.',
      [...new Set(quotas.pending.map((p) => p.orgId))].map((org) => ({
        labels: { org },
        value: quotas.pending.filter((p) => p.orgId === org).length,
      })),
    );
  writeSloMetrics(writer, slos);
  writer
    .gauge(
      'resilience_ops_console_section_up',
      'Whether the console could read a section (breakers, jobs, quotas, slos) for this scrape (1) or not (0).',
      Object.entries(sections)
        .sort()
        .map(([section, ok]) => ({ labels: { section }, value: ok ? 1 : 0 })),
    )
    .gauge(
      'resilience_ops_console_scrape_round_trips',
      'Appwrite API calls this scrape made.',
      sys.calls.total - before,
    );
  return writer.toString();
}
