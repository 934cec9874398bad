import {
  CircuitBreakerRegistry,
  type Clock,
  createWebhookNotifier,
  logDeferral,
  type SendNotification,
  type TableStore,
  webhooksFromEnv,
} from 'resilience-core';
import type { SetupContext } from 'resilience-core/runtime';

/**
 * The job-worker's sender of deferred notifications (`send-notification` jobs): the same breaker-protected
 * Slack/Teams notifier create-recognition uses inline (resilience-core `notify`), with the presets' full time
 * budget. Webhooks come from the function variables `NOTIFY_SLACK_WEBHOOK_URL` / `NOTIFY_TEAMS_WEBHOOK_URL`.
 * An open breaker or a transient failure fails the attempt, so the queue retries it with backoff; an unknown
 * channel or one without a webhook fails permanently (FAILED, redrivable once configured).
 */

/** Where the sender reads its variables and sends requests from (tests replace them). */
export const notifySettings: { env: Record<string, string | undefined>; fetch: typeof fetch } = {
  env: process.env,
  fetch: (...args) => fetch(...args),
};

// One registry per warm container (breaker caches and buffers survive executions); each execution lends its
// own store, whose dynamic key expires with it.
let warm: { registry: CircuitBreakerRegistry; clock: Clock } | null = null;
let currentStore: TableStore | null = null;

/** The breakers of this process, bound to this execution's store. */
export function workerBreakers(ctx: Pick<SetupContext, 'store' | 'clock'>): CircuitBreakerRegistry {
  currentStore = ctx.store();
  if (!warm || warm.clock !== ctx.clock) {
    warm = {
      clock: ctx.clock,
      registry: new CircuitBreakerRegistry({ store: () => currentStore!, clock: ctx.clock }),
    };
  }
  return warm.registry;
}

/** Builds the sender for one execution. A bad webhook variable makes every send fail permanently (and says so). */
export function notificationSender(ctx: Pick<SetupContext, 'store' | 'clock' | 'log'>): SendNotification {
  let webhooks: ReturnType<typeof webhooksFromEnv>;
  try {
    webhooks = webhooksFromEnv(notifySettings.env);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return async () => {
      throw Object.assign(new Error(message), { permanent: true });
    };
  }
  const notifier = createWebhookNotifier({
    webhooks,
    breakers: workerBreakers(ctx),
    fetch: notifySettings.fetch,
    defer: logDeferral(ctx.log),
    log: ctx.log,
  });
  return (payload, context) => notifier.send(payload, { signal: context.signal });
}
