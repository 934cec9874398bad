import { newId } from 'resilience-core';
import {
  type MetricsProcess,
  readStoredBreakers,
  writeCircuitBreakerMetrics,
} from 'resilience-core/circuit-breaker';
import { PROMETHEUS_CONTENT_TYPE, PrometheusWriter } from 'resilience-core/metrics';
import { processCircuitBreakers } from 'resilience-core/notify';
import { route } from '../deps.ts';

/**
 * `GET /metrics` (API key only): circuit breakers in the Prometheus text format 0.0.4 — fleet-wide state from
 * the shared table and this runtime process's counters (label `process`; see resilience-core
 * `circuit-breaker/prometheus.ts`). A scrape costs ⌈stored breakers / 1000⌉ list round trips (1 for up to
 * 1,000 breakers) and nothing else.
 */

/** When this container loaded the function (epoch ms). */
const loadedAt = Date.now();
let metricsProcess: MetricsProcess | undefined;

/**
 * This container: the per-process counters' `process` label and start time. The id is drawn on the first
 * scrape, not at load: `newId()` loads node:crypto, which costs every cold start several milliseconds.
 */
function thisProcess(): MetricsProcess {
  metricsProcess ??= { id: newId(), startedAt: loadedAt };
  return metricsProcess;
}

export const metricsRoutes = [
  route({
    method: 'GET',
    path: '/metrics',
    auth: 'key',
    summary: 'Circuit-breaker metrics (Prometheus text format 0.0.4)',
    handler: async ({ deps, clock }) => {
      const stored = await readStoredBreakers(deps.store, clock);
      const text = writeCircuitBreakerMetrics(new PrometheusWriter(), {
        stored,
        process: thisProcess(),
        snapshots: processCircuitBreakers(deps.setup).snapshot(),
      }).toString();
      return { text, headers: { 'content-type': PROMETHEUS_CONTENT_TYPE } };
    },
  }),
];
