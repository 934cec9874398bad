/**
 * Effective limits: the plan tier's limit (or a per-organization override), plus every approved increase still in
 * force. Resolved from storage once per execution (two reads in parallel: the settings row and the approved
 * increase requests) and then cached by {@link QuotaService} for the rest of the execution.
 */
import { z } from 'zod';
import type { Row, TableStore } from '../ports/table-store.ts';
import { listAll } from '../ports/table-store.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { MAX_QUOTA_AMOUNT, QUOTA_TYPE_NAMES, QUOTA_TYPES, type QuotaType } from './quota-types.ts';
import {
  type PlanTier,
  QUOTA_TABLES,
  type QuotaIncreaseRequestRow,
  type QuotaSettingsRow,
  quotaIncreaseRequestRowSchema,
  quotaSettingsRowSchema,
  settingsRowId,
} from './rows.ts';
import { DEFAULT_TIME_ZONE, isValidTimeZone } from './windows.ts';

/** Limits per plan tier. `pro` equals the seed's defaults; `free` is about a tenth, `enterprise` ten times. */
export const PLAN_LIMITS: Readonly<Record<PlanTier, Readonly<Record<QuotaType, number>>>> = {
  free: {
    recognitions_per_day: 100,
    storage_gb: 5,
    api_calls_per_hour: 1_000,
    exports_per_day: 5,
    notifications_per_hour: 50,
    reward_points_per_month: 10_000,
    active_users: 25,
    integrations: 1,
  },
  pro: Object.fromEntries(QUOTA_TYPE_NAMES.map((t) => [t, QUOTA_TYPES[t].defaultLimit])) as Record<
    QuotaType,
    number
  >,
  enterprise: {
    recognitions_per_day: 10_000,
    storage_gb: 1_000,
    api_calls_per_hour: 100_000,
    exports_per_day: 500,
    notifications_per_hour: 5_000,
    reward_points_per_month: 1_000_000,
    active_users: 5_000,
    integrations: 50,
  },
};

/** The plan an organization without a settings row is on. */
export const DEFAULT_PLAN: PlanTier = 'pro';

/** zod schema of the `overrides` JSON: `{ quotaType: limit }`, limits 0 … MAX_QUOTA_AMOUNT. */
export const limitOverridesSchema = lazySchema(() =>
  z.partialRecord(z.enum(QUOTA_TYPE_NAMES), z.number().int().min(0).max(MAX_QUOTA_AMOUNT)),
);
/** Per-organization limit overrides. */
export type LimitOverrides = z.infer<typeof limitOverridesSchema>;

/** Where a type's base limit came from. */
export type LimitSource = 'plan' | 'override';

/** An approved increase still in force. */
export interface ActiveIncrease {
  requestId: string;
  quotaType: QuotaType;
  amount: number;
  /** ISO time it stops counting, or null when permanent. */
  expiresAt: string | null;
}

/** Everything the quota service needs to know about one organization, resolved once per execution. */
export interface OrgQuotaContext {
  orgId: string;
  plan: PlanTier;
  timeZone: string;
  /** Effective limit per type: base (plan or override) plus active increases, capped at MAX_QUOTA_AMOUNT. */
  limits: Record<QuotaType, number>;
  /** Base limit per type and where it came from. */
  base: Record<QuotaType, { limit: number; source: LimitSource }>;
  increases: ActiveIncrease[];
  /** Types in shadow mode (org setting or service-wide option). */
  shadow: ReadonlySet<QuotaType>;
}

/** Inputs to {@link computeLimits}, separated from storage so the arithmetic is testable alone. */
export interface LimitInputs {
  plan: PlanTier;
  overrides: LimitOverrides;
  increases: readonly ActiveIncrease[];
}

/** Effective limits from a plan, overrides and active increases (pure). */
export function computeLimits(inputs: LimitInputs): Pick<OrgQuotaContext, 'limits' | 'base'> {
  const limits = {} as Record<QuotaType, number>;
  const base = {} as OrgQuotaContext['base'];
  for (const type of QUOTA_TYPE_NAMES) {
    const override = inputs.overrides[type];
    const b =
      override === undefined
        ? { limit: PLAN_LIMITS[inputs.plan][type], source: 'plan' as const }
        : { limit: override, source: 'override' as const };
    base[type] = b;
    const extra = inputs.increases.filter((i) => i.quotaType === type).reduce((sum, i) => sum + i.amount, 0);
    limits[type] = Math.min(MAX_QUOTA_AMOUNT, b.limit + extra);
  }
  return { limits, base };
}

/** The increases among approved requests that are in force at `now` (not expired). */
export function activeIncreases(
  rows: readonly Row<QuotaIncreaseRequestRow>[],
  now: number,
): ActiveIncrease[] {
  return rows
    .filter((r) => r.status === 'approved' && (r.expiresAt === null || Date.parse(r.expiresAt) > now))
    .map((r) => ({ requestId: r.$id, quotaType: r.quotaType, amount: r.amount, expiresAt: r.expiresAt }));
}

/** Parses a settings row (or its absence) into plan, zone, overrides and shadow list. */
export function settingsOf(row: Row | null): {
  plan: PlanTier;
  timeZone: string;
  overrides: LimitOverrides;
  shadow: QuotaType[];
} {
  if (!row) return { plan: DEFAULT_PLAN, timeZone: DEFAULT_TIME_ZONE, overrides: {}, shadow: [] };
  const s: QuotaSettingsRow = quotaSettingsRowSchema.parse(row);
  const overrides = limitOverridesSchema.parse(JSON.parse(s.overrides || '{}'));
  return {
    plan: s.plan,
    timeZone: isValidTimeZone(s.timeZone) ? s.timeZone : DEFAULT_TIME_ZONE,
    overrides,
    shadow: s.shadow,
  };
}

/** Reads an organization's settings and approved increases (two reads, in parallel) and resolves its limits. */
export async function resolveOrgQuotaContext(
  store: TableStore,
  orgId: string,
  now: number,
  globalShadow: readonly QuotaType[] = [],
): Promise<OrgQuotaContext> {
  const [settingsRow, approved] = await Promise.all([
    store.get(QUOTA_TABLES.settings, settingsRowId(orgId)),
    listAll<QuotaIncreaseRequestRow>(store, QUOTA_TABLES.increaseRequests, {
      where: [
        { field: 'orgId', op: 'eq', value: orgId },
        { field: 'status', op: 'eq', value: 'approved' },
      ],
      limit: 500,
    }),
  ]);
  const settings = settingsOf(settingsRow);
  const increases = activeIncreases(
    approved.map((r) => ({ ...r, ...quotaIncreaseRequestRowSchema.parse(r) })),
    now,
  );
  return {
    orgId,
    plan: settings.plan,
    timeZone: settings.timeZone,
    ...computeLimits({ plan: settings.plan, overrides: settings.overrides, increases }),
    increases,
    shadow: new Set([...settings.shadow, ...globalShadow]),
  };
}
