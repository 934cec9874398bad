import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryOrgDirectory } from '../adapters/memory/memory-org-directory.ts';
import { MemoryTableStore } from '../adapters/memory/memory-table-store.ts';
import { errors, ResilienceError } from '../errors.ts';
import { invoke } from '../testing/fake-context.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { defineFunction, routesFor, type SetupContext } from './define-function.ts';
import type { BaseEnv } from './env.ts';
import { redact } from './logger.ts';
import { toResponse } from './responses.ts';

interface Deps {
  ctx: SetupContext<BaseEnv & { GREETING: string }>;
  store: MemoryTableStore;
}

const store = new MemoryTableStore();
const orgs = new MemoryOrgDirectory({
  acme: { alice: ['owner'], bob: [], carol: ['admin'] },
  other: { dave: [] },
});
const route = routesFor<Deps>();
const env = {
  APPWRITE_FUNCTION_API_ENDPOINT: 'http://127.0.0.1:9/v1',
  APPWRITE_FUNCTION_PROJECT_ID: 'p1',
  APPWRITE_FUNCTION_DEPLOYMENT: 'dep-42',
  APPWRITE_API_KEY: 'test-fallback-key',
  GREETING: 'hi',
};

const fn = defineFunction({
  name: 'kit-test',
  version: '1.2.3',
  env: z.object({ GREETING: z.string().min(1) }),
  setup: (ctx) => ({ ctx, store }),
  routes: [
    route({
      method: 'POST',
      path: '/orgs/:orgId/things',
      auth: 'member',
      body: z.object({ name: z.string().min(1), count: z.number().int().positive() }),
      handler: ({ body, params, caller }) => ({
        status: 201,
        body: { name: body.name, count: body.count, orgId: params.orgId, caller },
      }),
    }),
    route({
      method: 'POST',
      path: '/admin/things',
      auth: 'admin',
      body: z.object({ orgId: z.string() }),
      handler: ({ caller }) => ({ body: { by: caller.userId, kind: caller.kind } }),
    }),
    route({
      method: 'GET',
      path: '/internal',
      auth: 'key',
      handler: () => ({ body: { ok: true } }),
    }),
    route({
      method: 'GET',
      path: '/echo/:id',
      auth: 'any',
      // Not an id rule: this route decodes any segment (`a%20b`), which the default id check would refuse.
      params: z.object({ id: z.string().min(1) }),
      query: z.object({ n: z.coerce.number().int().default(1) }),
      handler: ({ params, query, deps, log, traceId }) => {
        log.info('echo', { apiKey: 'should-not-appear', note: `key ${deps.ctx.connection?.key}` });
        return { body: { id: params.id, n: query.n, traceId, env: deps.ctx.env.GREETING } };
      },
    }),
    route({
      method: 'GET',
      path: '/boom',
      auth: 'any',
      handler: () => Promise.reject(new Error('secret detail')),
    }),
    route({
      method: 'GET',
      path: '/quota',
      auth: 'any',
      handler: () => {
        throw new ResilienceError('QUOTA_EXCEEDED', 'Daily quota used up', {
          retryAfterSeconds: 120,
          headers: { 'ratelimit-remaining': '0' },
        });
      },
    }),
  ],
  health: {
    store: async (deps) => deps.store.list('x', { limit: 1 }),
  },
  onSchedule: ({ deps }) => ({
    body: { ran: 'schedule', deployment: deps.ctx.env.APPWRITE_FUNCTION_DEPLOYMENT },
  }),
  onEvent: ({ event, payload }) => ({ body: { event, payload } }),
}).with({ env, store, orgs, clock: new ManualClock() });

const user = (id: string) => ({ 'x-appwrite-user-id': id });

