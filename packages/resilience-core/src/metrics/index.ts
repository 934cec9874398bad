/**
 * Metrics exposition: the Prometheus text format writer (0.0.4). Each service maps its own snapshot next to
 * itself (`circuit-breaker/prometheus.ts`, `jobs/prometheus.ts`).
 */
export * from './prometheus.ts';
