import fc from 'fast-check';
import { forgetKnownAlerts, QUOTA_TABLES, type UsageTicket, usageRowId } from 'resilience-core/quota';
import { describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-prop';

type Op =
  | { kind: 'consume'; amount: number }
  | { kind: 'refund'; pick: number }
  | { kind: 'reserve'; amount: number }
  | { kind: 'commit'; pick: number; keep: number }
  | { kind: 'release'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('consume' as const), amount: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('refund' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('reserve' as const), amount: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('commit' as const), pick: fc.nat(), keep: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
);

describe('quota invariants (property)', () => {
  it('under concurrent batches of consume/refund/reserve/commit/release, used = units held and never exceeds the limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        async (limit, batches) => {
          forgetKnownAlerts();
          const f = quotaFixture();
          await f.configure(ORG, { overrides: { exports_per_day: limit } });
          // Model: units each live ticket / reservation holds (settled exactly once, whatever the interleaving).
          const tickets: { ticket: UsageTicket; refunded: boolean }[] = [];
          const reservations: {
            id: string;
            amount: number;
            state: 'open' | 'committed' | 'released';
            kept: number;
          }[] = [];
          for (const batch of batches) {
            await Promise.all(
              batch.map(async (o) => {
                const q = f.service();
                switch (o.kind) {
                  case 'consume': {
                    const d = await q.consume(ORG, 'exports_per_day', o.amount);
                    if (d.allowed) tickets.push({ ticket: d.ticket!, refunded: false });
                    return;
                  }
                  case 'refund': {
                    const t = tickets.filter((x) => !x.refunded)[o.pick % Math.max(1, tickets.length)];
                    if (!t) return;
                    t.refunded = true;
                    await q.refund(t.ticket);
                    return;
                  }
                  case 'reserve': {
                    const r = await q.reserve(ORG, 'exports_per_day', o.amount);
                    if (r.allowed)
                      reservations.push({ id: r.reservationId!, amount: o.amount, state: 'open', kept: 0 });
                    return;
                  }
                  case 'commit': {
                    const r = reservations[o.pick % Math.max(1, reservations.length)];
                    if (!r) return;
                    const keep = Math.min(o.keep, r.amount);
                    try {
                      await q.commitReservation(r.id, keep);
                      expect(r.state).not.toBe('committed');
                      r.state = 'committed';
                      r.kept = keep;
                    } catch {
                      expect(r.state).not.toBe('open');
                    }
                    return;
                  }
                  case 'release': {
                    const r = reservations[o.pick % Math.max(1, reservations.length)];
                    if (!r) return;
                    if (await q.releaseReservation(r.id)) {
                      expect(r.state).toBe('open');
                      r.state = 'released';
                    }
                    return;
                  }
                }
              }),
            );
            const row = await f.store.get(
              QUOTA_TABLES.usage,
              usageRowId(ORG, 'exports_per_day', '2026-03-10'),
            );
            const held =
              tickets.filter((t) => !t.refunded).reduce((s, t) => s + t.ticket.amount, 0) +
              reservations.reduce(
                (s, r) => s + (r.state === 'open' ? r.amount : r.state === 'committed' ? r.kept : 0),
                0,
              );
            const open = reservations.filter((r) => r.state === 'open').reduce((s, r) => s + r.amount, 0);
            expect(row?.used ?? 0).toBe(held);
            expect(row?.reserved ?? 0).toBe(open);
            expect(row?.used ?? 0).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
