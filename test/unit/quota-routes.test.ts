import createRecognition from 'fn-create-recognition/src/main.ts';
import { listAll } from 'resilience-core';
import { MemoryOrgDirectory } from 'resilience-core/adapters/memory';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import { webhookTransport } from 'resilience-core/notify';
import { forgetKnownAlerts, QUOTA_TABLES } from 'resilience-core/quota';
import { invoke } from 'resilience-core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-acme';
const OTHER = 'org-beta';

function setup(env: Record<string, string> = {}) {
  const f = quotaFixture();
  const orgs = new MemoryOrgDirectory({
    [ORG]: { alice: ['owner'], bob: [], carol: [] },
    [OTHER]: { mallory: ['owner'] },
  });
  const fn = createRecognition.with({ store: f.store, orgs, clock: f.clock, env });
  const as = (user: string | null) => (method: string, path: string, body?: unknown) =>
    invoke(fn, { method, path, body, headers: user ? { 'x-appwrite-user-id': user } : {} });
  return { f, fn, alice: as('alice'), bob: as('bob'), mallory: as('mallory'), server: as(null) };
}

/** Every write the store served, to prove a refusal changed nothing. */
async function dump(f: ReturnType<typeof quotaFixture>) {
  const out: Record<string, unknown[]> = {};
  for (const t of [...Object.values(QUOTA_TABLES), RECOGNITIONS_TABLE]) out[t] = await listAll(f.store, t);
  return out;
}

beforeEach(() => forgetKnownAlerts());

describe('create-recognition enforces quotas', () => {
  it('consumes recognitions_per_day and api_calls_per_hour; refuses with 429, Retry-After and RateLimit headers', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { recognitions_per_day: 2 } });
    const give = () =>
      bob('POST', '/recognitions', { orgId: ORG, receiverId: 'carol', message: 'thanks!', points: 5 });
    expect((await give()).status).toBe(201);
    expect((await give()).status).toBe(201);
    const refused = await give();
    expect(refused.status).toBe(429);
    expect(refused.headers).toMatchObject({
      'retry-after': String(12 * 3600),
      'RateLimit-Limit': '2',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': String(12 * 3600),
    });
    expect(refused.body).toMatchObject({
      ok: false,
      error: {
        code: 'QUOTA_EXCEEDED',
        details: { quotaType: 'recognitions_per_day', limit: 2, resetsAt: '2026-03-11T00:00:00.000+00:00' },
      },
    });
    const report = await bob('GET', `/orgs/${ORG}/quotas`);
    const byType = Object.fromEntries(
      (report.body as { quotas: { quotaType: string; current: { used: number } }[] }).quotas.map((q) => [
        q.quotaType,
        q.current.used,
      ]),
    );
    // The refused attempt consumed none of the product quotas (recognitions and points move all-or-nothing);
    // it was still an API call, and api_calls_per_hour meters calls, so that one counts it.
    expect(byType).toMatchObject({
      recognitions_per_day: 2,
      api_calls_per_hour: 3,
      reward_points_per_month: 10,
    });
    expect(await listAll(f.store, RECOGNITIONS_TABLE)).toHaveLength(2);
  });

  it('refunds when the recognition is a duplicate of an earlier request (the API call stays counted)', async () => {
    const { f, bob } = setup();
    const body = { orgId: ORG, receiverId: 'carol', message: 'again', requestId: 'req-1', points: 7 };
    expect((await bob('POST', '/recognitions', body)).status).toBe(201);
    expect((await bob('POST', '/recognitions', body)).status).toBe(200);
    const rows = await listAll(f.store, QUOTA_TABLES.usage);
    expect(rows.map((r) => [r.quotaType, r.used]).sort()).toEqual([
      ['api_calls_per_hour', 2],
      ['recognitions_per_day', 1],
      ['reward_points_per_month', 7],
    ]);
  });

  it('a refusal by api_calls_per_hour gives back the product units taken in parallel', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { api_calls_per_hour: 1 } });
    const give = () =>
      bob('POST', '/recognitions', { orgId: ORG, receiverId: 'carol', message: 'hi', points: 3 });
    expect((await give()).status).toBe(201);
    const refused = await give();
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { details: { quotaType: 'api_calls_per_hour', limit: 1 } } });
    expect(refused.headers).toMatchObject({ 'retry-after': '3600', 'RateLimit-Limit': '1' });
    const rows = await listAll(f.store, QUOTA_TABLES.usage);
    expect(rows.map((r) => [r.quotaType, r.used]).sort()).toEqual([
      ['api_calls_per_hour', 1],
      ['recognitions_per_day', 1],
      ['reward_points_per_month', 3],
    ]);
    expect(await listAll(f.store, RECOGNITIONS_TABLE)).toHaveLength(1);
  });

  it('when both refuse, the answer names the quota that resets later (a retry needs both)', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { api_calls_per_hour: 1, recognitions_per_day: 1 } });
    const give = () => bob('POST', '/recognitions', { orgId: ORG, receiverId: 'carol', message: 'hi' });
    expect((await give()).status).toBe(201);
    const refused = await give();
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { details: { quotaType: 'recognitions_per_day' } } });
    expect(refused.headers['retry-after']).toBe(String(12 * 3600));
  });

  it('shadow mode counts past the limit without refusing', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { recognitions_per_day: 1 }, shadow: ['recognitions_per_day'] });
    for (let i = 0; i < 3; i++) {
      expect(
        (await bob('POST', '/recognitions', { orgId: ORG, receiverId: 'carol', message: `#${i}` })).status,
      ).toBe(201);
    }
    const report = await bob('GET', `/orgs/${ORG}/quotas/recognitions_per_day`);
    expect(report.body).toMatchObject({ shadow: true, limit: 1, current: { used: 3, remaining: 0 } });
  });
});

