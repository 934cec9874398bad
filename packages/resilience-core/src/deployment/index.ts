/**
 * Blue-green rollouts for Appwrite Functions: a resumable, locked state machine over a `FunctionsPlatform`
 * port and the `TableStore`. Start with `RolloutOrchestrator` (or the seed API `createBlueGreen`).
 */

export {
  type CodeBundle,
  countingPlatform,
  type DeploymentInfo,
  type DeploymentStatus,
  type ExecutionInfo,
  type ExecutionPage,
  type ExecutionQuery,
  type ExecutionRequest,
  type ExecutionStatus,
  type FunctionInfo,
  type FunctionsPlatform,
  type PlatformCallStats,
} from '../ports/functions-platform.ts';
export {
  type BlueGreen,
  type BlueGreenOptions,
  type BlueGreenResult,
  createBlueGreen,
} from './blue-green.ts';
export { type JsonShape, jsonShapeSchema, matchJsonShape } from './json-shape.ts';
export { mergeProbeTimeouts } from './rollout-checks.ts';
export { parseRolloutPolicy, type StartRolloutInput } from './rollout-input.ts';
export {
  type AcquireResult,
  commitFenced,
  type HeldLock,
  type HolderGone,
  releaseRolloutLock,
  rolloutLockIdOf,
  tryAcquireRolloutLock,
} from './rollout-lock.ts';
export {
  type ResumeOptions,
  type RollbackOutcome,
  type RolloutEvent,
  type RolloutHistoryPage,
  RolloutOrchestrator,
  type RolloutOrchestratorOptions,
  type RunOptions,
} from './rollout-orchestrator.ts';
export {
  type RolloutPolicy,
  type RolloutPolicyInput,
  rolloutBackoffDelay,
  type SmokeRequest,
  type SmokeRequestInput,
} from './rollout-policy.ts';
export { twinProblems } from './rollout-preflight.ts';
export {
  ACTIVE_STATUSES,
  canTransition,
  type EventRow,
  type LockRow,
  ROLLOUT_STATUSES,
  ROLLOUT_TRANSITIONS,
  type RolloutRow,
  type RolloutStatus,
} from './rollout-row.ts';
export type { BlueStatus, GreenStatus, RolloutView } from './rollout-view.ts';
export { createSloGate, minEventsFor, type SloGate, type SloGateOptions } from './slo-gate.ts';
export { deploymentTables, EVENTS_TABLE, LOCKS_TABLE, ROLLOUTS_TABLE } from './tables.ts';
export { evaluateWatch, type WatchSummary, type WatchVerdict } from './watch-analysis.ts';
