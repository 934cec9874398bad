/**
 * Quota admission for recognitions, plugged into create-recognition's `beforeCreate` seam.
 *
 * - The **product** quotas move all-or-nothing: `recognitions_per_day` (1) and, when the recognition carries
 *   points, `reward_points_per_month` (its points).
 * - **`api_calls_per_hour`** (1) meters API calls, so it is deliberately NOT all-or-nothing with them: a
 *   recognition refused by its own quota, or a retry answered 200 for a repeated `requestId`, was still an API
 *   call and stays counted. It is never refunded. (A call refused by `api_calls_per_hour` itself writes nothing.)
 *
 * Without points (the common case): two bounded increments in parallel — 2 requests, 1 round trip. When the
 * API-call quota refuses but the recognition unit was taken in parallel, that unit is refunded at once; until
 * then a concurrent request may see it as used, which can only refuse too early, never admit too much.
 * With points: one transaction of all three (3 requests) plus one read of the three rows; on a product refusal
 * the API call is then metered alone (1 request, refusal path only).
 *
 * A refusal throws QUOTA_EXCEEDED (429 with Retry-After, RateLimit-* and the quota named in the body; when both
 * refuse, the one that resets later) before anything is written. If the row then cannot be stored (or is a
 * duplicate of an earlier request), the admission's rollback refunds the product units. A success answers with
 * the `RateLimit-*` headers of the tightest quota consumed (IETF RateLimit header fields, as on refusals).
 *
 * `prepare` resolves the org's limits (two reads) while create-recognition checks memberships, so the consume
 * itself starts with the limits known. See quota/README.md, "Operations and round trips", for the counts.
 */
import type { Admission, RecognitionHooks } from '../app/hooks.ts';
import {
  type QuotaDecision,
  type QuotaService,
  quotaExceededError,
  rateLimitHeaders,
  tightestDecision,
} from './quota-service.ts';

/** The hooks that make recognition creation consume quotas. */
export function quotaRecognitionHooks(quotas: QuotaService): RecognitionHooks {
  return {
    async prepare(orgId) {
      // Warms the per-execution limits cache; a failure is not cached and surfaces from beforeCreate.
      await quotas.context(orgId).catch(() => undefined);
    },
    async beforeCreate(draft) {
      const orgId = draft.orgId;
      if (draft.points > 0) return withPoints(quotas, orgId, draft.points);
      // One bounded increment each, in parallel: 2 requests, 1 round trip of latency.
      const [apiOutcome, recOutcome] = await Promise.allSettled([
        quotas.consume(orgId, API_CALLS),
        quotas.consume(orgId, 'recognitions_per_day'),
      ]);
      const rec = recOutcome.status === 'fulfilled' ? recOutcome.value : null;
      const api = apiOutcome.status === 'fulfilled' ? apiOutcome.value : null;
      if (!rec?.allowed || !api?.allowed) {
        // A recognition unit taken in parallel with a refused (or failed) API-call consume goes back now.
        if (rec?.allowed) await quotas.refundAll([rec.ticket!]);
        if (recOutcome.status === 'rejected') throw recOutcome.reason;
        if (apiOutcome.status === 'rejected') throw apiOutcome.reason;
        throw quotaExceededError(laterReset([rec!.allowed ? null : rec!, api!.allowed ? null : api!]));
      }
      return admission(quotas, [rec], api);
    },
  };
}

const API_CALLS = 'api_calls_per_hour';

/**
 * With points, recognitions and points must move together, so they go through one transaction; the API call
 * rides in the same transaction (it costs no extra request there, and one read returns all three rows). If a
 * product quota refused while the API-call quota had room, the call is then metered alone (refusal path only).
 */
async function withPoints(quotas: QuotaService, orgId: string, points: number): Promise<Admission> {
  const d = await quotas.consumeMany(orgId, [
    { quotaType: 'recognitions_per_day' },
    { quotaType: 'reward_points_per_month', amount: points },
    { quotaType: API_CALLS },
  ]);
  const api = d.decisions.find((x) => x.quotaType === API_CALLS)!;
  if (!d.allowed) {
    const over = (x: QuotaDecision) => !x.shadow && x.used + x.amount > x.limit;
    const product = d.decisions.filter((x) => x.quotaType !== API_CALLS);
    // Which quota refused is read after the transaction: if concurrent refunds blurred it and the API-call
    // quota had room, a product quota it was.
    const productRefusal = product.find(over) ?? (over(api) ? undefined : product[0]);
    if (!productRefusal) throw quotaExceededError(api);
    const charged = await quotas.consume(orgId, API_CALLS);
    throw quotaExceededError(laterReset([productRefusal, charged.allowed ? null : charged]));
  }
  return admission(
    quotas,
    d.decisions.filter((x) => x.quotaType !== API_CALLS),
    api,
  );
}

/** The granted admission: rollback refunds the product units (never the API call); headers of the tightest. */
function admission(quotas: QuotaService, product: QuotaDecision[], api: QuotaDecision): Admission {
  let refunded = false;
  return {
    rollback: async () => {
      refunded = true;
      await quotas.refundAll(product.map((d) => d.ticket!));
    },
    headers: () => successHeaders(product, refunded, [api]),
  };
}

/**
 * Of two refusals, the one a client must wait longer for (a retry only succeeds once both allow): the later
 * reset, a gauge (never resets) last of all.
 */
function laterReset(refusals: readonly (QuotaDecision | null)[]): QuotaDecision {
  const [a, b] = refusals.filter((d): d is QuotaDecision => d !== null);
  if (!b) return a!;
  const ra = a!.resetInSeconds ?? Number.POSITIVE_INFINITY;
  const rb = b.resetInSeconds ?? Number.POSITIVE_INFINITY;
  return rb > ra ? b : a!;
}

/**
 * `RateLimit-Limit` / `-Remaining` / `-Reset` of the tightest quota a recognition consumed (see
 * {@link tightestDecision}). After a refund (a repeated `requestId` answered 200) the refunded units are back,
 * so `remaining` counts them again; `kept` are decisions whose units are never refunded (the API call).
 * Counts are as of the decision: concurrent requests may have moved them since.
 */
export function successHeaders(
  decisions: readonly QuotaDecision[],
  refunded = false,
  kept: readonly QuotaDecision[] = [],
): Record<string, string> | undefined {
  const settled = refunded
    ? decisions.map((d) => ({ ...d, remaining: Math.min(d.limit, d.remaining + d.amount) }))
    : decisions;
  const tightest = tightestDecision([...settled, ...kept]);
  return tightest ? rateLimitHeaders(tightest) : undefined;
}
