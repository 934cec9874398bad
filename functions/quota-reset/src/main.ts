import { lazySchema } from 'resilience-core';
import { notificationsFor, webhookVariablesSchema } from 'resilience-core/notify';
import {
  QUOTA_TABLES,
  type QuotaNotifier,
  type QuotaResetReport,
  runQuotaReset,
} from 'resilience-core/quota';
import { type RetentionReport, runRetention } from 'resilience-core/retention';
import { defineFunction, type RouteResult, routesFor, type SetupContext } from 'resilience-core/runtime';
import { z } from 'zod';

/** Function variables of quota-reset. */
const envSchema = lazySchema(() =>
  z
    .object({
      /** Days closed daily/monthly windows stay in history. Default 400. */
      QUOTA_HISTORY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
      /** Days closed hourly windows stay in history. Default 14. */
      QUOTA_HOURLY_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(14),
      /** Days COMPLETED/CANCELLED jobs are kept after finishing (idempotency keys live as long). Default 14. */
      RETENTION_JOB_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
      /** Days export files are kept. Default 7. */
      RETENTION_EXPORT_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
      /** Hours circuit-breaker buckets and ended probe leases are kept. Default 48 (min 25). */
      RETENTION_BREAKER_HOURS: z.coerce.number().int().min(25).max(8760).default(48),
      /** Rows retention deletes per run at most; the rest waits for the next run. Default 5,000. */
      RETENTION_MAX_DELETES: z.coerce.number().int().min(1).max(100_000).default(5000),
    })
    .extend(webhookVariablesSchema.shape),
);

/** What a run needs. */
interface ResetDeps {
  setup: SetupContext<z.output<typeof envSchema>>;
  notifier: QuotaNotifier;
  /** Writes the breakers' buffered outcomes to the shared table (no-op without webhooks). */
  flush: () => Promise<void>;
}

/**
 * Summaries and retried alerts go to the Slack/Teams webhooks (`NOTIFY_SLACK_WEBHOOK_URL` /
 * `NOTIFY_TEAMS_WEBHOOK_URL`) through resilience-core's `notificationsFor` (background path: each channel behind
 * the process's breaker, deferred to the `send-notification` job queue when it cannot go now). No webhook set
 * → summaries are only recorded in `quota-alerts`.
 */
function depsFor(ctx: SetupContext<z.output<typeof envSchema>>): ResetDeps {
  const notifications = notificationsFor(ctx, 'background');
  return { setup: ctx, notifier: notifications.quotaNotifier, flush: () => notifications.flush() };
}

/** Work stops starting this long after the execution began, well inside the 300 s function timeout. */
const RUN_BUDGET_MS = 240_000;
/** The quota steps stop starting new work here, so retention always gets at least the remaining 90 s. */
const QUOTA_BUDGET_MS = 150_000;

async function run({ setup, notifier, flush }: ResetDeps, startedAt: number): Promise<RouteResult> {
  const report: QuotaResetReport = await runQuotaReset({
    deadline: startedAt + QUOTA_BUDGET_MS,
    store: setup.store(),
    clock: setup.clock,
    notifier,
    log: setup.log,
    historyRetentionDays: setup.env.QUOTA_HISTORY_RETENTION_DAYS,
    hourlyRetentionDays: setup.env.QUOTA_HOURLY_RETENTION_DAYS,
  }).finally(flush);
  const retention: RetentionReport = await runRetention({
    store: setup.store(),
    clock: setup.clock,
    deadline: startedAt + RUN_BUDGET_MS,
    jobRetentionDays: setup.env.RETENTION_JOB_DAYS,
    exportRetentionDays: setup.env.RETENTION_EXPORT_DAYS,
    breakerRetentionHours: setup.env.RETENTION_BREAKER_HOURS,
    maxDeletes: setup.env.RETENTION_MAX_DELETES,
  });
  setup.log.info('retention done', { ...retention });
  return { body: { ok: true, report, retention } };
}

/**
 * quota-reset (cron `0 0 * * *`, UTC), the daily maintenance function: releases expired reservations, rolls
 * finished windows into history, expires temporary increases, sends period summaries, retries failed alerts
 * and prunes old quota rows (`runQuotaReset`, up to 150 s); then retention (`runRetention`, until 240 s):
 * old circuit-breaker buckets/probes, export files and COMPLETED/CANCELLED jobs, bounded per run (DEAD_LETTER
 * and FAILED jobs are kept until redriven or purged). Idempotent: a second or late run changes nothing.
 * `POST /` with an API key runs it by hand.
 */
export default defineFunction({
  name: 'quota-reset',
  version: process.env.BUILD_VERSION ?? '0.0.0-dev',
  env: envSchema,
  setup: depsFor,
  routes: [
    routesFor<ResetDeps>()({
      method: 'POST',
      path: '/',
      auth: 'key',
      summary: 'Run the reset now (operators)',
      body: lazySchema(() => z.object({}).strict()),
      handler: ({ deps, clock }) => run(deps, clock.now()),
    }),
  ],
  health: {
    store: (deps) => deps.setup.store().list(QUOTA_TABLES.usage, { limit: 1, select: ['orgId'] }),
  },
  onSchedule: ({ deps, startedAt }) => run(deps, startedAt),
});
