/**
 * QuotaService: atomic admission against per-organization quotas, over the TableStore port.
 *
 * One usage row per (org, quota type, window) with a deterministic id holds `used`. Consuming is ONE bounded
 * increment (`used += amount` only if the result stays ≤ the effective limit), so check and consume are the same
 * atomic storage operation and no interleaving of concurrent executions can admit more than the limit. The first
 * consume of a window creates the row instead (a create with `used = amount`; losers of the create race get
 * CONFLICT and fall back to the bounded increment). Round trips: 1 in the common case, 2–3 on a window's first use.
 *
 * - Refund: a decrement bounded at 0 on the ticket's own window row (a refund after the window closed is a no-op).
 * - Several quotas at once: parallel bounded increments, the taken ones given back if any refuses — all are
 *   consumed or none, in one round trip (a set with a gauge: one transaction of bounded increments).
 * - Reservations: the units are consumed now (same bounded increment) and a reservation row with an expiry is
 *   written in the same transaction; commit deletes the row, release deletes it and refunds. Delete-in-transaction
 *   makes commit and release mutually exclusive, so a reservation is settled exactly once. Expired reservations
 *   are released by quota-reset, and lazily by a consume that would otherwise be refused.
 * - Ambiguous commits (OUTCOME_UNKNOWN) are resolved by reading the transaction's receipt row back (commit.ts).
 * - Shadow mode (per org setting, or service-wide): the increment is unbounded; going over the limit is logged and
 *   reported (`overLimit`) but never refused. No customer alerts are sent for shadow quotas.
 *
 * Create one service per execution: it caches each organization's effective limits for its lifetime (limits are
 * resolved once per execution), plus window boundaries.
 */

import { errorText } from '../error-classification.ts';
import { errors, hasCode, ResilienceError } from '../errors.ts';
import { ID_PATTERN, newId } from '../ids.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { ListResult, Row, TableStore, WriteOp } from '../ports/table-store.ts';
import {
  crossedThresholds,
  DEFAULT_ALERT_THRESHOLDS,
  pruneAfter,
  sendAlertOnce,
  thresholdUnits,
} from './alerts.ts';
import { commitWithReceipt, type Receipt } from './commit.ts';
import { type OrgQuotaContext, resolveOrgQuotaContext } from './limits.ts';
import { type QuotaLogger, type QuotaNotifier, silentLogger, silentNotifier } from './notifier.ts';
import { MAX_QUOTA_AMOUNT, QUOTA_TYPES, type QuotaType, resolveQuotaType } from './quota-types.ts';
import {
  QUOTA_TABLES,
  type QuotaReservationRow,
  type QuotaUsageRow,
  quotaReservationRowSchema,
  thresholdAlertId,
  usageRowId,
} from './rows.ts';
import { isoTime } from './time.ts';
import { type QuotaWindow, secondsUntilReset, WindowCache } from './windows.ts';

/** Options of {@link QuotaService}. */
export interface QuotaServiceOptions {
  store: TableStore;
  clock?: Clock;
  /** Where threshold alerts go. Default: dropped. */
  notifier?: QuotaNotifier;
  log?: QuotaLogger;
  /** Quota types in shadow mode for every org (rolling out a new limit). Default none. */
  shadow?: readonly QuotaType[];
  /** Alert thresholds in percent of the limit. Default `[80, 100]`. */
  alertThresholds?: readonly number[];
  /** Default reservation lifetime, ms. Default 5 minutes. */
  reservationTtlMs?: number;
  /** Days alert rows are kept after their window ends. Default 35. */
  alertRetentionDays?: number;
}

/** Proof of consumption: what to refund if the work fails. */
export interface UsageTicket {
  orgId: string;
  quotaType: QuotaType;
  /** The usage row the units were taken from (the window at admission time). */
  usageId: string;
  windowKey: string;
  amount: number;
}

/** The outcome of consuming one quota. */
export interface QuotaDecision {
  allowed: boolean;
  orgId: string;
  quotaType: QuotaType;
  amount: number;
  /** The effective limit. */
  limit: number;
  /** Units used in the window after this decision (unchanged when refused). */
  used: number;
  /** `max(0, limit − used)`. */
  remaining: number;
  window: QuotaWindow;
  /** When the window resets (ISO), or `null` for gauges. */
  resetAt: string | null;
  /** Seconds until the window resets (≥ 1), or `null` for gauges. */
  resetInSeconds: number | null;
  /** True when the quota is in shadow mode (never refused). */
  shadow: boolean;
  /** In shadow mode: true when enforcement would have refused. */
  overLimit: boolean;
  /** Present when units were consumed. */
  ticket: UsageTicket | null;
}

/** The outcome of consuming several quotas at once. */
export interface MultiQuotaDecision {
  allowed: boolean;
  /** One decision per quota type requested (merged when a type appears twice). */
  decisions: QuotaDecision[];
  /** The first quota that refused, when refused. */
  refusedBy: QuotaDecision | null;
  /** What to refund if the work fails (empty when refused). */
  tickets: UsageTicket[];
}

/** A reservation's outcome: a decision plus the reservation to commit or release. */
export interface ReservationDecision extends QuotaDecision {
  reservationId: string | null;
  /** When the reservation is released if not committed (ISO), `null` when refused. */
  expiresAt: string | null;
}

