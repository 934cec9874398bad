import { z } from 'zod';
import type { CircuitBreakerRegistry } from '../circuit-breaker/registry.ts';
import { describeError } from '../error-classification.ts';
import { errors, hasCode, ResilienceError } from '../errors.ts';
import type { NotificationPayload } from '../jobs/handlers/send-notification.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { QuotaService, UsageTicket } from '../quota/quota-service.ts';
import { retry } from '../retry/retry.ts';
import { parseRetryAfter, retryAfterMs } from '../retry/retry-after.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { childSpan, formatTraceparent, type TraceContext } from '../tracing/trace-context.ts';

/**
 * Slack and Teams notifications through circuit breakers (the `slack` and `teams` presets). Inline, a
 * message gets one attempt; when the channel's breaker is open, or the attempt fails transiently, the message
 * is handed to `defer` (the `send-notification` job queue) instead, so the caller's work — creating a
 * recognition — never fails or waits on a webhook. On the request path (`path: 'request'`) an attempt never
 * sleeps out a Retry-After: the message is deferred at once, to run no earlier than the hint. Delivery is at least once: an attempt that timed out may
 * have arrived, and its deferred copy will arrive again. With `quotas`, each message is charged to the org's
 * `notifications_per_hour` quota first and dropped (logged) when it is spent.
 */

/** The channels with a webhook notifier. */
export const webhookChannelSchema = lazySchema(() => z.enum(['slack', 'teams']));
/** A webhook channel. */
export type WebhookChannel = z.infer<typeof webhookChannelSchema>;

/** Webhook URLs from function variables (checked by {@link webhooksFromEnv}). Never logged (they carry tokens). */
export const webhookEnvSchema = lazySchema(() =>
  z.object({
    /** Slack incoming-webhook URL. Unset = Slack off. */
    NOTIFY_SLACK_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Teams incoming-webhook (or Workflows) URL. Unset = Teams off. */
    NOTIFY_TEAMS_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  }),
);

/** Webhook URLs by channel from an environment (`process.env`); throws INTERNAL naming a bad variable, not its value. */
export function webhooksFromEnv(
  env: Record<string, string | undefined>,
): Partial<Record<WebhookChannel, string>> {
  const parsed = webhookEnvSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new ResilienceError('INTERNAL', `Invalid webhook variables: ${names}`);
  }
  return {
    ...(parsed.data.NOTIFY_SLACK_WEBHOOK_URL ? { slack: parsed.data.NOTIFY_SLACK_WEBHOOK_URL } : {}),
    ...(parsed.data.NOTIFY_TEAMS_WEBHOOK_URL ? { teams: parsed.data.NOTIFY_TEAMS_WEBHOOK_URL } : {}),
  };
}

/** A message for people. */
export interface NotificationMessage {
  text: string;
  title?: string;
}

/** A message that could not be sent now, for later delivery. */
export interface DeferredNotification {
  orgId: string;
  payload: NotificationPayload;
  /** Why: `circuit-open` (with the breaker's reason) or `failed`. */
  reason: string;
  /** Deduplicates a retried request (e.g. `${recognitionId}:${channel}`). */
  idempotencyKey?: string;
  /** The webhook's Retry-After (ms from now): the deferred delivery runs no earlier. */
  retryAfterMs?: number;
  /** The W3C `traceparent` of the span that deferred it, so the delivery continues the trace. */
  traceparent?: string;
}

/** Where deferred notifications go: normally {@link queueDeferral}; {@link logDeferral} where there is no queue. */
export type DeferNotification = (notification: DeferredNotification) => Promise<void>;

/** Minimal logger the notifier writes to. */
export interface NotifierLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What happened to one channel's message. */
export interface ChannelOutcome {
  channel: WebhookChannel;
  /**
   * `sent` now; `deferred` to the queue; `failed` (refused by the webhook, or the deferral failed);
   * `dropped` because the org's `notifications_per_hour` quota is spent (not sent, not queued).
   */
  status: 'sent' | 'deferred' | 'failed' | 'dropped';
  /** For `deferred`, `failed` and `dropped`. */
  reason?: string;
}

