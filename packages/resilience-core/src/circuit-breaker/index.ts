export {
  CircuitBreaker,
  type CircuitBreakerDeps,
  type ExecuteOptions,
  type Fallback,
} from './circuit-breaker.ts';
export type { CircuitState, CircuitStatus, ClosedState, OpenState } from './circuit-state.ts';
export type {
  CircuitCounters,
  CircuitEvent,
  CircuitSnapshot,
  CircuitTransition,
  RejectionReason,
} from './metrics.ts';
export {
  breakerNameSchema,
  type CircuitBreakerOptions,
  type CircuitBreakerSettings,
  type ResolvedCircuitBreakerOptions,
  resolveCircuitBreakerOptions,
} from './options.ts';
export { type CircuitBreakerPresetName, circuitBreakerPresets, isPresetName } from './presets.ts';
export {
  type CircuitBreakerMetricsInput,
  type MetricsProcess,
  readStoredBreakers,
  type StoredBreakerState,
  type StoredBreakers,
  storedBreakerFromRow,
  writeCircuitBreakerMetrics,
} from './prometheus.ts';
export {
  CircuitBreakerRegistry,
  type CircuitBreakerRegistryOptions,
  callWithCircuitBreaker,
  circuitBreakers,
  configureCircuitBreakers,
} from './registry.ts';
export {
  circuitBreakerKey,
  pruneCircuitBreakerRows,
  pruneCircuitBreakerRowsWithin,
} from './shared-circuit-store.ts';
export {
  CIRCUIT_BREAKER_BUCKETS_TABLE,
  CIRCUIT_BREAKER_PROBES_TABLE,
  CIRCUIT_BREAKERS_TABLE,
  type CircuitBreakerRow,
  type CircuitBucketRow,
  type CircuitProbeRow,
  circuitBreakerTables,
} from './tables.ts';
export { aggregateBuckets, LocalWindow, type WindowCounts } from './window.ts';