/** One item of a multi-quota consume. */
export interface QuotaItem {
  quotaType: QuotaType | string;
  amount?: number;
}

/** One quota to consume, resolved against the org's context and the current window. Never mutated. */
interface Planned {
  orgId: string;
  quotaType: QuotaType;
  amount: number;
  window: QuotaWindow;
  usageId: string;
  limit: number;
  shadow: boolean;
  /** The increment's bound (`undefined` in shadow mode: unbounded). */
  bound: { max: number } | undefined;
  /** Units at which each alert threshold is reached (empty in shadow mode). */
  thresholdUnits: readonly number[];
}

/** Whether moving from `before` to `after` reaches an alert threshold (see crossedThresholds). */
function crosses(p: Planned, before: number, after: number): boolean {
  for (const at of p.thresholdUnits) if (before < at && after >= at) return true;
  return false;
}

const DEFAULT_RESERVATION_TTL_MS = 5 * 60_000;
const MAX_RESERVATION_TTL_MS = 24 * 3_600_000;

/** Validates an amount (a positive whole number ≤ MAX_QUOTA_AMOUNT). */
export function assertAmount(amount: unknown, path = 'amount'): number {
  if (typeof amount !== 'number' || !Number.isInteger(amount) || amount <= 0 || amount > MAX_QUOTA_AMOUNT) {
    throw errors.invalidInput(`Amount must be a whole number from 1 to ${MAX_QUOTA_AMOUNT}`, [
      { path, message: 'must be a positive integer' },
    ]);
  }
  return amount;
}

/** Response headers describing a decision: `RateLimit-Limit`, `-Remaining`, `-Reset` (seconds; omitted for gauges). */
export function rateLimitHeaders(decision: QuotaDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
  };
  if (decision.resetInSeconds !== null) headers['RateLimit-Reset'] = String(decision.resetInSeconds);
  return headers;
}

/**
 * The decision whose quota is closest to refusing, for the `RateLimit-*` headers of a success: the lowest
 * `remaining`, ties broken by the soonest reset (gauges last). Shadow quotas are skipped (they are not enforced,
 * so clients must not plan around them). `null` when nothing enforced was consumed.
 */
export function tightestDecision(decisions: readonly QuotaDecision[]): QuotaDecision | null {
  let best: QuotaDecision | null = null;
  for (const d of decisions) {
    if (d.shadow) continue;
    if (
      !best ||
      d.remaining < best.remaining ||
      (d.remaining === best.remaining &&
        (d.resetInSeconds ?? Number.POSITIVE_INFINITY) < (best.resetInSeconds ?? Number.POSITIVE_INFINITY))
    ) {
      best = d;
    }
  }
  return best;
}

/**
 * The QUOTA_EXCEEDED error for a refusal: renders as 429 with RateLimit-* and a body naming the quota, plus
 * `Retry-After` (seconds until the window resets) for windowed quotas. A gauge refusal (storage, seats,
 * integrations) has no Retry-After: it never resets, only releasing usage or a higher limit frees it, and the
 * body's `resetsAt: null` says so.
 */
export function quotaExceededError(decision: QuotaDecision): ResilienceError {
  const when = decision.resetAt
    ? `; it resets at ${decision.resetAt}`
    : '; it frees up only when usage is released';
  return new ResilienceError(
    'QUOTA_EXCEEDED',
    `Quota ${decision.quotaType} exceeded: ${decision.used} of ${decision.limit} used, ${decision.amount} requested${when}`,
    {
      // A gauge never resets: waiting does not help, so no Retry-After at all (not the 429 default).
      retryAfterSeconds: decision.resetInSeconds,
      headers: rateLimitHeaders(decision),
      details: {
        quotaType: decision.quotaType,
        limit: decision.limit,
        used: decision.used,
        remaining: decision.remaining,
        requested: decision.amount,
        window: decision.window.key,
        resetsAt: decision.resetAt,
      },
    },
  );
}

/** Atomic quota admission for one execution. See the file header. */
export class QuotaService {
  readonly store: TableStore;
  readonly clock: Clock;
  private readonly notifier: QuotaNotifier;
  private readonly log: QuotaLogger;
  private readonly globalShadow: readonly QuotaType[];
  private readonly thresholds: readonly number[];
  private readonly reservationTtlMs: number;
  private readonly alertRetentionDays: number;
  private readonly contexts = new Map<string, Promise<OrgQuotaContext>>();
  /** The contexts already resolved, so a consume after the first needs no await for them. */
  private readonly resolved = new Map<string, OrgQuotaContext>();
  /** The last plan made, reused while the same quota is consumed with the same amount in the same window. */
  private lastPlan: { ctx: OrgQuotaContext; plan: Planned } | null = null;
  private readonly windows = new WindowCache();
  private readonly usageIds = new Map<string, string>();
  /** The last usage row id handed out, checked before {@link usageIds}. */
  private lastUsageId: { orgId: string; quotaType: QuotaType; windowKey: string; id: string } | null = null;
  /** Units already refunded per ticket by this service, so repeated refunds never give back more than was taken. */
  private readonly refunded = new WeakMap<UsageTicket, number>();