/**
 * Where a notifier runs: `request` — someone is waiting, so a webhook's Retry-After is never slept out (the
 * message is deferred at once with the hint); `background` — a job or a cron run, where one retry may wait for
 * a short Retry-After within the breaker's call timeout.
 */
export type NotifyPath = 'request' | 'background';

/** Per-message options of {@link WebhookNotifier.notify}. */
export interface NotifyOptions {
  /** Deduplicates the deferred copy of a retried request (suffixed with the channel). */
  idempotencyKey?: string;
  /** The caller's trace: each webhook call carries a child span's `traceparent`, a deferral the caller's. */
  trace?: TraceContext;
  /** Charges this message to the org's `notifications_per_hour` (overrides {@link WebhookNotifierOptions.quotas}). */
  quotas?: Pick<QuotaService, 'consume' | 'refund'>;
}

/** Per-send options of {@link WebhookNotifier.send}. */
export interface SendOptions {
  signal?: AbortSignal;
  /** The sender's trace: the webhook call carries a child span's `traceparent`. */
  trace?: TraceContext;
}

/** The quota {@link WebhookNotifierOptions.quotas} charges. */
export const NOTIFICATION_QUOTA = 'notifications_per_hour';

/** Options of {@link createWebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** Webhook URL per channel; channels without one are skipped. */
  webhooks: Partial<Record<WebhookChannel, string>>;
  /** Breakers by channel name (`slack`, `teams` presets). */
  breakers: CircuitBreakerRegistry;
  /** Defer path for messages that cannot be sent now. */
  defer: DeferNotification;
  /** Injected for tests. Default global fetch. */
  fetch?: typeof fetch;
  log?: NotifierLog;
  /** Default `background` (see {@link NotifyPath}). */
  path?: NotifyPath;
  /** Time source of retries and Retry-After hints (the breakers' clock). Default the system clock. */
  clock?: Clock;
  /**
   * Charges `notify` to the org's `notifications_per_hour` quota: one atomic consume of one unit per configured
   * channel, before anything is sent. Refused → every channel's outcome is `dropped` (logged with the quota,
   * usage and reset time), neither sent nor queued: the limit caps messages per hour, and deferring a flood
   * would only move it to the next hour while the queue grows. A message is charged once, when first
   * attempted; its deferred redelivery (`send-notification` job) is not charged again. A channel that ends
   * `failed` gets its unit refunded. If the quota store cannot be reached the message goes out uncounted
   * (logged): a notification never fails, or waits on, the work it reports. `send` is never charged.
   * Unset = no quota (e.g. operational quota alerts, which must reach admins even when the quota is spent).
   */
  quotas?: Pick<QuotaService, 'consume' | 'refund'>;
}

/** A Slack/Teams notifier. */
export interface WebhookNotifier {
  /** The channels that have a webhook. */
  readonly channels: readonly WebhookChannel[];
  /**
   * Sends to every configured channel at once; a channel that cannot take it now gets it deferred. Never
   * throws: each channel's outcome is returned (and logged).
   */
  notify(orgId: string, message: NotificationMessage, options?: NotifyOptions): Promise<ChannelOutcome[]>;
  /**
   * Sends one message now through the channel's breaker, or throws (CIRCUIT_OPEN, RETRYABLE, TIMEOUT,
   * DEPENDENCY_ERROR…). Matches the `send-notification` job's sender, so a worker can deliver deferred messages.
   */
  send(payload: NotificationPayload, context?: SendOptions): Promise<{ status: number }>;
}