describe('quota routes', () => {
  it('member submits, admin approves, the limit rises and the report shows it', async () => {
    const { bob, alice } = setup();
    const submitted = await bob('POST', `/orgs/${ORG}/quota-requests`, {
      quotaType: 'exports_per_day',
      amount: 50,
      durationDays: 30,
      reason: 'Quarterly review exports',
    });
    expect(submitted.status).toBe(201);
    const id = (submitted.body as { id: string }).id;
    const approved = await alice('POST', `/orgs/${ORG}/quota-requests/${id}/approve`, { note: 'ok' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: 'alice', decisionNote: 'ok' });
    const report = await bob('GET', `/orgs/${ORG}/quotas?quotaType=exports_per_day&past=3`);
    expect(report.status).toBe(200);
    expect((report.body as { quotas: unknown[] }).quotas[0]).toMatchObject({
      limit: 100,
      baseLimit: 50,
      increase: 50,
    });
    const audit = await alice('GET', `/orgs/${ORG}/quota-audit`);
    expect(audit.status).toBe(200);
    expect(
      (audit.body as { entries: { action: string; actorId: string }[] }).entries.map((e) => [
        e.action,
        e.actorId,
      ]),
    ).toEqual([
      ['increase.approved', 'alice'],
      ['increase.submitted', 'bob'],
    ]);
    expect((await bob('GET', `/orgs/${ORG}/quota-audit`)).status).toBe(403);
    const list = await bob('GET', `/orgs/${ORG}/quota-requests?status=approved`);
    expect((list.body as { requests: { id: string }[] }).requests.map((r) => r.id)).toEqual([id]);
    expect((await bob('GET', `/orgs/${ORG}/quota-requests/${id}`)).status).toBe(200);
  });

  it('refuses bad input, non-admins and other orgs with a clear 4xx and changes nothing', async () => {
    const { f, bob, alice, mallory, server } = setup();
    const submitted = await bob('POST', `/orgs/${ORG}/quota-requests`, {
      quotaType: 'exports_per_day',
      amount: 5,
      permanent: true,
      reason: 'reports',
    });
    const id = (submitted.body as { id: string }).id;
    const before = await dump(f);
    const cases: [string, Promise<{ status: number; body: unknown }>, number, string][] = [
      [
        'unknown quota type',
        bob('POST', `/orgs/${ORG}/quota-requests`, {
          quotaType: 'tweets',
          amount: 1,
          permanent: true,
          reason: 'abc',
        }),
        400,
        'INVALID_INPUT',
      ],
      [
        'negative amount',
        bob('POST', `/orgs/${ORG}/quota-requests`, {
          quotaType: 'exports_per_day',
          amount: -5,
          permanent: true,
          reason: 'abc',
        }),
        400,
        'INVALID_INPUT',
      ],
      [
        'zero amount',
        bob('POST', `/orgs/${ORG}/quota-requests`, {
          quotaType: 'exports_per_day',
          amount: 0,
          permanent: true,
          reason: 'abc',
        }),
        400,
        'INVALID_INPUT',
      ],
      ['malformed JSON', bob('POST', `/orgs/${ORG}/quota-requests`, '{"quotaType": '), 400, 'INVALID_INPUT'],
      ['empty body', bob('POST', `/orgs/${ORG}/quota-requests`), 400, 'INVALID_INPUT'],
      ['array body', bob('POST', `/orgs/${ORG}/quota-requests`, [1, 2]), 400, 'INVALID_INPUT'],
      [
        'unknown field',
        bob('POST', `/orgs/${ORG}/quota-requests`, {
          quotaType: 'exports_per_day',
          amount: 1,
          permanent: true,
          reason: 'abc',
          status: 'approved',
        }),
        400,
        'INVALID_INPUT',
      ],
      [
        'body orgId disagrees with path',
        bob('POST', `/orgs/${ORG}/quota-requests`, {
          orgId: OTHER,
          quotaType: 'exports_per_day',
          amount: 1,
          permanent: true,
          reason: 'abc',
        }),
        400,
        'INVALID_INPUT',
      ],
      [
        'other org submits into ours',
        mallory('POST', `/orgs/${ORG}/quota-requests`, {
          quotaType: 'exports_per_day',
          amount: 1,
          permanent: true,
          reason: 'abc',
        }),
        403,
        'FORBIDDEN',
      ],
      ['other org reads our report', mallory('GET', `/orgs/${ORG}/quotas`), 403, 'FORBIDDEN'],
      ['other org lists our requests', mallory('GET', `/orgs/${ORG}/quota-requests`), 403, 'FORBIDDEN'],
      ['other org reads our audit', mallory('GET', `/orgs/${ORG}/quota-audit`), 403, 'FORBIDDEN'],
      ['malformed audit cursor', alice('GET', `/orgs/${ORG}/quota-audit?cursor=../x`), 400, 'INVALID_INPUT'],
      // Another org's request answers like a missing one (its existence is not revealed).
      [
        'other org approves via its own org path',
        mallory('POST', `/orgs/${OTHER}/quota-requests/${id}/approve`, {}),
        404,
        'NOT_FOUND',
      ],
      [
        'other org reads via its own org path',
        mallory('GET', `/orgs/${OTHER}/quota-requests/${id}`),
        404,
        'NOT_FOUND',
      ],
      ['non-admin approves', bob('POST', `/orgs/${ORG}/quota-requests/${id}/approve`, {}), 403, 'FORBIDDEN'],
      ['non-admin rejects', bob('POST', `/orgs/${ORG}/quota-requests/${id}/reject`, {}), 403, 'FORBIDDEN'],
      [
        'approve without body',
        alice('POST', `/orgs/${ORG}/quota-requests/${id}/approve`),
        400,
        'INVALID_INPUT',
      ],
      [
        'approve with junk',
        alice('POST', `/orgs/${ORG}/quota-requests/${id}/approve`, { note: 42 }),
        400,
        'INVALID_INPUT',
      ],
      ['unknown request', alice('POST', `/orgs/${ORG}/quota-requests/nope/approve`, {}), 404, 'NOT_FOUND'],
      [
        'unknown quota in report path',
        bob('GET', `/orgs/${ORG}/quotas/tweets_per_day`),
        400,
        'INVALID_INPUT',
      ],
      [
        'unknown quota in report query',
        bob('GET', `/orgs/${ORG}/quotas?quotaType=tweets`),
        400,
        'INVALID_INPUT',
      ],
      ['negative past', bob('GET', `/orgs/${ORG}/quotas?past=-1`), 400, 'INVALID_INPUT'],
      ['unknown status filter', bob('GET', `/orgs/${ORG}/quota-requests?status=maybe`), 400, 'INVALID_INPUT'],
      [
        'members cannot change settings',
        alice('PUT', `/orgs/${ORG}/quota-settings`, { plan: 'enterprise' }),
        403,
        'FORBIDDEN',
      ],
      [
        'settings with a bad zone',
        server('PUT', `/orgs/${ORG}/quota-settings`, { timeZone: 'Mars/Base' }),
        400,
        'INVALID_INPUT',
      ],
      [
        'settings with a negative override',
        server('PUT', `/orgs/${ORG}/quota-settings`, { overrides: { exports_per_day: -1 } }),
        400,
        'INVALID_INPUT',
      ],
      [
        'settings for a malformed org id',
        server('PUT', '/orgs/bad%20org!/quota-settings', { plan: 'free' }),
        400,
        'INVALID_INPUT',
      ],
      [
        'recognition with negative points',
        bob('POST', '/recognitions', { orgId: ORG, receiverId: 'carol', message: 'x', points: -1 }),
        400,
        'INVALID_INPUT',
      ],
      [
        'recognition for another org',
        mallory('POST', '/recognitions', { orgId: ORG, receiverId: 'carol', message: 'x' }),
        403,
        'FORBIDDEN',
      ],
    ];
    for (const [name, call, status, code] of cases) {
      const res = await call;
      expect(res.status, name).toBe(status);
      expect((res.body as { error: { code: string; message: string } }).error.code, name).toBe(code);
      expect((res.body as { error: { message: string } }).error.message.length, name).toBeGreaterThan(5);
    }
    expect(await dump(f)).toEqual(before);
  });

  it('a decided request cannot be decided again (409)', async () => {
    const { alice, bob } = setup();
    const id = (
      (
        await bob('POST', `/orgs/${ORG}/quota-requests`, {
          quotaType: 'integrations',
          amount: 1,
          permanent: true,
          reason: 'HRIS',
        })
      ).body as { id: string }
    ).id;
    expect((await alice('POST', `/orgs/${ORG}/quota-requests/${id}/reject`, {})).status).toBe(200);
    const again = await alice('POST', `/orgs/${ORG}/quota-requests/${id}/approve`, {});
    expect(again.status).toBe(409);
  });

  it('operators set plan, zone and overrides with an API key (audited)', async () => {
    const { f, server, bob } = setup();
    const res = await server('PUT', `/orgs/${ORG}/quota-settings`, {
      plan: 'free',
      timeZone: 'Asia/Tokyo',
      overrides: { exports_per_day: 3 },
    });
    expect(res.status).toBe(200);
    const report = await bob('GET', `/orgs/${ORG}/quotas/exports_per_day`);
    expect(report.body).toMatchObject({
      plan: 'free',
      timeZone: 'Asia/Tokyo',
      limit: 3,
      limitSource: 'override',
    });
    expect((await listAll(f.store, QUOTA_TABLES.audit)).map((r) => r.action)).toEqual(['settings.updated']);
  });
});

