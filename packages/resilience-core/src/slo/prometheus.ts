import type { PrometheusSample, PrometheusWriter } from '../metrics/prometheus.ts';
import type { SloEvaluation } from './evaluate-slo.ts';

/**
 * SLOs in the Prometheus text format (names `resilience_slo_*`), from one evaluation. Labels: `slo` (the
 * SLO id), `function`, `kind` (availability | latency) and, per window, `window` (`5m`, `30m`, `1h`, `6h`, or
 * `30d` for the SLO window). Every family is a gauge: the figures are computed from execution records at scrape
 * time, not accumulated by a process.
 */
export function writeSloMetrics(writer: PrometheusWriter, evaluation: SloEvaluation): PrometheusWriter {
  const base = (s: SloEvaluation['statuses'][number]) => ({
    slo: s.spec.id,
    function: s.spec.functionId,
    kind: s.spec.kind,
  });
  const perSlo = (value: (s: SloEvaluation['statuses'][number]) => number): PrometheusSample[] =>
    evaluation.statuses.map((s) => ({ labels: base(s), value: value(s) }));
  const perWindow = (value: (w: SloEvaluation['statuses'][number]['slo']) => number): PrometheusSample[] =>
    evaluation.statuses.flatMap((s) =>
      [s.slo, ...s.windows].map((w) => ({
        labels: { ...base(s), window: w.window === 'slo' ? `${s.spec.windowDays}d` : w.window },
        value: value(w),
      })),
    );
  return writer
    .gauge(
      'resilience_slo_objective_ratio',
      'Target fraction of good events (e.g. 0.9995).',
      perSlo((s) => s.spec.objective),
    )
    .gauge(
      'resilience_slo_window_seconds',
      'Length of the SLO window (the error budget period), seconds.',
      perSlo((s) => s.spec.windowDays * 86_400),
    )
    .gauge(
      'resilience_slo_latency_threshold_seconds',
      'Latency SLOs: the slowest good execution, seconds.',
      evaluation.statuses
        .filter((s) => s.spec.kind === 'latency')
        .map((s) => ({ labels: base(s), value: (s.spec.thresholdMs ?? 0) / 1000 })),
    )
    .gauge(
      'resilience_slo_error_budget_remaining_ratio',
      'Error budget left over the SLO window: 1 untouched, 0 spent, negative when overspent.',
      perSlo((s) => s.budgetRemaining),
    )
    .gauge(
      'resilience_slo_burn_rate',
      'Bad-event fraction over the budget fraction in the window (1 = spending exactly the budget).',
      perWindow((w) => w.burnRate),
    )
    .gauge(
      'resilience_slo_events',
      'Finished executions counted in the window.',
      perWindow((w) => w.total),
    )
    .gauge(
      'resilience_slo_bad_events',
      'Bad executions (errors or slow) in the window.',
      perWindow((w) => w.bad),
    )
    .gauge(
      'resilience_slo_alert_firing',
      'Multi-window burn-rate alert (rule fast: 14.4x over 1h and 5m; slow: 6x over 6h and 30m) firing (1) or not (0).',
      evaluation.statuses.flatMap((s) =>
        (['fast', 'slow'] as const).map((rule) => ({
          labels: { ...base(s), rule },
          value: s.alerts.some((a) => a.rule === rule) ? 1 : 0,
        })),
      ),
    )
    .gauge(
      'resilience_slo_evaluation_round_trips',
      'Count calls (one row read each) the last SLO evaluation made.',
      evaluation.roundTrips,
    );
}
