/**
 * quota-reset: the daily job (cron `0 0 * * *`, UTC) that tidies quota state. Every step is idempotent, so
 * running it twice, concurrently, or days late leaves the same result:
 *
 * 1. Release expired reservations (refund their units; a transaction that deletes the reservation, so each is
 *    released once).
 * 2. Close finished windows: every usage row whose window ended is copied to `quota-history` (deterministic id:
 *    create, or update `used`/`limit` if a previous run got that far) and then deleted. A window's usage never
 *    changes after its end except by late refunds, which the copy may or may not include.
 * 3. Expire approved temporary increases whose time is up (audited).
 * 4. Send each organization one period summary covering the windows closed since its last summary (history rows
 *    with `summarized: false`); deduplicated per org and UTC day by the alert row id, then the rows are marked.
 * 5. Retry failed (and stuck `sending`) alerts, at most `maxAlertAttempts` times each.
 * 6. Prune history older than `historyRetentionDays` (hourly windows: `hourlyRetentionDays`) and alert rows past
 *    their `pruneAfter`.
 *
 * Windows do not need this job to reset: a new window is a new usage row, so a late or missing run only delays
 * history, summaries and pruning — never enforcement.
 */
import { hasCode } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import { forEachLimited } from '../ports/for-each-limited.ts';
import { listAll, type TableStore } from '../ports/table-store.ts';
import { deliver, pruneAfter, sendAlertOnce } from './alerts.ts';
import { expireIncreases } from './increase-requests.ts';
import { type OrgQuotaContext, resolveOrgQuotaContext } from './limits.ts';
import {
  type QuotaLogger,
  type QuotaNotification,
  type QuotaNotifier,
  silentLogger,
  silentNotifier,
} from './notifier.ts';
import { QuotaService } from './quota-service.ts';
import { QUOTA_TYPES, type QuotaType } from './quota-types.ts';
import {
  historyRowId,
  QUOTA_TABLES,
  type QuotaAlertRow,
  type QuotaHistoryRow,
  type QuotaUsageRow,
  quotaAlertRowSchema,
  quotaHistoryRowSchema,
  quotaUsageRowSchema,
  summaryAlertId,
} from './rows.ts';
import { isoTime } from './time.ts';

/** Options of {@link runQuotaReset}. */
export interface QuotaResetOptions {
  store: TableStore;
  clock: Clock;
  notifier?: QuotaNotifier;
  log?: QuotaLogger;
  /** Days closed daily/monthly windows stay in history. Default 400 (13 months of monthly reports). */
  historyRetentionDays?: number;
  /** Days closed hourly windows stay in history. Default 14. */
  hourlyRetentionDays?: number;
  /** Delivery attempts per alert before giving up. Default 5. */
  maxAlertAttempts?: number;
  /** A `sending` alert older than this is presumed stuck (its execution died) and retried. Default 10 minutes. */
  stuckAlertMs?: number;
  /** Days alert rows are kept. Default 35. */
  alertRetentionDays?: number;
  /**
   * Epoch ms (by `clock`) after which no new step or page starts, so the run ends inside the function's timeout.
   * Work left over is picked up by the next run (every step is idempotent). Default: no deadline.
   */
  deadline?: number;
}

/** What one run did (all zero on a second run). */
export interface QuotaResetReport {
  /** True when the deadline stopped the run before every step finished. */
  incomplete: boolean;
  reservationsReleased: number;
  windowsClosed: number;
  increasesExpired: number;
  summariesSent: number;
  alertsRetried: number;
  historyPruned: number;
  alertsPruned: number;
}

const DAY = 86_400_000;
/** Usage rows closed in parallel (each is a create + delete). */
const CLOSE_CONCURRENCY = 8;

