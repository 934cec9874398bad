import { type QuotaNotifier, type QuotaResetReport, runQuotaReset, silentNotifier } from 'resilience-core';
import { defineFunction, type RouteResult, routesFor, type SetupContext } from 'resilience-core/runtime';
import { z } from 'zod';

/** Function variables of quota-reset. */
const envSchema = z.object({
  /** Days closed daily/monthly windows stay in history. Default 400. */
  QUOTA_HISTORY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  /** Days closed hourly windows stay in history. Default 14. */
  QUOTA_HOURLY_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(14),
});

/** What a run needs. */
interface ResetDeps {
  setup: SetupContext<z.output<typeof envSchema>>;
  notifier: QuotaNotifier;
}

async function run({ setup, notifier }: ResetDeps): Promise<RouteResult> {
  const report: QuotaResetReport = await runQuotaReset({
    store: setup.store(),
    clock: setup.clock,
    notifier,
    log: setup.log,
    historyRetentionDays: setup.env.QUOTA_HISTORY_RETENTION_DAYS,
    hourlyRetentionDays: setup.env.QUOTA_HOURLY_RETENTION_DAYS,
  });
  return { body: { ok: true, report } };
}

/**
 * quota-reset (cron `0 0 * * *`, UTC): releases expired reservations, rolls finished windows into history,
 * expires temporary increases, sends period summaries, retries failed alerts and prunes old rows. Idempotent:
 * a second or late run changes nothing (see `runQuotaReset`). `POST /` with an API key runs it by hand.
 *
 * Notifications: until the breaker-protected Slack/Teams notifier (resilience-core `notify`) is wired here,
 * summaries are recorded in `quota-alerts` and logged but not delivered anywhere (silent notifier).
 */
export default defineFunction({
  name: 'quota-reset',
  version: process.env.BUILD_VERSION ?? '0.0.0-dev',
  env: envSchema,
  setup: (ctx): ResetDeps => ({ setup: ctx, notifier: silentNotifier }),
  routes: [
    routesFor<ResetDeps>()({
      method: 'POST',
      path: '/',
      auth: 'key',
      summary: 'Run the reset now (operators)',
      body: z.object({}).strict(),
      handler: ({ deps }) => run(deps),
    }),
  ],
  health: {
    store: (deps) => deps.setup.store().list('quota-usage', { limit: 1, select: ['orgId'] }),
  },
  onSchedule: ({ deps }) => run(deps),
});
