import createRecognition from 'fn-create-recognition/src/main.ts';
import { listAll, ResilienceError, type TableStore } from 'resilience-core';
import { MemoryOrgDirectory } from 'resilience-core/adapters/memory';
import { CircuitBreakerRegistry } from 'resilience-core/circuit-breaker';
import { JOB_TABLES } from 'resilience-core/jobs';
import { createWebhookNotifier, type DeferredNotification, webhookTransport } from 'resilience-core/notify';
import { forgetKnownAlerts, QUOTA_TABLES } from 'resilience-core/quota';
import { invoke } from 'resilience-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const SLACK = 'https://hooks.slack.test/services/T000/B000/secret';
const TEAMS = 'https://teams.test/webhook/secret';
const ORG = 'acme';

/** A fetch that answers each webhook with the status its URL is set to (200 by default). */
function fakeFetch(status: Record<string, number> = {}) {
  const sent: string[] = [];
  const texts: string[] = [];
  const impl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    sent.push(url);
    texts.push(String((JSON.parse(String(init?.body)) as { text?: unknown }).text));
    const s = status[url] ?? 200;
    return new Response(s === 200 ? 'ok' : 'nope', { status: s });
  }) as typeof fetch;
  return { impl, sent, texts };
}

function recordingLog() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, ...(fields ? { fields } : {}) });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

async function notificationsUsed(store: TableStore): Promise<number> {
  const rows = await listAll(store, QUOTA_TABLES.usage, {
    where: [{ field: 'quotaType', op: 'eq', value: 'notifications_per_hour' }],
  });
  return rows.reduce((sum, r) => sum + Number(r.used), 0);
}

async function setup(limit: number, status: Record<string, number> = {}) {
  const f = quotaFixture();
  await f.configure(ORG, { overrides: { notifications_per_hour: limit } });
  const fetch = fakeFetch(status);
  const deferred: DeferredNotification[] = [];
  const { lines, log } = recordingLog();
  const quotas = f.service();
  const notifier = createWebhookNotifier({
    webhooks: { slack: SLACK, teams: TEAMS },
    breakers: new CircuitBreakerRegistry({ store: f.store, clock: f.clock }),
    fetch: fetch.impl,
    defer: async (n) => void deferred.push(n),
    log,
    quotas,
  });
  return { f, fetch, deferred, lines, notifier, quotas };
}

beforeEach(() => forgetKnownAlerts());

