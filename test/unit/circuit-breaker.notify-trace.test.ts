import createRecognition from 'fn-create-recognition/src/main.ts';
import { MemoryOrgDirectory, MemoryTableStore } from 'resilience-core/adapters/memory';
import { CircuitBreakerRegistry } from 'resilience-core/circuit-breaker';
import {
  createSendNotificationHandler,
  type EnqueueInput,
  enqueueNotification,
  type JobContext,
  type JobQueue,
} from 'resilience-core/jobs';
import {
  createWebhookNotifier,
  type DeferredNotification,
  queueDeferral,
  webhookTransport,
} from 'resilience-core/notify';
import { invoke, ManualClock } from 'resilience-core/testing';
import { formatTraceparent, parseTraceparent, type TraceContext } from 'resilience-core/tracing';
import { afterEach, describe, expect, it } from 'vitest';

const SLACK = 'https://hooks.slack.test/services/T000/B000/trace';
const TRACE: TraceContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  sampled: true,
};

/** A fetch recording each request's `traceparent`, answering `status`. */
function tracingFetch(status = 200) {
  const traceparents: (string | null)[] = [];
  const impl = (async (_url: string | URL | Request, init?: RequestInit) => {
    traceparents.push(new Headers(init?.headers).get('traceparent'));
    return new Response('', { status });
  }) as typeof fetch;
  return { impl, traceparents };
}

/** A child span of TRACE's span, as a `traceparent` carries it. */
function expectChildOf(header: string | null | undefined, parent: TraceContext) {
  const span = parseTraceparent(header);
  expect(span).not.toBeNull();
  expect(span!.traceId).toBe(parent.traceId);
  expect(span!.spanId).not.toBe(parent.spanId);
  expect(header!.endsWith(parent.sampled ? '-01' : '-00')).toBe(true);
}

function notifier(status: number, deferred: DeferredNotification[] = []) {
  const clock = new ManualClock();
  const fetch = tracingFetch(status);
  const n = createWebhookNotifier({
    webhooks: { slack: SLACK },
    breakers: new CircuitBreakerRegistry({ store: new MemoryTableStore({ clock }), clock }),
    fetch: fetch.impl,
    clock,
    path: 'request',
    defer: async (d) => void deferred.push(d),
  });
  return { n, fetch };
}

describe('notifications carry the W3C trace', () => {
  const saved = { ...webhookTransport };
  afterEach(() => {
    webhookTransport.fetch = saved.fetch;
  });

  it('an outgoing webhook call carries a child span of the caller’s trace; none without a trace', async () => {
    const { n, fetch } = notifier(200);
    expect(await n.notify('acme', { text: 'hi' }, { trace: TRACE })).toEqual([
      { channel: 'slack', status: 'sent' },
    ]);
    await n.notify('acme', { text: 'untraced' });
    expect(fetch.traceparents).toHaveLength(2);
    expectChildOf(fetch.traceparents[0], TRACE);
    expect(fetch.traceparents[1]).toBeNull();
  });

  it('a deferred notification is enqueued with the caller’s traceparent', async () => {
    const deferred: DeferredNotification[] = [];
    const { n } = notifier(503, deferred);
    await n.notify('acme', { text: 'later' }, { trace: TRACE, idempotencyKey: 'r1' });
    expect(deferred).toHaveLength(1);
    expect(deferred[0]!.traceparent).toBe(formatTraceparent(TRACE));
    // queueDeferral → enqueueNotification hands the traceparent to the queue's enqueue.
    const inputs: (EnqueueInput & { traceparent?: string })[] = [];
    const queue = {
      enqueue: async (input: EnqueueInput) => {
        inputs.push(input);
        return { jobId: 'j1', status: 'PENDING', deduplicated: false, job: {} };
      },
    } as unknown as JobQueue;
    await queueDeferral((orgId, payload, options) => enqueueNotification(queue, orgId, payload, options))(
      deferred[0]!,
    );
    expect(inputs).toEqual([
      expect.objectContaining({
        orgId: 'acme',
        type: 'send-notification',
        idempotencyKey: 'r1:slack',
        traceparent: formatTraceparent(TRACE),
      }),
    ]);
  });

  it('the send-notification job sends its webhook with the job’s trace', async () => {
    const { n, fetch } = notifier(200);
    const handler = createSendNotificationHandler((payload, context) =>
      n.send(payload, { signal: context.signal, ...(context.trace ? { trace: context.trace } : {}) }),
    );
    const jobTrace: TraceContext = { ...TRACE, spanId: 'b7ad6b7169203331', parentSpanId: TRACE.spanId };
    const ctx = {
      jobId: 'j1',
      orgId: 'acme',
      type: 'send-notification',
      attempt: 1,
      signal: new AbortController().signal,
      job: {},
      trace: jobTrace,
    } as unknown as JobContext;
    expect(await handler({ channel: 'slack', text: 'deferred' }, ctx)).toMatchObject({
      channel: 'slack',
      sent: true,
    });
    expectChildOf(fetch.traceparents[0], jobTrace);
  });

  it('POST /recognitions passes the request’s trace to its webhook call', async () => {
    const fetch = tracingFetch(200);
    webhookTransport.fetch = fetch.impl;
    const api = createRecognition.with({
      env: { NOTIFY_SLACK_WEBHOOK_URL: SLACK },
      store: new MemoryTableStore(),
      orgs: new MemoryOrgDirectory({ acme: { alice: ['owner'], bob: [] } }),
    });
    const out = await invoke(api, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'bob', message: 'traced' },
      headers: { 'x-appwrite-user-id': 'alice', traceparent: formatTraceparent(TRACE) },
    });
    expect(out.status).toBe(201);
    expect(fetch.traceparents).toHaveLength(1);
    const span = parseTraceparent(fetch.traceparents[0]);
    expect(span?.traceId).toBe(TRACE.traceId);
    expect(span?.spanId).not.toBe(TRACE.spanId);
  });
});