/** Builds a notifier over the given breakers and defer path. */
export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const doFetch = options.fetch ?? fetch;
  const channels = webhookChannelSchema.options.filter((c) => options.webhooks[c] !== undefined);

  // A request path never sleeps on a dependency's Retry-After: a hinted failure is thrown at once (and deferred).
  const maxRetryAfterMs = options.path === 'request' ? 0 : undefined;
  const clock = options.clock ?? systemClock;

  async function send(payload: NotificationPayload, context: SendOptions = {}) {
    const channel = webhookChannelSchema.safeParse(payload.channel);
    if (!channel.success) throw errors.invalidInput(`Unknown webhook channel "${payload.channel}"`);
    const url = options.webhooks[channel.data];
    if (!url) throw errors.invalidInput(`No webhook configured for channel "${channel.data}"`);
    const body = channel.data === 'slack' ? slackBody(payload) : teamsBody(payload);
    const traceparent = context.trace ? formatTraceparent(childSpan(context.trace)) : undefined;
    // A POST is not idempotent: retried only when the request provably never arrived (refused, 429).
    // The breaker's call timeout (its preset's callTimeoutMs) bounds the whole attempt, retry included.
    return options.breakers.get(channel.data).execute(
      (signal) =>
        retry((s) => postWebhook(doFetch, url, body, s, channel.data, traceparent), {
          maxAttempts: 2,
          maxElapsedMs: 10_000,
          clock,
          ...(maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs }),
          ...(signal ? { signal } : {}),
        }),
      context.signal ? { signal: context.signal } : undefined,
    );
  }

  /** The quota admission of one notify: a ticket, `null` (no quota / uncounted), or the drop reason. */
  async function charge(
    orgId: string,
    quotas: Pick<QuotaService, 'consume' | 'refund'> | undefined,
  ): Promise<{ ticket: UsageTicket | null } | { dropped: string }> {
    if (!quotas || channels.length === 0) return { ticket: null };
    try {
      const d = await quotas.consume(orgId, NOTIFICATION_QUOTA, channels.length);
      if (d.allowed) return { ticket: d.ticket };
      const reason =
        `quota-exceeded (${NOTIFICATION_QUOTA}: ${d.used} of ${d.limit} used` +
        `${d.resetAt ? `, resets at ${d.resetAt}` : ''})`;
      options.log?.warn('notification dropped: quota exceeded', {
        orgId,
        quotaType: NOTIFICATION_QUOTA,
        used: d.used,
        limit: d.limit,
        requested: d.amount,
        resetsAt: d.resetAt,
      });
      return { dropped: reason };
    } catch (error) {
      options.log?.warn('notification quota unavailable: sending uncounted', {
        orgId,
        error: describeError(error),
      });
      return { ticket: null };
    }
  }

  async function notify(orgId: string, message: NotificationMessage, opts: NotifyOptions = {}) {
    const quotas = opts.quotas ?? options.quotas;
    const admission = await charge(orgId, quotas);
    if ('dropped' in admission) {
      return channels.map(
        (channel): ChannelOutcome => ({ channel, status: 'dropped', reason: admission.dropped }),
      );
    }
    const outcomes = await Promise.all(
      channels.map(async (channel): Promise<ChannelOutcome> => {
        const payload: NotificationPayload = {
          channel,
          text: message.text.slice(0, 4000),
          ...(message.title ? { title: message.title.slice(0, 200) } : {}),
        };
        try {
          await send(payload, opts.trace ? { trace: opts.trace } : {});
          return { channel, status: 'sent' };
        } catch (error) {
          if (hasCode(error, 'DEPENDENCY_ERROR', 'INVALID_INPUT')) {
            // The webhook refused this message (bad URL or payload): sending it later would fail the same way.
            options.log?.error('notification refused', { channel, error: describeError(error) });
            return { channel, status: 'failed', reason: describeError(error) };
          }
          const reason = hasCode(error, 'CIRCUIT_OPEN')
            ? `circuit-open (${String(error.details?.reason ?? 'open')})`
            : `failed (${describeError(error)})`;
          // The webhook's own Retry-After (not an open breaker's): the deferred copy waits at least that long.
          const hintMs = hasCode(error, 'CIRCUIT_OPEN') ? undefined : retryAfterMs(error, clock.now());
          try {
            await options.defer({
              orgId,
              payload,
              reason,
              ...(opts.idempotencyKey ? { idempotencyKey: `${opts.idempotencyKey}:${channel}` } : {}),
              ...(hintMs ? { retryAfterMs: hintMs } : {}),
              ...(opts.trace ? { traceparent: formatTraceparent(opts.trace) } : {}),
            });
            options.log?.warn('notification deferred', { channel, reason });
            return { channel, status: 'deferred', reason };
          } catch (deferError) {
            options.log?.error('notification lost: deferral failed', {
              channel,
              reason,
              error: describeError(deferError),
            });
            return { channel, status: 'failed', reason: `${reason}; deferral failed` };
          }
        }
      }),
    );
    const failed = outcomes.filter((o) => o.status === 'failed').length;
    if (admission.ticket && failed > 0 && quotas) {
      // Nothing went out and nothing is queued for these channels: their units go back.
      await quotas.refund(admission.ticket, failed).catch((error: unknown) => {
        options.log?.error('notification quota refund failed', { orgId, error: describeError(error) });
      });
    }
    return outcomes;
  }

  return { channels, notify, send };
}

