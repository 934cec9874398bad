import type { RecognitionHooks } from 'resilience-core/app';
import { notificationsFor, recognitionMessage } from 'resilience-core/notify';
import type { SetupContext } from 'resilience-core/runtime';
import { continueTrace, parseTraceparent, type TraceContext } from 'resilience-core/tracing';
import { executionQuotaService } from './quota.ts';

/**
 * Slack and Teams notifications for new recognitions (the `afterCreate` hook), through resilience-core's
 * `notificationsFor` on the request path: each channel behind its circuit breaker, the step within 2 s inline,
 * a Retry-After never slept out. Webhooks come from the function variables `NOTIFY_SLACK_WEBHOOK_URL` /
 * `NOTIFY_TEAMS_WEBHOOK_URL` (unset = that channel off). A message that cannot go now — breaker open, the
 * attempt failed transiently, or the webhook asked to come back later — is queued as a `send-notification` job
 * (not before the webhook's Retry-After); one the webhook refuses (a 4xx) is logged and not queued; the
 * recognition itself always succeeds. Each message is charged to the org's `notifications_per_hour` quota
 * (one unit per channel, charged once: the deferred job is not charged again); once it is spent, messages are
 * dropped with a logged reason (`notification dropped: quota exceeded`).
 */

/** The hook factory for `hooks.ts`. */
export function notificationHooks(ctx: SetupContext): RecognitionHooks {
  const notifications = notificationsFor(ctx);
  if (notifications.channels.length === 0) return {};
  // The request's trace: the kit's (`trace` on the execution context) where it provides one, else the caller's
  // valid `traceparent` continued here (the same trace id the kit logs).
  const trace =
    (ctx as SetupContext & { trace?: TraceContext }).trace ??
    (parseTraceparent(ctx.headers.traceparent) ? continueTrace(ctx.headers.traceparent) : undefined);
  return {
    async afterCreate(row) {
      await notifications.notify(row.orgId, recognitionMessage(row), {
        idempotencyKey: `recognition:${row.$id}`,
        // Each recognition message is charged to the org's notifications_per_hour (one unit per channel);
        // when spent, it is dropped and logged — the recognition still succeeds.
        quotas: executionQuotaService(ctx),
        ...(trace ? { trace } : {}),
      });
    },
  };
}
