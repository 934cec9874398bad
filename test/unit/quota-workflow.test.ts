import { hasCode } from 'resilience-core';
import {
  computeLimits,
  decideIncreaseRequest,
  expireIncreases,
  forgetKnownAlerts,
  getIncreaseRequest,
  increaseRequestInputSchema,
  listIncreaseRequests,
  PLAN_LIMITS,
  QUOTA_TABLES,
  type QuotaActor,
  quotaEnforcementMiddleware,
  quotaSettingsInputSchema,
  recordQuotaUsageMiddleware,
  submitIncreaseRequest,
  updateQuotaSettings,
  usageReport,
} from 'resilience-core/quota';
import { beforeEach, describe, expect, it } from 'vitest';
import { concurrently, quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-acme';
const member: QuotaActor = { userId: 'u-member', orgId: ORG, isAdmin: false };
const admin: QuotaActor = { userId: 'u-admin', orgId: ORG, isAdmin: true };
const otherAdmin: QuotaActor = { userId: 'u-evil', orgId: 'org-other', isAdmin: true };

beforeEach(() => forgetKnownAlerts());

const submit = (f: ReturnType<typeof quotaFixture>, body: unknown, actor = member) =>
  submitIncreaseRequest(f.store, actor, increaseRequestInputSchema.parse(body), f.clock.now());

async function code(p: Promise<unknown>): Promise<string | undefined> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  return hasCode(e, 'FORBIDDEN', 'CONFLICT', 'NOT_FOUND', 'INVALID_INPUT', 'QUOTA_EXCEEDED')
    ? e.code
    : String(e);
}

describe('limits', () => {
  it('plan tiers, overrides and active increases combine', () => {
    const { limits, base } = computeLimits({
      plan: 'free',
      overrides: { exports_per_day: 7 },
      increases: [
        { requestId: 'a', quotaType: 'exports_per_day', amount: 3, expiresAt: null },
        { requestId: 'b', quotaType: 'recognitions_per_day', amount: 50, expiresAt: null },
      ],
    });
    expect(limits.exports_per_day).toBe(10);
    expect(base.exports_per_day).toEqual({ limit: 7, source: 'override' });
    expect(limits.recognitions_per_day).toBe(PLAN_LIMITS.free.recognitions_per_day + 50);
    expect(limits.api_calls_per_hour).toBe(1_000);
  });

  it('the default plan is pro with the seed defaults', async () => {
    const ctx = await quotaFixture().service().context(ORG);
    expect(ctx.plan).toBe('pro');
    expect(ctx.limits).toMatchObject({
      recognitions_per_day: 1_000,
      storage_gb: 100,
      api_calls_per_hour: 10_000,
      exports_per_day: 50,
    });
    expect(ctx.timeZone).toBe('UTC');
  });

  it('settings are operator-only, validated and audited', async () => {
    const f = quotaFixture();
    expect(await code(updateQuotaSettings(f.store, admin, { plan: 'enterprise' }, f.clock.now()))).toBe(
      'FORBIDDEN',
    );
    expect(quotaSettingsInputSchema.safeParse({ timeZone: 'Mars/Base' }).success).toBe(false);
    expect(quotaSettingsInputSchema.safeParse({ overrides: { exports_per_day: -1 } }).success).toBe(false);
    expect(quotaSettingsInputSchema.safeParse({ overrides: { nope: 1 } }).success).toBe(false);
    expect(quotaSettingsInputSchema.safeParse({}).success).toBe(false);
    await f.configure(ORG, { plan: 'enterprise', timeZone: 'Asia/Tokyo' });
    const ctx = await f.service().context(ORG);
    expect([ctx.plan, ctx.timeZone, ctx.limits.exports_per_day]).toEqual(['enterprise', 'Asia/Tokyo', 500]);
    const audit = await f.store.list(QUOTA_TABLES.audit);
    expect(audit.rows.map((r) => [r.action, r.actorId])).toEqual([['settings.updated', 'server']]);
  });
});

