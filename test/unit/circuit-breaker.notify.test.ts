import createRecognition from 'fn-create-recognition/src/main.ts';
import { listAll } from 'resilience-core';
import { MemoryOrgDirectory, MemoryTableStore } from 'resilience-core/adapters/memory';
import { CircuitBreakerRegistry } from 'resilience-core/circuit-breaker';
import { createJobQueue, enqueueNotification, JOB_TABLES, productJobTypes } from 'resilience-core/jobs';
import {
  createWebhookNotifier,
  type DeferredNotification,
  postWebhook,
  queueDeferral,
  webhooksFromEnv,
  webhookTransport,
} from 'resilience-core/notify';
import { invoke, ManualClock } from 'resilience-core/testing';
import { afterEach, describe, expect, it } from 'vitest';

const SLACK = 'https://hooks.slack.test/services/T000/B000/secret';
const TEAMS = 'https://teams.test/webhook/secret';

interface Sent {
  url: string;
  body: unknown;
}

/** A fetch that answers each webhook with the status its URL is set to. */
function fakeFetch(status: Record<string, number | (() => never)>) {
  const sent: Sent[] = [];
  const impl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    sent.push({ url, body: JSON.parse(String(init?.body)) });
    const s = status[url] ?? 200;
    if (typeof s === 'function') s();
    return new Response(s === 200 ? 'ok' : 'nope', { status: s as number, headers: { 'retry-after': '1' } });
  }) as typeof fetch;
  return { impl, sent };
}

function notifierWith(status: Record<string, number | (() => never)>) {
  const clock = new ManualClock();
  const store = new MemoryTableStore({ clock });
  const breakers = new CircuitBreakerRegistry({ store, clock });
  const deferred: DeferredNotification[] = [];
  const fetch = fakeFetch(status);
  const notifier = createWebhookNotifier({
    webhooks: { slack: SLACK, teams: TEAMS },
    breakers,
    fetch: fetch.impl,
    defer: async (n) => {
      deferred.push(n);
    },
  });
  return { clock, store, breakers, deferred, fetch, notifier };
}

describe('webhook notifier', () => {
  it('posts Slack text and a Teams MessageCard, each through its breaker', async () => {
    const { notifier, fetch, breakers } = notifierWith({});
    const out = await notifier.notify('acme', { title: 'New recognition', text: 'alice recognized bob' });
    expect(out).toEqual([
      { channel: 'slack', status: 'sent' },
      { channel: 'teams', status: 'sent' },
    ]);
    expect(fetch.sent).toEqual([
      { url: SLACK, body: { text: '*New recognition*\nalice recognized bob' } },
      {
        url: TEAMS,
        body: {
          '@type': 'MessageCard',
          '@context': 'https://schema.org/extensions',
          summary: 'New recognition',
          title: 'New recognition',
          text: 'alice recognized bob',
        },
      },
    ]);
    expect(breakers.snapshot().map((s) => [s.name, s.counters.successes])).toEqual([
      ['slack', 1],
      ['teams', 1],
    ]);
  });

  it('defers when the channel fails, and without calling it once its breaker is open', async () => {
    const { notifier, fetch, deferred, breakers } = notifierWith({ [SLACK]: 503 });
    for (let i = 0; i < 5; i++) await notifier.notify('acme', { text: `m${i}` }, { idempotencyKey: `r${i}` });
    await breakers.flush();
    expect(breakers.get('slack').status).toBe('OPEN');
    const before = fetch.sent.filter((s) => s.url === SLACK).length;
    const out = await notifier.notify('acme', { text: 'later' }, { idempotencyKey: 'r9' });
    expect(out).toEqual([
      { channel: 'slack', status: 'deferred', reason: 'circuit-open (open)' },
      { channel: 'teams', status: 'sent' },
    ]);
    expect(fetch.sent.filter((s) => s.url === SLACK).length).toBe(before);
    expect(deferred.map((d) => d.reason.split(' ')[0])).toEqual([
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'circuit-open',
    ]);
    expect(deferred.at(-1)).toMatchObject({
      orgId: 'acme',
      idempotencyKey: 'r9:slack',
      payload: { channel: 'slack', text: 'later' },
    });
  });

  it('does not defer a message the webhook refuses (4xx): it would be refused again', async () => {
    const { notifier, deferred } = notifierWith({ [TEAMS]: 400 });
    const out = await notifier.notify('acme', { text: 'hi' });
    expect(out[1]).toMatchObject({ channel: 'teams', status: 'failed' });
    expect(out[1]!.reason).not.toContain('secret');
    expect(deferred).toEqual([]);
  });

  it('retries a refused connection (the POST never arrived) but not a 503 (it might have)', async () => {
    const refused = () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    };
    const { notifier, fetch } = notifierWith({ [SLACK]: refused });
    await expect(notifier.send({ channel: 'slack', text: 'x' })).rejects.toThrow('fetch failed');
    expect(fetch.sent).toHaveLength(2);
  });

  it('queues deferred messages as send-notification jobs, once per idempotency key', async () => {
    const store = new MemoryTableStore();
    const queue = createJobQueue({ store, types: productJobTypes });
    const defer = queueDeferral((orgId, payload, options) =>
      enqueueNotification(queue, orgId, payload, options),
    );
    const n: DeferredNotification = {
      orgId: 'acme',
      payload: { channel: 'slack', text: 'x' },
      reason: 'circuit-open',
      idempotencyKey: 'r1:slack',
    };
    await defer(n);
    await defer(n);
    const jobs = await listAll(store, JOB_TABLES.queue);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ orgId: 'acme', type: 'send-notification' });
  });

  it('reads webhook URLs from variables and names a bad one without echoing it', () => {
    expect(webhooksFromEnv({ NOTIFY_SLACK_WEBHOOK_URL: SLACK })).toEqual({ slack: SLACK });
    expect(() => webhooksFromEnv({ NOTIFY_TEAMS_WEBHOOK_URL: 'not a url secret' })).toThrow(
      /^Invalid webhook variables: NOTIFY_TEAMS_WEBHOOK_URL$/,
    );
  });
});

