import { hasCode } from 'resilience-core';
import {
  forgetKnownAlerts,
  QUOTA_TABLES,
  quotaExceededError,
  usageRowId,
  windowKeyAt,
} from 'resilience-core/quota';
import { beforeEach, describe, expect, it } from 'vitest';
import { concurrently, quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-acme';

beforeEach(() => forgetKnownAlerts());

describe('QuotaService.consume', () => {
  it('admits up to the limit, then refuses with remaining 0 and the reset time', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 3 } });
    const q = f.service();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await q.consume(ORG, 'exports_per_day'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(results[2]).toMatchObject({ used: 3, remaining: 0, limit: 3 });
    expect(results[3]).toMatchObject({
      allowed: false,
      used: 3,
      remaining: 0,
      resetAt: '2026-03-11T00:00:00.000+00:00',
      resetInSeconds: 12 * 3600,
      ticket: null,
    });
  });

  it('uses one storage round trip per consume once the window row exists', async () => {
    const f = quotaFixture();
    const q = f.service();
    await q.consume(ORG, 'recognitions_per_day'); // resolves limits (2 reads) and creates the row
    const before = f.memory!.stats.calls;
    for (let i = 0; i < 50; i++) await q.consume(ORG, 'recognitions_per_day');
    expect(f.memory!.stats.calls - before).toBe(50);
  });

  it('resolves limits once per execution (service), not per consume', async () => {
    const f = quotaFixture();
    const q = f.service();
    await Promise.all([q.consume(ORG, 'api_calls_per_hour'), q.consume(ORG, 'exports_per_day')]);
    expect(f.memory!.stats.byMethod.list).toBe(1);
    expect(f.memory!.stats.byMethod.get).toBe(1);
  });

  it('100 concurrent consumes against a limit of 37 admit exactly 37, 20 times over, from a fresh window', async () => {
    for (let round = 0; round < 20; round++) {
      const f = quotaFixture();
      await f.configure(ORG, { overrides: { recognitions_per_day: 37 } });
      const results = await concurrently(100, () => f.service().consume(ORG, 'recognitions_per_day'));
      expect(results.filter((r) => r.allowed)).toHaveLength(37);
      const row = await f.store.get(
        QUOTA_TABLES.usage,
        usageRowId(ORG, 'recognitions_per_day', '2026-03-10'),
      );
      expect(row?.used).toBe(37);
    }
  });

  it('never over-admits mixed amounts under concurrency', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { reward_points_per_month: 100 } });
    const amounts = Array.from({ length: 60 }, (_, i) => 1 + (i % 7));
    const results = await concurrently(60, (i) =>
      f.service().consume(ORG, 'reward_points_per_month', amounts[i]),
    );
    const admitted = results.filter((r) => r.allowed).reduce((s, r) => s + r.amount, 0);
    const row = await f.store.get(QUOTA_TABLES.usage, usageRowId(ORG, 'reward_points_per_month', '2026-03'));
    expect(row?.used).toBe(admitted);
    expect(admitted).toBeLessThanOrEqual(100);
    expect(admitted).toBeGreaterThan(93); // refusals only once fewer than 7 units remained
  });

  it('starts a new row at the next window, in the org time zone', async () => {
    const f = quotaFixture({ start: '2026-03-10T22:30:00.000Z' });
    await f.configure(ORG, { overrides: { exports_per_day: 1 }, timeZone: 'Europe/Berlin' });
    expect((await f.service().consume(ORG, 'exports_per_day')).window.key).toBe('2026-03-10');
    expect((await f.service().consume(ORG, 'exports_per_day')).allowed).toBe(false);
    await f.clock.advance(30 * 60_000); // 23:00Z = midnight in Berlin
    const next = await f.service().consume(ORG, 'exports_per_day');
    expect(next).toMatchObject({ allowed: true, used: 1 });
    expect(next.window.key).toBe('2026-03-11');
  });

  it('refunds to the window it consumed from, and a refund after that window closed does nothing', async () => {
    const f = quotaFixture({ start: '2026-03-10T23:59:00.000Z' });
    await f.configure(ORG, { overrides: { exports_per_day: 2 } });
    const q = f.service();
    const a = await q.consume(ORG, 'exports_per_day');
    await q.consume(ORG, 'exports_per_day');
    expect(await q.refund(a.ticket!)).toBe(true);
    expect((await q.consume(ORG, 'exports_per_day')).allowed).toBe(true);
    await f.clock.advance(2 * 60_000);
    const b = await f.service().consume(ORG, 'exports_per_day');
    expect(b.window.key).toBe('2026-03-11');
    await f.store.delete(QUOTA_TABLES.usage, usageRowId(ORG, 'exports_per_day', '2026-03-10'));
    expect(await q.refund(a.ticket!)).toBe(false);
    const today = await f.store.get(QUOTA_TABLES.usage, b.ticket!.usageId);
    expect(today?.used).toBe(1);
  });

  it('rejects bad input without writing anything', async () => {
    const f = quotaFixture();
    const q = f.service();
    const bad = [
      () => q.consume(ORG, 'tweets_per_day'),
      () => q.consume(ORG, 'exports_per_day', -1),
      () => q.consume(ORG, 'exports_per_day', 0),
      () => q.consume(ORG, 'exports_per_day', 1.5),
      () => q.consume('', 'exports_per_day'),
      () => q.consume('bad org id!', 'exports_per_day'),
      () => q.consumeMany(ORG, []),
      () => q.consumeMany(ORG, [{ quotaType: 'exports_per_day', amount: -3 }]),
    ];
    for (const call of bad) {
      const error = await call().catch((e: unknown) => e);
      expect(hasCode(error, 'INVALID_INPUT'), String(error)).toBe(true);
    }
    expect(f.memory!.stats.byMethod.increment ?? 0).toBe(0);
    expect(f.memory!.stats.byMethod.create ?? 0).toBe(0);
    expect(f.memory!.stats.byMethod.transaction ?? 0).toBe(0);
  });

  it('renders a refusal as QUOTA_EXCEEDED with Retry-After and RateLimit headers naming the quota', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { api_calls_per_hour: 1 } });
    const q = f.service();
    await q.consume(ORG, 'api_calls_per_hour');
    const error = await q.enforce(ORG, 'api_calls_per_hour').catch((e: unknown) => e);
    expect(hasCode(error, 'QUOTA_EXCEEDED')).toBe(true);
    const e = error as ReturnType<typeof quotaExceededError>;
    expect(e.status).toBe(429);
    expect(e.retryAfterSeconds).toBe(3600);
    expect(e.headers).toEqual({
      'RateLimit-Limit': '1',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '3600',
    });
    expect(e.details).toMatchObject({
      quotaType: 'api_calls_per_hour',
      resetsAt: '2026-03-10T13:00:00.000+00:00',
    });
  });
});

