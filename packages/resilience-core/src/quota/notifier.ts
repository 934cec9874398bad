/**
 * The ports the quota service talks to the outside through: a notifier for alerts and summaries, and a logger.
 *
 * QuotaNotifier promises nothing about delivery beyond "resolved = accepted by the channel". It may throw (a
 * webhook error, an open circuit); the quota service records the failure on the alert row and quota-reset retries
 * it. In production it is the breaker-protected Slack/Teams notifier (`quotaNotifierFromWebhooks` in `notify/`).
 */
import type { Logger } from '../ports/logger.ts';

/** One message for an organization's admins. */
export interface QuotaNotification {
  kind: 'threshold' | 'summary';
  orgId: string;
  /** One line, e.g. `recognitions_per_day at 80% (800 / 1000)`. */
  title: string;
  /** Plain-text body. */
  text: string;
  /** `warning` at 80 %, `critical` at 100 %, `info` for summaries. */
  severity: 'info' | 'warning' | 'critical';
  /** Structured fields for channels that render them (quota type, used, limit, window, reset time…). */
  fields: Record<string, string | number | null>;
  /** Stable key of this alert (its row id), so a channel's deferred copy is not queued twice. */
  dedupeKey?: string;
}

/** Sends quota notifications to an organization's channel (Slack, Teams…). */
export interface QuotaNotifier {
  notify(notification: QuotaNotification): Promise<void>;
}

/** A notifier that drops every message (when no channel is configured). */
export const silentNotifier: QuotaNotifier = { notify: async () => {} };

/** The logging the quota service does: the levels it writes of the logging port's {@link Logger}. */
export type QuotaLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/** A logger that drops every line. */
export const silentLogger: QuotaLogger = { info() {}, warn() {}, error() {} };
