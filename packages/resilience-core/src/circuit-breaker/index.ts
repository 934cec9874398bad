export { countsAsFailure, isTransportError, isUnhealthyStatus, statusOf } from '../error-classification.ts';
export {
  CircuitBreaker,
  type CircuitBreakerDeps,
  type ExecuteOptions,
  type Fallback,
} from './circuit-breaker.ts';
export {
  type CircuitState,
  type CircuitStatus,
  type ClosedState,
  circuitStateSchema,
  circuitStatus,
  closedStateSchema,
  initialCircuitState,
  type OpenState,
  openStateSchema,
} from './circuit-state.ts';
export type {
  CircuitCounters,
  CircuitEvent,
  CircuitSnapshot,
  CircuitTransition,
  RejectionReason,
} from './metrics.ts';
export {
  breakerNameSchema,
  breakerScopeSchema,
  type CircuitBreakerOptions,
  type CircuitBreakerSettings,
  circuitBreakerSettingsSchema,
  openDurationFor,
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
  circuitStateFromRow,
  pruneCircuitBreakerRows,
  pruneCircuitBreakerRowsWithin,
} from './shared-circuit-store.ts';
export * from './tables.ts';
export { aggregateBuckets, judgeWindow, LocalWindow, type WindowCounts } from './window.ts';