/** Runs every step once. See the file header for the idempotence argument. */
export async function runQuotaReset(options: QuotaResetOptions): Promise<QuotaResetReport> {
  const { store, clock } = options;
  const log = options.log ?? silentLogger;
  const notifier = options.notifier ?? silentNotifier;
  const now = clock.now();
  const inTime = () => options.deadline === undefined || clock.now() < options.deadline;
  const report: QuotaResetReport = {
    incomplete: false,
    reservationsReleased: 0,
    windowsClosed: 0,
    increasesExpired: 0,
    summariesSent: 0,
    alertsRetried: 0,
    historyPruned: 0,
    alertsPruned: 0,
  };

  const quotas = new QuotaService({ store, clock, log });
  report.reservationsReleased = await quotas.releaseExpiredReservations();

  // 2. Close finished windows (limits resolved once per org for this run).
  const contexts = new Map<string, Promise<OrgQuotaContext>>();
  const contextOf = (orgId: string) => {
    let c = contexts.get(orgId);
    if (!c) {
      c = resolveOrgQuotaContext(store, orgId, now);
      contexts.set(orgId, c);
    }
    return c;
  };
  const closeOne = async (raw: QuotaUsageRow & { $id: string }) => {
    const u = quotaUsageRowSchema.parse(raw);
    const limit = (await contextOf(u.orgId)).limits[u.quotaType];
    const history: QuotaHistoryRow = {
      orgId: u.orgId,
      quotaType: u.quotaType,
      windowKey: u.windowKey,
      windowStart: u.windowStart!,
      windowEnd: u.windowEnd!,
      timeZone: u.timeZone,
      used: u.used,
      limit,
      summarized: false,
    };
    const id = historyRowId(u.orgId, u.quotaType, u.windowKey);
    try {
      await store.create(QUOTA_TABLES.history, id, history);
    } catch (error) {
      if (!hasCode(error, 'CONFLICT')) throw error;
      // A previous (or concurrent) run copied it but has not deleted the usage row: refresh the numbers only.
      await store.update(QUOTA_TABLES.history, id, { used: u.used, limit });
    }
    if (await store.delete(QUOTA_TABLES.usage, raw.$id)) report.windowsClosed++;
  };
  while (inTime()) {
    const page = await store.list<QuotaUsageRow>(QUOTA_TABLES.usage, {
      where: [
        { field: 'windowEnd', op: 'isNotNull' },
        { field: 'windowEnd', op: 'lte', value: isoTime(now) },
      ],
      limit: 100,
    });
    if (!page.rows.length) break;
    await forEachLimited(page.rows, CLOSE_CONCURRENCY, closeOne);
  }

  if (!inTime()) return finish(true);
  report.increasesExpired = await expireIncreases(store, now);

  if (!inTime()) return finish(true);
  // 4. Period summaries.
  const unsummarized = await listAll<QuotaHistoryRow>(store, QUOTA_TABLES.history, {
    where: [{ field: 'summarized', op: 'eq', value: false }],
  });
  const byOrg = new Map<string, { id: string; row: QuotaHistoryRow }[]>();
  for (const raw of unsummarized) {
    const row = quotaHistoryRowSchema.parse(raw);
    const list = byOrg.get(row.orgId) ?? [];
    list.push({ id: raw.$id, row });
    byOrg.set(row.orgId, list);
  }
  const day = isoTime(now).slice(0, 10);
  for (const [orgId, rows] of byOrg) {
    const outcome = await sendAlertOnce(
      { store, notifier, log, now },
      summaryAlertId(orgId, day),
      {
        orgId,
        kind: 'summary',
        quotaType: null,
        windowKey: day,
        threshold: null,
        pruneAfter: pruneAfter(now, now, options.alertRetentionDays ?? 35),
      },
      summaryOf(
        orgId,
        day,
        rows.map((r) => r.row),
      ),
    );
    if (outcome === 'sent') report.summariesSent++;
    // Sent, or already sent by an earlier run today: either way these windows are covered.
    if (outcome !== 'failed' || (await alertExists(store, summaryAlertId(orgId, day)))) {
      for (const r of rows) await store.update(QUOTA_TABLES.history, r.id, { summarized: true });
    }
  }

  if (!inTime()) return finish(true);
  // 5. Retry failed and stuck alerts.
  const maxAttempts = options.maxAlertAttempts ?? 5;
  const stuckBefore = isoTime(now - (options.stuckAlertMs ?? 10 * 60_000));
  const retry = await listAll<QuotaAlertRow>(store, QUOTA_TABLES.alerts, {
    where: [
      { field: 'status', op: 'eq', value: ['failed', 'sending'] },
      { field: 'attempts', op: 'lt', value: maxAttempts },
      { field: 'pruneAfter', op: 'gt', value: isoTime(now) },
    ],
  });
  for (const raw of retry) {
    const alert = quotaAlertRowSchema.parse(raw);
    if (alert.status === 'sending' && raw.$updatedAt > stuckBefore) continue;
    // Claim the retry with a bounded increment of attempts, so concurrent runs do not both resend.
    try {
      await store.increment(QUOTA_TABLES.alerts, raw.$id, 'attempts', 1, { max: alert.attempts + 1 });
    } catch (error) {
      if (hasCode(error, 'BOUND_EXCEEDED', 'NOT_FOUND')) continue;
      throw error;
    }
    const notification = JSON.parse(alert.payload) as QuotaNotification;
    if ((await deliver({ store, notifier, log, now }, raw.$id, notification)) === 'sent')
      report.alertsRetried++;
  }

  if (!inTime()) return finish(true);
  // 6. Prune.
  const hourlyCutoff = isoTime(now - (options.hourlyRetentionDays ?? 14) * DAY);
  const cutoff = isoTime(now - (options.historyRetentionDays ?? 400) * DAY);
  const old = await listAll<QuotaHistoryRow>(store, QUOTA_TABLES.history, {
    where: [{ field: 'windowEnd', op: 'lt', value: hourlyCutoff }],
    select: ['quotaType', 'windowEnd', 'summarized'],
  });
  for (const row of old) {
    const hourly = QUOTA_TYPES[row.quotaType as QuotaType]?.window === 'hour';
    if ((hourly || row.windowEnd < cutoff) && row.summarized !== false) {
      if (await store.delete(QUOTA_TABLES.history, row.$id)) report.historyPruned++;
    }
  }
  const expiredAlerts = await listAll(store, QUOTA_TABLES.alerts, {
    where: [{ field: 'pruneAfter', op: 'lt', value: isoTime(now) }],
    select: ['pruneAfter'],
  });
  for (const row of expiredAlerts)
    if (await store.delete(QUOTA_TABLES.alerts, row.$id)) report.alertsPruned++;

  return finish(false);

  function finish(incomplete: boolean): QuotaResetReport {
    report.incomplete = incomplete;
    log.info('quota.reset.done', { ...report });
    return report;
  }
}

