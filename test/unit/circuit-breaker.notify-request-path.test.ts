import createRecognition from 'fn-create-recognition/src/main.ts';
import { listAll } from 'resilience-core';
import { MemoryOrgDirectory, MemoryTableStore } from 'resilience-core/adapters/memory';
import { CIRCUIT_BREAKER_BUCKETS_TABLE } from 'resilience-core/circuit-breaker';
import { JOB_TABLES } from 'resilience-core/jobs';
import { processCircuitBreakers, REQUEST_PATH_BUDGET_MS, webhookTransport } from 'resilience-core/notify';
import { retry } from 'resilience-core/retry';
import { invoke, ManualClock } from 'resilience-core/testing';
import { afterEach, describe, expect, it } from 'vitest';

const SLACK = 'https://hooks.slack.test/services/T000/B000/request-path';

/** A webhook stand-in answering 429 with `Retry-After: seconds`, counting its calls. */
function rateLimited(seconds: number) {
  const calls: string[] = [];
  const impl = (async (url: string | URL | Request) => {
    calls.push(String(url));
    return new Response('slow down', { status: 429, headers: { 'retry-after': String(seconds) } });
  }) as typeof fetch;
  return { impl, calls };
}

describe('a request path never sleeps on a webhook Retry-After', () => {
  const saved = { ...webhookTransport };
  afterEach(() => {
    webhookTransport.fetch = saved.fetch;
  });

  it('POST /recognitions answers at once on a 429: one webhook call, deferred to run after Retry-After, breaker fed', async () => {
    const clock = new ManualClock('2026-03-10T12:00:00.000Z');
    const store = new MemoryTableStore({ clock });
    const orgs = new MemoryOrgDirectory({ acme: { alice: ['owner'], bob: [] } });
    const webhook = rateLimited(2);
    webhookTransport.fetch = webhook.impl;
    const api = createRecognition.with({ env: { NOTIFY_SLACK_WEBHOOK_URL: SLACK }, store, orgs, clock });
    const startedAt = clock.now();
    // With the ManualClock nothing advances time: a request that slept (on this clock) would never answer.
    const out = await invoke(api, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'bob', message: 'Thanks!' },
      headers: { 'x-appwrite-user-id': 'alice' },
    });
    expect(out.status).toBe(201);
    expect(clock.now()).toBe(startedAt);
    expect(clock.pending).toBe(0);
    // One attempt: a 429 is never retried inline, nor its Retry-After slept out inside the request.
    expect(webhook.calls).toEqual([SLACK]);
    const jobs = await listAll(store, JOB_TABLES.queue);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ orgId: 'acme', type: 'send-notification', status: 'PENDING' });
    // The deferred delivery honours the Retry-After: it may not run before now + 2 s.
    expect(jobs[0]!.runAt).toBeGreaterThanOrEqual(startedAt + 2000);
    // The 429 counted against Slack's breaker, and reached the shared table before the execution ended.
    const buckets = await listAll(store, CIRCUIT_BREAKER_BUCKETS_TABLE);
    expect(buckets.map((b) => [b.kind, b.count])).toEqual([['fail', 1]]);
    const slack = processCircuitBreakers({ store: () => store, clock, log: console })
      .snapshot()
      .find((s) => s.name === 'slack');
    expect(slack?.counters.failures).toBe(1);
  });

  it('a hanging webhook costs the request at most the inline budget: the call is cut at 1.9 s and deferred', async () => {
    const clock = new ManualClock('2026-03-10T12:00:00.000Z');
    const store = new MemoryTableStore({ clock });
    const orgs = new MemoryOrgDirectory({ acme: { alice: ['owner'], bob: [] } });
    let calls = 0;
    webhookTransport.fetch = ((_url: string | URL | Request, init?: RequestInit) => {
      calls++;
      // Never answers: only the caller's abort ends it.
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true });
      });
    }) as typeof fetch;
    const api = createRecognition.with({ env: { NOTIFY_SLACK_WEBHOOK_URL: SLACK }, store, orgs, clock });
    const startedAt = clock.now();
    let done = false;
    const pending = invoke(api, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'bob', message: 'Thanks!' },
      headers: { 'x-appwrite-user-id': 'alice' },
    }).then((out) => {
      done = true;
      return out;
    });
    while (calls === 0) await new Promise((r) => setImmediate(r));
    await clock.advance(REQUEST_PATH_BUDGET_MS - 101);
    expect(done).toBe(false);
    await clock.advance(1);
    const out = await pending;
    expect(out.status).toBe(201);
    expect(clock.now() - startedAt).toBeLessThanOrEqual(REQUEST_PATH_BUDGET_MS);
    expect(calls).toBe(1);
    const jobs = await listAll(store, JOB_TABLES.queue);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ type: 'send-notification', status: 'PENDING' });
  });

  it('retry throws a hinted error at once when the hint is longer than maxRetryAfterMs', async () => {
    const clock = new ManualClock();
    let attempts = 0;
    const hinted = Object.assign(new Error('busy'), { status: 429, retryAfterSeconds: 1 });
    const outcome = retry(
      () => {
        attempts++;
        throw hinted;
      },
      { clock, maxRetryAfterMs: 0, idempotent: true, maxAttempts: 3 },
    ).catch((e: unknown) => e);
    expect(await outcome).toBe(hinted);
    expect(attempts).toBe(1);
    expect(clock.pending).toBe(0);
    // Without the limit the same call waits the second out (on the clock) and tries again.
    let later = 0;
    const waiting = retry(
      () => {
        later++;
        if (later === 1) throw hinted;
        return 'ok';
      },
      { clock, idempotent: true, random: () => 0 },
    );
    await Promise.resolve();
    await clock.advance(1000);
    expect(await waiting).toBe('ok');
    expect(later).toBe(2);
  });
});
