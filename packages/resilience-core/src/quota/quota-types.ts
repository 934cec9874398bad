/**
 * The eight quota types, their windows and their default limits.
 *
 * A quota is either a *rate* (usage counted per calendar window — hour, day or month in the organization's time
 * zone — and forgotten when the window ends) or a *gauge* (a level such as storage held or seats taken, which never
 * resets: consuming raises it, refunding lowers it).
 *
 * All amounts are whole units of the type's `unit`. The seed name `storage_gb_per_month` is accepted everywhere
 * and means the `storage_gb` gauge: storage held is a level, not a monthly flow, so resetting it each month would
 * hand every organization a fresh 100 GB on the 1st while its files are still there.
 */
import { z } from 'zod';
import { errors } from '../errors.ts';
import { lazySchema } from '../schema/lazy-schema.ts';

/** How a quota's usage is windowed. `gauge` never resets. */
export type WindowKind = 'hour' | 'day' | 'month' | 'gauge';

/** The canonical quota type names. */
export const QUOTA_TYPE_NAMES = [
  'recognitions_per_day',
  'storage_gb',
  'api_calls_per_hour',
  'exports_per_day',
  'notifications_per_hour',
  'reward_points_per_month',
  'active_users',
  'integrations',
] as const;

/** A canonical quota type name. */
export type QuotaType = (typeof QUOTA_TYPE_NAMES)[number];

/** Describes one quota type. */
export interface QuotaTypeDefinition {
  type: QuotaType;
  window: WindowKind;
  /** The limit when no plan, override or increase applies (the seed's defaults where the seed named one). */
  defaultLimit: number;
  /** What one unit of usage is. */
  unit: string;
  description: string;
}

/** Every quota type with its window, default limit and meaning. */
export const QUOTA_TYPES: Readonly<Record<QuotaType, QuotaTypeDefinition>> = {
  recognitions_per_day: {
    type: 'recognitions_per_day',
    window: 'day',
    defaultLimit: 1_000,
    unit: 'recognition',
    description: 'Recognitions created by the organization per calendar day (org time zone).',
  },
  storage_gb: {
    type: 'storage_gb',
    window: 'gauge',
    defaultLimit: 100,
    unit: 'GB',
    description:
      'Storage held (attachments, exports kept), in whole GB rounded up. A gauge: uploads consume, deletions refund; it never resets. The seed name storage_gb_per_month is an alias.',
  },
  api_calls_per_hour: {
    type: 'api_calls_per_hour',
    window: 'hour',
    defaultLimit: 10_000,
    unit: 'call',
    description: 'Calls to the app HTTP API by the organization per clock hour (org time zone).',
  },
  exports_per_day: {
    type: 'exports_per_day',
    window: 'day',
    defaultLimit: 50,
    unit: 'export',
    description: 'Data exports (generate-export jobs) started per calendar day.',
  },
  notifications_per_hour: {
    type: 'notifications_per_hour',
    window: 'hour',
    defaultLimit: 500,
    unit: 'notification',
    description:
      'Slack/Teams/email notifications sent on behalf of the organization per clock hour; protects the chat workspaces and our webhook reputation from floods.',
  },
  reward_points_per_month: {
    type: 'reward_points_per_month',
    window: 'month',
    defaultLimit: 100_000,
    unit: 'point',
    description:
      'Reward points awarded with recognitions per calendar month: the budget the organization funds for redeemable rewards.',
  },
  active_users: {
    type: 'active_users',
    window: 'gauge',
    defaultLimit: 250,
    unit: 'seat',
    description:
      'Members who can give and receive recognition (seats). A gauge: inviting consumes, removing refunds.',
  },
  integrations: {
    type: 'integrations',
    window: 'gauge',
    defaultLimit: 5,
    unit: 'integration',
    description:
      'Connected integrations (Slack or Teams workspaces, HRIS sync, outgoing webhooks). A gauge: connecting consumes, disconnecting refunds.',
  },
};

/** Names accepted for compatibility with the seed, mapped to the canonical type. */
export const QUOTA_TYPE_ALIASES: Readonly<Record<string, QuotaType>> = {
  storage_gb_per_month: 'storage_gb',
};

/** True when `name` is a canonical quota type or a seed alias. */
export function isQuotaTypeName(name: unknown): boolean {
  return typeof name === 'string' && (name in QUOTA_TYPES || name in QUOTA_TYPE_ALIASES);
}

/** The canonical type for a name or alias; INVALID_INPUT (naming the accepted names) for anything else. */
export function resolveQuotaType(name: string): QuotaType {
  if (Object.hasOwn(QUOTA_TYPES, name)) return name as QuotaType;
  const alias = Object.hasOwn(QUOTA_TYPE_ALIASES, name) ? QUOTA_TYPE_ALIASES[name] : undefined;
  if (alias) return alias;
  throw errors.invalidInput(`Unknown quota type "${name}"`, [
    {
      path: 'quotaType',
      message: `must be one of ${[...QUOTA_TYPE_NAMES, ...Object.keys(QUOTA_TYPE_ALIASES)].join(', ')}`,
    },
  ]);
}

/** zod schema for a quota type at an edge: accepts aliases, outputs the canonical name. */
export const quotaTypeSchema = lazySchema(() =>
  z
    .string()
    .refine(isQuotaTypeName, {
      message: `Unknown quota type; expected one of ${[...QUOTA_TYPE_NAMES, ...Object.keys(QUOTA_TYPE_ALIASES)].join(', ')}`,
    })
    .transform((name) => resolveQuotaType(name)),
);

/** The largest amount or limit accepted anywhere (keeps sums inside safe integers and Appwrite's integer column). */
export const MAX_QUOTA_AMOUNT = 1_000_000_000;

/** zod schema for an amount of usage: a positive whole number. */
export const quotaAmountSchema = lazySchema(() => z.number().int().positive().max(MAX_QUOTA_AMOUNT));