describe('defineFunction', () => {
  it('answers GET /health with name, deployment, version and checks', async () => {
    const out = await invoke(fn, { path: '/health' });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({
      name: 'kit-test',
      deploymentId: 'dep-42',
      version: '1.2.3',
      status: 'ok',
      checks: { env: { ok: true, durationMs: 0 }, store: { ok: true, durationMs: 0 } },
    });
  });

  it('reports a failing health check as 503 with the check error', async () => {
    const failing = defineFunction({
      name: 'h',
      version: '0',
      setup: () => ({}),
      health: { db: () => Promise.reject(errors.retryable('db down')) },
    }).with({ env });
    const out = await invoke(failing, { path: '/health' });
    expect(out.status).toBe(503);
    expect(out.body).toMatchObject({
      status: 'fail',
      checks: { db: { ok: false, error: 'RETRYABLE: db down' } },
    });
  });

  it('reports invalid env on /health (503) and refuses routes with 500 without echoing values', async () => {
    const bad = fn.with({ env: { ...env, GREETING: '' } });
    const health = await invoke(bad, { path: '/health' });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({
      checks: { env: { ok: false, error: expect.stringContaining('GREETING') } },
    });
    const out = await invoke(bad, { path: '/echo/1' });
    expect(out.status).toBe(500);
    expect(out.body).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: 'Internal error' } });
  });

  it('creates with a valid body for a member: 201', async () => {
    const out = await invoke(fn, {
      method: 'POST',
      path: '/orgs/acme/things',
      body: { name: 'x', count: 2 },
      headers: user('bob'),
    });
    expect(out.status).toBe(201);
    expect(out.body).toMatchObject({
      name: 'x',
      count: 2,
      orgId: 'acme',
      caller: { kind: 'user', userId: 'bob', orgId: 'acme', roles: [] },
    });
  });

  it('answers invalid JSON with 400, never 500', async () => {
    const out = await invoke(fn, {
      method: 'POST',
      path: '/orgs/acme/things',
      body: '{"name": ',
      headers: { ...user('bob'), 'content-type': 'application/json' },
    });
    expect(out.status).toBe(400);
    expect(out.body).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'Body is not valid JSON' },
    });
  });

  it('answers a schema failure with 400 listing each field problem', async () => {
    const out = await invoke(fn, {
      method: 'POST',
      path: '/orgs/acme/things',
      body: { name: '', count: -1 },
      headers: user('bob'),
    });
    expect(out.status).toBe(400);
    const issues = (out.body as { error: { issues: { path: string }[] } }).error.issues;
    expect(issues.map((i) => i.path).sort()).toEqual(['count', 'name']);
  });

  it('answers a missing body with 400', async () => {
    const out = await invoke(fn, { method: 'POST', path: '/orgs/acme/things', headers: user('bob') });
    expect(out.status).toBe(400);
  });

  it('refuses a non-member with 403 and writes nothing', async () => {
    const out = await invoke(fn, {
      method: 'POST',
      path: '/orgs/acme/things',
      body: { name: 'x', count: 1 },
      headers: user('dave'),
    });
    expect(out.status).toBe(403);
    expect(out.body).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('lets an API-key call (no user) through member routes', async () => {
    const out = await invoke(fn, {
      method: 'POST',
      path: '/orgs/acme/things',
      body: { name: 'x', count: 1 },
    });
    expect(out.status).toBe(201);
    expect(out.body).toMatchObject({ caller: { kind: 'server', userId: null } });
  });

  it('refuses an orgId that differs between path and body with 400', async () => {
    const out = await invoke(fn, {
      method: 'POST',
      path: '/orgs/acme/things',
      body: { name: 'x', count: 1, orgId: 'other' },
      headers: user('dave'),
    });
    expect(out.status).toBe(400);
  });

  it.each([
    ['alice', 200],
    ['carol', 200],
    ['bob', 403],
    ['dave', 403],
  ])('admin route: user %s gets %i', async (who, status) => {
    const out = await invoke(fn, {
      method: 'POST',
      path: '/admin/things',
      body: { orgId: 'acme' },
      headers: user(who),
    });
    expect(out.status).toBe(status);
  });

  it('admin route: an API-key call is admitted', async () => {
    const out = await invoke(fn, { method: 'POST', path: '/admin/things', body: { orgId: 'acme' } });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ by: null, kind: 'server' });
  });

  it('key route: refuses users (403), admits API-key calls', async () => {
    expect((await invoke(fn, { path: '/internal', headers: user('alice') })).status).toBe(403);
    expect((await invoke(fn, { path: '/internal' })).status).toBe(200);
  });

  it('answers 404 for an unknown path and 405 with Allow for a wrong method', async () => {
    const missing = await invoke(fn, { path: '/nope' });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const wrong = await invoke(fn, { method: 'DELETE', path: '/internal' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    // Through the one error mapping: the envelope, the trace id, a `request refused` log line.
    expect(wrong.body).toMatchObject({
      ok: false,
      error: { code: 'METHOD_NOT_ALLOWED', message: 'DELETE is not allowed on /internal' },
      traceId: wrong.headers['x-trace-id'],
    });
    expect(wrong.logs.some((l) => JSON.parse(l).msg === 'request refused')).toBe(true);
  });

  it('times a hanging health check out on the injected clock (no real timer)', async () => {
    const clock = new ManualClock();
    const hanging = defineFunction({
      name: 'h',
      version: '0',
      setup: () => ({}),
      healthTimeoutMs: 3000,
      health: { slow: () => new Promise(() => {}) },
    }).with({ env, clock });
    const pending = invoke(hanging, { path: '/health' });
    for (let i = 0; i < 20 && clock.pending === 0; i++) await new Promise((r) => setImmediate(r));
    await clock.advance(3000);
    const out = await pending;
    expect(out.status).toBe(503);
    expect(out.body).toMatchObject({
      status: 'fail',
      checks: { slow: { ok: false, durationMs: 3000, error: expect.stringContaining('TIMEOUT') } },
    });
  });

  it('hands setup no SDK client: the ports, and the connection for other services', () => {
    defineFunction({
      name: 'no-client',
      version: '0',
      setup: (ctx) => {
        // @ts-expect-error — the kit's public API carries no node-appwrite Client
        void ctx.client;
        return { connection: ctx.connection, store: ctx.store, orgs: ctx.orgs };
      },
    });
  });

  it('decodes params and query, validates the query, and coerces', async () => {
    const out = await invoke(fn, { path: '/echo/a%20b?n=7' });
    expect(out.body).toMatchObject({ id: 'a b', n: 7, env: 'hi' });
    const bad = await invoke(fn, { path: '/echo/x?n=abc' });
    expect(bad.status).toBe(400);
  });

  it('continues an incoming traceparent (a child span), else starts a trace; every line has trace, span and execution ids', async () => {
    const traced = await invoke(fn, {
      path: '/echo/1',
      headers: {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        'x-appwrite-execution-id': 'exec1',
      },
    });
    expect(traced.body).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(traced.headers['x-trace-id']).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const [, traceOut, spanOut, flags] = traced.headers.traceparent!.split('-');
    expect(traceOut).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(spanOut).toMatch(/^[0-9a-f]{16}$/);
    expect(spanOut).not.toBe('00f067aa0ba902b7');
    expect(flags).toBe('01');
    expect(traced.logs.length).toBeGreaterThanOrEqual(2);
    for (const line of traced.logs) {
      expect(JSON.parse(line)).toMatchObject({
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: spanOut,
        executionId: 'exec1',
      });
    }
    const byExecution = await invoke(fn, {
      path: '/echo/1',
      headers: { 'x-appwrite-execution-id': 'exec1', traceparent: 'garbage' },
    });
    const fresh = (byExecution.body as { traceId: string }).traceId;
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(byExecution.headers['x-trace-id']).toBe(fresh);
    expect(byExecution.headers.traceparent).toMatch(new RegExp(`^00-${fresh}-[0-9a-f]{16}-01$`));
    for (const line of byExecution.logs)
      expect(JSON.parse(line)).toMatchObject({ traceId: fresh, executionId: 'exec1' });
  });

  it('prefers the dynamic x-appwrite-key and never logs it or the fallback key', async () => {
    const dynamic = 'ephemeral_abcdefghijklmnopqrstuvwxyz0123456789';
    const out = await invoke(fn, { path: '/echo/1', headers: { 'x-appwrite-key': dynamic } });
    const all = [...out.logs, ...out.errors].join('\n');
    expect(all).not.toContain(dynamic);
    expect(all).not.toContain('should-not-appear');
    expect(all).toContain('[redacted]');
    const fallback = await invoke(fn, { path: '/echo/1' });
    expect([...fallback.logs, ...fallback.errors].join('\n')).not.toContain(env.APPWRITE_API_KEY);
  });

  it('renders an unexpected error as a generic 500 and logs the cause to the error stream', async () => {
    const out = await invoke(fn, { path: '/boom' });
    expect(out.status).toBe(500);
    expect(out.body).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: 'Internal error' } });
    expect(JSON.stringify(out.body)).not.toContain('secret detail');
    expect(out.errors.join('\n')).toContain('secret detail');
  });

  it('renders 429 with Retry-After and the error headers', async () => {
    const out = await invoke(fn, { path: '/quota' });
    expect(out.status).toBe(429);
    expect(out.headers['retry-after']).toBe('120');
    expect(out.headers['ratelimit-remaining']).toBe('0');
  });

  it('dispatches schedule and event triggers', async () => {
    const cron = await invoke(fn, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    expect(cron.body).toEqual({ ran: 'schedule', deployment: 'dep-42' });
    const event = await invoke(fn, {
      method: 'POST',
      path: '/',
      body: { $id: 'r1' },
      headers: { 'x-appwrite-trigger': 'event', 'x-appwrite-event': 'databases.db.tables.t.rows.r1.create' },
    });
    expect(event.body).toEqual({ event: 'databases.db.tables.t.rows.r1.create', payload: { $id: 'r1' } });
  });

  it('refuses to let a route shadow /health', () => {
    expect(() =>
      defineFunction({
        name: 'x',
        version: '0',
        setup: () => ({}),
        routes: [routesFor<object>()({ method: 'GET', path: '/health', auth: 'any', handler: () => ({}) })],
      }),
    ).toThrow(/health/);
  });
});

