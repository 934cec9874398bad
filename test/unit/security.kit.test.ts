/**
 * Security review (W5) of the function kit and the app routes: who may act for which org, what a request can
 * make the kit believe, what reaches logs, `/health` and error bodies, and deterministic row ids built from
 * caller-supplied parts. Each `it` names the hole it closes; those marked "guard" pass on the reviewed code and
 * keep it that way.
 */
import fc from 'fast-check';
import { errors, ResilienceError, stableId } from 'resilience-core';
import { translateAppwriteError } from 'resilience-core/adapters/appwrite';
import { MemoryOrgDirectory, MemoryTableStore } from 'resilience-core/adapters/memory';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import { createJobQueue, idempotentJobId, JOB_TABLES, productJobTypes } from 'resilience-core/jobs';
import { defineFunction, routesFor, toResponse } from 'resilience-core/runtime';
import { invoke, ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import recognitionHandler from '../../functions/create-recognition/src/main.ts';
import workerHandler from '../../functions/job-worker/src/main.ts';

const WEBHOOK = 'https://hooks.slack.com/services/T0000/B0000/w5SecretWebhookToken';
const API_KEY = 'standard_w5_fallback_api_key_value';
const env = {
  APPWRITE_FUNCTION_DEPLOYMENT: 'dep-sec',
  APPWRITE_API_KEY: API_KEY,
  NOTIFY_SLACK_WEBHOOK_URL: WEBHOOK,
};
const user = (id: string) => ({ 'x-appwrite-user-id': id });

function directory() {
  return new MemoryOrgDirectory({
    acme: { alice: ['owner'], bob: [] },
    'acme.x': { mallory: ['owner'] },
    other: { dave: ['owner'] },
  });
}

describe('kit: the org a handler acts for is the org that was authorized', () => {
  const seen: unknown[] = [];
  const route = routesFor<object>();
  const fn = defineFunction({
    name: 'sec-kit',
    version: '0',
    setup: () => ({}),
    routes: [
      route({
        method: 'POST',
        path: '/defaulted',
        auth: 'member',
        // A schema that fills in an org the caller never sent.
        body: z.object({ orgId: z.string().default('other') }),
        handler: ({ body, caller }) => {
          seen.push(body.orgId);
          return { body: { acted: body.orgId, authorized: caller.orgId } };
        },
      }),
      route({
        method: 'POST',
        path: '/coerced',
        auth: 'member',
        body: z.object({ orgId: z.coerce.string() }),
        handler: ({ body, caller }) => {
          seen.push(body.orgId);
          return { body: { acted: body.orgId, authorized: caller.orgId } };
        },
      }),
      route({
        method: 'GET',
        path: '/orgs/:orgId/things',
        auth: 'member',
        handler: ({ params }) => ({ body: { orgId: params.orgId } }),
      }),
    ],
  });

  it('refuses a body whose schema default names another org than the authorized one (400)', async () => {
    const orgs = directory();
    const out = await invoke(fn.with({ env, orgs }), {
      method: 'POST',
      path: '/defaulted?orgId=acme',
      body: {},
      headers: user('bob'),
    });
    expect(out.status).toBe(400);
    expect(seen).toEqual([]);
  });

  it('refuses a non-string orgId that a schema would coerce (400, handler not run)', async () => {
    const out = await invoke(fn.with({ env, orgs: directory() }), {
      method: 'POST',
      path: '/coerced?orgId=acme',
      body: { orgId: 123 },
      headers: user('bob'),
    });
    expect(out.status).toBe(400);
    expect(seen).toEqual([]);
  });

  it('refuses malformed org ids with 400 before asking the directory', async () => {
    const orgs = directory();
    const bad = [
      '..%2F..%2Facme',
      'a'.repeat(37),
      encodeURIComponent('\u202eacme'),
      encodeURIComponent('acme '),
      '_acme',
    ];
    for (const id of bad) {
      const out = await invoke(fn.with({ env, orgs }), { path: `/orgs/${id}/things`, headers: user('bob') });
      expect(out.status, id).toBe(400);
    }
    expect(orgs.stats.calls).toBe(0);
  });

  it('guard: a `__proto__` key in the body never supplies the org', async () => {
    const out = await invoke(fn.with({ env, orgs: directory() }), {
      method: 'POST',
      path: '/coerced?orgId=acme',
      body: '{"__proto__":{"orgId":"other"},"orgId":"acme"}',
      headers: user('bob'),
    });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ acted: 'acme', authorized: 'acme' });
    expect(({} as { orgId?: unknown }).orgId).toBeUndefined();
  });
});