  constructor(options: QuotaServiceOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.notifier = options.notifier ?? silentNotifier;
    this.log = options.log ?? silentLogger;
    this.globalShadow = options.shadow ?? [];
    this.thresholds = options.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS;
    if (!this.thresholds.every((t) => Number.isInteger(t) && t >= 1 && t <= 100)) {
      throw errors.invalidInput('alertThresholds must be whole percentages from 1 to 100');
    }
    this.reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    this.alertRetentionDays = options.alertRetentionDays ?? 35;
  }

  /** The org's limits, zone and shadow list: read once per service (execution), then cached. */
  context(orgId: string): Promise<OrgQuotaContext> {
    assertQuotaOrgId(orgId);
    let ctx = this.contexts.get(orgId);
    if (!ctx) {
      const pending = resolveOrgQuotaContext(this.store, orgId, this.clock.now(), this.globalShadow);
      ctx = pending;
      // A failed read must not be cached for the rest of the execution.
      pending.then(
        (resolved) => {
          if (this.contexts.get(orgId) === pending) this.resolved.set(orgId, resolved);
        },
        () => this.contexts.delete(orgId),
      );
      this.contexts.set(orgId, pending);
    }
    return ctx;
  }

  /** Drops the cached context of an org (after its limits changed in this execution). */
  invalidate(orgId: string): void {
    this.contexts.delete(orgId);
    this.resolved.delete(orgId);
    this.lastPlan = null;
  }

  /** The current window of a quota type for an org. */
  async currentWindow(orgId: string, quotaType: QuotaType | string): Promise<QuotaWindow> {
    const ctx = await this.context(orgId);
    const type = resolveQuotaType(quotaType);
    return this.windows.at(QUOTA_TYPES[type].window, this.clock.now(), ctx.timeZone);
  }

  /**
   * Consumes `amount` units atomically: allowed and counted, or refused and nothing written. Never over-admits.
   * Returns the decision (use {@link enforce} to throw QUOTA_EXCEEDED instead).
   */
  async consume(orgId: string, quotaType: QuotaType | string, amount = 1): Promise<QuotaDecision> {
    // The hot path (limits known, window row exists, no threshold crossed) awaits the increment and nothing else.
    const ctx = this.resolved.get(orgId) ?? (await this.context(orgId));
    const now = this.clock.now();
    const p = this.plan(ctx, resolveQuotaType(quotaType), assertAmount(amount), now);
    let used: number | null;
    if (p.amount > p.limit && !p.shadow) used = null;
    else {
      try {
        used = usedOf(await this.store.increment(QUOTA_TABLES.usage, p.usageId, 'used', p.amount, p.bound));
      } catch (error) {
        used = await this.incrementOne(p, error);
      }
    }
    if (used === null) {
      // Refused: one read tells the current usage and whether expired reservations could be holding units.
      const row = await this.store.get<QuotaUsageRow>(QUOTA_TABLES.usage, p.usageId);
      const held = row !== null && mayHoldReservations(row);
      if (held && (await this.releaseExpiredReservations({ usageId: p.usageId, limit: 100 })) > 0) {
        used = await this.incrementOne(p);
      }
      if (used === null) return this.refused(p, held ? await this.currentUsed(p) : row ? usedOf(row) : 0);
    }
    if (p.shadow || crosses(p, used - p.amount, used)) await this.afterConsume(p, used - p.amount, used);
    return this.decision(p, true, used, now);
  }

  /** {@link consume}, throwing QUOTA_EXCEEDED (429 with headers) when refused. */
  async enforce(orgId: string, quotaType: QuotaType | string, amount = 1): Promise<QuotaDecision> {
    const d = await this.consume(orgId, quotaType, amount);
    if (!d.allowed) throw quotaExceededError(d);
    return d;
  }

  /**
   * Consumes several quotas all-or-nothing, in ONE round trip of latency: one bounded increment per quota (after
   * merging repeated types), all in parallel. If any refuses, the others are given back at once (compensating
   * decrements bounded at 0), so nothing stays consumed anywhere. No quota can be over-admitted: every increment
   * is bounded by its own limit and compensation only lowers counters. While a unit is taken and not yet given
   * back a concurrent request may see it as used: that can refuse early, never admit too much. A crash between
   * the two steps leaves the taken units counted until their window ends (quota/README.md, "Multi-quota
   * consumes"). Remaining counts come from the increments' own answers (no read afterwards).
   *
   * A set that includes a gauge (storage, seats, integrations) keeps the transaction form instead: a gauge never
   * resets, so units left behind by a crash would never come back.
   */
  async consumeMany(orgId: string, items: readonly QuotaItem[]): Promise<MultiQuotaDecision> {
    const ctx = await this.context(orgId);
    const planned = this.planMany(ctx, items);
    if (planned.length === 1) {
      const p = planned[0]!;
      const d = await this.consume(orgId, p.quotaType, p.amount);
      return d.allowed
        ? { allowed: true, decisions: [d], refusedBy: null, tickets: [d.ticket!] }
        : { allowed: false, decisions: [d], refusedBy: d, tickets: [] };
    }
    if (planned.some((p) => p.window.kind === 'gauge')) return this.consumeManyInTransaction(planned);
    let outcome = await this.incrementAll(planned);
    if (outcome.refused.length && (await this.releaseExpiredForAny(outcome.refused))) {
      outcome = await this.incrementAll(planned);
    }
    if (outcome.refused.length) {
      return this.refusedMany(
        planned,
        await this.currentUsedMany(planned),
        planned.indexOf(outcome.refused[0]!),
      );
    }
    return this.admittedMany(planned, outcome.used, true);
  }