describe('toResponse', () => {
  it.each([
    [errors.invalidInput('bad', [{ path: 'a', message: 'm' }]), 400],
    [errors.unauthorized('who'), 401],
    [errors.forbidden('no'), 403],
    [errors.notFound('gone'), 404],
    [errors.conflict('dup'), 409],
    [new ResilienceError('CIRCUIT_OPEN', 'open'), 503],
    [errors.retryable('later'), 503],
    [new Error('x'), 500],
  ])('renders %s as %i', (error, status) => {
    const out = toResponse(error);
    expect(out.status).toBe(status);
    expect(out.body.ok).toBe(false);
    if (status === 503) expect(out.headers['retry-after']).toMatch(/^\d+$/);
  });
});

describe('redact', () => {
  it('scrubs secret keys, known secret values and dynamic keys', () => {
    expect(
      redact(
        {
          apiKey: 'k',
          nested: { password: 'p', ok: 'v' },
          msg: 'x topsecret123 y',
          dyn: 'ephemeral_abc.def',
        },
        ['topsecret123'],
      ),
    ).toEqual({
      apiKey: '[redacted]',
      nested: { password: '[redacted]', ok: 'v' },
      msg: 'x [redacted] y',
      dyn: '[redacted]',
    });
  });
});

describe('auth without an org', () => {
  const noOrg = defineFunction({
    name: 'no-org',
    version: '0',
    setup: () => ({}),
    routes: [
      routesFor<object>()({
        method: 'POST',
        path: '/admin/reset',
        auth: 'admin',
        body: z.object({ orgId: z.string().optional() }),
        handler: ({ caller }) => ({ body: { orgId: caller.orgId, kind: caller.kind } }),
      }),
    ],
  }).with({ env, orgs });

  it('needs an orgId from a user (400) but not from a server call', async () => {
    const asUser = await invoke(noOrg, {
      method: 'POST',
      path: '/admin/reset',
      body: {},
      headers: user('alice'),
    });
    expect(asUser.status).toBe(400);
    const asServer = await invoke(noOrg, { method: 'POST', path: '/admin/reset', body: {} });
    expect(asServer.status).toBe(200);
    expect(asServer.body).toEqual({ orgId: null, kind: 'server' });
  });
});