describe('stableId: caller-supplied parts cannot make two tenants share a row', () => {
  it('separates parts that contain the separator', () => {
    expect(stableId('jk', 'acme', 'x.k1')).not.toBe(stableId('jk', 'acme.x', 'k1'));
    expect(idempotentJobId('acme', 'x.k1')).not.toBe(idempotentJobId('acme.x', 'k1'));
    // Long parts take the digest path: the same ambiguity must not survive hashing.
    const long = 'k'.repeat(60);
    expect(stableId('jk', 'acme', `x.${long}`)).not.toBe(stableId('jk', 'acme.x', long));
  });

  it('keeps the ids of dot-free parts as they were (existing rows stay addressable)', () => {
    expect(stableId('jk', 'org-1', 'note')).toBe('jk.org-1.note');
    expect(stableId('q', 'a'.repeat(40))).toMatch(/^q[0-9a-f]{35}$/);
  });

  it('never lets two parts that differ only in case share a row under a case-insensitive collation', () => {
    expect(stableId('jk', 'acme', 'Order-1')).not.toBe(stableId('jk', 'acme', 'order-1'));
    expect(stableId('jk', 'acme', 'Order-1')).toBe(stableId('jk', 'acme', 'Order-1').toLowerCase());
    const part = fc.string({ unit: fc.constantFrom('a', 'A', '.', 'b', 'B', '_'), maxLength: 6 });
    fc.assert(
      fc.property(fc.tuple(part, part), fc.tuple(part, part), (a, b) => {
        const same = a[0] === b[0] && a[1] === b[1];
        const fold = (id: string) => id.toLowerCase();
        return same === (fold(stableId('jk', ...a)) === fold(stableId('jk', ...b)));
      }),
      { numRuns: 3000 },
    );
  });

  it('is injective over tuples of the same arity (property)', () => {
    const part = fc.string({ unit: fc.constantFrom('a', '.', 'b', '_', '-'), maxLength: 6 });
    fc.assert(
      fc.property(fc.tuple(part, part), fc.tuple(part, part), (a, b) => {
        const same = a[0] === b[0] && a[1] === b[1];
        return same === (stableId('jk', ...a) === stableId('jk', ...b));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('create-recognition routes across tenants', () => {
  function app() {
    const store = new MemoryTableStore({ clock: new ManualClock() });
    const orgs = directory();
    return { store, orgs, fn: recognitionHandler.with({ env: {}, store, orgs }) };
  }

  it('an org named like another org plus a suffix gets its own export job for the same-looking key', async () => {
    const { fn } = app();
    const first = await invoke(fn, {
      method: 'POST',
      path: '/exports',
      body: { orgId: 'acme', idempotencyKey: 'x.k1' },
      headers: user('bob'),
    });
    expect(first.status).toBe(202);
    const second = await invoke(fn, {
      method: 'POST',
      path: '/exports',
      body: { orgId: 'acme.x', idempotencyKey: 'k1' },
      headers: user('mallory'),
    });
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ deduplicated: false });
    expect((second.body as { jobId: string }).jobId).not.toBe((first.body as { jobId: string }).jobId);
  });

  it("never answers an export retry with another org's job, even if the ids collide", async () => {
    const { fn, store } = app();
    // Plant a job of `acme` under the id `acme.x`'s key maps to (a collision, however it came about).
    await store.create(JOB_TABLES.queue, idempotentJobId('acme.x', 'k9'), {
      orgId: 'acme',
      type: 'generate-export',
      payload: '{}',
      status: 'PENDING',
      priority: 0,
      shard: 0,
      runAt: 0,
      attempts: 0,
      maxRetries: 3,
      backoffBaseMs: 1000,
      backoffMaxMs: 60000,
      leaseMs: 30000,
      version: 0,
      leaseOwner: null,
      leaseExpiresAt: null,
      idempotencyKey: 'k9',
      scheduleId: null,
      enqueuedAt: 0,
      startedAt: null,
      finishedAt: null,
      lastError: null,
      history: '[]',
      result: null,
    });
    const out = await invoke(fn, {
      method: 'POST',
      path: '/exports',
      body: { orgId: 'acme.x', idempotencyKey: 'k9' },
      headers: user('mallory'),
    });
    expect(out.status).toBe(409);
    expect(JSON.stringify(out.body)).not.toContain('deduplicated');
  });

  it('answers a malformed job id with 400 naming it, without a storage round trip or echoing it', async () => {
    const { fn, store } = app();
    // The kit checks every path parameter is an id (runtime/params.ts): 400 naming it, before any lookup.
    for (const [path, param] of [
      [`/status/${'a'.repeat(5000)}`, 'jobId'],
      ['/exports/..%2F..%2Fx?orgId=acme', 'exportId'],
      ['/status/%E2%80%AE', 'jobId'],
    ] as const) {
      const calls = store.stats.calls;
      const out = await invoke(fn, { path, headers: user('bob') });
      expect(out.status, path).toBe(400);
      expect(out.body, path).toMatchObject({ error: { code: 'INVALID_INPUT', issues: [{ path: param }] } });
      expect(store.stats.calls, path).toBe(calls);
      expect(JSON.stringify(out.body).length, path).toBeLessThan(300);
    }
  });

  it('guard: operator and admin routes refuse users without the role, and change nothing', async () => {
    const { fn, store } = app();
    const fill = (path: string) => path.replace(':orgId', 'acme').replace(/:[A-Za-z]+/g, 'slack');
    const routes = recognitionHandler.definition.routes ?? [];
    const before = JSON.stringify(await store.list(RECOGNITIONS_TABLE));
    let checked = 0;
    for (const r of routes) {
      if (r.auth !== 'key' && r.auth !== 'admin') continue;
      const body = r.method === 'GET' ? undefined : { orgId: 'acme' };
      const out = await invoke(fn, {
        method: r.method,
        path: `${fill(r.path)}${r.path.includes(':orgId') ? '' : '?orgId=acme'}`,
        ...(body ? { body } : {}),
        headers: user('bob'),
      });
      // Access is settled before the body's shape: whatever the body, a caller without the role gets 403.
      expect(out.status, `${r.method} ${r.path}`).toBe(403);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(await store.list(RECOGNITIONS_TABLE))).toBe(before);
    const keyOnly = await invoke(workerHandler.with({ env: {}, store, orgs: directory() }), {
      method: 'POST',
      path: '/',
      body: {},
      headers: user('alice'),
    });
    expect(keyOnly.status).toBe(403);
  });
});

describe('kit: access is decided before the input is judged', () => {
  it('answers an outsider 403, not the schema issues of its malformed body', async () => {
    const store = new MemoryTableStore({ clock: new ManualClock() });
    const fn = recognitionHandler.with({ env: {}, store, orgs: directory() });
    const bad = { orgId: 'acme', receiverId: 42, message: '' };
    const outsider = await invoke(fn, {
      method: 'POST',
      path: '/recognitions',
      body: bad,
      headers: user('dave'),
    });
    expect(outsider.status).toBe(403);
    expect(JSON.stringify(outsider.body)).not.toContain('receiverId');
    const member = await invoke(fn, {
      method: 'POST',
      path: '/recognitions',
      body: bad,
      headers: user('bob'),
    });
    expect(member.status).toBe(400);
    expect(JSON.stringify(member.body)).toContain('receiverId');
  });
});

describe('secrets stay out of logs, /health and error bodies', () => {
  const route = routesFor<object>();
  const fn = defineFunction({
    name: 'sec-secrets',
    version: '0',
    setup: () => ({}),
    routes: [
      route({
        method: 'GET',
        path: '/fetch',
        auth: 'any',
        handler: ({ log }) => {
          log.warn('posting', { slackWebhook: WEBHOOK, target: 'https://bot:hunter2pass@example.com/x' });
          // What undici says for some bad requests: the URL, token and all, inside the message.
          throw new Error(`Request cannot be constructed from a URL: ${WEBHOOK}`);
        },
      }),
      route({
        method: 'GET',
        path: '/store',
        auth: 'any',
        handler: () => {
          throw translateAppwriteError(
            Object.assign(new Error('Invalid `rowId` param: UID must contain at most 36 chars'), {
              code: 400,
              type: 'general_argument_invalid',
            }),
            { operation: 'getRow', table: 'job-queue', id: 'x'.repeat(50) },
          );
        },
      }),
    ],
    health: {
      notifier: () => {
        throw new Error(`webhook ${WEBHOOK} unreachable with key ${API_KEY}`);
      },
    },
  });

  it('scrubs webhook URLs (by env value, field name and shape) and URL credentials from log lines', async () => {
    const out = await invoke(fn.with({ env }), {
      path: '/fetch',
      headers: { 'x-appwrite-key': 'ephemeral_abc.def' },
    });
    expect(out.status).toBe(500);
    const lines = [...out.logs, ...out.errors].join('\n');
    expect(lines).toContain('posting');
    expect(lines).not.toContain('w5SecretWebhookToken');
    expect(lines).not.toContain('hunter2pass');
    expect(JSON.stringify(out.body)).not.toContain('w5Secret');
  });

  it('scrubs secrets from /health check errors', async () => {
    const out = await invoke(fn.with({ env }), { path: '/health' });
    expect(out.status).toBe(503);
    const text = JSON.stringify(out.body);
    expect(text).toContain('unreachable');
    expect(text).not.toContain('w5SecretWebhookToken');
    expect(text).not.toContain(API_KEY);
  });

  it('answers users storage errors with the code only: no SDK message, table name or row id', async () => {
    const out = await invoke(fn.with({ env }), { path: '/store', headers: user('bob') });
    expect(out.status).toBe(400);
    const text = JSON.stringify(out.body);
    expect(out.body).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(text).not.toContain('job-queue');
    expect(text).not.toContain('rowId');
    expect(text).not.toContain('xxxxxxxxxx');
    // The full story stays in the log, and an API-key caller (an operator) gets it in the answer.
    expect(out.logs.join('\n')).toContain('job-queue');
  });

  it('guard: a server (API key) caller still gets the storage error in full', async () => {
    const out = await invoke(fn.with({ env }), { path: '/store' });
    expect(out.status).toBe(400);
    expect(JSON.stringify(out.body)).toContain('job-queue');
  });

  it("redacts webhook URLs and keys from a failed job's lastError, which its org can read", async () => {
    const store = new MemoryTableStore({ clock: new ManualClock() });
    const queue = createJobQueue({ store, clock: new ManualClock(), types: productJobTypes });
    const { jobId } = await queue.enqueue({
      orgId: 'acme',
      type: 'send-notification',
      payload: { channel: 'slack', text: 'hi' },
    });
    const [lease] = await queue.claim({ workerId: 'w1', limit: 1 });
    expect(lease).toBeDefined();
    await queue.fail(lease!, new TypeError(`fetch failed for ${WEBHOOK} with ephemeral_abc.def.ghi`));
    const job = await queue.get(jobId);
    expect(job?.lastError).toContain('fetch failed');
    expect(JSON.stringify(job)).not.toContain('w5SecretWebhookToken');
    expect(JSON.stringify(job)).not.toContain('ephemeral_abc');
  });

  it('guard: errors the app raises itself keep their message and details', () => {
    const out = toResponse(errors.conflict('Increase request is already approved', { status: 'approved' }));
    expect(out.body.error).toMatchObject({
      message: 'Increase request is already approved',
      details: { status: 'approved' },
    });
    expect(toResponse(new ResilienceError('INTERNAL', 'db password=x')).body.error.message).toBe(
      'Internal error',
    );
  });
});
