import type { SendNotification } from 'resilience-core/jobs';
import { type NotificationsContext, notificationsFor } from 'resilience-core/notify';

/**
 * The job-worker's sender of deferred notifications (`send-notification` jobs): resilience-core's
 * `notificationsFor` on the background path (the presets' full time budget), the same breaker-protected
 * Slack/Teams notifier create-recognition uses inline. Webhooks come from the function variables
 * `NOTIFY_SLACK_WEBHOOK_URL` / `NOTIFY_TEAMS_WEBHOOK_URL` (declared in the env schema). An open breaker or a
 * transient failure fails the attempt, so the queue retries it with backoff; an unknown channel, one without a
 * webhook or a bad webhook variable fails permanently (FAILED, redrivable once configured).
 */

/** The sender for one execution. */
export function notificationSender(ctx: NotificationsContext): SendNotification {
  return notificationsFor(ctx, 'background').send;
}

/** Writes the breaker outcomes of the notifications sent to the shared table (before the execution ends). */
export function flushNotifications(ctx: NotificationsContext): Promise<void> {
  return notificationsFor(ctx, 'background').flush();
}