async function alertExists(store: TableStore, id: string): Promise<boolean> {
  return (await store.get(QUOTA_TABLES.alerts, id)) !== null;
}

/** The summary message for one org: per quota type, windows closed, total and peak usage against the limit. */
export function summaryOf(orgId: string, day: string, rows: readonly QuotaHistoryRow[]): QuotaNotification {
  const byType = new Map<QuotaType, QuotaHistoryRow[]>();
  for (const r of rows) byType.set(r.quotaType, [...(byType.get(r.quotaType) ?? []), r]);
  const lines: string[] = [];
  const fields: Record<string, number> = {};
  for (const [type, list] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const total = list.reduce((s, r) => s + r.used, 0);
    const peak = list.reduce(
      (best, r) => (r.limit > 0 && r.used / r.limit > best.used / Math.max(1, best.limit) ? r : best),
      list[0]!,
    );
    const pct = peak.limit > 0 ? Math.round((peak.used / peak.limit) * 100) : 0;
    lines.push(
      `${type}: ${total} ${QUOTA_TYPES[type].unit}s over ${list.length} window(s); peak ${peak.used}/${peak.limit} (${pct}%) in ${peak.windowKey}`,
    );
    fields[`${type}.total`] = total;
    fields[`${type}.peakPercent`] = pct;
  }
  return {
    kind: 'summary',
    orgId,
    severity: 'info',
    title: `Quota usage summary (${day})`,
    text: lines.join('\n'),
    fields,
  };
}
