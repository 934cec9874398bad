/**
 * Quota admission for recognitions, plugged into create-recognition's `beforeCreate` seam: one all-or-nothing
 * consume of `recognitions_per_day` (1), `api_calls_per_hour` (1) and, when the recognition carries points,
 * `reward_points_per_month` (its points). A refusal throws QUOTA_EXCEEDED (429 with Retry-After, RateLimit-*
 * and the quota named in the body) before anything is written; if the row then cannot be stored (or is a
 * duplicate of an earlier request), the admission's rollback refunds every unit. A success answers with the
 * `RateLimit-*` headers of the tightest quota consumed (IETF RateLimit header fields, as on refusals).
 */
import type { RecognitionHooks } from '../app/hooks.ts';
import {
  type QuotaDecision,
  type QuotaItem,
  type QuotaService,
  rateLimitHeaders,
  tightestDecision,
} from './quota-service.ts';

/** The hooks that make recognition creation consume quotas. */
export function quotaRecognitionHooks(quotas: QuotaService): RecognitionHooks {
  return {
    async beforeCreate(draft) {
      const items: QuotaItem[] = [{ quotaType: 'recognitions_per_day' }, { quotaType: 'api_calls_per_hour' }];
      if (draft.points > 0) items.push({ quotaType: 'reward_points_per_month', amount: draft.points });
      const admitted = await quotas.enforceMany(draft.orgId, items);
      let refunded = false;
      return {
        rollback: async () => {
          refunded = true;
          await quotas.refundAll(admitted.tickets);
        },
        headers: () => successHeaders(admitted.decisions, refunded),
      };
    },
  };
}

/**
 * `RateLimit-Limit` / `-Remaining` / `-Reset` of the tightest quota a recognition consumed (see
 * {@link tightestDecision}). After a refund (a repeated `requestId` answered 200) the units are back, so
 * `remaining` counts them again. Counts are as of the decision: concurrent requests may have moved them since.
 */
export function successHeaders(
  decisions: readonly QuotaDecision[],
  refunded = false,
): Record<string, string> | undefined {
  const settled = refunded
    ? decisions.map((d) => ({ ...d, remaining: Math.min(d.limit, d.remaining + d.amount) }))
    : decisions;
  const tightest = tightestDecision(settled);
  return tightest ? rateLimitHeaders(tightest) : undefined;
}
