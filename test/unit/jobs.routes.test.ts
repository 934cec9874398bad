import createRecognition from 'fn-create-recognition/src/main.ts';
import jobWorker from 'fn-job-worker/src/main.ts';
import { listAll } from 'resilience-core';
import { MemoryOrgDirectory, MemoryTableStore } from 'resilience-core/adapters/memory';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import { createJobQueue, enqueueNotification, JOB_TABLES, productJobTypes } from 'resilience-core/jobs';
import { webhookTransport } from 'resilience-core/notify';
import { invoke } from 'resilience-core/testing';
import { beforeEach, describe, expect, it } from 'vitest';

let store: MemoryTableStore;
let api: typeof createRecognition;
let worker: typeof jobWorker;

beforeEach(() => {
  store = new MemoryTableStore();
  const orgs = new MemoryOrgDirectory({
    acme: { alice: ['owner'], bob: [] },
    globex: { dave: ['owner'] },
  });
  api = createRecognition.with({ env: {}, store, orgs });
  worker = jobWorker.with({ env: { JOB_WORKER_TIMEOUT_SECONDS: '120' }, store, orgs });
});

const call = (user: string | null, method: string, path: string, body?: unknown) =>
  invoke(api, { method, path, body, headers: user ? { 'x-appwrite-user-id': user } : {} });

async function jobRows() {
  return listAll(store, JOB_TABLES.queue);
}

async function quotaUsed(): Promise<number> {
  const rows = await listAll(store, 'quota-usage');
  return rows.reduce((n, r) => n + (r.quotaType === 'exports_per_day' ? Number(r.used) : 0), 0);
}

