/**
 * Quota counters and NULL (platform notes §F2). On Appwrite a column added to a table that already has rows
 * leaves those rows NULL, and an increment of a NULL column writes nothing yet answers with the computed value
 * (a bounded one passes the bound check with NULL counted as 0, then matches no row). The quota code must stay
 * correct on that:
 * - every usage row it creates carries explicit counters (`used`, `reserved`), so NULL can only come from a
 *   schema change on a populated table (which `npm run deploy` refuses);
 * - `reserved` is only a hint: on a row where it reads NULL, reservations are still settled exactly once and a
 *   release still refunds `used`.
 * The store below reproduces Appwrite's NULL semantics over the memory adapter.
 */
import { errors, type TableStore, type WriteOp } from 'resilience-core';
import { forgetKnownAlerts, QUOTA_TABLES, type QuotaUsageRow, usageRowId } from 'resilience-core/quota';
import { beforeEach, describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-acme';
const DAY = '2026-03-10';

/** Increments of a NULL column check the bound with NULL as 0, then write nothing and answer the computed value. */
function nullCounters(inner: TableStore): TableStore & { skipped: number } {
  const state = { skipped: 0 };
  const refusesOnNull = (by: number, bound?: { min?: number; max?: number }) =>
    (by > 0 && bound?.max !== undefined && by > bound.max) ||
    (by < 0 && bound?.min !== undefined && by < bound.min);
  const isNull = async (table: string, id: string, column: string) => {
    const row = await inner.get(table, id);
    return row !== null && (row as Record<string, unknown>)[column] === null ? row : null;
  };
  return {
    get skipped() {
      return state.skipped;
    },
    create: (...a) => inner.create(...a),
    get: (...a) => inner.get(...a),
    update: (...a) => inner.update(...a),
    upsert: (...a) => inner.upsert(...a),
    delete: (...a) => inner.delete(...a),
    list: (...a) => inner.list(...a),
    async increment(table, id, column, by, bound) {
      const row = await isNull(table, id, column);
      if (!row) return inner.increment(table, id, column, by, bound);
      if (refusesOnNull(by, bound)) throw errors.boundExceeded(`${column} would cross its bound`);
      state.skipped++;
      return { ...row, [column]: by } as never;
    },
    async transaction(ops) {
      const kept: WriteOp[] = [];
      for (const op of ops) {
        if (op.action === 'increment' && (await isNull(op.table, op.id, op.column))) {
          if (refusesOnNull(op.by, op.bound))
            throw errors.boundExceeded(`${op.column} would cross its bound`);
          state.skipped++;
          continue;
        }
        kept.push(op);
      }
      await inner.transaction(kept);
    },
  };
}

/** A usage row as it reads after `reserved` was added to a populated table: NULL. */
async function legacyRow(store: TableStore, used: number): Promise<string> {
  const id = usageRowId(ORG, 'exports_per_day', DAY);
  await store.create(QUOTA_TABLES.usage, id, {
    orgId: ORG,
    quotaType: 'exports_per_day',
    windowKey: DAY,
    windowStart: '2026-03-10T00:00:00.000+00:00',
    windowEnd: '2026-03-11T00:00:00.000+00:00',
    timeZone: 'UTC',
    used,
    reserved: null,
  });
  return id;
}

beforeEach(() => forgetKnownAlerts());

describe('quota counters never read NULL on rows the quota code creates', () => {
  it('every way a usage row is created writes used and reserved explicitly', async () => {
    const f = quotaFixture();
    const q = f.service();
    await q.consume(ORG, 'api_calls_per_hour'); // first use: created by the consume itself
    await q.consumeMany(ORG, [{ quotaType: 'recognitions_per_day' }, { quotaType: 'storage_gb', amount: 2 }]); // transaction form: rows created with 0 first
    await q.reserve(ORG, 'exports_per_day', 2); // reservation: rows created with 0 first
    const rows = (await f.store.list<QuotaUsageRow>(QUOTA_TABLES.usage, { limit: 100 })).rows;
    expect(rows.map((r) => r.quotaType).sort()).toEqual([
      'api_calls_per_hour',
      'exports_per_day',
      'recognitions_per_day',
      'storage_gb',
    ]);
    for (const r of rows) {
      expect(typeof r.used, r.quotaType).toBe('number');
      expect(typeof r.reserved, r.quotaType).toBe('number');
    }
  });
});

describe('a usage row whose reserved counter reads NULL (§F2)', () => {
  it('a reservation on it is released once and refunds used', async () => {
    const f = quotaFixture();
    const store = nullCounters(f.store);
    await f.configure(ORG, { overrides: { exports_per_day: 10 } });
    const id = await legacyRow(f.store, 2);
    const q = f.service({ store });
    const r = await q.reserve(ORG, 'exports_per_day', 3);
    expect(r).toMatchObject({ allowed: true, used: 5 });
    expect(store.skipped).toBe(1); // the reserved += 3 wrote nothing
    expect(await q.releaseReservation(r.reservationId!)).toBe(true);
    expect(await f.store.get(QUOTA_TABLES.usage, id)).toMatchObject({ used: 2 });
    expect((await f.store.list(QUOTA_TABLES.reservations)).rows).toEqual([]);
    expect(await q.releaseReservation(r.reservationId!)).toBe(false);
  });

  it('a reservation on it commits once and keeps the units', async () => {
    const f = quotaFixture();
    const store = nullCounters(f.store);
    await f.configure(ORG, { overrides: { exports_per_day: 10 } });
    const id = await legacyRow(f.store, 2);
    const q = f.service({ store });
    const r = await q.reserve(ORG, 'exports_per_day', 3);
    await q.commitReservation(r.reservationId!, 2);
    expect(await f.store.get(QUOTA_TABLES.usage, id)).toMatchObject({ used: 4 });
    await expect(q.commitReservation(r.reservationId!)).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  it('a refused consume still finds and releases an expired reservation on it', async () => {
    const f = quotaFixture();
    const store = nullCounters(f.store);
    await f.configure(ORG, { overrides: { exports_per_day: 5 } });
    await legacyRow(f.store, 1);
    const q = f.service({ store });
    expect((await q.reserve(ORG, 'exports_per_day', 4, { ttlMs: 60_000 })).allowed).toBe(true);
    expect((await f.service({ store }).consume(ORG, 'exports_per_day')).allowed).toBe(false);
    await f.clock.advance(61_000);
    // reserved reads NULL: the refusal cannot trust it, so it looks for expired reservations and frees them.
    expect(await f.service({ store }).consume(ORG, 'exports_per_day')).toMatchObject({
      allowed: true,
      used: 2,
    });
  });
});
