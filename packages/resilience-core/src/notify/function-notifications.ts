import { z } from 'zod';
import type { CircuitEvent } from '../circuit-breaker/metrics.ts';
import type { CircuitBreakerOptions } from '../circuit-breaker/options.ts';
import { CircuitBreakerRegistry } from '../circuit-breaker/registry.ts';
import { describeError, errorText } from '../error-classification.ts';
import { enqueueNotification, type SendNotification } from '../jobs/handlers/send-notification.ts';
import { productJobTypes } from '../jobs/jobs.ts';
import { createJobClient } from '../jobs/queue.ts';
import type { JobClient } from '../jobs/queue-types.ts';
import type { Clock } from '../ports/clock.ts';
import type { TableStore } from '../ports/table-store.ts';
import type { QuotaNotifier } from '../quota/notifier.ts';
import { silentNotifier } from '../quota/notifier.ts';
import type { QuotaService } from '../quota/quota-service.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import type { TraceContext } from '../tracing/trace-context.ts';
import { quotaNotifierFromWebhooks } from './quota-webhooks.ts';
import {
  type ChannelOutcome,
  createWebhookNotifier,
  type NotificationMessage,
  type NotifierLog,
  type NotifyPath,
  queueDeferral,
  type WebhookChannel,
  type WebhookNotifier,
  webhooksFromEnv,
} from './webhook-notifier.ts';

/**
 * The one place a function gets its Slack/Teams notifications: the breaker-protected notifier, the process's
 * breaker registry (one per process and path, warm across executions), the `send-notification` queue for
 * deferral, and the flush of breaker outcomes before the execution ends. Functions declare the webhook
 * variables in their env schema ({@link webhookVariablesSchema}) and call {@link notificationsFor}; none
 * builds a notifier itself.
 *
 * The request path (`request`) gives the notification step 2 s inline (the webhook call 1.9 s of it; the presets
 * allow 5 s) and never sleeps out a Retry-After: a person is waiting, and the deferred job has the full budget. The `background` path (workers,
 * cron) uses the presets as they are.
 */

/**
 * The webhook variables, for a function's env schema (`envSchema.extend(webhookVariablesSchema.shape)`). Kept
 * as plain strings here so a bad URL turns notifications off (logged by name, never by value) instead of failing
 * every execution; {@link notificationsFor} checks them with `webhookEnvSchema`.
 */
export const webhookVariablesSchema = lazySchema(() =>
  z.object({
    /** Slack incoming-webhook URL. Unset = Slack off. A secret: never logged. */
    NOTIFY_SLACK_WEBHOOK_URL: z.string().optional(),
    /** Teams incoming-webhook (or Workflows) URL. Unset = Teams off. A secret: never logged. */
    NOTIFY_TEAMS_WEBHOOK_URL: z.string().optional(),
  }),
);

/** What notifications need of an execution (the function kit's `SetupContext` satisfies it). */
export interface NotificationsContext {
  /** The function's parsed env; the webhook variables are read from it. */
  env: object;
  store(): TableStore;
  clock: Clock;
  log: NotifierLog;
}

/** How webhook requests leave the process (tests replace `fetch`). */
export const webhookTransport: { fetch: typeof fetch } = { fetch: (...args) => fetch(...args) };

/**
 * Breaker options of the request path: a person is waiting. The notification step of a request stays within
 * {@link REQUEST_PATH_BUDGET_MS}: the webhook call gets 1.9 s of it, the deferral of a message that did not go
 * (one enqueue) the rest.
 */
const REQUEST_PATH_OVERRIDES: CircuitBreakerOptions = { callTimeoutMs: 1_900, slowCallDurationMs: 1_500 };

/** The most a request path spends on its notifications beyond a healthy webhook's time, ms. */
export const REQUEST_PATH_BUDGET_MS = 2_000;

interface WarmRegistry {
  registry: CircuitBreakerRegistry;
  clock: Clock;
  /** The store and logger of the execution that last used the registry (the dynamic key expires with it). */
  store: (() => TableStore) | null;
  log: NotifierLog | null;
}

// Kept across the executions of a warm container, so breaker caches and outcome buffers survive.
const warm = new Map<NotifyPath, WarmRegistry>();

/**
 * The process's breaker registry for `path`, bound to this execution's store and logger. One per process (a
 * new clock — a test's ManualClock — starts a new one); breaker transitions and state-store trouble are logged.
 */
export function processCircuitBreakers(
  ctx: Pick<NotificationsContext, 'store' | 'clock' | 'log'>,
  path: NotifyPath = 'request',
): CircuitBreakerRegistry {
  let entry = warm.get(path);
  if (!entry || entry.clock !== ctx.clock) {
    const created: WarmRegistry = {
      clock: ctx.clock,
      store: null,
      log: null,
      registry: new CircuitBreakerRegistry({
        store: () => {
          if (!created.store) throw new Error('circuit breakers used outside an execution');
          return created.store();
        },
        clock: ctx.clock,
        ...(path === 'request'
          ? { overrides: { slack: REQUEST_PATH_OVERRIDES, teams: REQUEST_PATH_OVERRIDES } }
          : {}),
        onEvent: (event) => logBreakerEvent(created.log, event),
      }),
    };
    entry = created;
    warm.set(path, entry);
  }
  // Bound lazily: an execution that never reaches a breaker's storage (e.g. `/health`) never builds a store.
  entry.store = () => ctx.store();
  entry.log = ctx.log;
  return entry.registry;
}

