/**
 * Persisted quota rows: one zod schema per table (rows read from storage are parsed — a corrupt row is a bug),
 * the table ids, and the deterministic row ids that make consumption, alerts and history idempotent.
 * Datetimes are ISO-8601 strings as Appwrite returns them; counts are whole units of the quota type's unit.
 */
import { z } from 'zod';
import { stableId } from '../ids.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { QUOTA_TYPE_NAMES } from './quota-types.ts';

/** Table ids. */
export const QUOTA_TABLES = {
  usage: 'quota-usage',
  settings: 'quota-settings',
  increaseRequests: 'quota-increase-requests',
  audit: 'quota-audit',
  history: 'quota-history',
  alerts: 'quota-alerts',
  reservations: 'quota-reservations',
} as const;

/** The plan tiers. */
export const PLAN_TIERS = ['free', 'pro', 'enterprise'] as const;
/** A plan tier. */
export type PlanTier = (typeof PLAN_TIERS)[number];

const quotaTypeColumn = lazySchema(() => z.enum(QUOTA_TYPE_NAMES));
/** A datetime column's value: ISO-8601 with an offset, as Appwrite returns it (`2026-03-08T00:00:00.000+00:00`). */
const isoDate = lazySchema(() => z.iso.datetime({ offset: true }));
const count = lazySchema(() => z.number().int().min(0));

/** `quota-usage`: the counter of one (organization, quota type, window). Id: {@link usageRowId}. */
export const quotaUsageRowSchema = lazySchema(() =>
  z.object({
    orgId: z.string(),
    quotaType: quotaTypeColumn,
    /** Window key in the org's zone (`2026-03-08`, `2026-03-08T14`, `2026-03`, `gauge`). */
    windowKey: z.string(),
    /** Window start/end (end exclusive); null for gauges, which never reset. */
    windowStart: isoDate.nullable(),
    windowEnd: isoDate.nullable(),
    /** IANA zone the window was computed in. Default `UTC`. */
    timeZone: z.string(),
    /** Units consumed in the window, reservations included. Never above the limit unless in shadow mode. Default 0. */
    used: count,
    /** Units of `used` held by open reservations (committed or released later). Default 0. */
    reserved: count.nullable().transform((v) => v ?? 0),
  }),
);
/** A `quota-usage` row's columns. */
export type QuotaUsageRow = z.infer<typeof quotaUsageRowSchema>;

/** `quota-settings`: one row per organization (id {@link settingsRowId}), written by operators, not members. */
export const quotaSettingsRowSchema = lazySchema(() =>
  z.object({
    orgId: z.string(),
    /** Plan tier; default `pro` (the seed's limits). */
    plan: z.enum(PLAN_TIERS),
    /** IANA zone windows align to. Default `UTC`. */
    timeZone: z.string(),
    /** JSON object `{ quotaType: limit }` replacing the plan's limit for that type. Default `{}`. */
    overrides: z.string(),
    /** Quota types in shadow mode for this org: counted and logged, never refused. Default `[]`. */
    shadow: z
      .array(quotaTypeColumn)
      .nullable()
      .transform((v) => v ?? []),
    /** Who last changed the row (user id, or `system`). */
    updatedBy: z.string(),
  }),
);
/** A `quota-settings` row's columns. */
export type QuotaSettingsRow = z.infer<typeof quotaSettingsRowSchema>;

/** Statuses of an increase request: pending → approved | rejected; approved → expired when its duration ends. */
export const INCREASE_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
/** An increase request's status. */
export type IncreaseStatus = (typeof INCREASE_STATUSES)[number];

/** `quota-increase-requests`: a member's request to raise one quota's limit. */
export const quotaIncreaseRequestRowSchema = lazySchema(() =>
  z.object({
    orgId: z.string(),
    quotaType: quotaTypeColumn,
    /** Units added to the effective limit while approved. */
    amount: z.number().int().positive(),
    /** How long an approval lasts, in days; null = permanent. */
    durationDays: z.number().int().positive().nullable(),
    reason: z.string(),
    status: z.enum(INCREASE_STATUSES),
    requestedBy: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: isoDate.nullable(),
    decisionNote: z.string().nullable(),
    /** When an approved temporary increase stops counting; null while pending, or when permanent. */
    expiresAt: isoDate.nullable(),
    /** Compare-and-set counter: bumped by exactly one decision. Starts at 0. */
    version: count,
  }),
);
/** A `quota-increase-requests` row's columns. */
export type QuotaIncreaseRequestRow = z.infer<typeof quotaIncreaseRequestRowSchema>;

