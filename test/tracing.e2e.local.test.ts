/**
 * One trace end to end (issue 14, tracing): `POST /recognitions` with an incoming `traceparent` → the Slack
 * webhook is down, so the notification is deferred as a `send-notification` job → the job-worker's drain runs
 * it → the webhook stand-in (a real HTTP server on 127.0.0.1) receives `traceparent` with the SAME trace id and
 * a span of its own → `GET /status/:jobId` answers the trace id. On appwrite-local with the functions' source
 * over the Appwrite adapters; every span id along the way is checked to be new (child spans), the trace id
 * never.
 *
 * Three parts meet here: the kit (ctx.trace, log lines, x-trace-id/traceparent on responses), the queue (the
 * enqueuing request's traceparent stored with the job, the handler's `trace`, the status view's `traceId`) and
 * the notifier (the webhook call's `traceparent`, the deferral passing the trace).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Teams, Users } from 'node-appwrite';
import { listAll } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { JOB_TABLES } from 'resilience-core/jobs';
import { invoke } from 'resilience-core/testing';
import { parseTraceparent } from 'resilience-core/tracing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import recognition from '../functions/create-recognition/src/main.ts';
import jobWorker from '../functions/job-worker/src/main.ts';

const root = path.resolve(import.meta.dirname, '..');
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
const INCOMING = `00-${TRACE}-${CALLER_SPAN}-01`;

let server: AppwriteLocal;
let webhook: Server;
let webhookUp = false;
const webhookRequests: { headers: IncomingHttpHeaders; body: string; answered: number }[] = [];
let api: typeof recognition;
let worker: typeof jobWorker;
/** The webhook variable (set in process.env for code that reads it there). */
const SLACK_VAR = 'NOTIFY_SLACK_WEBHOOK_URL';
const savedEnv = process.env[SLACK_VAR];

beforeAll(async () => {
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const answered = webhookUp ? 200 : 503;
      webhookRequests.push({ headers: req.headers, body, answered });
      res.writeHead(answered, { 'content-type': 'text/plain' });
      res.end(webhookUp ? 'ok' : 'down');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const slack = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/services/T0/B0/tracing`;

  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'tracing',
    apiKey: 'tracing-key',
    config: path.join(root, 'appwrite.json'),
  });
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const users = new Users(client);
  const teams = new Teams(client);
  await teams.create({ teamId: 'acme', name: 'Acme' });
  for (const id of ['ann', 'ben']) {
    await users.create({ userId: id, email: `${id}@example.com`, name: id });
    await teams.createMembership({ teamId: 'acme', roles: [], userId: id });
  }
  // The webhook variable both ways a function may read it: its parsed env and process.env.
  process.env[SLACK_VAR] = slack;
  const env = {
    APPWRITE_FUNCTION_API_ENDPOINT: server.endpoint,
    APPWRITE_FUNCTION_PROJECT_ID: server.projectId,
    APPWRITE_FUNCTION_DEPLOYMENT: 'tracing-deployment',
    NOTIFY_SLACK_WEBHOOK_URL: slack,
  };
  api = recognition.with({ env });
  worker = jobWorker.with({ env });
});

afterAll(async () => {
  if (savedEnv === undefined) delete process.env[SLACK_VAR];
  else process.env[SLACK_VAR] = savedEnv;
  await server?.stop();
  await new Promise<void>((resolve) => webhook?.close(() => resolve()));
});

const asServer = (trigger = 'http') => ({ 'x-appwrite-key': server.apiKey, 'x-appwrite-trigger': trigger });

describe('one trace from POST /recognitions through a deferred notification to the webhook', () => {
  it('keeps the trace id across the request, the job, the worker and the webhook call', async () => {
    // 1. The request, continuing the caller's trace; the webhook is down, so the message is deferred.
    const created = await invoke(api, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'ben', message: 'Traced all the way' },
      headers: { ...asServer(), 'x-appwrite-user-id': 'ann', traceparent: INCOMING },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers['x-trace-id']).toBe(TRACE);
    const requestSpan = parseTraceparent(created.headers.traceparent);
    expect(requestSpan?.traceId).toBe(TRACE);
    expect(requestSpan?.spanId).not.toBe(CALLER_SPAN);
    for (const line of [...created.logs, ...created.errors]) {
      expect(JSON.parse(line)).toMatchObject({ traceId: TRACE, spanId: requestSpan!.spanId });
    }
    expect(webhookRequests.length).toBeGreaterThanOrEqual(1);
    expect(webhookRequests.every((r) => r.answered === 503)).toBe(true);
    // The inline attempt already carried the trace.
    expect(parseTraceparent(webhookRequests[0]!.headers.traceparent as string)?.traceId).toBe(TRACE);

    // 2. The deferred job exists, and its status view answers the trace id.
    const store = createAppwriteTableStore({
      endpoint: server.endpoint,
      projectId: server.projectId,
      key: server.apiKey,
    });
    const jobs = (await listAll(store, JOB_TABLES.queue)).filter((j) => j.type === 'send-notification');
    expect(jobs).toHaveLength(1);
    const jobId = jobs[0]!.$id;
    const status = await invoke(api, {
      path: `/status/${jobId}`,
      headers: { ...asServer(), 'x-appwrite-user-id': 'ann' },
    });
    expect(status.status, JSON.stringify(status.body)).toBe(200);
    expect(status.body).toMatchObject({ jobId, traceId: TRACE });

    // 3. The webhook is back; the worker's drain runs the job under the same trace, with its own span. A
    // deferral may be scheduled a little later (a backoff): time passes, so it is made due now.
    if (Number(jobs[0]!.runAt) > Date.now()) {
      await store.update(JOB_TABLES.queue, jobId, { runAt: Date.now() - 1 });
    }
    webhookUp = true;
    const before = webhookRequests.length;
    const drained = await invoke(worker, {
      method: 'POST',
      path: '/',
      body: {},
      headers: asServer('schedule'),
    });
    expect(drained.status, JSON.stringify(drained.body)).toBe(200);
    const delivered = webhookRequests.slice(before);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.answered).toBe(200);
    expect(delivered[0]!.body).toContain('Traced all the way');
    const webhookSpan = parseTraceparent(delivered[0]!.headers.traceparent as string);
    expect(webhookSpan?.traceId).toBe(TRACE);
    expect([CALLER_SPAN, requestSpan!.spanId]).not.toContain(webhookSpan!.spanId);
    // The worker logs the job's trace id (with a span of its own) on the lines about this job.
    const workerLines = [...drained.logs, ...drained.errors].map(
      (l) => JSON.parse(l) as Record<string, unknown>,
    );
    const jobLines = workerLines.filter((l) => l.traceId === TRACE);
    expect(jobLines.length).toBeGreaterThan(0);
    for (const line of jobLines) expect([CALLER_SPAN, requestSpan!.spanId]).not.toContain(line.spanId);

    // 4. Done, and the status still names the trace.
    const after = await invoke(api, { path: `/status/${jobId}`, headers: asServer() });
    expect(after.body).toMatchObject({ jobId, status: 'COMPLETED', traceId: TRACE });
  });
});