  /** The refusal of a multi-consume: usage as read, the first quota that does not fit (else `fallback`) named. */
  private refusedMany(
    planned: readonly Planned[],
    used: readonly number[],
    fallback: number,
  ): MultiQuotaDecision {
    const decisions = planned.map((p, i) => this.decision(p, false, used[i]!));
    const refusedBy =
      decisions.find((d, i) => !planned[i]!.shadow && d.used + d.amount > d.limit) ?? decisions[fallback]!;
    return { allowed: false, decisions, refusedBy, tickets: [] };
  }

  /** The admission of a multi-consume, with its alerts. `exact`: `used` is as of these very increments. */
  private async admittedMany(
    planned: readonly Planned[],
    used: readonly number[],
    exact: boolean,
  ): Promise<MultiQuotaDecision> {
    const decisions: QuotaDecision[] = [];
    for (const [i, p] of planned.entries()) {
      const after = used[i]!;
      await this.afterConsume(p, exact ? after - p.amount : null, after);
      decisions.push(this.decision(p, true, after));
    }
    return { allowed: true, decisions, refusedBy: null, tickets: decisions.map((d) => d.ticket!) };
  }

  /**
   * One bounded increment per planned quota, in parallel. If any refuses or fails, the ones that were taken are
   * given back before this returns (or throws the first failure). `used[i]` is the new `used` of `planned[i]`
   * when nothing refused.
   */
  private async incrementAll(planned: readonly Planned[]): Promise<{ used: number[]; refused: Planned[] }> {
    const settled = await Promise.allSettled(planned.map((p) => this.incrementOne(p)));
    const used: number[] = [];
    const refused: Planned[] = [];
    let failure: { error: unknown } | null = null;
    for (const [i, s] of settled.entries()) {
      if (s.status === 'rejected') failure ??= { error: s.reason };
      else if (s.value === null) refused.push(planned[i]!);
      else used.push(s.value);
    }
    if (!failure && !refused.length) return { used, refused };
    await this.compensate(
      planned.filter(
        (_, i) => settled[i]!.status === 'fulfilled' && (settled[i] as { value: unknown }).value !== null,
      ),
    );
    if (failure) throw failure.error;
    return { used: [], refused };
  }

  /**
   * Gives back the units of a partial multi-consume. A refund that fails is logged (`quota.compensation.failed`):
   * its units stay counted until the window ends (under-admission, never over-admission).
   */
  private async compensate(taken: readonly Planned[]): Promise<void> {
    await Promise.all(
      taken.map(async (p) => {
        try {
          await this.store.increment(QUOTA_TABLES.usage, p.usageId, 'used', -p.amount, { min: 0 });
        } catch (error) {
          this.log.error('quota.compensation.failed', {
            orgId: p.orgId,
            quotaType: p.quotaType,
            usageId: p.usageId,
            amount: p.amount,
            error: errorText(error),
          });
        }
      }),
    );
  }

  /** On a refusal: releases expired reservations of any refused quota's row. True when something was freed. */
  private async releaseExpiredForAny(refused: readonly Planned[]): Promise<boolean> {
    let released = false;
    for (const p of refused) if (await this.releaseExpiredFor(p)) released = true;
    return released;
  }

  /** The transaction form of {@link consumeMany} (sets with a gauge): one transaction + one read of the rows. */
  private async consumeManyInTransaction(planned: readonly Planned[]): Promise<MultiQuotaDecision> {
    const outcome = await this.transact(planned, planned.map(consumeOp));
    const rows = await this.currentUsedMany(planned);
    // The rows are read after the transaction: `used` may include concurrent consumes, so alerts use before = null.
    return outcome === 'ok' ? this.admittedMany(planned, rows, false) : this.refusedMany(planned, rows, 0);
  }

  /** {@link consumeMany}, throwing QUOTA_EXCEEDED for the refusing quota. */
  async enforceMany(orgId: string, items: readonly QuotaItem[]): Promise<MultiQuotaDecision> {
    const d = await this.consumeMany(orgId, items);
    if (!d.allowed) throw quotaExceededError(d.refusedBy!);
    return d;
  }

  /**
   * Gives units back to the window they were taken from (work that failed). A refund after that window was
   * closed by quota-reset is a no-op (returns false): the window no longer limits anything. Refunding the same
   * ticket object twice through one service refunds once; tickets are not durable, so refund in the execution
   * that consumed (use a reservation when the work outlives it). `amount` defaults to what the ticket has left.
   */
  async refund(ticket: UsageTicket, amount?: number): Promise<boolean> {
    const left = ticket.amount - (this.refunded.get(ticket) ?? 0);
    if (left <= 0) return false;
    const units = assertAmount(amount ?? left);
    if (units > left) throw errors.invalidInput(`Cannot refund more than the ticket has left (${left})`);
    this.refunded.set(ticket, ticket.amount - left + units);
    try {
      await this.store.increment(QUOTA_TABLES.usage, ticket.usageId, 'used', -units, { min: 0 });
      return true;
    } catch (error) {
      if (hasCode(error, 'NOT_FOUND')) return false;
      if (hasCode(error, 'BOUND_EXCEEDED')) {
        this.log.error('quota.refund.below-zero', { ...ticket, amount: units });
        return false;
      }
      // Not applied (e.g. RETRYABLE after the adapter's retries): the units may be refunded again.
      this.refunded.set(ticket, (this.refunded.get(ticket) ?? units) - units);
      throw error;
    }
  }