describe('increase requests', () => {
  it('a member submits, an admin approves, and the effective limit rises (audited)', async () => {
    const f = quotaFixture();
    const req = await submit(f, {
      quotaType: 'exports_per_day',
      amount: 25,
      durationDays: 7,
      reason: 'Year-end review',
    });
    expect(req).toMatchObject({ status: 'pending', requestedBy: 'u-member', orgId: ORG });
    expect((await f.service().context(ORG)).limits.exports_per_day).toBe(50);
    const approved = await decideIncreaseRequest(f.store, admin, req.id, 'approved', 'ok', f.clock.now());
    expect(approved).toMatchObject({
      status: 'approved',
      decidedBy: 'u-admin',
      expiresAt: '2026-03-17T12:00:00.000+00:00',
    });
    expect((await f.service().context(ORG)).limits.exports_per_day).toBe(75);
    const audit = await f.store.list(QUOTA_TABLES.audit, { orderBy: [{ field: 'at', direction: 'asc' }] });
    expect(audit.rows.map((r) => [r.action, r.actorId, r.requestId])).toEqual([
      ['increase.submitted', 'u-member', req.id],
      ['increase.approved', 'u-admin', req.id],
    ]);
  });

  it('a temporary increase stops counting when it expires and quota-reset marks it expired', async () => {
    const f = quotaFixture();
    const req = await submit(f, {
      quotaType: 'exports_per_day',
      amount: 5,
      durationDays: 1,
      reason: 'launch day',
    });
    await decideIncreaseRequest(f.store, admin, req.id, 'approved', undefined, f.clock.now());
    await f.clock.advance(86_400_000);
    expect((await f.service().context(ORG)).limits.exports_per_day).toBe(50);
    expect(await expireIncreases(f.store, f.clock.now())).toBe(1);
    expect(await expireIncreases(f.store, f.clock.now())).toBe(0);
    expect((await getIncreaseRequest(f.store, admin, req.id)).status).toBe('expired');
  });

  it('a permanent increase has no expiry; rejection changes nothing', async () => {
    const f = quotaFixture();
    const a = await submit(f, {
      quotaType: 'integrations',
      amount: 2,
      permanent: true,
      reason: 'HRIS + Teams',
    });
    const b = await submit(f, { quotaType: 'integrations', amount: 99, permanent: true, reason: 'because' });
    await decideIncreaseRequest(f.store, admin, a.id, 'approved', undefined, f.clock.now());
    await decideIncreaseRequest(f.store, admin, b.id, 'rejected', 'too many', f.clock.now());
    await f.clock.advance(400 * 86_400_000);
    expect((await f.service().context(ORG)).limits.integrations).toBe(7);
  });

  it('non-admins, other orgs and second decisions are refused and change nothing', async () => {
    const f = quotaFixture();
    const req = await submit(f, {
      quotaType: 'exports_per_day',
      amount: 5,
      permanent: true,
      reason: 'need more',
    });
    expect(await code(decideIncreaseRequest(f.store, member, req.id, 'approved', undefined, 0))).toBe(
      'FORBIDDEN',
    );
    // Another org's request reads as missing (its existence is not revealed).
    expect(await code(decideIncreaseRequest(f.store, otherAdmin, req.id, 'approved', undefined, 0))).toBe(
      'NOT_FOUND',
    );
    expect(await code(getIncreaseRequest(f.store, otherAdmin, req.id))).toBe('NOT_FOUND');
    expect(await code(decideIncreaseRequest(f.store, admin, 'nope', 'approved', undefined, 0))).toBe(
      'NOT_FOUND',
    );
    expect(await code(decideIncreaseRequest(f.store, admin, '../x', 'approved', undefined, 0))).toBe(
      'INVALID_INPUT',
    );
    expect((await getIncreaseRequest(f.store, admin, req.id)).status).toBe('pending');
    await decideIncreaseRequest(f.store, admin, req.id, 'rejected', undefined, f.clock.now());
    expect(await code(decideIncreaseRequest(f.store, admin, req.id, 'approved', undefined, 0))).toBe(
      'CONFLICT',
    );
    expect((await listIncreaseRequests(f.store, otherAdmin)).requests).toEqual([]);
  });

  it('concurrent approve and reject: exactly one decision lands', async () => {
    for (let i = 0; i < 10; i++) {
      const f = quotaFixture();
      const req = await submit(f, {
        quotaType: 'exports_per_day',
        amount: 5,
        permanent: true,
        reason: 'race',
      });
      const outcomes = await Promise.allSettled([
        decideIncreaseRequest(f.store, admin, req.id, 'approved', undefined, f.clock.now()),
        decideIncreaseRequest(f.store, admin, req.id, 'rejected', undefined, f.clock.now()),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const decided = (await f.store.list(QUOTA_TABLES.audit)).rows.filter(
        (r) => r.action !== 'increase.submitted',
      );
      expect(decided).toHaveLength(1);
    }
  });

  it('validates submissions', () => {
    const bad = [
      { quotaType: 'tweets', amount: 1, permanent: true, reason: 'abc' },
      { quotaType: 'exports_per_day', amount: -1, permanent: true, reason: 'abc' },
      { quotaType: 'exports_per_day', amount: 1, reason: 'neither duration nor permanent' },
      { quotaType: 'exports_per_day', amount: 1, permanent: true, durationDays: 3, reason: 'both' },
      { quotaType: 'exports_per_day', amount: 1, permanent: true, reason: '' },
      { quotaType: 'exports_per_day', amount: 1, permanent: true, reason: 'extra', orgId: 'x', admin: true },
      'not an object',
    ];
    for (const body of bad)
      expect(increaseRequestInputSchema.safeParse(body).success, JSON.stringify(body)).toBe(false);
    expect(
      increaseRequestInputSchema.parse({
        quotaType: 'storage_gb_per_month',
        amount: 10,
        permanent: true,
        reason: 'files',
      }).quotaType,
    ).toBe('storage_gb');
  });

  it('caps pending requests per org (409) without writing', async () => {
    const f = quotaFixture();
    for (let i = 0; i < 20; i++) {
      await submit(f, { quotaType: 'exports_per_day', amount: 1, permanent: true, reason: `request ${i}` });
    }
    expect(
      await code(submit(f, { quotaType: 'exports_per_day', amount: 1, permanent: true, reason: 'one more' })),
    ).toBe('CONFLICT');
    expect((await f.store.list(QUOTA_TABLES.increaseRequests, { limit: 100 })).rows).toHaveLength(20);
  });

  it('lists newest first and filters by status', async () => {
    const f = quotaFixture();
    const a = await submit(f, { quotaType: 'exports_per_day', amount: 1, permanent: true, reason: 'first' });
    await f.clock.advance(1000);
    const b = await submit(f, { quotaType: 'exports_per_day', amount: 2, permanent: true, reason: 'second' });
    await decideIncreaseRequest(f.store, admin, a.id, 'approved', undefined, f.clock.now());
    expect((await listIncreaseRequests(f.store, member)).requests.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(
      (await listIncreaseRequests(f.store, member, { status: 'approved' })).requests.map((r) => r.id),
    ).toEqual([a.id]);
  });
});

describe('usage report', () => {
  it('shows the current window and past windows per quota', async () => {
    const f = quotaFixture({ start: '2026-03-09T10:00:00.000Z' });
    await f.configure(ORG, { overrides: { exports_per_day: 10 } });
    for (let i = 0; i < 3; i++) await f.service().consume(ORG, 'exports_per_day');
    await f.clock.advance(86_400_000);
    await f.service().consume(ORG, 'exports_per_day', 4);
    const report = await usageReport(f.service(), ORG, { quotaType: 'exports_per_day' });
    expect(report.quotas).toHaveLength(1);
    expect(report.quotas[0]).toMatchObject({
      quotaType: 'exports_per_day',
      limit: 10,
      limitSource: 'override',
      current: { windowKey: '2026-03-10', used: 4, remaining: 6, percent: 40 },
      past: [{ windowKey: '2026-03-09', used: 3, closed: false }],
    });
    const all = await usageReport(f.service(), ORG);
    expect(all.quotas.map((q) => q.quotaType)).toHaveLength(8);
  });
});

describe('seed API', () => {
  it('quotaEnforcementMiddleware consumes atomically: 30 concurrent checks against 12 admit 12', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 12 } });
    const results = await concurrently(30, () =>
      quotaEnforcementMiddleware({ orgId: ORG, quotas: f.service() }, 'exports_per_day'),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(12);
    const refused = results.find((r) => !r.allowed)!;
    expect(refused).toMatchObject({ remaining: 0, retryAfterSeconds: 12 * 3600, admission: null });
    expect(refused.headers['RateLimit-Remaining']).toBe('0');
  });

  it('recordQuotaUsageMiddleware commits, refunds on failure, adjusts the amount', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { reward_points_per_month: 100 } });
    const quotas = f.service();
    const a = await quotaEnforcementMiddleware({ orgId: ORG, quotas, amount: 50 }, 'reward_points_per_month');
    expect(
      await recordQuotaUsageMiddleware(ORG, 'reward_points_per_month', 30, {
        quotas,
        admission: a.admission,
      }),
    ).toEqual({
      recorded: 30,
      refunded: 20,
    });
    const b = await quotaEnforcementMiddleware({ orgId: ORG, quotas, amount: 10 }, 'reward_points_per_month');
    expect(
      await recordQuotaUsageMiddleware(ORG, 'reward_points_per_month', 10, {
        quotas,
        admission: b.admission,
        outcome: 'failure',
      }),
    ).toEqual({ recorded: 0, refunded: 10 });
    expect(await recordQuotaUsageMiddleware(ORG, 'reward_points_per_month', 60, { quotas })).toEqual({
      recorded: 60,
      refunded: 0,
    });
    expect(await code(recordQuotaUsageMiddleware(ORG, 'reward_points_per_month', 11, { quotas }))).toBe(
      'QUOTA_EXCEEDED',
    );
    expect((await quotas.consume(ORG, 'reward_points_per_month', 10)).used).toBe(100);
    expect(await code(recordQuotaUsageMiddleware(ORG, 'reward_points_per_month', -5, { quotas }))).toBe(
      'INVALID_INPUT',
    );
    expect(await code(recordQuotaUsageMiddleware(ORG, 'nope', 1, { quotas }))).toBe('INVALID_INPUT');
  });
});
