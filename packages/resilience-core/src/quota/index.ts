/** The quota service: atomic per-organization quotas with windows, limits, reservations, alerts and resets. */

export { type AlertOutcome, crossedThresholds, forgetKnownAlerts, thresholdUnits } from './alerts.ts';
export {
  decideIncreaseRequest,
  expireIncreases,
  getIncreaseRequest,
  type IncreaseRequest,
  type IncreaseRequestInput,
  increaseDecisionInputSchema,
  increaseRequestInputSchema,
  listIncreaseRequests,
  listQuotaAudit,
  type QuotaActor,
  type QuotaAuditEntry,
  type QuotaSettingsInput,
  quotaSettingsInputSchema,
  submitIncreaseRequest,
  updateQuotaSettings,
} from './increase-requests.ts';
export {
  type ActiveIncrease,
  computeLimits,
  type LimitInputs,
  type LimitOverrides,
  type LimitSource,
  type OrgQuotaContext,
  PLAN_LIMITS,
} from './limits.ts';
export {
  type QuotaCheckResult,
  type QuotaRequest,
  quotaEnforcementMiddleware,
  type RecordQuotaUsageOptions,
  type RecordQuotaUsageResult,
  recordQuotaUsageMiddleware,
} from './middleware.ts';
export type { QuotaLogger, QuotaNotification, QuotaNotifier } from './notifier.ts';
export {
  createQuotaService,
  type MultiQuotaDecision,
  type QuotaDecision,
  type QuotaItem,
  QuotaService,
  type QuotaServiceOptions,
  quotaExceededError,
  type ReservationDecision,
  rateLimitHeaders,
  tightestDecision,
  type UsageTicket,
} from './quota-service.ts';
export {
  MAX_QUOTA_AMOUNT,
  type QuotaType,
  type QuotaTypeDefinition,
  quotaTypeSchema,
  type WindowKind,
} from './quota-types.ts';
export { quotaRecognitionHooks } from './recognition-hooks.ts';
export {
  type PastWindowReport,
  type QuotaReport,
  type QuotaTypeReport,
  REPORT_PAST_MAX,
  usageReport,
} from './report.ts';
export { type QuotaResetOptions, type QuotaResetReport, runQuotaReset, summaryOf } from './reset.ts';
export {
  historyRowId,
  INCREASE_STATUSES,
  type IncreaseStatus,
  type PlanTier,
  QUOTA_TABLES,
  type QuotaAlertRow,
  type QuotaAuditRow,
  type QuotaHistoryRow,
  type QuotaIncreaseRequestRow,
  type QuotaReservationRow,
  type QuotaSettingsRow,
  type QuotaUsageRow,
  usageRowId,
} from './rows.ts';
export { quotaTables } from './tables.ts';
export {
  isValidTimeZone,
  nextWindow,
  previousWindow,
  type QuotaWindow,
  secondsUntilReset,
  utcOffset,
  type WallClock,
  windowAt,
  windowKeyAt,
  windowOfKey,
} from './windows.ts';
