export {
  type EvaluateSlosOptions,
  evaluateSlos,
  type SloEvaluation,
  type SloStatus,
  type SloWindowStatus,
} from './evaluate-slo.ts';
export type {
  ExecutionCount,
  ExecutionCounter,
  ExecutionCountFilter,
} from './execution-counter.ts';
export { FUNCTION_SLOS } from './function-slos.ts';
export { writeSloMetrics } from './prometheus.ts';
export {
  memoryAlertLedger,
  notifierAlertSender,
  type SloAlert,
  type SloAlertLedger,
  type SloAlertOutcome,
  type SloAlertSender,
  sendSloAlerts,
} from './slo-alerts.ts';
export { defineSlos, type SloSpec, type SloSpecInput } from './slo-spec.ts';