describe('postWebhook', () => {
  const answer = (retryAfter: string) => async () =>
    new Response('busy', { status: 429, headers: { 'retry-after': retryAfter } });
  const refusal = (doFetch: typeof fetch) =>
    postWebhook(doFetch, 'https://hooks.example.test/x', {}, undefined, 'Slack').catch((e: unknown) => e);

  it('takes Retry-After in seconds', async () => {
    expect(await refusal(answer('7') as typeof fetch)).toMatchObject({
      code: 'RETRYABLE',
      retryAfterSeconds: 7,
    });
  });

  it('takes Retry-After as an HTTP-date', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const error = (await refusal(answer(at) as typeof fetch)) as { retryAfterSeconds?: number };
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(30);
  });
});

describe('create-recognition notifications', () => {
  const saved = { ...webhookTransport };
  afterEach(() => {
    webhookTransport.fetch = saved.fetch;
  });

  it('notifies after a recognition; when Slack is down the recognition still succeeds and Slack is queued', async () => {
    const fetch = fakeFetch({ [SLACK]: 503 });
    webhookTransport.fetch = fetch.impl;
    const store = new MemoryTableStore();
    const orgs = new MemoryOrgDirectory({ acme: { alice: ['owner'], bob: [] } });
    const env = { NOTIFY_SLACK_WEBHOOK_URL: SLACK, NOTIFY_TEAMS_WEBHOOK_URL: TEAMS };
    const api = createRecognition.with({ env, store, orgs });
    const out = await invoke(api, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'bob', message: 'Great demo!', points: 5 },
      headers: { 'x-appwrite-user-id': 'alice' },
    });
    expect(out.status).toBe(201);
    const id = (out.body as { $id: string }).$id;
    expect(fetch.sent.map((s) => s.url)).toEqual([SLACK, TEAMS]);
    expect(fetch.sent[0]!.body).toEqual({
      text: '*New recognition*\nalice recognized bob (+5 points): Great demo!',
    });
    const jobs = await listAll(store, JOB_TABLES.queue);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      orgId: 'acme',
      type: 'send-notification',
      idempotencyKey: `recognition:${id}:slack`,
    });
    // The outcome reached the shared breaker table before the execution ended.
    const buckets = await listAll(store, 'circuit-breaker-buckets');
    expect(buckets.map((b) => [b.kind, b.count]).sort()).toEqual([
      ['fail', 1],
      ['ok', 1],
    ]);
  });
});

describe('operator routes', () => {
  function api() {
    const store = new MemoryTableStore();
    const orgs = new MemoryOrgDirectory({ acme: { alice: ['owner'] } });
    return { store, fn: createRecognition.with({ env: {}, store, orgs }) };
  }

  it('isolates and resets a breaker for every execution, and lists stored states', async () => {
    const { store, fn } = api();
    const isolated = await invoke(fn, {
      method: 'POST',
      path: '/circuit-breakers/slack/isolate',
      body: { reason: 'Slack incident' },
    });
    expect(isolated.status).toBe(200);
    expect(isolated.body).toMatchObject({ name: 'slack', state: 'OPEN', isolated: true });
    expect(await store.get('circuit-breakers', 'cb.slack')).toMatchObject({
      state: 'OPEN',
      isolated: true,
      reason: 'Slack incident',
    });
    const listed = await invoke(fn, { method: 'GET', path: '/circuit-breakers' });
    expect(listed.body).toMatchObject({
      breakers: [
        {
          key: 'cb.slack',
          name: 'slack',
          scope: null,
          state: 'OPEN',
          isolated: true,
          version: 1,
          reopenCount: 0,
          openUntil: null,
          reason: 'Slack incident',
          changedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        },
      ],
      nextCursor: null,
    });
    const reset = await invoke(fn, { method: 'POST', path: '/circuit-breakers/slack/reset', body: {} });
    expect(reset.body).toMatchObject({ state: 'CLOSED', version: 2 });
  });

  it('refuses users (403) and bad input (400) without writing anything', async () => {
    const { store, fn } = api();
    const asUser = await invoke(fn, {
      method: 'POST',
      path: '/circuit-breakers/slack/isolate',
      body: {},
      headers: { 'x-appwrite-user-id': 'alice' },
    });
    expect([401, 403]).toContain(asUser.status);
    const badName = await invoke(fn, {
      method: 'POST',
      path: '/circuit-breakers/bad%20name/reset',
      body: {},
    });
    expect(badName.status).toBe(400);
    const badBody = await invoke(fn, {
      method: 'POST',
      path: '/circuit-breakers/slack/isolate',
      body: { reason: 5 },
    });
    expect(badBody.status).toBe(400);
    expect((await store.list('circuit-breakers')).rows).toEqual([]);
  });
});
