/**
 * Every quota transaction treats OUTCOME_UNKNOWN (an ambiguous commit: Appwrite's 400 `transaction_failed`, a 5xx,
 * a lost response) as unknown: it reads its receipt row back to learn what happened and never assumes. Each case
 * runs against a TableStore whose next matching transaction (a) commits and then throws OUTCOME_UNKNOWN, or (b)
 * throws OUTCOME_UNKNOWN without committing.
 */
import { errors, hasCode, type TableStore, uniqueIndexesOf, type WriteOp } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  decideIncreaseRequest,
  expireIncreases,
  forgetKnownAlerts,
  increaseRequestInputSchema,
  QUOTA_TABLES,
  type QuotaActor,
  type QuotaUsageRow,
  quotaTables,
  submitIncreaseRequest,
  updateQuotaSettings,
} from 'resilience-core/quota';
import { ManualClock } from 'resilience-core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-acme';
const member: QuotaActor = { userId: 'u-member', orgId: ORG, isAdmin: false };
const admin: QuotaActor = { userId: 'u-admin', orgId: ORG, isAdmin: true };
const operator: QuotaActor = { userId: null, orgId: ORG, isAdmin: true };

type Mode = 'commits-then-unknown' | 'unknown-without-commit';

/** A store whose next transaction that `matches` fails ambiguously (once), as the adapter reports it. */
class AmbiguousStore implements TableStore {
  armed: { mode: Mode; matches: (ops: readonly WriteOp[]) => boolean } | null = null;
  fired = 0;
  constructor(readonly inner: MemoryTableStore) {}
  arm(mode: Mode, matches: (ops: readonly WriteOp[]) => boolean = () => true): void {
    this.armed = { mode, matches };
  }
  async transaction(ops: readonly WriteOp[]): Promise<void> {
    const armed = this.armed;
    if (armed?.matches(ops)) {
      this.armed = null;
      this.fired++;
      if (armed.mode === 'commits-then-unknown') await this.inner.transaction(ops);
      throw errors.outcomeUnknown('commit answered 400 transaction_failed');
    }
    await this.inner.transaction(ops);
  }
  create: TableStore['create'] = (...a) => this.inner.create(...a);
  get: TableStore['get'] = (...a) => this.inner.get(...a);
  update: TableStore['update'] = (...a) => this.inner.update(...a);
  upsert: TableStore['upsert'] = (...a) => this.inner.upsert(...a);
  delete: TableStore['delete'] = (...a) => this.inner.delete(...a);
  list: TableStore['list'] = (...a) => this.inner.list(...a);
  increment: TableStore['increment'] = (...a) => this.inner.increment(...a);
}

function setup() {
  const clock = new ManualClock('2026-03-10T12:00:00.000Z');
  const store = new AmbiguousStore(new MemoryTableStore({ clock, unique: uniqueIndexesOf(quotaTables) }));
  const f = quotaFixture({ store, start: '2026-03-10T12:00:00.000Z' });
  return { f, store, clock: f.clock };
}

const touches = (table: string) => (ops: readonly WriteOp[]) => ops.some((o) => o.table === table);
const usage = async (store: TableStore, id: string) =>
  (await store.get<QuotaUsageRow>(QUOTA_TABLES.usage, id))!;
const rowsOf = async (store: TableStore, table: string) => (await store.list(table, { limit: 100 })).rows;

beforeEach(() => forgetKnownAlerts());

