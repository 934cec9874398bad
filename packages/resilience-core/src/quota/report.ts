/**
 * Usage reports: per quota type, the current window (used, remaining, reserved, reset time, limit and where it
 * came from) and past windows — closed ones from `quota-history`, plus finished windows quota-reset has not
 * rolled up yet (still in `quota-usage`, marked `closed: false`).
 */
import { listAll } from '../ports/table-store.ts';
import type { QuotaService } from './quota-service.ts';
import { QUOTA_TYPE_NAMES, QUOTA_TYPES, type QuotaType, type WindowKind } from './quota-types.ts';
import {
  QUOTA_TABLES,
  type QuotaHistoryRow,
  type QuotaUsageRow,
  quotaHistoryRowSchema,
  quotaUsageRowSchema,
  usageRowId,
} from './rows.ts';
import { isoTime } from './time.ts';

/** One past window in a report. */
export interface PastWindowReport {
  windowKey: string;
  start: string;
  end: string;
  used: number;
  /** The limit when the window closed (for windows not yet rolled up: the current limit). */
  limit: number;
  /** True once quota-reset has moved it to history. */
  closed: boolean;
}

/** The report of one quota type. */
export interface QuotaTypeReport {
  quotaType: QuotaType;
  window: WindowKind;
  unit: string;
  description: string;
  limit: number;
  baseLimit: number;
  limitSource: 'plan' | 'override';
  /** Units added by approved increases in force. */
  increase: number;
  shadow: boolean;
  current: {
    windowKey: string;
    start: string | null;
    end: string | null;
    used: number;
    reserved: number;
    remaining: number;
    /** Percent of the limit used (0 when the limit is 0 and nothing was used). */
    percent: number;
  };
  past: PastWindowReport[];
}

/** A whole org's report. */
export interface QuotaReport {
  orgId: string;
  plan: string;
  timeZone: string;
  generatedAt: string;
  quotas: QuotaTypeReport[];
}

/** Default number of past windows per type in a report. */
export const REPORT_PAST_DEFAULT = 7;
/** Maximum number of past windows per type in a report. */
export const REPORT_PAST_MAX = 90;

/** Builds the report for `orgId` (all types, or one), with up to `past` past windows each. */
export async function usageReport(
  quotas: QuotaService,
  orgId: string,
  options: { quotaType?: QuotaType; past?: number } = {},
): Promise<QuotaReport> {
  const ctx = await quotas.context(orgId);
  const now = quotas.clock.now();
  const past = Math.min(Math.max(0, options.past ?? REPORT_PAST_DEFAULT), REPORT_PAST_MAX);
  const types = options.quotaType ? [options.quotaType] : [...QUOTA_TYPE_NAMES];
  const orgFilter = { field: 'orgId', op: 'eq' as const, value: orgId };
  const typeFilter = options.quotaType
    ? [{ field: 'quotaType', op: 'eq' as const, value: options.quotaType }]
    : [];
  const [usageRows, historyRows] = await Promise.all([
    listAll<QuotaUsageRow>(quotas.store, QUOTA_TABLES.usage, { where: [orgFilter, ...typeFilter] }),
    past === 0
      ? Promise.resolve([])
      : Promise.all(
          types.map((t) =>
            quotas.store
              .list<QuotaHistoryRow>(QUOTA_TABLES.history, {
                where: [orgFilter, { field: 'quotaType', op: 'eq', value: t }],
                orderBy: [{ field: 'windowStart', direction: 'desc' }],
                limit: past,
              })
              .then((p) => p.rows),
          ),
        ).then((pages) => pages.flat()),
  ]);
  const usage = usageRows.map((r) => ({ id: r.$id, ...quotaUsageRowSchema.parse(r) }));
  const history = historyRows.map((r) => quotaHistoryRowSchema.parse(r));

  const reports: QuotaTypeReport[] = [];
  for (const type of types) {
    const def = QUOTA_TYPES[type];
    const window = await quotas.currentWindow(orgId, type);
    const currentId = usageRowId(orgId, type, window.key);
    const current = usage.find((u) => u.id === currentId);
    const used = current?.used ?? 0;
    const limit = ctx.limits[type];
    const pending: PastWindowReport[] = usage
      .filter(
        (u) => u.quotaType === type && u.id !== currentId && u.windowEnd !== null && u.windowStart !== null,
      )
      .map((u) => ({
        windowKey: u.windowKey,
        start: u.windowStart!,
        end: u.windowEnd!,
        used: u.used,
        limit,
        closed: false,
      }));
    const closed: PastWindowReport[] = history
      .filter((h) => h.quotaType === type)
      .map((h) => ({
        windowKey: h.windowKey,
        start: h.windowStart,
        end: h.windowEnd,
        used: h.used,
        limit: h.limit,
        closed: true,
      }));
    reports.push({
      quotaType: type,
      window: def.window,
      unit: def.unit,
      description: def.description,
      limit,
      baseLimit: ctx.base[type].limit,
      limitSource: ctx.base[type].source,
      increase: limit - ctx.base[type].limit,
      shadow: ctx.shadow.has(type),
      current: {
        windowKey: window.key,
        start: window.start === null ? null : isoTime(window.start),
        end: window.end === null ? null : isoTime(window.end),
        used,
        reserved: current?.reserved ?? 0,
        remaining: Math.max(0, limit - used),
        percent: limit > 0 ? Math.round((used / limit) * 1000) / 10 : used > 0 ? 100 : 0,
      },
      past: [...pending, ...closed].sort((a, b) => Date.parse(b.start) - Date.parse(a.start)).slice(0, past),
    });
  }
  return { orgId, plan: ctx.plan, timeZone: ctx.timeZone, generatedAt: isoTime(now), quotas: reports };
}