describe('quota alerts through the Slack webhook', () => {
  const SLACK_ENV = { NOTIFY_SLACK_WEBHOOK_URL: 'https://hooks.slack.test/T000/B000/XXXX' };

  it('create-recognition sends the 80 % and 100 % alerts once each through the breaker-protected notifier', async () => {
    const saved = { ...webhookTransport };
    const posts: { url: string; body: { text?: string } }[] = [];
    webhookTransport.fetch = async (url, init) => {
      posts.push({ url: String(url), body: JSON.parse(String(init?.body)) });
      return new Response('ok', { status: 200 });
    };
    try {
      const { f, bob } = setup(SLACK_ENV);
      await f.configure(ORG, { overrides: { recognitions_per_day: 5 } });
      for (let i = 0; i < 6; i++) {
        await bob('POST', '/recognitions', { orgId: ORG, receiverId: 'carol', message: `#${i}` });
      }
      const quotaPosts = posts.filter((p) => JSON.stringify(p.body).includes('recognitions_per_day at'));
      expect(
        quotaPosts.map((p) => JSON.stringify(p.body).match(/recognitions_per_day at (\d+)%/)?.[1]),
      ).toEqual(['80', '100']);
      const alerts = await listAll(f.store, QUOTA_TABLES.alerts);
      expect(alerts.map((a) => [a.threshold, a.status])).toEqual([
        [80, 'sent'],
        [100, 'sent'],
      ]);
    } finally {
      Object.assign(webhookTransport, saved);
    }
  });

  it('POST /exports delivers the exports_per_day alerts too (not recorded as sent without a post)', async () => {
    const saved = { ...webhookTransport };
    const posts: string[] = [];
    webhookTransport.fetch = async (_url, init) => {
      posts.push(String(init?.body));
      return new Response('ok', { status: 200 });
    };
    try {
      const { f, bob } = setup(SLACK_ENV);
      await f.configure(ORG, { overrides: { exports_per_day: 5 } });
      for (let i = 0; i < 5; i++) expect((await bob('POST', '/exports', { orgId: ORG })).status).toBe(202);
      expect(posts.map((p) => p.match(/exports_per_day at (\d+)%/)?.[1])).toEqual(['80', '100']);
      const alerts = await listAll(f.store, QUOTA_TABLES.alerts);
      expect(alerts.map((a) => [a.quotaType, a.threshold, a.status])).toEqual([
        ['exports_per_day', 80, 'sent'],
        ['exports_per_day', 100, 'sent'],
      ]);
    } finally {
      Object.assign(webhookTransport, saved);
    }
  });
});
