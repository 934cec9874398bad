/**
 * The quota service's tables, in appwrite.json `tables[]` shape. Only API keys (the functions) touch them:
 * members reach quota data through create-recognition's routes, which check organization membership.
 */
import type { ColumnSpec, TableSpec } from '../schema/table-spec.ts';
import { QUOTA_TYPE_NAMES } from './quota-types.ts';
import {
  ALERT_KINDS,
  ALERT_STATUSES,
  AUDIT_ACTIONS,
  INCREASE_STATUSES,
  PLAN_TIERS,
  QUOTA_TABLES,
  quotaAlertRowSchema,
  quotaAuditRowSchema,
  quotaHistoryRowSchema,
  quotaIncreaseRequestRowSchema,
  quotaReservationRowSchema,
  quotaSettingsRowSchema,
  quotaUsageRowSchema,
} from './rows.ts';

const str = (key: string, size: number, required = true): ColumnSpec => ({
  key,
  type: 'string',
  size,
  required,
});
const int = (key: string, required = true, min = 0): ColumnSpec => ({ key, type: 'integer', required, min });
/** A counter column (incremented by the code; see `ColumnSpec.counter`). */
const counter = (key: string): ColumnSpec => ({ ...int(key), counter: true });
const date = (key: string, required = true): ColumnSpec => ({ key, type: 'datetime', required });
const enumOf = (key: string, elements: readonly string[], required = true): ColumnSpec => ({
  key,
  type: 'string',
  format: 'enum',
  elements: [...elements],
  size: 64,
  required,
});

const orgId = str('orgId', 36);
const quotaType = enumOf('quotaType', QUOTA_TYPE_NAMES);
const windowKey = str('windowKey', 16);
const timeZone = str('timeZone', 64);

/** `quota-usage`: one counter per (org, quota type, window). */
export const quotaUsageTable: TableSpec = {
  $id: QUOTA_TABLES.usage,
  name: 'Quota usage',
  columns: [
    orgId,
    quotaType,
    windowKey,
    date('windowStart', false),
    date('windowEnd', false),
    timeZone,
    counter('used'),
    { key: 'reserved', type: 'integer', required: false, min: 0, default: 0, counter: true },
  ],
  indexes: [
    { key: 'org_type', type: 'key', columns: ['orgId', 'quotaType'] },
    { key: 'window_end', type: 'key', columns: ['windowEnd'] },
  ],
  rowSchema: quotaUsageRowSchema,
};

/** `quota-settings`: plan, zone, overrides and shadow list per org. */
export const quotaSettingsTable: TableSpec = {
  $id: QUOTA_TABLES.settings,
  name: 'Quota settings',
  columns: [
    orgId,
    enumOf('plan', PLAN_TIERS),
    timeZone,
    str('overrides', 2000),
    { key: 'shadow', type: 'string', size: 32, array: true, required: false },
    str('updatedBy', 64),
  ],
  indexes: [{ key: 'org_unique', type: 'unique', columns: ['orgId'] }],
  rowSchema: quotaSettingsRowSchema,
};

/** `quota-increase-requests`: the increase workflow. */
export const quotaIncreaseRequestsTable: TableSpec = {
  $id: QUOTA_TABLES.increaseRequests,
  name: 'Quota increase requests',
  columns: [
    orgId,
    quotaType,
    int('amount', true, 1),
    { key: 'durationDays', type: 'integer', required: false, min: 1 },
    str('reason', 1000),
    enumOf('status', INCREASE_STATUSES),
    str('requestedBy', 64),
    str('decidedBy', 64, false),
    date('decidedAt', false),
    str('decisionNote', 1000, false),
    date('expiresAt', false),
    counter('version'),
  ],
  indexes: [
    { key: 'org_status', type: 'key', columns: ['orgId', 'status'] },
    { key: 'status_expires', type: 'key', columns: ['status', 'expiresAt'] },
  ],
  rowSchema: quotaIncreaseRequestRowSchema,
};

/** `quota-audit`: append-only log of limit changes. */
export const quotaAuditTable: TableSpec = {
  $id: QUOTA_TABLES.audit,
  name: 'Quota audit',
  columns: [
    orgId,
    str('actorId', 64),
    enumOf('action', AUDIT_ACTIONS),
    enumOf('quotaType', QUOTA_TYPE_NAMES, false),
    str('requestId', 36, false),
    str('detail', 4000),
    date('at'),
  ],
  indexes: [{ key: 'org_at', type: 'key', columns: ['orgId', 'at'] }],
  rowSchema: quotaAuditRowSchema,
};

/** `quota-history`: closed windows. */
export const quotaHistoryTable: TableSpec = {
  $id: QUOTA_TABLES.history,
  name: 'Quota history',
  columns: [
    orgId,
    quotaType,
    windowKey,
    date('windowStart'),
    date('windowEnd'),
    timeZone,
    int('used'),
    int('limit'),
    { key: 'summarized', type: 'boolean', required: false, default: false },
  ],
  indexes: [
    { key: 'org_type_start', type: 'key', columns: ['orgId', 'quotaType', 'windowStart'] },
    { key: 'window_end', type: 'key', columns: ['windowEnd'] },
    { key: 'summarized', type: 'key', columns: ['summarized'] },
  ],
  rowSchema: quotaHistoryRowSchema,
};

/** `quota-alerts`: alerts and summaries sent (deduplicated by id). */
export const quotaAlertsTable: TableSpec = {
  $id: QUOTA_TABLES.alerts,
  name: 'Quota alerts',
  columns: [
    orgId,
    enumOf('kind', ALERT_KINDS),
    enumOf('quotaType', QUOTA_TYPE_NAMES, false),
    windowKey,
    { key: 'threshold', type: 'integer', required: false, min: 0, max: 100 },
    enumOf('status', ALERT_STATUSES),
    counter('attempts'),
    str('lastError', 1000, false),
    str('payload', 4000),
    date('pruneAfter'),
  ],
  indexes: [
    { key: 'status', type: 'key', columns: ['status'] },
    { key: 'prune_after', type: 'key', columns: ['pruneAfter'] },
  ],
  rowSchema: quotaAlertRowSchema,
};

/** `quota-reservations`: held units with an expiry. */
export const quotaReservationsTable: TableSpec = {
  $id: QUOTA_TABLES.reservations,
  name: 'Quota reservations',
  columns: [
    orgId,
    quotaType,
    str('usageId', 36),
    windowKey,
    int('amount', true, 1),
    date('expiresAt'),
    str('holder', 128, false),
  ],
  indexes: [
    { key: 'expires', type: 'key', columns: ['expiresAt'] },
    { key: 'usage', type: 'key', columns: ['usageId', 'expiresAt'] },
  ],
  rowSchema: quotaReservationRowSchema,
};

/** Every quota table (registered in `src/tables.ts`). */
export const quotaTables: TableSpec[] = [
  quotaUsageTable,
  quotaSettingsTable,
  quotaIncreaseRequestsTable,
  quotaAuditTable,
  quotaHistoryTable,
  quotaAlertsTable,
  quotaReservationsTable,
];