/** One execution's notifications (see {@link notificationsFor}). */
export interface ExecutionNotifications {
  /** The channels with a valid webhook (empty = notifications off). */
  readonly channels: readonly WebhookChannel[];
  /**
   * Sends to every channel (deferring what cannot go now); on the request path it then flushes the breakers'
   * outcomes (background callers call {@link flush} at their end). Never throws.
   * `quotas` charges the message to the org's `notifications_per_hour`.
   */
  notify(
    orgId: string,
    message: NotificationMessage,
    options?: {
      idempotencyKey?: string;
      trace?: TraceContext;
      quotas?: Pick<QuotaService, 'consume' | 'refund'>;
    },
  ): Promise<ChannelOutcome[]>;
  /** Quota alerts and summaries through the same notifier (never charged), flushed like `notify`. Silent when off. */
  readonly quotaNotifier: QuotaNotifier;
  /** The `send-notification` job's sender (throws so the queue retries); call {@link flush} before the end. */
  readonly send: SendNotification;
  /** Writes the breakers' buffered outcomes to the shared table. */
  flush(): Promise<void>;
}

const perExecution = new WeakMap<object, Map<NotifyPath, ExecutionNotifications>>();

/**
 * The notifications of one execution on `path` (memoized per execution context): webhooks from `ctx.env`
 * (a bad variable turns notifications off, logged by name), breakers from {@link processCircuitBreakers},
 * deferral to the `send-notification` queue over `ctx.store()` (created on the first deferral).
 */
export function notificationsFor(
  ctx: NotificationsContext,
  path: NotifyPath = 'request',
): ExecutionNotifications {
  let byPath = perExecution.get(ctx);
  if (!byPath) {
    byPath = new Map();
    perExecution.set(ctx, byPath);
  }
  let built = byPath.get(path);
  if (!built) {
    built = build(ctx, path);
    byPath.set(path, built);
  }
  return built;
}

function build(ctx: NotificationsContext, path: NotifyPath): ExecutionNotifications {
  let webhooks: Partial<Record<WebhookChannel, string>> = {};
  let badVariables: string | null = null;
  try {
    webhooks = webhooksFromEnv(ctx.env as Record<string, string | undefined>);
  } catch (error) {
    badVariables = errorText(error);
  }
  const channels = (Object.keys(webhooks) as WebhookChannel[]).sort();
  if (channels.length === 0) {
    if (badVariables) ctx.log.error('notifications off', { error: badVariables });
    return {
      channels: [],
      notify: async () => [],
      quotaNotifier: silentNotifier,
      send: async (payload) => {
        // Permanent: retrying cannot help until the variable is set (or fixed), then the job is redriven.
        throw Object.assign(
          new Error(badVariables ?? `No webhook configured for channel "${payload.channel}"`),
          { permanent: true },
        );
      },
      flush: async () => {},
    };
  }
  const breakers = processCircuitBreakers(ctx, path);
  let queue: JobClient | undefined;
  const notifier: WebhookNotifier = createWebhookNotifier({
    webhooks,
    breakers,
    path,
    clock: ctx.clock,
    fetch: (input, init) => webhookTransport.fetch(input, init),
    defer: queueDeferral((orgId, payload, options) => {
      queue ??= createJobClient({ store: ctx.store(), clock: ctx.clock, types: productJobTypes });
      return enqueueNotification(queue, orgId, payload, options);
    }),
    log: ctx.log,
  });
  const flush = () => breakers.flush();
  // On the request path every message's outcomes reach the shared table before the execution ends; a
  // background run (a drain, the nightly reset) sends many and flushes once, at its end.
  const afterMessage =
    path === 'request'
      ? () =>
          flush().catch((error: unknown) =>
            ctx.log.warn('circuit breaker flush failed', { error: describeError(error) }),
          )
      : async () => {};
  const quotaAlerts = quotaNotifierFromWebhooks(notifier);
  return {
    channels: notifier.channels,
    async notify(orgId, message, options = {}) {
      try {
        return await notifier.notify(orgId, message, options);
      } finally {
        await afterMessage();
      }
    },
    quotaNotifier: {
      async notify(n) {
        try {
          await quotaAlerts.notify(n);
        } finally {
          await afterMessage();
        }
      },
    },
    send: (payload, context) =>
      notifier.send(payload, { signal: context.signal, ...(context.trace ? { trace: context.trace } : {}) }),
    flush,
  };
}

function logBreakerEvent(log: NotifierLog | null, event: CircuitEvent): void {
  if (event.type === 'transition') {
    log?.warn('circuit breaker transition', {
      breaker: event.breaker,
      from: event.from,
      to: event.to,
      reason: event.reason,
      origin: event.origin,
    });
  } else if (event.type === 'storage') {
    log?.warn('circuit breaker state store', {
      breaker: event.breaker,
      status: event.status,
      error: event.error,
    });
  }
}