  /** Refunds every ticket (best effort per ticket; errors are logged, not thrown). */
  async refundAll(tickets: readonly UsageTicket[]): Promise<void> {
    await Promise.all(
      tickets.map((t) =>
        this.refund(t).catch((error: unknown) => this.log.error('quota.refund.failed', { ...t, error })),
      ),
    );
  }

  /**
   * Reserves units for a long operation: consumed now (atomically, like {@link consume}) and held by a
   * reservation row until {@link commitReservation} or {@link releaseReservation}. If neither happens before
   * `ttlMs` (the execution died), quota-reset or a later refused consume releases it.
   */
  async reserve(
    orgId: string,
    quotaType: QuotaType | string,
    amount: number,
    options: { ttlMs?: number; holder?: string } = {},
  ): Promise<ReservationDecision> {
    const ttl = options.ttlMs ?? this.reservationTtlMs;
    if (!Number.isInteger(ttl) || ttl < 1000 || ttl > MAX_RESERVATION_TTL_MS) {
      throw errors.invalidInput('ttlMs must be between 1 s and 24 h', [
        { path: 'ttlMs', message: 'out of range' },
      ]);
    }
    const ctx = await this.context(orgId);
    const p = this.plan(ctx, resolveQuotaType(quotaType), assertAmount(amount));
    const reservationId = newId();
    const expiresAt = isoTime(this.clock.now() + ttl);
    const reservation: QuotaReservationRow = {
      orgId,
      quotaType: p.quotaType,
      usageId: p.usageId,
      windowKey: p.window.key,
      amount: p.amount,
      expiresAt,
      holder: options.holder?.slice(0, 128) ?? null,
    };
    const ops: WriteOp[] = [
      consumeOp(p),
      { action: 'increment', table: QUOTA_TABLES.usage, id: p.usageId, column: 'reserved', by: p.amount },
      { action: 'create', table: QUOTA_TABLES.reservations, id: reservationId, data: reservation },
    ];
    const outcome = await this.transact([p], ops, { table: QUOTA_TABLES.reservations, id: reservationId });
    const used = await this.currentUsed(p);
    if (outcome !== 'ok') return { ...this.decision(p, false, used), reservationId: null, expiresAt: null };
    await this.afterConsume(p, null, used);
    return { ...this.decision(p, true, used), reservationId, expiresAt };
  }

  /**
   * Settles a reservation: the units stay consumed (minus any part of them `actualAmount` says was not used,
   * which is refunded). LEASE_LOST when the reservation was already released (expired) or settled.
   */
  async commitReservation(reservationId: string, actualAmount?: number): Promise<void> {
    const r = await this.getReservation(reservationId);
    if (!r) throw errors.leaseLost('Reservation expired or already settled', { reservationId });
    const actual = actualAmount ?? r.amount;
    if (actual !== 0) assertAmount(actual, 'actualAmount');
    if (actual > r.amount) throw errors.invalidInput('actualAmount exceeds the reserved amount');
    const ops: WriteOp[] = [
      { action: 'delete', table: QUOTA_TABLES.reservations, id: reservationId },
      {
        action: 'increment',
        table: QUOTA_TABLES.usage,
        id: r.usageId,
        column: 'reserved',
        by: -r.amount,
        bound: { min: 0 },
      },
    ];
    if (actual < r.amount) {
      ops.push({
        action: 'increment',
        table: QUOTA_TABLES.usage,
        id: r.usageId,
        column: 'used',
        by: -(r.amount - actual),
        bound: { min: 0 },
      });
    }
    if (!(await this.settle(r, ops))) {
      throw errors.leaseLost('Reservation expired or already settled', { reservationId });
    }
  }

  /** Releases a reservation and refunds its units. False when it was already settled or released. */
  async releaseReservation(reservationId: string): Promise<boolean> {
    const r = await this.getReservation(reservationId);
    if (!r) return false;
    return this.settle(r, [
      { action: 'delete', table: QUOTA_TABLES.reservations, id: reservationId },
      {
        action: 'increment',
        table: QUOTA_TABLES.usage,
        id: r.usageId,
        column: 'used',
        by: -r.amount,
        bound: { min: 0 },
      },
      {
        action: 'increment',
        table: QUOTA_TABLES.usage,
        id: r.usageId,
        column: 'reserved',
        by: -r.amount,
        bound: { min: 0 },
      },
    ]);
  }