describe('notifications_per_hour on the webhook notifier', () => {
  it('charges one unit per channel; once spent, messages are dropped (not sent, not queued) and logged', async () => {
    const { f, fetch, deferred, lines, notifier } = await setup(4);
    for (let i = 0; i < 2; i++) {
      expect((await notifier.notify(ORG, { text: `#${i}` })).map((o) => o.status)).toEqual(['sent', 'sent']);
    }
    const third = await notifier.notify(ORG, { text: '#3' });
    expect(third.map((o) => o.status)).toEqual(['dropped', 'dropped']);
    expect(third[0]!.reason).toMatch(/^quota-exceeded \(notifications_per_hour: 4 of 4 used, resets at /);
    expect(fetch.sent).toHaveLength(4);
    expect(deferred).toHaveLength(0);
    expect(await notificationsUsed(f.store)).toBe(4);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'notification dropped: quota exceeded',
        fields: expect.objectContaining({ orgId: ORG, used: 4, limit: 4, requested: 2 }),
      }),
    );
    // The next hour is a new window: messages flow again.
    f.clock.advance(3_600_000);
    expect((await notifier.notify(ORG, { text: 'later' })).map((o) => o.status)).toEqual(['sent', 'sent']);
  });

  it('is all-or-nothing across channels: a message needing 2 units with 1 left is dropped everywhere', async () => {
    const { f, fetch, notifier } = await setup(3);
    await notifier.notify(ORG, { text: 'a' });
    expect((await notifier.notify(ORG, { text: 'b' })).map((o) => o.status)).toEqual(['dropped', 'dropped']);
    expect(fetch.sent).toHaveLength(2);
    expect(await notificationsUsed(f.store)).toBe(2);
  });

  it('refunds the unit of a channel that failed outright; a deferred channel stays charged', async () => {
    const { f, deferred, notifier } = await setup(10, { [SLACK]: 503, [TEAMS]: 400 });
    const out = await notifier.notify(ORG, { text: 'x' }, { idempotencyKey: 'rec-1' });
    expect(out.map((o) => [o.channel, o.status])).toEqual([
      ['slack', 'deferred'],
      ['teams', 'failed'],
    ]);
    expect(deferred.map((d) => d.idempotencyKey)).toEqual(['rec-1:slack']);
    // Slack's unit covers its deferred delivery; Teams refused the message, so its unit came back.
    expect(await notificationsUsed(f.store)).toBe(1);
  });

  it('the deferred delivery (send, as the send-notification job calls it) is not charged again', async () => {
    const { f, notifier } = await setup(2);
    await notifier.send({ channel: 'slack', text: 'from the queue' });
    await notifier.send({ channel: 'teams', text: 'from the queue' });
    expect(await notificationsUsed(f.store)).toBe(0);
  });

  it('sends uncounted (and logs) when the quota store cannot be reached: a notification never fails', async () => {
    const { f, fetch, lines, notifier, quotas } = await setup(1);
    quotas.consume = () => Promise.reject(new ResilienceError('RETRYABLE', 'quota table down'));
    expect((await notifier.notify(ORG, { text: 'x' })).map((o) => o.status)).toEqual(['sent', 'sent']);
    expect(fetch.sent).toHaveLength(2);
    expect(await notificationsUsed(f.store)).toBe(0);
    expect(lines.map((l) => l.message)).toContain('notification quota unavailable: sending uncounted');
  });

  it('never charges without a quota service (operational quota alerts are exempt)', async () => {
    const f = quotaFixture();
    const notifier = createWebhookNotifier({
      webhooks: { slack: SLACK },
      breakers: new CircuitBreakerRegistry({ store: f.store, clock: f.clock }),
      fetch: fakeFetch().impl,
      defer: async () => {},
    });
    await notifier.notify(ORG, { text: 'x' });
    expect(await notificationsUsed(f.store)).toBe(0);
  });
});

describe('create-recognition charges its notifications', () => {
  const saved = { ...webhookTransport };
  afterEach(() => {
    webhookTransport.fetch = saved.fetch;
  });

  it('drops the notification once the hour is spent; the recognition still succeeds (201)', async () => {
    const fetch = fakeFetch();
    webhookTransport.fetch = fetch.impl;
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { notifications_per_hour: 2 } });
    const orgs = new MemoryOrgDirectory({ [ORG]: { alice: ['owner'], bob: [] } });
    const env = { NOTIFY_SLACK_WEBHOOK_URL: SLACK };
    const api = createRecognition.with({ env, store: f.store, orgs, clock: f.clock });
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(
        await invoke(api, {
          method: 'POST',
          path: '/recognitions',
          body: { orgId: ORG, receiverId: 'bob', message: `thanks #${i}` },
          headers: { 'x-appwrite-user-id': 'alice' },
        }),
      );
    }
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    const recognitionMessages = fetch.texts.filter((t) => t.startsWith('*New recognition*'));
    expect(recognitionMessages.map((t) => t.slice(-9))).toEqual(['thanks #0', 'thanks #1']);
    // The quota's own 80 % / 100 % alerts still reach Slack: operational alerts are never charged or dropped.
    expect(fetch.texts.filter((t) => t.includes('notifications_per_hour at')).length).toBe(2);
    expect(await notificationsUsed(f.store)).toBe(2);
    expect(await listAll(f.store, JOB_TABLES.queue)).toHaveLength(0);
    expect(results[2]!.logs.join('\n')).toContain('notification dropped: quota exceeded');
  });
});
