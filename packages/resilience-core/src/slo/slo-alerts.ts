import type { NotificationMessage, WebhookNotifier } from '../notify/webhook-notifier.ts';
import { BURN_RATE_RULES, type BurnRateRule, type FiringAlert } from './burn-rate.ts';
import type { SloStatus } from './evaluate-slo.ts';

/** One burn-rate alert to send. */
export interface SloAlert {
  sloId: string;
  functionId: string;
  rule: FiringAlert['rule'];
  /** Deduplication key: `slo:<sloId>:<rule>:<alert window start, epoch ms>`. */
  key: string;
  title: string;
  text: string;
}

/** Where alerts go. Resolves when the message was accepted (sent or deferred); may throw. */
export interface SloAlertSender {
  send(alert: SloAlert): Promise<void>;
}

/**
 * Remembers which alert keys were sent. `claim` returns true once per key (the first caller sends). The memory
 * ledger is per process: the console is the one process that evaluates SLOs continuously.
 */
export interface SloAlertLedger {
  claim(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Gives a claim back (the send failed), so the next evaluation retries. */
  release(key: string): Promise<void>;
}

/** A ledger in memory, dropping keys once their alert window is over. */
export function memoryAlertLedger(): SloAlertLedger & { size(): number } {
  const keys = new Map<string, number>();
  return {
    async claim(key, expiresAt, now) {
      for (const [k, until] of keys) if (until <= now) keys.delete(k);
      if (keys.has(key)) return false;
      keys.set(key, expiresAt);
      return true;
    },
    async release(key) {
      keys.delete(key);
    },
    size: () => keys.size,
  };
}

/** The alerts a status asks for, each keyed to the long window it falls in (so it is sent once per window). */
export function alertsOf(status: SloStatus, rules: readonly BurnRateRule[] = BURN_RATE_RULES): SloAlert[] {
  return status.alerts.map((a) => {
    const rule = rules.find((r) => r.name === a.rule)!;
    const windowStart = status.at - (status.at % rule.long.ms);
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
    return {
      sloId: status.spec.id,
      functionId: status.spec.functionId,
      rule: a.rule,
      key: `slo:${status.spec.id}:${a.rule}:${windowStart}`,
      title: `SLO ${status.spec.id}: ${a.rule} burn ${a.longBurnRate.toFixed(1)}× (${a.longWindow}) / ${a.shortBurnRate.toFixed(1)}× (${a.shortWindow})`,
      text:
        `${status.spec.functionId} is spending its error budget ${a.longBurnRate.toFixed(1)}× too fast over ` +
        `${a.longWindow} and ${a.shortBurnRate.toFixed(1)}× over ${a.shortWindow} (threshold ${a.factor}×: ` +
        `${pct(rule.budgetSpent)} of the ${status.spec.windowDays}-day budget per ${a.longWindow}). Objective ` +
        `${pct(status.spec.objective)}; budget remaining ${pct(status.budgetRemaining)}.`,
    };
  });
}

/** What {@link sendSloAlerts} did with each alert. */
export interface SloAlertOutcome {
  key: string;
  outcome: 'sent' | 'duplicate' | 'failed';
  error?: string;
}

/**
 * Sends each firing alert at most once per alert window: the ledger is claimed before sending, and given back
 * when the send fails (so it is retried at the next evaluation rather than lost).
 */
export async function sendSloAlerts(
  statuses: readonly SloStatus[],
  deps: { sender: SloAlertSender; ledger: SloAlertLedger; rules?: readonly BurnRateRule[] },
): Promise<SloAlertOutcome[]> {
  const rules = deps.rules ?? BURN_RATE_RULES;
  const out: SloAlertOutcome[] = [];
  for (const status of statuses) {
    for (const alert of alertsOf(status, rules)) {
      const rule = rules.find((r) => r.name === alert.rule)!;
      const expiresAt = status.at - (status.at % rule.long.ms) + rule.long.ms;
      if (!(await deps.ledger.claim(alert.key, expiresAt, status.at))) {
        out.push({ key: alert.key, outcome: 'duplicate' });
        continue;
      }
      try {
        await deps.sender.send(alert);
        out.push({ key: alert.key, outcome: 'sent' });
      } catch (error) {
        await deps.ledger.release(alert.key);
        out.push({ key: alert.key, outcome: 'failed', error: (error as Error).message });
      }
    }
  }
  return out;
}

/**
 * The one adapter between SLO alerts and the Slack/Teams notifier (`notify/`): each channel is called through
 * its circuit breaker, a channel that cannot take it now gets it deferred to the `send-notification` queue
 * (deduplicated by the alert key). Throws only when every configured channel refused the message, so the
 * alert is retried. `orgId` is the organization the notifier charges and defers under (default `ops`).
 */
export function notifierAlertSender(
  notifier: Pick<WebhookNotifier, 'notify'>,
  options: { orgId?: string } = {},
): SloAlertSender {
  return {
    async send(alert) {
      const message: NotificationMessage = { title: alert.title, text: alert.text };
      const outcomes = await notifier.notify(options.orgId ?? 'ops', message, { idempotencyKey: alert.key });
      if (outcomes.length > 0 && outcomes.every((o) => o.status === 'failed' || o.status === 'dropped')) {
        throw new Error(`every channel refused the alert: ${outcomes.map((o) => o.channel).join(', ')}`);
      }
    },
  };
}
