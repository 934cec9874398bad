/**
 * Alerts at percentage thresholds of a limit (80 % and 100 % by default), each sent at most once per window, and
 * the delivery bookkeeping shared with quota-reset's summaries.
 *
 * "Once" is enforced by storage, not by memory: the alert row has a deterministic id and is *created* before
 * the message goes out, so of any number of executions that see the threshold crossed, exactly one sends. The
 * row then records `sent` or `failed`; quota-reset retries failed (and stuck `sending`) rows.
 */

import { errorText } from '../error-classification.ts';
import { hasCode } from '../errors.ts';
import type { TableStore } from '../ports/table-store.ts';
import type { QuotaLogger, QuotaNotification, QuotaNotifier } from './notifier.ts';
import { QUOTA_TABLES, type QuotaAlertRow } from './rows.ts';
import { isoTime } from './time.ts';

/** The default thresholds, in percent of the effective limit. */
export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = [80, 100];

/** The usage level at which `percent` of `limit` is reached (at least 1 unit). */
export function thresholdUnits(limit: number, percent: number): number {
  return Math.max(1, Math.ceil((limit * percent) / 100));
}

/**
 * The thresholds crossed when usage moved from `before` to `after` (exclusive of levels already reached before).
 * For a single consume `before` is `after − amount`: exact, because the bounded increment returns the row as of
 * this very increment (Appwrite computes it from the row it locked; the memory adapter likewise), so of any
 * number of concurrent consumes exactly one sees each crossing.
 * With `before = null` (unknown, e.g. after a multi-quota transaction) every threshold at or below `after` counts;
 * the alert row's id keeps that from sending twice.
 */
export function crossedThresholds(
  limit: number,
  before: number | null,
  after: number,
  thresholds: readonly number[] = DEFAULT_ALERT_THRESHOLDS,
): number[] {
  if (limit <= 0) return [];
  return thresholds.filter((p) => {
    const at = thresholdUnits(limit, p);
    return after >= at && (before === null || before < at);
  });
}

/** What happened to one alert. */
export type AlertOutcome = 'sent' | 'duplicate' | 'failed';

/** Alert ids this process already knows are taken: saves a create round trip on every request above 80 %. */
const knownAlertIds = new Set<string>();
const KNOWN_ALERT_CAPACITY = 10_000;

function remember(id: string): void {
  if (knownAlertIds.size >= KNOWN_ALERT_CAPACITY) knownAlertIds.clear();
  knownAlertIds.add(id);
}

/** Forgets the per-process cache of sent alert ids (tests). */
export function forgetKnownAlerts(): void {
  knownAlertIds.clear();
}

/**
 * Claims the alert row `id` and, if this call created it, sends `notification` and records the outcome.
 * Never throws: storage or delivery failures are logged and reported as `failed` (quota-reset retries them).
 */
export async function sendAlertOnce(
  deps: { store: TableStore; notifier: QuotaNotifier; log: QuotaLogger; now: number },
  id: string,
  row: Omit<QuotaAlertRow, 'status' | 'attempts' | 'lastError' | 'payload'>,
  notification: QuotaNotification,
): Promise<AlertOutcome> {
  if (knownAlertIds.has(id)) return 'duplicate';
  notification = { ...notification, dedupeKey: id };
  const data: QuotaAlertRow = {
    ...row,
    status: 'sending',
    attempts: 1,
    lastError: null,
    payload: JSON.stringify(notification).slice(0, 4000),
  };
  try {
    await deps.store.create(QUOTA_TABLES.alerts, id, data);
  } catch (error) {
    if (hasCode(error, 'CONFLICT')) {
      remember(id);
      return 'duplicate';
    }
    deps.log.error('quota.alert.claim-failed', { id, error });
    return 'failed';
  }
  remember(id);
  return deliver(deps, id, notification);
}

/** Sends a claimed alert and records `sent` / `failed` on its row. */
export async function deliver(
  deps: { store: TableStore; notifier: QuotaNotifier; log: QuotaLogger; now: number },
  id: string,
  notification: QuotaNotification,
): Promise<AlertOutcome> {
  try {
    await deps.notifier.notify(notification);
  } catch (error) {
    deps.log.warn('quota.alert.delivery-failed', { id, orgId: notification.orgId, error });
    await deps.store
      .update(QUOTA_TABLES.alerts, id, {
        status: 'failed',
        lastError: errorText(error).slice(0, 1000),
      })
      .catch((e: unknown) => deps.log.error('quota.alert.record-failed', { id, error: e }));
    return 'failed';
  }
  await deps.store
    .update(QUOTA_TABLES.alerts, id, { status: 'sent', lastError: null })
    .catch((e: unknown) => deps.log.error('quota.alert.record-failed', { id, error: e }));
  deps.log.info('quota.alert.sent', { id, orgId: notification.orgId, kind: notification.kind });
  return 'sent';
}

/** When an alert row may be pruned: the window's end (or now, for gauges) plus `retentionDays`. */
export function pruneAfter(windowEnd: number | null, now: number, retentionDays: number): string {
  return isoTime((windowEnd ?? now) + retentionDays * 86_400_000);
}
