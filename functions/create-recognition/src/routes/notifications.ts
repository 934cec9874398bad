import {
  CircuitBreakerRegistry,
  type CircuitEvent,
  type Clock,
  createJobQueue,
  createWebhookNotifier,
  enqueueNotification,
  productJobTypes,
  queueDeferral,
  type RecognitionHooks,
  recognitionMessage,
  type TableStore,
  webhooksFromEnv,
} from 'resilience-core';
import type { Logger, SetupContext } from 'resilience-core/runtime';
import { executionQuotaService } from './quota.ts';

/**
 * Slack and Teams notifications for new recognitions (the `afterCreate` hook), each through its circuit
 * breaker. Webhooks come from the function variables `NOTIFY_SLACK_WEBHOOK_URL` / `NOTIFY_TEAMS_WEBHOOK_URL`
 * (unset = that channel off). A message that cannot go now — breaker open, or the attempt failed transiently —
 * is queued as a `send-notification` job (one the webhook refuses, a 4xx, is logged and not queued); the
 * recognition itself always succeeds. Each message is charged to the org's
 * `notifications_per_hour` quota (one unit per channel, charged once: the deferred job is not charged again);
 * once it is spent, messages are dropped with a logged reason (`notification dropped: quota exceeded`).
 *
 * Inline, a webhook gets at most 2 s (slack/teams presets otherwise allow 5 s): the API answers a person
 * waiting, and the deferred job has the full budget.
 */

/** Where this module reads its variables and sends requests from (tests replace them). */
export const notificationSettings: {
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
} = { env: process.env, fetch: (...args) => fetch(...args) };

const inlineOverrides = { callTimeoutMs: 2_000, slowCallDurationMs: 1_500 };

// Kept across the executions of a warm container, so breaker caches and outcome buffers survive; each
// execution lends its own store (its dynamic key expires with it) and logger.
let warm: { registry: CircuitBreakerRegistry; clock: Clock } | null = null;
let currentStore: TableStore | null = null;
let currentLog: Logger | null = null;

/** The process's breaker registry, bound to this execution's store. */
export function circuitBreakersFor(
  ctx: Pick<SetupContext, 'store' | 'clock' | 'log'>,
): CircuitBreakerRegistry {
  currentStore = ctx.store();
  currentLog = ctx.log;
  if (!warm || warm.clock !== ctx.clock) {
    warm = {
      clock: ctx.clock,
      registry: new CircuitBreakerRegistry({
        store: () => currentStore!,
        clock: ctx.clock,
        overrides: { slack: inlineOverrides, teams: inlineOverrides },
        onEvent: logBreakerEvent,
      }),
    };
  }
  return warm.registry;
}

/** The hook factory for `hooks.ts`. */
export function notificationHooks(ctx: SetupContext): RecognitionHooks {
  let webhooks: ReturnType<typeof webhooksFromEnv>;
  try {
    webhooks = webhooksFromEnv(notificationSettings.env);
  } catch (error) {
    // A bad variable turns notifications off; it must not break recognitions.
    ctx.log.error('notifications off', { error: error instanceof Error ? error.message : String(error) });
    return {};
  }
  if (!webhooks.slack && !webhooks.teams) return {};
  const breakers = circuitBreakersFor(ctx);
  const queue = createJobQueue({ store: ctx.store(), clock: ctx.clock, types: productJobTypes });
  const notifier = createWebhookNotifier({
    webhooks,
    breakers,
    fetch: notificationSettings.fetch,
    defer: queueDeferral((orgId, payload, options) => enqueueNotification(queue, orgId, payload, options)),
    log: ctx.log,
    // Each recognition message is charged to the org's notifications_per_hour (one unit per channel); when
    // spent, it is dropped and logged — the recognition still succeeds.
    quotas: executionQuotaService(ctx),
  });
  return {
    async afterCreate(row) {
      await notifier.notify(row.orgId, recognitionMessage(row), { idempotencyKey: `recognition:${row.$id}` });
      // Outcomes reach the shared table before the execution ends.
      await breakers.flush();
    },
  };
}

function logBreakerEvent(event: CircuitEvent): void {
  if (event.type === 'transition') {
    currentLog?.warn('circuit breaker transition', {
      breaker: event.breaker,
      from: event.from,
      to: event.to,
      reason: event.reason,
      origin: event.origin,
    });
  } else if (event.type === 'storage') {
    currentLog?.warn('circuit breaker state store', {
      breaker: event.breaker,
      status: event.status,
      error: event.error,
    });
  }
}