  /** Releases every reservation that expired before now (optionally only those of one usage row). Returns how many. */
  async releaseExpiredReservations(filter: { usageId?: string; limit?: number } = {}): Promise<number> {
    const now = isoTime(this.clock.now());
    let released = 0;
    let cursor: string | null = null;
    let budget = filter.limit ?? Number.POSITIVE_INFINITY;
    do {
      const page: ListResult<QuotaReservationRow> = await this.store.list<QuotaReservationRow>(
        QUOTA_TABLES.reservations,
        {
          where: [
            { field: 'expiresAt', op: 'lt', value: now },
            ...(filter.usageId ? [{ field: 'usageId', op: 'eq' as const, value: filter.usageId }] : []),
          ],
          orderBy: [{ field: 'expiresAt', direction: 'asc' }],
          limit: Math.min(100, budget),
          ...(cursor ? { cursor } : {}),
        },
      );
      for (const row of page.rows) {
        try {
          if (await this.releaseReservation(row.$id)) released++;
        } catch (error) {
          // Settled, by this call or its holder: which one is unknown (quota/commit.ts). Nothing left to do.
          if (!hasCode(error, 'OUTCOME_UNKNOWN')) throw error;
          this.log.warn('quota.reservation.release-outcome-unknown', { reservationId: row.$id });
        }
      }
      budget -= page.rows.length;
      cursor = page.nextCursor;
    } while (cursor && budget > 0);
    if (released) this.log.info('quota.reservations.released', { released, usageId: filter.usageId ?? null });
    return released;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private plan(ctx: OrgQuotaContext, quotaType: QuotaType, amount: number, now = this.clock.now()): Planned {
    const last = this.lastPlan;
    if (last !== null && last.ctx === ctx) {
      const p = last.plan;
      const w = p.window;
      if (
        p.quotaType === quotaType &&
        p.amount === amount &&
        (w.end === null || (now >= w.start! && now < w.end))
      )
        return p;
    }
    const window = this.windows.at(QUOTA_TYPES[quotaType].window, now, ctx.timeZone);
    const limit = ctx.limits[quotaType];
    const shadow = ctx.shadow.has(quotaType);
    const plan: Planned = {
      orgId: ctx.orgId,
      quotaType,
      amount,
      window,
      usageId: this.usageId(ctx.orgId, quotaType, window.key),
      limit,
      shadow,
      bound: shadow ? undefined : { max: limit },
      thresholdUnits: shadow ? [] : this.thresholds.map((t) => thresholdUnits(limit, t)),
    };
    this.lastPlan = { ctx, plan };
    return plan;
  }

  private planMany(ctx: OrgQuotaContext, items: readonly QuotaItem[]): Planned[] {
    if (!Array.isArray(items) || items.length === 0) {
      throw errors.invalidInput('At least one quota is required', [{ path: 'items', message: 'empty' }]);
    }
    const merged = new Map<QuotaType, number>();
    for (const [i, item] of items.entries()) {
      const type = resolveQuotaType(item.quotaType);
      const amount = assertAmount(item.amount ?? 1, `items.${i}.amount`);
      merged.set(type, (merged.get(type) ?? 0) + amount);
    }
    return [...merged].map(([type, amount]) => this.plan(ctx, type, assertAmount(amount)));
  }

  /** The usage row id, memoized (hashing it costs more than the rest of an in-memory decision). */
  private usageId(orgId: string, quotaType: QuotaType, windowKey: string): string {
    // The same quota again (the common case): no key string to build.
    const l = this.lastUsageId;
    if (l !== null && l.orgId === orgId && l.quotaType === quotaType && l.windowKey === windowKey)
      return l.id;
    const k = `${orgId}|${quotaType}|${windowKey}`;
    let id = this.usageIds.get(k);
    if (id === undefined) {
      id = usageRowId(orgId, quotaType, windowKey);
      if (this.usageIds.size >= 1024) this.usageIds.clear();
      this.usageIds.set(k, id);
    }
    this.lastUsageId = { orgId, quotaType, windowKey, id };
    return id;
  }

  /**
   * One bounded increment (creating the window's row on first use). The new `used`, or null when refused.
   * `firstError`: the caller already tried the increment and it failed with this.
   */
  private async incrementOne(p: Planned, firstError?: unknown): Promise<number | null> {
    // More than the whole limit can never fit: refuse without a round trip (this also covers a limit of 0).
    if (!p.shadow && p.amount > p.limit) return null;
    const bound = p.bound;
    try {
      if (firstError !== undefined) throw firstError;
      return usedOf(await this.store.increment(QUOTA_TABLES.usage, p.usageId, 'used', p.amount, bound));
    } catch (error) {
      if (hasCode(error, 'BOUND_EXCEEDED')) return null;
      if (!hasCode(error, 'NOT_FOUND')) throw error;
    }
    // First use of this window: whoever creates the row consumes with the create itself.
    try {
      await this.store.create(QUOTA_TABLES.usage, p.usageId, this.usageRow(p, p.amount));
      return p.amount;
    } catch (error) {
      if (!hasCode(error, 'CONFLICT')) throw error;
    }
    try {
      return usedOf(await this.store.increment(QUOTA_TABLES.usage, p.usageId, 'used', p.amount, bound));
    } catch (error) {
      if (hasCode(error, 'BOUND_EXCEEDED')) return null;
      throw error;
    }
  }

  /**
   * Runs a transaction whose increments target `planned` usage rows: creates missing rows (used 0) and retries
   * on NOT_FOUND, releases expired reservations and retries once on BOUND_EXCEEDED. With a `receipt` (a row the
   * transaction creates, e.g. the reservation), an unknown commit outcome is resolved by reading it back
   * (quota/commit.ts): applied → ok, not applied → tried again with the same ops (a late first commit then
   * makes the retry's create CONFLICT, and the receipt says ok). Without one, OUTCOME_UNKNOWN propagates.
   */
  private async transact(
    planned: readonly Planned[],
    ops: readonly WriteOp[],
    receipt?: Receipt,
  ): Promise<'ok' | 'refused'> {
    if (planned.some((p) => !p.shadow && p.amount > p.limit)) return 'refused';
    let releasedOnce = false;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        if (!receipt) {
          await this.store.transaction(ops);
          return 'ok';
        }
        if ((await commitWithReceipt(this.store, ops, receipt)) === 'committed') return 'ok';
        this.log.warn('quota.transaction.not-applied', { receipt: receipt.id, attempt });
      } catch (error) {
        if (receipt && hasCode(error, 'CONFLICT') && (await this.store.get(receipt.table, receipt.id))) {
          return 'ok';
        }
        if (hasCode(error, 'NOT_FOUND')) {
          await this.ensureRows(planned);
          continue;
        }
        if (!hasCode(error, 'BOUND_EXCEEDED')) throw error;
        if (releasedOnce) return 'refused';
        releasedOnce = true;
        let released = false;
        for (const p of planned) if (await this.releaseExpiredFor(p)) released = true;
        if (!released) return 'refused';
      }
    }
    throw errors.retryable('Quota transaction kept failing; nothing was consumed');
  }

  /** Creates the usage rows of `planned` with used 0 where missing (losing a create race is fine). */
  private async ensureRows(planned: readonly Planned[]): Promise<void> {
    await Promise.all(
      planned.map((p) =>
        this.store.create(QUOTA_TABLES.usage, p.usageId, this.usageRow(p, 0)).catch((error: unknown) => {
          if (!hasCode(error, 'CONFLICT')) throw error;
        }),
      ),
    );
  }

  /** On a refusal: releases the row's expired reservations if it holds any. True when something was freed. */
  private async releaseExpiredFor(p: Planned): Promise<boolean> {
    const row = await this.store.get<QuotaUsageRow>(QUOTA_TABLES.usage, p.usageId);
    if (!row || !mayHoldReservations(row)) return false;
    return (await this.releaseExpiredReservations({ usageId: p.usageId, limit: 100 })) > 0;
  }

  /**
   * `used` of several planned rows in ONE request (a list by `$id`); a missing row reads as 0. Same order as
   * `planned`.
   */
  private async currentUsedMany(planned: readonly Planned[]): Promise<number[]> {
    if (planned.length === 1) return [await this.currentUsed(planned[0]!)];
    const ids = [...new Set(planned.map((p) => p.usageId))];
    const page = await this.store.list<QuotaUsageRow>(QUOTA_TABLES.usage, {
      where: [{ field: '$id', op: 'eq', value: ids }],
      limit: ids.length,
    });
    const byId = new Map(page.rows.map((r) => [r.$id, usedOf(r)]));
    return planned.map((p) => byId.get(p.usageId) ?? 0);
  }

  private async currentUsed(p: Planned): Promise<number> {
    const row = await this.store.get<QuotaUsageRow>(QUOTA_TABLES.usage, p.usageId);
    return row ? usedOf(row) : 0;
  }

  private async getReservation(id: string): Promise<Row<QuotaReservationRow> | null> {
    const row = await this.store.get(QUOTA_TABLES.reservations, id);
    return row ? { ...row, ...quotaReservationRowSchema.parse(row) } : null;
  }

  /**
   * Applies a settle transaction (its first op deletes the reservation). True when this call settled it; false
   * when someone else did first. If the usage row is gone (window closed and pruned) only the reservation row is
   * deleted: there is nothing left to refund into. The `reserved` counter is a hint (it may read NULL on a row
   * older than the column, where increments write nothing: platform notes §F2): if decrementing it would go
   * below 0 the settle is applied without it, so a release still refunds `used`.
   *
   * An unknown commit outcome is resolved by reading the reservation back (it is the receipt: the settle deletes
   * it): still there → not applied, tried again; gone before its expiry → this call settled it (only the holder
   * settles a live reservation; the sweeper takes expired ones only); gone after its expiry → the holder or the
   * sweeper did, which is unknown, so OUTCOME_UNKNOWN is thrown.
   */
  private async settle(r: Row<QuotaReservationRow>, ops: WriteOp[]): Promise<boolean> {
    let attempt = ops;
    for (let tries = 0; tries < 4; tries++) {
      try {
        await this.store.transaction(attempt);
        return true;
      } catch (error) {
        if (hasCode(error, 'OUTCOME_UNKNOWN')) {
          if (await this.store.get(QUOTA_TABLES.reservations, r.$id)) continue;
          if (this.clock.now() <= Date.parse(r.expiresAt)) return true;
          throw error;
        }
        if (!hasCode(error, 'NOT_FOUND', 'BOUND_EXCEEDED')) throw error;
        if (hasCode(error, 'BOUND_EXCEEDED')) {
          const withoutHint = attempt.filter(
            (op) => !(op.action === 'increment' && op.column === 'reserved'),
          );
          if (withoutHint.length < attempt.length) {
            this.log.warn('quota.reservation.reserved-counter-low', { reservationId: r.$id });
            attempt = withoutHint;
            continue;
          }
          this.log.error('quota.reservation.counter-underflow', { reservationId: r.$id });
        }
        // Either the reservation is gone (settled elsewhere) or its usage row is: deleting alone tells which.
        return this.store.delete(QUOTA_TABLES.reservations, r.$id);
      }
    }
    throw errors.retryable(`Settling reservation ${r.$id} kept failing; it is still open`);
  }

  private usageRow(p: Planned, used: number): QuotaUsageRow {
    return {
      orgId: p.orgId,
      quotaType: p.quotaType,
      windowKey: p.window.key,
      windowStart: p.window.start === null ? null : isoTime(p.window.start),
      windowEnd: p.window.end === null ? null : isoTime(p.window.end),
      timeZone: p.window.timeZone,
      used,
      reserved: 0,
    };
  }

  private decision(p: Planned, allowed: boolean, used: number, now = this.clock.now()): QuotaDecision {
    return {
      allowed,
      orgId: p.orgId,
      quotaType: p.quotaType,
      amount: p.amount,
      limit: p.limit,
      used,
      remaining: Math.max(0, p.limit - used),
      window: p.window,
      resetAt: p.window.end === null ? null : isoTime(p.window.end),
      resetInSeconds: secondsUntilReset(p.window, now),
      shadow: p.shadow,
      overLimit: p.shadow && used > p.limit,
      ticket: allowed
        ? {
            orgId: p.orgId,
            quotaType: p.quotaType,
            usageId: p.usageId,
            windowKey: p.window.key,
            amount: p.amount,
          }
        : null,
    };
  }

  private refused(p: Planned, used: number): QuotaDecision {
    this.log.info('quota.refused', {
      orgId: p.orgId,
      quotaType: p.quotaType,
      used,
      limit: p.limit,
      amount: p.amount,
    });
    return this.decision(p, false, used);
  }

  /** Shadow logging and threshold alerts after a successful consume. Never throws. */
  private async afterConsume(p: Planned, before: number | null, after: number): Promise<void> {
    if (p.shadow) {
      if (after > p.limit) {
        this.log.warn('quota.shadow.over-limit', {
          orgId: p.orgId,
          quotaType: p.quotaType,
          used: after,
          limit: p.limit,
          window: p.window.key,
        });
      }
      return;
    }
    const crossed = crossedThresholds(p.limit, before, after, this.thresholds);
    if (!crossed.length) return;
    const now = this.clock.now();
    // Gauges never reset, so their alerts are deduplicated per UTC month instead of forever.
    const alertWindow = p.window.kind === 'gauge' ? `gauge.${isoTime(now).slice(0, 7)}` : p.window.key;
    for (const percent of crossed) {
      await sendAlertOnce(
        { store: this.store, notifier: this.notifier, log: this.log, now },
        thresholdAlertId(p.orgId, p.quotaType, alertWindow, percent),
        {
          orgId: p.orgId,
          kind: 'threshold',
          quotaType: p.quotaType,
          windowKey: alertWindow,
          threshold: percent,
          pruneAfter: pruneAfter(p.window.end, now, this.alertRetentionDays),
        },
        {
          kind: 'threshold',
          orgId: p.orgId,
          severity: percent >= 100 ? 'critical' : 'warning',
          title: `${p.quotaType} at ${percent}% (${after} / ${p.limit})`,
          text:
            `Your organization has used ${after} of ${p.limit} ${QUOTA_TYPES[p.quotaType].unit}s ` +
            (p.window.end === null
              ? `(${p.quotaType}).`
              : `for ${p.quotaType} in the window ${p.window.key}; it resets at ${isoTime(p.window.end)}.`) +
            (percent >= 100
              ? ' Further requests are refused until then; an admin can request an increase.'
              : ''),
          fields: {
            quotaType: p.quotaType,
            threshold: percent,
            used: after,
            limit: p.limit,
            window: p.window.key,
            resetsAt: p.window.end === null ? null : isoTime(p.window.end),
          },
        },
      );
    }
  }
}