describe('defineFunction: prefetch routes', () => {
  const prefetching = (setup: () => { n: number }, seen: unknown[]) =>
    defineFunction({
      name: 'prefetch-test',
      version: '0',
      setup,
      routes: [
        routesFor<{ n: number }>()({
          method: 'GET',
          path: '/orgs/:orgId/x',
          auth: 'member',
          prefetch: ({ deps, caller }) => {
            seen.push({ deps, orgId: caller.orgId, roles: caller.roles });
          },
          handler: ({ deps }) => ({ body: deps }),
        }),
      ],
    }).with({ env, store, orgs, clock: new ManualClock() });

  it('builds the deps once: the prefetch and the handler get the same deps', async () => {
    let setups = 0;
    const seen: unknown[] = [];
    const out = await invoke(
      prefetching(() => ({ n: ++setups }), seen),
      { path: '/orgs/acme/x', headers: user('alice') },
    );
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ n: 1 });
    expect(setups).toBe(1);
    expect(seen).toEqual([{ deps: { n: 1 }, orgId: 'acme', roles: [] }]);
  });

  it('answers a refused caller 403 when setup (started early) fails', async () => {
    const seen: unknown[] = [];
    const failing = prefetching(() => {
      throw new Error('setup down');
    }, seen);
    const out = await invoke(failing, { path: '/orgs/acme/x', headers: user('dave') });
    expect(out.status).toBe(403);
    expect(seen).toEqual([]);
  });
});
