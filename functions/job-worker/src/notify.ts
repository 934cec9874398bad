import { errors, type SendNotification } from 'resilience-core';

/**
 * The deferred-notification sender of the job-worker: posts `{ text }` (Slack and Teams incoming-webhook
 * format) to the webhook configured for the channel, `NOTIFY_<CHANNEL>_WEBHOOK_URL` (e.g.
 * `NOTIFY_SLACK_WEBHOOK_URL`). A channel with no webhook fails permanently (FAILED, redrivable once
 * configured); a 429/5xx or network error fails the attempt so the queue retries it with backoff.
 * Once the breaker-protected notifier (resilience-core `notify`) exists it should replace this sender.
 */
export function webhookSender(
  env: Record<string, string | undefined>,
  fetchImpl: typeof fetch = fetch,
): SendNotification {
  return async (payload, context) => {
    const url = env[`NOTIFY_${payload.channel.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_WEBHOOK_URL`];
    if (!url) {
      throw errors.invalidInput(`No webhook configured for channel "${payload.channel}"`);
    }
    const text = payload.title ? `*${payload.title}*\n${payload.text}` : payload.text;
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: context.signal,
    });
    if (response.status === 429 || response.status >= 500) {
      throw errors.retryable(`Webhook for ${payload.channel} answered ${response.status}`);
    }
    if (!response.ok) {
      throw errors.invalidInput(`Webhook for ${payload.channel} refused the message (${response.status})`);
    }
    return { status: response.status };
  };
}