/**
 * POSTs a JSON body to a webhook. 2xx resolves with the status; 429/5xx throw RETRYABLE (with the server's
 * Retry-After), other statuses DEPENDENCY_ERROR with `details.status`. The URL never appears in an error.
 * `traceparent` (W3C) is sent when given, so the receiver joins the caller's trace.
 */
export async function postWebhook(
  doFetch: typeof fetch,
  url: string,
  body: unknown,
  signal: AbortSignal | undefined,
  what: string,
  traceparent?: string,
): Promise<{ status: number }> {
  const response = await doFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(traceparent ? { traceparent } : {}) },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  // Drain the body so the connection can be reused.
  await response.text().catch(() => '');
  if (response.ok) return { status: response.status };
  if (response.status === 429 || response.status >= 500) {
    // Seconds or an HTTP-date; the date is the remote server's wall clock, so it is compared with ours.
    const header = response.headers.get('retry-after');
    const retryAfterMs = header === null ? undefined : parseRetryAfter(header, Date.now());
    throw new ResilienceError('RETRYABLE', `${what} webhook answered ${response.status}`, {
      details: { status: response.status },
      ...(retryAfterMs === undefined ? {} : { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) }),
    });
  }
  throw new ResilienceError('DEPENDENCY_ERROR', `${what} webhook refused the message (${response.status})`, {
    details: { status: response.status },
  });
}

/** Slack incoming-webhook body: `text` with a bold title line (mrkdwn). */
export function slackBody(payload: NotificationPayload): { text: string } {
  return { text: payload.title ? `*${payload.title}*\n${payload.text}` : payload.text };
}

/** Teams incoming-webhook body: a MessageCard (also accepted by Teams Workflows' webhook trigger). */
export function teamsBody(payload: NotificationPayload): Record<string, unknown> {
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: payload.title ?? payload.text.slice(0, 80),
    ...(payload.title ? { title: payload.title } : {}),
    text: payload.text,
  };
}

/** Defers by logging only — for places without a job queue. The message is NOT delivered later. */
export function logDeferral(log: NotifierLog): DeferNotification {
  return async (n) => {
    log.warn('notification not delivered (no queue configured): logged only', {
      channel: n.payload.channel,
      orgId: n.orgId,
      reason: n.reason,
    });
  };
}

/**
 * Defers to the `send-notification` job queue (`enqueueNotification` from the jobs module): the job runs no
 * earlier than the webhook's Retry-After (`delayMs`) and carries the deferring span's `traceparent`.
 */
export function queueDeferral(
  enqueue: (
    orgId: string,
    payload: NotificationPayload,
    options: { idempotencyKey?: string; delayMs?: number; traceparent?: string },
  ) => Promise<unknown>,
): DeferNotification {
  return async (n) => {
    await enqueue(n.orgId, n.payload, {
      ...(n.idempotencyKey ? { idempotencyKey: n.idempotencyKey } : {}),
      ...(n.retryAfterMs ? { delayMs: n.retryAfterMs } : {}),
      ...(n.traceparent ? { traceparent: n.traceparent } : {}),
    });
  };
}