describe('job routes of create-recognition', () => {
  it('POST /exports answers 202 with the status URL; the member sees the job through GET /status', async () => {
    const out = await call('bob', 'POST', '/exports', { orgId: 'acme' });
    expect(out.status).toBe(202);
    const { jobId, checkStatusAt } = out.body as { jobId: string; checkStatusAt: string };
    expect(checkStatusAt).toBe(`/status/${jobId}`);
    expect(await quotaUsed()).toBe(1);
    const status = await call('bob', 'GET', checkStatusAt);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      jobId,
      status: 'PENDING',
      attempts: 0,
      result: null,
      type: 'generate-export',
    });
  });

  it('a job keeps the trace of the request that enqueued it: GET /status returns its traceId; the worker logs the attempt in it', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const out = await invoke(api, {
      method: 'POST',
      path: '/cleanups',
      body: { orgId: 'acme', daysOld: 30 },
      headers: { 'x-appwrite-user-id': 'alice', traceparent },
    });
    expect(out.status).toBe(202);
    const { jobId } = out.body as { jobId: string };
    // The job's parent is the request's own span: same trace, a span id of the request's.
    const stored = (await jobRows())[0]?.traceparent as string;
    expect(stored).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(stored).not.toBe(traceparent);
    expect(stored.split('-')[2]).toBe(out.headers.traceparent?.split('-')[2]);
    const status = await call('alice', 'GET', `/status/${jobId}`);
    expect(status.body).toMatchObject({ jobId, traceId: '0af7651916cd43dd8448eb211c80319c' });
    // A request without a traceparent starts a trace of its own, and its job keeps that one.
    const plain = (await call('bob', 'POST', '/exports', { orgId: 'acme' })).body as { jobId: string };
    const plainStatus = (await call('bob', 'GET', `/status/${plain.jobId}`)).body as { traceId: unknown };
    expect(plainStatus.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(plainStatus.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');

    const drained = await invoke(worker, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    const ran = drained.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'job ran' && l.jobId === jobId);
    expect(ran).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', status: 'COMPLETED' });
    expect(ran?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(ran?.spanId).not.toBe('b7ad6b7169203331');
  });

  it('an event execution that finds a drain running in its process returns at once (no storage request); the drain takes the new job', async () => {
    // The running drain's handler waits inside its first read of recognitions until released.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let reached!: () => void;
    const inHandler = new Promise<void>((r) => {
      reached = r;
    });
    // Every method runs on the real store (its own state); only `list` of recognitions waits at the gate.
    const gated = new Proxy(store, {
      get(target, prop) {
        if (prop === 'list') {
          return async (...args: Parameters<MemoryTableStore['list']>) => {
            if (args[0] === RECOGNITIONS_TABLE) {
              reached();
              await gate;
            }
            return target.list(...args);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const gatedWorker = jobWorker.with({
      env: { JOB_WORKER_TIMEOUT_SECONDS: '120' },
      store: gated,
      orgs: new MemoryOrgDirectory({}),
    });
    const producer = createJobQueue({ store, types: productJobTypes });
    const event = {
      method: 'POST',
      path: '/',
      headers: {
        'x-appwrite-trigger': 'event',
        'x-appwrite-event': 'databases.resilience.tables.job-queue.rows.x.create',
      },
    };
    const a = await producer.enqueue({
      orgId: 'acme',
      type: 'cleanup-recognitions',
      payload: { daysOld: 30 },
    });
    const first = invoke(gatedWorker, event);
    const early = await Promise.race([inHandler.then(() => null), first]);
    if (early) throw new Error(`the drain ended before its handler ran: ${JSON.stringify(early)}`);
    const b = await producer.enqueue({
      orgId: 'acme',
      type: 'cleanup-recognitions',
      payload: { daysOld: 31 },
    });
    const calls = store.stats.calls;
    const second = await invoke(gatedWorker, event);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ ok: true, skipped: expect.stringMatching(/already running/) });
    expect(store.stats.calls).toBe(calls); // returned without a single storage request
    release();
    const done = await first;
    expect(done.body).toMatchObject({ ok: true, drain: { completed: 2 } });
    expect((await producer.get(a.jobId))?.status).toBe('COMPLETED');
    expect((await producer.get(b.jobId))?.status).toBe('COMPLETED');
  });

  it('another organization’s job is 404 for its users, for guessed ids, and for a mismatching orgId', async () => {
    const { jobId } = (await call('bob', 'POST', '/exports', { orgId: 'acme' })).body as { jobId: string };
    expect((await call('dave', 'GET', `/status/${jobId}`)).status).toBe(404);
    expect((await call('bob', 'GET', '/status/does-not-exist')).status).toBe(404);
    expect((await call('dave', 'GET', `/status/${jobId}?orgId=globex`)).status).toBe(404);
    expect((await call('dave', 'POST', `/jobs/${jobId}/cancel`, {})).status).toBe(404);
    expect((await call('dave', 'GET', `/exports/${jobId}?orgId=acme`)).status).toBe(403); // not a member of acme
    expect((await call('dave', 'GET', `/exports/${jobId}?orgId=globex`)).status).toBe(404);
    expect((await jobRows())[0]?.status).toBe('PENDING');
  });

  it.each([
    ['an unknown field', { orgId: 'acme', format: 'xlsx' }],
    ['a bad date', { orgId: 'acme', since: 'yesterday' }],
    ['no orgId', {}],
  ])('refuses an export request with %s: 400, no job, no quota used', async (_name, body) => {
    const out = await call('bob', 'POST', '/exports', body);
    expect(out.status).toBe(400);
    expect((out.body as { error: { code: string } }).error.code).toBe('INVALID_INPUT');
    expect(await jobRows()).toHaveLength(0);
    expect(await quotaUsed()).toBe(0);
  });

  it('refuses an export for an organization the user is not in: 403, nothing written', async () => {
    expect((await call('dave', 'POST', '/exports', { orgId: 'acme' })).status).toBe(403);
    expect(await jobRows()).toHaveLength(0);
  });

  it('the same idempotency key returns the first job and charges the quota once', async () => {
    const a = await call('bob', 'POST', '/exports', { orgId: 'acme', idempotencyKey: 'march' });
    const b = await call('bob', 'POST', '/exports', { orgId: 'acme', idempotencyKey: 'march' });
    expect((b.body as { jobId: string }).jobId).toBe((a.body as { jobId: string }).jobId);
    expect(b.body).toMatchObject({ deduplicated: true });
    expect(await jobRows()).toHaveLength(1);
    expect(await quotaUsed()).toBe(1);
  });

  it('POST /cleanups needs an admin and a valid daysOld', async () => {
    expect((await call('bob', 'POST', '/cleanups', { orgId: 'acme', daysOld: 90 })).status).toBe(403);
    expect((await call('alice', 'POST', '/cleanups', { orgId: 'acme', daysOld: 0 })).status).toBe(400);
    expect(await jobRows()).toHaveLength(0);
    const ok = await call('alice', 'POST', '/cleanups', { orgId: 'acme', daysOld: 90 });
    expect(ok.status).toBe(202);
  });

  it('cancel and redrive need an admin of the job’s organization', async () => {
    const { jobId } = (await call('bob', 'POST', '/exports', { orgId: 'acme' })).body as { jobId: string };
    expect((await call('bob', 'POST', `/jobs/${jobId}/cancel`, {})).status).toBe(403);
    const cancelled = await call('alice', 'POST', `/jobs/${jobId}/cancel`, {});
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED' });
    expect((await call('alice', 'POST', `/jobs/${jobId}/cancel`, {})).status).toBe(409);
    expect((await call('alice', 'POST', `/jobs/${jobId}/redrive`, {})).body).toMatchObject({
      status: 'PENDING',
    });
  });

  it('the job-worker cron drains the queue: the status turns COMPLETED and the export downloads', async () => {
    await store.create(RECOGNITIONS_TABLE, 'r1', {
      orgId: 'acme',
      giverId: 'alice',
      receiverId: 'bob',
      message: 'thanks',
      points: 3,
      tags: [],
    });
    const { jobId } = (await call('bob', 'POST', '/exports', { orgId: 'acme' })).body as { jobId: string };
    const run = await invoke(worker, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ ok: true, drain: { completed: 1 } });
    const status = await call('bob', 'GET', `/status/${jobId}`);
    expect(status.body).toMatchObject({
      status: 'COMPLETED',
      attempts: 1,
      result: { rows: 1, exportId: jobId },
    });
    const file = await call('bob', 'GET', `/exports/${jobId}?orgId=acme`);
    expect(file.status).toBe(200);
    expect((file.body as { csv: string }).csv).toContain('r1,');
    const metrics = await invoke(worker, { method: 'GET', path: '/metrics' });
    expect(metrics.body).toMatchObject({ finishedInWindow: { COMPLETED: 1 }, failureRate: 0 });
  });
});

describe('job-worker routes and notifier', () => {
  it('creates a schedule (API key only: a user gets 403), refuses a bad cron with 400 and a duplicate with 409', async () => {
    const postSchedule = (cron: string, headers?: Record<string, string>) =>
      invoke(worker, {
        method: 'POST',
        path: '/schedules',
        body: { orgId: 'acme', name: 'n', cron, type: 'cleanup-recognitions', payload: { daysOld: 1 } },
        ...(headers ? { headers } : {}),
      });
    expect((await postSchedule('every day')).status).toBe(400);
    expect((await postSchedule('* * * * *', { 'x-appwrite-user-id': 'alice' })).status).toBe(403);
    expect(await listAll(store, JOB_TABLES.schedules)).toHaveLength(0);
    expect((await postSchedule('* * * * *')).status).toBe(201);
    expect((await postSchedule('* * * * *')).status).toBe(409);
  });

  it('a job-queue create event triggers a drain (the low-latency path)', async () => {
    const { jobId } = (await call('alice', 'POST', '/cleanups', { orgId: 'acme', daysOld: 30 })).body as {
      jobId: string;
    };
    const run = await invoke(worker, {
      method: 'POST',
      path: '/',
      body: { $id: jobId },
      headers: {
        'x-appwrite-trigger': 'event',
        'x-appwrite-event': `databases.resilience.tables.job-queue.rows.${jobId}.create`,
      },
    });
    expect(run.body).toMatchObject({ ok: true, drain: { completed: 1 } });
    expect((await call('alice', 'GET', `/status/${jobId}`)).body).toMatchObject({
      status: 'COMPLETED',
      result: { deleted: 0 },
    });
  });

  it('lists dead letters for operators', async () => {
    const out = await invoke(worker, { method: 'GET', path: '/dead-letters?orgId=acme' });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ jobs: [], nextCursor: null });
  });

  it('delivers a deferred notification through the breaker-protected notifier, retrying transient failures', async () => {
    const posts: { url: string; body: string }[] = [];
    const answers = [503, 200];
    const saved = { ...webhookTransport };
    const notifying = jobWorker.with({
      env: { JOB_WORKER_TIMEOUT_SECONDS: '120', NOTIFY_SLACK_WEBHOOK_URL: 'https://hooks.example/slack' },
      store,
    });
    webhookTransport.fetch = (async (url: string, init: RequestInit) => {
      posts.push({ url, body: String(init.body) });
      return new Response('', { status: answers.shift() ?? 200 });
    }) as unknown as typeof fetch;
    const queue = createJobQueue({ store, types: productJobTypes });
    const teams = await enqueueNotification(queue, 'acme', { channel: 'teams', text: 'no webhook' });
    const slack = await enqueueNotification(queue, 'acme', {
      channel: 'slack',
      text: 'hello',
      title: 'Kudos',
    });
    await invoke(notifying, { method: 'POST', path: '/', headers: { 'x-appwrite-trigger': 'schedule' } });
    expect(await queue.get(teams.jobId)).toMatchObject({
      status: 'FAILED',
      lastError: expect.stringMatching(/teams/),
    });
    const slackJob = await queue.get(slack.jobId);
    expect(posts.every((p) => p.url === 'https://hooks.example/slack')).toBe(true);
    // The 503 fails the attempt (a POST is not resent inline): the queue retries it later, with backoff.
    expect(slackJob).toMatchObject({
      status: 'RETRYING',
      attempts: 1,
      lastError: expect.stringMatching(/503/),
    });
    expect(slackJob!.runAt).toBeGreaterThanOrEqual(Date.now() + 2000);
    await store.update(JOB_TABLES.queue, slack.jobId, { runAt: Date.now() }); // skip the wait
    await invoke(notifying, { method: 'POST', path: '/', headers: { 'x-appwrite-trigger': 'schedule' } });
    expect(await queue.get(slack.jobId)).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    expect(posts).toHaveLength(2);
    expect(JSON.parse(posts[0]!.body)).toEqual({ text: '*Kudos*\nhello' });
    webhookTransport.fetch = saved.fetch;
  });
});
