/**
 * The seed's entry points, kept by name, made atomic underneath.
 *
 * The seed's `quotaEnforcementMiddleware(req, type)` only *checked* (read usage, compare with the limit) and
 * `recordQuotaUsageMiddleware(orgId, type, n)` *recorded* later — so N concurrent requests could all pass the
 * check before any of them recorded, and the org went past its limit. Here:
 * - `quotaEnforcementMiddleware` CONSUMES (one bounded atomic increment): `allowed: true` means the unit is
 *   already counted and cannot be taken by anyone else; `allowed: false` means nothing was written.
 * - `recordQuotaUsageMiddleware` SETTLES that admission: with `outcome: 'failure'` it refunds; with a smaller
 *   `amount` than admitted it refunds the difference; with a larger one it consumes the extra atomically (and
 *   may be refused). Called without an admission it consumes `amount` atomically — the seed's "record" made safe.
 *
 * The seed kept a process-wide singleton; a function execution has none, so the execution's QuotaService is
 * carried on the request (`req.quotas`) or passed in `options.quotas`.
 */
import { errors } from '../errors.ts';
import {
  assertAmount,
  type QuotaDecision,
  type QuotaService,
  quotaExceededError,
  rateLimitHeaders,
  type UsageTicket,
} from './quota-service.ts';
import { type QuotaType, resolveQuotaType } from './quota-types.ts';

/** The request shape the seed middleware reads: the caller's org and the execution's quota service. */
export interface QuotaRequest {
  orgId: string;
  quotas: QuotaService;
  /** Units this request consumes. Default 1. */
  amount?: number;
}

/** The seed's `{ allowed, ... }` result, with everything needed to answer or settle. */
export interface QuotaCheckResult {
  allowed: boolean;
  quotaType: QuotaType;
  limit: number;
  used: number;
  remaining: number;
  /** ISO reset time, `null` for gauges. */
  resetAt: string | null;
  /** Seconds until retry can succeed (refusals of windowed quotas), else `null`. */
  retryAfterSeconds: number | null;
  /** `RateLimit-Limit` / `-Remaining` / `-Reset` for the response. */
  headers: Record<string, string>;
  /** True when the quota is in shadow mode (then `allowed` is always true). */
  shadow: boolean;
  /** The consumption to pass to {@link recordQuotaUsageMiddleware}; `null` when refused. */
  admission: UsageTicket | null;
  /** The full decision. */
  decision: QuotaDecision;
}

function toCheckResult(decision: QuotaDecision): QuotaCheckResult {
  return {
    allowed: decision.allowed,
    quotaType: decision.quotaType,
    limit: decision.limit,
    used: decision.used,
    remaining: decision.remaining,
    resetAt: decision.resetAt,
    retryAfterSeconds: decision.allowed ? null : decision.resetInSeconds,
    headers: rateLimitHeaders(decision),
    shadow: decision.shadow,
    admission: decision.ticket,
    decision,
  };
}

/**
 * Seed API: admits the request against `quotaType` for `req.orgId` by consuming `req.amount ?? 1` atomically.
 * To turn a refusal into a 429, throw {@link quotaExceededError}(result.decision).
 */
export async function quotaEnforcementMiddleware(
  req: QuotaRequest,
  quotaType: QuotaType | string,
): Promise<QuotaCheckResult> {
  if (!req || typeof req !== 'object' || !req.quotas) {
    throw errors.internal('quotaEnforcementMiddleware needs req.quotas (the execution QuotaService)');
  }
  return toCheckResult(await req.quotas.consume(req.orgId, quotaType, req.amount ?? 1));
}

/** Options of {@link recordQuotaUsageMiddleware}. */
export interface RecordQuotaUsageOptions {
  quotas: QuotaService;
  /** The admission returned by {@link quotaEnforcementMiddleware}; absent → `amount` is consumed now. */
  admission?: UsageTicket | null;
  /** `failure` refunds the admission. Default `success`. */
  outcome?: 'success' | 'failure';
}

/** What recording did. */
export interface RecordQuotaUsageResult {
  /** Units that ended up counted for this request (0 after a refund). */
  recorded: number;
  refunded: number;
}

/**
 * Seed API: settles usage for `orgId`. See the file header for the difference from the seed. Throws
 * QUOTA_EXCEEDED (429) when extra or unadmitted usage does not fit.
 */
export async function recordQuotaUsageMiddleware(
  orgId: string,
  quotaType: QuotaType | string,
  amount: number,
  options: RecordQuotaUsageOptions,
): Promise<RecordQuotaUsageResult> {
  const type = resolveQuotaType(quotaType);
  const { quotas, admission } = options;
  if (!admission) {
    assertAmount(amount);
    if (options.outcome === 'failure') return { recorded: 0, refunded: 0 };
    await quotas.enforce(orgId, type, amount);
    return { recorded: amount, refunded: 0 };
  }
  if (admission.orgId !== orgId || admission.quotaType !== type) {
    throw errors.invalidInput('The admission belongs to another organization or quota type');
  }
  if (options.outcome === 'failure') {
    await quotas.refund(admission);
    return { recorded: 0, refunded: admission.amount };
  }
  if (!Number.isInteger(amount) || amount < 0) {
    throw errors.invalidInput('amount must be a whole number ≥ 0', [{ path: 'amount', message: 'invalid' }]);
  }
  if (amount < admission.amount) {
    const refund = admission.amount - amount;
    await quotas.refund(admission, refund);
    return { recorded: amount, refunded: refund };
  }
  if (amount > admission.amount) {
    const extra = await quotas.consume(orgId, type, amount - admission.amount);
    if (!extra.allowed) throw quotaExceededError(extra);
  }
  return { recorded: amount, refunded: 0 };
}