describe('gauges', () => {
  it('storage_gb_per_month is the storage_gb gauge: never resets, refunds lower it', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { storage_gb: 10 } });
    const a = await f.service().consume(ORG, 'storage_gb_per_month', 6);
    expect(a).toMatchObject({
      allowed: true,
      quotaType: 'storage_gb',
      used: 6,
      resetAt: null,
      resetInSeconds: null,
    });
    await f.clock.advance(40 * 86_400_000);
    const b = await f.service().consume(ORG, 'storage_gb', 5);
    expect(b.allowed).toBe(false);
    const error = quotaExceededError(b);
    // null, not undefined: "no retry time exists", so toResponse sends no Retry-After (not its 60 s default).
    expect(error.retryAfterSeconds).toBeNull();
    expect(error.headers?.['RateLimit-Reset']).toBeUndefined();
    await f.service().refund(a.ticket!, 2);
    expect((await f.service().consume(ORG, 'storage_gb', 5)).allowed).toBe(true);
  });
});

describe('QuotaService.consumeMany (all-or-nothing)', () => {
  it('consumes nothing when one quota is full', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { recognitions_per_day: 5, api_calls_per_hour: 1 } });
    const q = f.service();
    await q.consume(ORG, 'api_calls_per_hour');
    const d = await q.consumeMany(ORG, [
      { quotaType: 'recognitions_per_day' },
      { quotaType: 'api_calls_per_hour' },
    ]);
    expect(d.allowed).toBe(false);
    expect(d.refusedBy?.quotaType).toBe('api_calls_per_hour');
    expect(d.tickets).toEqual([]);
    const rec = await f.store.get(QUOTA_TABLES.usage, usageRowId(ORG, 'recognitions_per_day', '2026-03-10'));
    expect(rec?.used ?? 0).toBe(0);
  });

  it('under concurrency never leaves one quota consumed and the other not', async () => {
    for (let round = 0; round < 10; round++) {
      const f = quotaFixture();
      await f.configure(ORG, { overrides: { recognitions_per_day: 10, api_calls_per_hour: 25 } });
      // Some requests also burn api calls alone, so the two counters are filled from both sides.
      const results = await concurrently(80, (i) =>
        i % 3 === 0
          ? f
              .service()
              .consume(ORG, 'api_calls_per_hour')
              .then((d) => ({ multi: false, allowed: d.allowed }))
          : f
              .service()
              .consumeMany(ORG, [{ quotaType: 'recognitions_per_day' }, { quotaType: 'api_calls_per_hour' }])
              .then((d) => ({ multi: true, allowed: d.allowed })),
      );
      const multi = results.filter((r) => r.multi && r.allowed).length;
      const single = results.filter((r) => !r.multi && r.allowed).length;
      const rec = (
        await f.store.get(QUOTA_TABLES.usage, usageRowId(ORG, 'recognitions_per_day', '2026-03-10'))
      )?.used;
      const api = (
        await f.store.get(QUOTA_TABLES.usage, usageRowId(ORG, 'api_calls_per_hour', '2026-03-10T12'))
      )?.used;
      expect(rec).toBe(multi);
      expect(api).toBe(multi + single);
      expect(rec).toBeLessThanOrEqual(10);
      expect(api).toBeLessThanOrEqual(25);
    }
  });

  it('merges repeated types and refunds every ticket', async () => {
    const f = quotaFixture();
    const q = f.service();
    const d = await q.consumeMany(ORG, [
      { quotaType: 'notifications_per_hour', amount: 2 },
      { quotaType: 'notifications_per_hour', amount: 3 },
      { quotaType: 'exports_per_day' },
    ]);
    expect(d.decisions.map((x) => [x.quotaType, x.amount, x.used])).toEqual([
      ['notifications_per_hour', 5, 5],
      ['exports_per_day', 1, 1],
    ]);
    await q.refundAll(d.tickets);
    const report = await Promise.all(d.tickets.map((t) => f.store.get(QUOTA_TABLES.usage, t.usageId)));
    expect(report.map((r) => r?.used)).toEqual([0, 0]);
  });
});

