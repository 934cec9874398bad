/**
 * Blue-green rollouts for Appwrite Functions: a resumable, locked state machine over a `FunctionsPlatform`
 * port and the `TableStore`. Start with `RolloutOrchestrator` (or the seed API `createBlueGreen`).
 */

export * from '../ports/functions-platform.ts';
export * from './blue-green.ts';
export * from './json-shape.ts';
export { CLOCK_SKEW_MS, isProbeTimeout, mergeProbeTimeouts } from './rollout-checks.ts';
export * from './rollout-input.ts';
export * from './rollout-lock.ts';
export * from './rollout-orchestrator.ts';
export * from './rollout-policy.ts';
export * from './rollout-preflight.ts';
export * from './rollout-row.ts';
export * from './rollout-view.ts';
export * from './slo-gate.ts';
export * from './tables.ts';
export * from './watch-analysis.ts';
