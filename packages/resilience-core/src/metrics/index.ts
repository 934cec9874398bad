/**
 * Metrics exposition: the Prometheus text format writer (0.0.4). Each service maps its own snapshot next to
 * itself (`circuit-breaker/prometheus.ts`, `jobs/prometheus.ts`).
 */

export {
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusHistogramSample,
  type PrometheusLabels,
  type PrometheusMetricType,
  type PrometheusSample,
  type PrometheusSummarySample,
  PrometheusWriter,
  prefersPrometheusText,
} from './prometheus.ts';