describe('reservations', () => {
  it('reserve holds units; commit keeps them (refunding any unused part); release refunds', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 10 } });
    const q = f.service();
    const r1 = await q.reserve(ORG, 'exports_per_day', 4);
    const r2 = await q.reserve(ORG, 'exports_per_day', 4);
    expect([r1.allowed, r2.allowed, r1.used, r2.used]).toEqual([true, true, 4, 8]);
    expect((await q.reserve(ORG, 'exports_per_day', 3)).allowed).toBe(false);
    await q.commitReservation(r1.reservationId!, 3);
    expect(await q.releaseReservation(r2.reservationId!)).toBe(true);
    const row = await f.store.get(QUOTA_TABLES.usage, r1.ticket!.usageId);
    expect(row).toMatchObject({ used: 3, reserved: 0 });
    expect(await q.releaseReservation(r2.reservationId!)).toBe(false);
    const lost = await q.commitReservation(r2.reservationId!).catch((e: unknown) => e);
    expect(hasCode(lost, 'LEASE_LOST')).toBe(true);
  });

  it('concurrent commit and release of one reservation settle it exactly once', async () => {
    for (let i = 0; i < 20; i++) {
      const f = quotaFixture();
      const q = f.service();
      const r = await q.reserve(ORG, 'exports_per_day', 5);
      const [commit, release] = await Promise.allSettled([
        f.service().commitReservation(r.reservationId!),
        f.service().releaseReservation(r.reservationId!),
      ]);
      const row = await f.store.get(QUOTA_TABLES.usage, r.ticket!.usageId);
      if (commit.status === 'fulfilled') {
        expect(release).toEqual({ status: 'fulfilled', value: false });
        expect(row).toMatchObject({ used: 5, reserved: 0 });
      } else {
        expect(release).toEqual({ status: 'fulfilled', value: true });
        expect(row).toMatchObject({ used: 0, reserved: 0 });
      }
    }
  });

  it('an expired reservation (its execution died) is released lazily by the next refused consume', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 5 } });
    const r = await f.service().reserve(ORG, 'exports_per_day', 5, { ttlMs: 60_000, holder: 'exec-1' });
    expect(r.allowed).toBe(true);
    expect((await f.service().consume(ORG, 'exports_per_day')).allowed).toBe(false);
    await f.clock.advance(61_000);
    const d = await f.service().consume(ORG, 'exports_per_day');
    expect(d).toMatchObject({ allowed: true, used: 1 });
    expect(await f.store.get(QUOTA_TABLES.reservations, r.reservationId!)).toBeNull();
  });

  it('expired reservations are released in bulk, each once, even by concurrent sweepers', async () => {
    const f = quotaFixture();
    const q = f.service();
    for (let i = 0; i < 12; i++) await q.reserve(ORG, 'recognitions_per_day', 2, { ttlMs: 5_000 });
    await f.clock.advance(6_000);
    const released = await concurrently(3, () => f.service().releaseExpiredReservations());
    expect(released.reduce((a, b) => a + b, 0)).toBe(12);
    const row = await f.store.get(QUOTA_TABLES.usage, usageRowId(ORG, 'recognitions_per_day', '2026-03-10'));
    expect(row).toMatchObject({ used: 0, reserved: 0 });
  });

  it('refuses ttl out of range', async () => {
    const q = quotaFixture().service();
    const e = await q.reserve(ORG, 'exports_per_day', 1, { ttlMs: 10 }).catch((x: unknown) => x);
    expect(hasCode(e, 'INVALID_INPUT')).toBe(true);
  });
});

