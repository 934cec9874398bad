/**
 * Quota admission for recognitions, plugged into create-recognition's `beforeCreate` seam.
 *
 * - The **product** quotas move all-or-nothing: `recognitions_per_day` (1) and, when the recognition carries
 *   points, `reward_points_per_month` (its points).
 * - **`api_calls_per_hour`** (1) meters API calls, so it is deliberately NOT all-or-nothing with them: a
 *   recognition refused by its own quota, or a retry answered 200 for a repeated `requestId`, was still an API
 *   call and stays counted. It is never refunded. (A call refused by `api_calls_per_hour` itself writes nothing.)
 *
 * Every quota is one bounded increment, all started together: 2 requests without points, 3 with, 1 round trip of
 * latency either way. The product quotas go through `consumeMany` (all-or-nothing by compensation: a refused one
 * makes the others give their units back). When the API-call quota refuses but product units were taken in
 * parallel, they are refunded at once; until then a concurrent request may see them as used, which can only
 * refuse too early, never admit too much.
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
  type QuotaItem,
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
      const product: QuotaItem[] = [{ quotaType: 'recognitions_per_day' }];
      if (draft.points > 0) product.push({ quotaType: 'reward_points_per_month', amount: draft.points });
      // One bounded increment per quota, all in parallel: 2 or 3 requests, 1 round trip of latency. The product
      // quotas are all-or-nothing among themselves (consumeMany); the API call is metered on its own.
      const [apiOutcome, productOutcome] = await Promise.allSettled([
        quotas.consume(orgId, API_CALLS),
        quotas.consumeMany(orgId, product),
      ]);
      const products = productOutcome.status === 'fulfilled' ? productOutcome.value : null;
      const api = apiOutcome.status === 'fulfilled' ? apiOutcome.value : null;
      if (!products?.allowed || !api?.allowed) {
        // Product units taken in parallel with a refused (or failed) API-call consume go back now.
        if (products?.allowed) await quotas.refundAll(products.tickets);
        if (productOutcome.status === 'rejected') throw productOutcome.reason;
        if (apiOutcome.status === 'rejected') throw apiOutcome.reason;
        throw quotaExceededError(
          laterReset([products!.allowed ? null : products!.refusedBy!, api!.allowed ? null : api!]),
        );
      }
      return admission(quotas, products.decisions, api);
    },
  };
}

const API_CALLS = 'api_calls_per_hour';

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
