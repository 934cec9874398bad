import type { QuotaNotifier } from '../quota/notifier.ts';
import type { WebhookNotifier } from './webhook-notifier.ts';

/**
 * A QuotaNotifier over the Slack/Teams webhook notifier (resilience-core `notify`): each channel is called
 * through its circuit breaker; a channel whose breaker is open, or whose attempt failed transiently, gets the
 * message deferred to the `send-notification` job queue, which counts as accepted. Throws (so the alert row is
 * marked failed and quota-reset retries it) only when every configured channel refused the message outright.
 */
export function quotaNotifierFromWebhooks(webhooks: Pick<WebhookNotifier, 'notify'>): QuotaNotifier {
  return {
    async notify(n) {
      const body = [n.text, ...Object.entries(n.fields).map(([k, v]) => `${k}: ${v ?? '-'}`)].join('\n');
      const outcomes = await webhooks.notify(
        n.orgId,
        { title: `[${n.orgId}] ${n.title}`, text: body },
        n.dedupeKey ? { idempotencyKey: `quota:${n.dedupeKey}` } : {},
      );
      if (outcomes.length > 0 && outcomes.every((o) => o.status === 'failed')) {
        throw new Error(
          `every channel refused the message: ${outcomes.map((o) => `${o.channel} ${o.reason ?? ''}`).join('; ')}`,
        );
      }
    },
  };
}