/** Audited actions. */
export const AUDIT_ACTIONS = [
  'increase.submitted',
  'increase.approved',
  'increase.rejected',
  'increase.expired',
  'settings.updated',
] as const;

/** `quota-audit`: an append-only record of every change to limits, written in the same transaction as the change. */
export const quotaAuditRowSchema = lazySchema(() =>
  z.object({
    orgId: z.string(),
    /** User id, or `system` for the quota-reset cron. */
    actorId: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    quotaType: quotaTypeColumn.nullable(),
    requestId: z.string().nullable(),
    /** JSON object with the change (amounts, statuses, notes). */
    detail: z.string(),
    at: isoDate,
  }),
);
/** A `quota-audit` row's columns. */
export type QuotaAuditRow = z.infer<typeof quotaAuditRowSchema>;

/** `quota-history`: a closed window's final usage, written by quota-reset. Id: {@link historyRowId}. */
export const quotaHistoryRowSchema = lazySchema(() =>
  z.object({
    orgId: z.string(),
    quotaType: quotaTypeColumn,
    windowKey: z.string(),
    windowStart: isoDate,
    windowEnd: isoDate,
    timeZone: z.string(),
    /** Units consumed in the window when it closed. */
    used: count,
    /** The effective limit as resolved when quota-reset rolled the window up (normally minutes after it closed). */
    limit: count,
    /** True once a period summary has covered this window. Default false. */
    summarized: z.boolean(),
  }),
);
/** A `quota-history` row's columns. */
export type QuotaHistoryRow = z.infer<typeof quotaHistoryRowSchema>;

/** Kinds of notification the quota service sends. */
export const ALERT_KINDS = ['threshold', 'summary'] as const;
/** Delivery state of an alert row. */
export const ALERT_STATUSES = ['sending', 'sent', 'failed'] as const;

/** `quota-alerts`: one row per alert ever due; its deterministic id makes each alert go out once per window. */
export const quotaAlertRowSchema = lazySchema(() =>
  z.object({
    orgId: z.string(),
    kind: z.enum(ALERT_KINDS),
    /** The quota alerted on; null for summaries. */
    quotaType: quotaTypeColumn.nullable(),
    /** Usage window (thresholds) or summary period (UTC day `2026-03-08`). */
    windowKey: z.string(),
    /** Percent of the limit (80 or 100); null for summaries. */
    threshold: z.number().int().min(0).max(100).nullable(),
    status: z.enum(ALERT_STATUSES),
    /** Delivery attempts made. */
    attempts: count,
    lastError: z.string().nullable(),
    /** The message sent, as JSON (so a failed alert can be retried verbatim). */
    payload: z.string(),
    /** After this instant the row may be pruned (window end + retention). */
    pruneAfter: isoDate,
  }),
);
/** A `quota-alerts` row's columns. */
export type QuotaAlertRow = z.infer<typeof quotaAlertRowSchema>;

/** `quota-reservations`: units held for a long operation until committed, released, or expired. */
export const quotaReservationRowSchema = lazySchema(() =>
  z.object({
    orgId: z.string(),
    quotaType: quotaTypeColumn,
    /** The usage row the units were taken from. */
    usageId: z.string(),
    windowKey: z.string(),
    amount: z.number().int().positive(),
    /** After this the reservation is released (refunded) by quota-reset or lazily by a refused consume. */
    expiresAt: isoDate,
    /** Free-form owner label (e.g. the execution or job id), for operators. */
    holder: z.string().nullable(),
  }),
);
/** A `quota-reservations` row's columns. */
export type QuotaReservationRow = z.infer<typeof quotaReservationRowSchema>;

/** Id of the usage row of (org, type, window). */
export function usageRowId(orgId: string, quotaType: string, windowKey: string): string {
  return stableId('qu', orgId, quotaType, windowKey);
}

/** Id of the history row of (org, type, window). */
export function historyRowId(orgId: string, quotaType: string, windowKey: string): string {
  return stableId('qh', orgId, quotaType, windowKey);
}

/** Id of the settings row of an org. */
export function settingsRowId(orgId: string): string {
  return stableId('qs', orgId);
}

/** Id of the threshold alert of (org, type, window, percent). */
export function thresholdAlertId(
  orgId: string,
  quotaType: string,
  windowKey: string,
  threshold: number,
): string {
  return stableId('qa', orgId, quotaType, windowKey, threshold);
}

/** Id of the period summary of an org for a UTC day. */
export function summaryAlertId(orgId: string, day: string): string {
  return stableId('qm', orgId, day);
}