describe.each<Mode>(['commits-then-unknown', 'unknown-without-commit'])(
  'quota transactions after an ambiguous commit (%s)',
  (mode) => {
    it('reserve: admitted exactly once, one reservation row, the units counted once', async () => {
      const { f, store } = setup();
      await f.configure(ORG, { overrides: { exports_per_day: 10 } });
      const q = f.service();
      await q.consume(ORG, 'exports_per_day'); // the window row exists
      store.arm(mode, touches(QUOTA_TABLES.reservations));
      const r = await q.reserve(ORG, 'exports_per_day', 3);
      expect(store.fired).toBe(1);
      expect(r).toMatchObject({ allowed: true, used: 4 });
      expect(await rowsOf(store, QUOTA_TABLES.reservations)).toHaveLength(1);
      expect(await usage(store, r.ticket!.usageId)).toMatchObject({ used: 4, reserved: 3 });
    });

    it('commitReservation: settled once, the units kept', async () => {
      const { f, store } = setup();
      await f.configure(ORG, { overrides: { exports_per_day: 10 } });
      const q = f.service();
      const r = await q.reserve(ORG, 'exports_per_day', 3);
      store.arm(mode, touches(QUOTA_TABLES.reservations));
      await q.commitReservation(r.reservationId!);
      expect(store.fired).toBe(1);
      expect(await rowsOf(store, QUOTA_TABLES.reservations)).toEqual([]);
      expect(await usage(store, r.ticket!.usageId)).toMatchObject({ used: 3, reserved: 0 });
    });

    it('releaseReservation: released once, the units refunded once', async () => {
      const { f, store } = setup();
      await f.configure(ORG, { overrides: { exports_per_day: 10 } });
      const q = f.service();
      await q.consume(ORG, 'exports_per_day', 2);
      const r = await q.reserve(ORG, 'exports_per_day', 3);
      store.arm(mode, touches(QUOTA_TABLES.reservations));
      expect(await q.releaseReservation(r.reservationId!)).toBe(true);
      expect(store.fired).toBe(1);
      expect(await usage(store, r.ticket!.usageId)).toMatchObject({ used: 2, reserved: 0 });
    });

    it('quota-reset releasing an expired reservation: released once, never refunded twice', async () => {
      const { f, store, clock } = setup();
      await f.configure(ORG, { overrides: { exports_per_day: 10 } });
      const r = await f.service().reserve(ORG, 'exports_per_day', 3, { ttlMs: 60_000 });
      await clock.advance(61_000);
      store.arm(mode, touches(QUOTA_TABLES.reservations));
      const released = await f.service().releaseExpiredReservations();
      // Applied: who released it is unknown (the holder may have), so it is not counted; not applied: retried.
      expect(released).toBe(mode === 'commits-then-unknown' ? 0 : 1);
      expect(await rowsOf(store, QUOTA_TABLES.reservations)).toEqual([]);
      expect(await usage(store, r.ticket!.usageId)).toMatchObject({ used: 0, reserved: 0 });
    });

    it('submitting an increase request: stored once, or a clean RETRYABLE with nothing stored', async () => {
      const { f, store } = setup();
      store.arm(mode, touches(QUOTA_TABLES.increaseRequests));
      const input = increaseRequestInputSchema.parse({
        quotaType: 'exports_per_day',
        amount: 5,
        durationDays: 2,
        reason: 'launch',
      });
      const outcome = await submitIncreaseRequest(store, member, input, f.clock.now()).then(
        (r) => r,
        (e: unknown) => e,
      );
      const requests = await rowsOf(store, QUOTA_TABLES.increaseRequests);
      const audits = await rowsOf(store, QUOTA_TABLES.audit);
      if (mode === 'commits-then-unknown') {
        expect(outcome).toMatchObject({ status: 'pending', amount: 5 });
        expect([requests.length, audits.length]).toEqual([1, 1]);
      } else {
        expect(hasCode(outcome, 'RETRYABLE')).toBe(true);
        expect([requests.length, audits.length]).toEqual([0, 0]);
      }
    });

    it('deciding an increase request: decided once, or RETRYABLE and still pending', async () => {
      const { f, store } = setup();
      const input = increaseRequestInputSchema.parse({
        quotaType: 'exports_per_day',
        amount: 5,
        permanent: true,
        reason: 'launch',
      });
      const req = await submitIncreaseRequest(store, member, input, f.clock.now());
      store.arm(mode, touches(QUOTA_TABLES.increaseRequests));
      const outcome = await decideIncreaseRequest(store, admin, req.id, 'approved', 'ok', f.clock.now()).then(
        (r) => r,
        (e: unknown) => e,
      );
      const stored = await store.get<{ status: string; version: number }>(
        QUOTA_TABLES.increaseRequests,
        req.id,
      );
      const approvals = (await rowsOf(store, QUOTA_TABLES.audit)).filter(
        (a) => a.action === 'increase.approved',
      );
      if (mode === 'commits-then-unknown') {
        expect(outcome).toMatchObject({ status: 'approved' });
        expect(stored).toMatchObject({ status: 'approved', version: 1 });
        expect(approvals).toHaveLength(1);
      } else {
        expect(hasCode(outcome, 'RETRYABLE')).toBe(true);
        expect(stored).toMatchObject({ status: 'pending', version: 0 });
        expect(approvals).toHaveLength(0);
        // The retry the RETRYABLE invites goes through.
        await decideIncreaseRequest(store, admin, req.id, 'approved', 'ok', f.clock.now());
        expect(await store.get(QUOTA_TABLES.increaseRequests, req.id)).toMatchObject({ status: 'approved' });
      }
    });

    it('expiring approved increases: expired once; not applied → left for the next run', async () => {
      const { store, clock } = setup();
      const input = increaseRequestInputSchema.parse({
        quotaType: 'exports_per_day',
        amount: 5,
        durationDays: 1,
        reason: 'launch',
      });
      const req = await submitIncreaseRequest(store, member, input, clock.now());
      await decideIncreaseRequest(store, admin, req.id, 'approved', undefined, clock.now());
      await clock.advance(86_400_000 + 1);
      store.arm(mode, touches(QUOTA_TABLES.increaseRequests));
      const first = await expireIncreases(store, clock.now());
      const expiredAudits = async () =>
        (await rowsOf(store, QUOTA_TABLES.audit)).filter((a) => a.action === 'increase.expired').length;
      if (mode === 'commits-then-unknown') {
        expect(first).toBe(1);
      } else {
        expect(first).toBe(0);
        expect(await store.get(QUOTA_TABLES.increaseRequests, req.id)).toMatchObject({ status: 'approved' });
        expect(await expireIncreases(store, clock.now())).toBe(1);
      }
      expect(await store.get(QUOTA_TABLES.increaseRequests, req.id)).toMatchObject({ status: 'expired' });
      expect(await expiredAudits()).toBe(1);
    });

    it('operator settings: applied once with one audit row, or RETRYABLE and unchanged', async () => {
      const { f, store } = setup();
      store.arm(mode, touches(QUOTA_TABLES.settings));
      const outcome = await updateQuotaSettings(store, operator, { plan: 'enterprise' }, f.clock.now()).then(
        (r) => r,
        (e: unknown) => e,
      );
      const audits = await rowsOf(store, QUOTA_TABLES.audit);
      const settings = await rowsOf(store, QUOTA_TABLES.settings);
      if (mode === 'commits-then-unknown') {
        expect(outcome).toMatchObject({ plan: 'enterprise' });
        expect([settings.length, audits.length]).toEqual([1, 1]);
      } else {
        expect(hasCode(outcome, 'RETRYABLE')).toBe(true);
        expect([settings.length, audits.length]).toEqual([0, 0]);
      }
    });
  },
);