/** The bounded increment that consumes `p` (unbounded in shadow mode), as a transaction op. */
function consumeOp(p: Planned): WriteOp {
  return {
    action: 'increment',
    table: QUOTA_TABLES.usage,
    id: p.usageId,
    column: 'used',
    by: p.amount,
    ...(p.shadow ? {} : { bound: { max: p.limit } }),
  };
}

/**
 * Whether a usage row may hold reservations: `reserved` above 0, or NULL (a row older than the column, whose
 * increments wrote nothing: §F2) — then only the reservations table can tell.
 */
function mayHoldReservations(row: QuotaUsageRow): boolean {
  const reserved = (row as { reserved?: unknown }).reserved;
  return reserved === null || reserved === undefined || Number(reserved) > 0;
}

function usedOf(row: object): number {
  const used = (row as { used?: unknown }).used;
  if (typeof used !== 'number') throw errors.internal('quota-usage row has a non-numeric used column');
  return used;
}

/** Validates an org id (an Appwrite team id): INVALID_INPUT otherwise. */
export function assertQuotaOrgId(orgId: unknown): asserts orgId is string {
  if (typeof orgId !== 'string' || !ID_PATTERN.test(orgId)) {
    throw errors.invalidInput('orgId must be an Appwrite id (1–36 characters of a-z, A-Z, 0-9, ., _, -)', [
      { path: 'orgId', message: 'invalid id' },
    ]);
  }
}

/** Creates a QuotaService (one per execution). */
export function createQuotaService(options: QuotaServiceOptions): QuotaService {
  return new QuotaService(options);
}