describe('shadow mode', () => {
  it('counts and logs past the limit but never refuses, and sends no customer alerts', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 2 }, shadow: ['exports_per_day'] });
    const warnings: string[] = [];
    const log = { info() {}, error() {}, warn: (m: string) => warnings.push(m) };
    const q = f.service({ log });
    const results = await concurrently(5, () => q.consume(ORG, 'exports_per_day'));
    expect(results.every((r) => r.allowed && r.shadow)).toBe(true);
    expect(results.filter((r) => r.overLimit)).toHaveLength(3);
    expect(warnings.filter((w) => w === 'quota.shadow.over-limit')).toHaveLength(3);
    expect(f.notifier.sent).toEqual([]);
  });

  it('a service-wide shadow list applies to every org', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { integrations: 0 } });
    const d = await f.service({ shadow: ['integrations'] }).consume(ORG, 'integrations');
    expect(d).toMatchObject({ allowed: true, overLimit: true });
    expect((await f.service().consume(ORG, 'integrations')).allowed).toBe(false);
  });
});

describe('alerts', () => {
  it('sends 80 % and 100 % once per window, even when crossed by concurrent executions', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { recognitions_per_day: 10 } });
    await concurrently(15, () => f.service().consume(ORG, 'recognitions_per_day'));
    expect(f.notifier.sent.map((n) => [n.fields.threshold, n.severity])).toEqual([
      [80, 'warning'],
      [100, 'critical'],
    ]);
    await f.clock.advance(86_400_000);
    forgetKnownAlerts();
    await concurrently(10, () => f.service().consume(ORG, 'recognitions_per_day'));
    expect(f.notifier.sent).toHaveLength(4);
    expect(f.notifier.sent[2]?.fields.window).toBe(windowKeyAt('day', f.clock.now()));
  });

  it('multi-quota consumes alert too (checked after the transaction)', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { recognitions_per_day: 5 } });
    for (let i = 0; i < 4; i++) {
      await f
        .service()
        .consumeMany(ORG, [{ quotaType: 'recognitions_per_day' }, { quotaType: 'api_calls_per_hour' }]);
    }
    expect(f.notifier.sent.map((n) => `${n.fields.quotaType}@${n.fields.threshold}`)).toEqual([
      'recognitions_per_day@80',
    ]);
  });

  it('records a failed delivery so quota-reset can retry it', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 1 } });
    f.notifier.failing = true;
    const d = await f.service().consume(ORG, 'exports_per_day');
    expect(d.allowed).toBe(true);
    const alerts = await f.store.list(QUOTA_TABLES.alerts);
    expect(alerts.rows.map((r) => [r.threshold, r.status])).toEqual([
      [80, 'failed'],
      [100, 'failed'],
    ]);
  });
});

describe('refund', () => {
  it('refunding the same ticket twice refunds once', async () => {
    const f = quotaFixture();
    const q = f.service();
    await q.consume(ORG, 'exports_per_day');
    const d = await q.consume(ORG, 'exports_per_day');
    expect(await q.refund(d.ticket!)).toBe(true);
    expect(await q.refund(d.ticket!)).toBe(false);
    const row = await f.store.get(QUOTA_TABLES.usage, d.ticket!.usageId);
    expect(row?.used).toBe(1);
  });

  it('partial refunds never add up to more than the ticket took', async () => {
    const f = quotaFixture();
    const q = f.service();
    await q.consume(ORG, 'reward_points_per_month', 10);
    const d = await q.consume(ORG, 'reward_points_per_month', 5);
    expect(await q.refund(d.ticket!, 2)).toBe(true);
    const over = await q.refund(d.ticket!, 4).catch((e: unknown) => e);
    expect(hasCode(over, 'INVALID_INPUT')).toBe(true);
    expect(await q.refund(d.ticket!)).toBe(true); // the remaining 3
    expect(await q.refund(d.ticket!)).toBe(false);
    expect((await f.store.get(QUOTA_TABLES.usage, d.ticket!.usageId))?.used).toBe(10);
  });
});
