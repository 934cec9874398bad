/**
 * The quota service against the local Appwrite server through the real Appwrite adapter (node-appwrite over
 * HTTP): every consumer has its own store client, as separate executions would.
 */

import type { AppwriteTableStore } from 'resilience-core/adapters/appwrite';
import {
  forgetKnownAlerts,
  QUOTA_TABLES,
  QuotaService,
  quotaTables,
  runQuotaReset,
  updateQuotaSettings,
  usageRowId,
} from 'resilience-core/quota';
import { ManualClock } from 'resilience-core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalTables, startLocalWithTables } from './appwrite-local-helpers.ts';
import { measureCriticalPath } from './quota-critical-path.ts';

let local: LocalTables;
const clock = new ManualClock('2026-03-10T12:00:00.000Z');

beforeAll(async () => {
  local = await startLocalWithTables(quotaTables);
});

afterAll(async () => {
  await local?.stop();
});

beforeEach(() => forgetKnownAlerts());

const execution = () => new QuotaService({ store: local.store(), clock });

async function limit(orgId: string, overrides: Record<string, number>): Promise<void> {
  await updateQuotaSettings(
    local.store(),
    { userId: null, orgId, isAdmin: true },
    { overrides },
    clock.now(),
  );
}

describe('quotas on the local Appwrite server', () => {
  it('100 concurrent consumes against a limit of 37 admit exactly 37, 20 times over', async () => {
    for (let round = 0; round < 20; round++) {
      const org = `org-race-${round}`;
      await limit(org, { recognitions_per_day: 37 });
      const results = await Promise.all(
        Array.from({ length: 100 }, () => execution().consume(org, 'recognitions_per_day')),
      );
      expect(
        results.filter((r) => r.allowed),
        `round ${round}`,
      ).toHaveLength(37);
      const row = await local
        .store()
        .get(QUOTA_TABLES.usage, usageRowId(org, 'recognitions_per_day', '2026-03-10'));
      expect(row?.used, `round ${round}`).toBe(37);
    }
  }, 120_000);

  it('takes one round trip per consume once the window row exists', async () => {
    const q = new QuotaService({ store: local.store(), clock });
    await q.consume('org-trips', 'api_calls_per_hour');
    const s = (q.store as AppwriteTableStore).stats;
    const before = s.roundTrips;
    const requests = local.server.stats.requests;
    for (let i = 0; i < 20; i++) await q.consume('org-trips', 'api_calls_per_hour');
    expect((s.roundTrips - before) / 20).toBe(1);
    expect((local.server.stats.requests - requests) / 20).toBe(1);
  });

  it('consumeMany: one quota is one bounded increment; several are parallel bounded increments (1 round trip)', async () => {
    const q = new QuotaService({ store: local.store(), clock });
    const items = [{ quotaType: 'recognitions_per_day' }, { quotaType: 'exports_per_day' }];
    await q.consumeMany('org-many-trips', items); // limits + first use of the windows
    await q.consumeMany('org-many-trips', [items[0]!]);
    const requests = local.server.stats.requests;
    const one = await q.consumeMany('org-many-trips', [items[0]!, { ...items[0]!, amount: 2 }]);
    expect(local.server.stats.requests - requests).toBe(1);
    expect(one.decisions).toHaveLength(1);
    expect(one.decisions[0]).toMatchObject({ allowed: true, amount: 3, used: 5 });
    const many = await measureCriticalPath(() => q.consumeMany('org-many-trips', items));
    expect(many).toMatchObject({ requests: 2, sequential: 1 });
    expect(many.result.decisions.map((d) => [d.quotaType, d.used])).toEqual([
      ['recognitions_per_day', 6],
      ['exports_per_day', 2],
    ]);
    // Three quotas, warm: three requests side by side, one round trip of latency.
    const three = [...items, { quotaType: 'api_calls_per_hour' }];
    await q.consumeMany('org-many-trips', three);
    const warm = await measureCriticalPath(() => q.consumeMany('org-many-trips', three));
    expect(warm).toMatchObject({ requests: 3, sequential: 1 });
    expect(warm.result.allowed).toBe(true);
    // The measure itself: two consumes one after the other are two sequential round trips.
    const chain = await measureCriticalPath(async () => {
      await q.consume('org-many-trips', 'exports_per_day');
      await q.consume('org-many-trips', 'exports_per_day');
    });
    expect(chain).toMatchObject({ requests: 2, sequential: 2 });
  });

  it('100 concurrent multi-consumes over 3 quotas never over-admit any of them, whichever is tight', async () => {
    const cases = [
      { recognitions_per_day: 37, reward_points_per_month: 1_000, api_calls_per_hour: 1_000 },
      { recognitions_per_day: 1_000, reward_points_per_month: 3 * 23, api_calls_per_hour: 1_000 },
      { recognitions_per_day: 1_000, reward_points_per_month: 1_000, api_calls_per_hour: 41 },
      { recognitions_per_day: 30, reward_points_per_month: 3 * 31, api_calls_per_hour: 29 },
    ];
    for (const [round, overrides] of cases.entries()) {
      const org = `org-multi-3-${round}`;
      await limit(org, overrides);
      const results = await Promise.all(
        Array.from({ length: 100 }, () =>
          execution().consumeMany(org, [
            { quotaType: 'recognitions_per_day' },
            { quotaType: 'reward_points_per_month', amount: 3 },
            { quotaType: 'api_calls_per_hour' },
          ]),
        ),
      );
      const admitted = results.filter((r) => r.allowed).length;
      const s = local.store();
      const q = execution();
      const used = async (type: string) =>
        (await s.get<{ used: number }>(
          QUOTA_TABLES.usage,
          usageRowId(org, type, (await q.currentWindow(org, type)).key),
        ))!.used;
      // Never over the tightest limit, and every counter holds exactly what the admitted requests took: the
      // refused ones gave back whatever they had taken.
      const fits = Math.min(
        overrides.recognitions_per_day,
        Math.floor(overrides.reward_points_per_month / 3),
        overrides.api_calls_per_hour,
      );
      expect(admitted, `round ${round}`).toBeLessThanOrEqual(fits);
      expect(admitted, `round ${round}`).toBeGreaterThan(0);
      expect(await used('recognitions_per_day'), `round ${round}`).toBe(admitted);
      expect(await used('reward_points_per_month'), `round ${round}`).toBe(admitted * 3);
      expect(await used('api_calls_per_hour'), `round ${round}`).toBe(admitted);
      for (const r of results.filter((x) => !x.allowed)) expect(r.tickets).toEqual([]);
    }
  }, 120_000);

  it('a multi-quota consume under concurrency never leaves one quota consumed and the other not', async () => {
    const org = 'org-multi';
    await limit(org, { recognitions_per_day: 10, api_calls_per_hour: 25 });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? execution()
              .consume(org, 'api_calls_per_hour')
              .then((d) => ({ multi: false, allowed: d.allowed }))
          : execution()
              .consumeMany(org, [{ quotaType: 'recognitions_per_day' }, { quotaType: 'api_calls_per_hour' }])
              .then((d) => ({ multi: true, allowed: d.allowed })),
      ),
    );
    const multi = results.filter((r) => r.multi && r.allowed).length;
    const single = results.filter((r) => !r.multi && r.allowed).length;
    const s = local.store();
    const rec = (await s.get(QUOTA_TABLES.usage, usageRowId(org, 'recognitions_per_day', '2026-03-10')))
      ?.used;
    const api = (await s.get(QUOTA_TABLES.usage, usageRowId(org, 'api_calls_per_hour', '2026-03-10T12')))
      ?.used;
    expect(rec).toBe(multi);
    expect(api).toBe(multi + single);
    expect(multi).toBeGreaterThan(0);
    expect(rec).toBeLessThanOrEqual(10);
    expect(api).toBeLessThanOrEqual(25);
  });

  it('releases expired reservations (lazily, and by quota-reset), each exactly once', async () => {
    const org = 'org-reserve';
    await limit(org, { exports_per_day: 6 });
    const a = await execution().reserve(org, 'exports_per_day', 4, { ttlMs: 60_000, holder: 'dead-exec-1' });
    const b = await execution().reserve(org, 'exports_per_day', 2, { ttlMs: 120_000, holder: 'dead-exec-2' });
    expect([a.allowed, b.allowed]).toEqual([true, true]);
    expect((await execution().consume(org, 'exports_per_day')).allowed).toBe(false);
    await clock.advance(61_000);
    // The refused consume finds the expired reservation, releases it and is admitted.
    const lazy = await execution().consume(org, 'exports_per_day');
    expect(lazy).toMatchObject({ allowed: true, used: 3 });
    await clock.advance(60_000);
    const reports = await Promise.all([
      runQuotaReset({ store: local.store(), clock }),
      runQuotaReset({ store: local.store(), clock }),
    ]);
    expect(reports[0]!.reservationsReleased + reports[1]!.reservationsReleased).toBe(1);
    const row = await local.store().get(QUOTA_TABLES.usage, usageRowId(org, 'exports_per_day', '2026-03-10'));
    expect(row).toMatchObject({ used: 1, reserved: 0 });
    expect((await local.store().list(QUOTA_TABLES.reservations)).rows).toEqual([]);
  });
});
