/**
 * Quota admission for recognitions, plugged into create-recognition's `beforeCreate` seam: one all-or-nothing
 * consume of `recognitions_per_day` (1), `api_calls_per_hour` (1) and, when the recognition carries points,
 * `reward_points_per_month` (its points). A refusal throws QUOTA_EXCEEDED (429 with Retry-After, RateLimit-*
 * and the quota named in the body) before anything is written; if the row then cannot be stored (or is a
 * duplicate of an earlier request), the admission's rollback refunds every unit.
 */
import type { RecognitionHooks } from '../app/hooks.ts';
import type { QuotaItem, QuotaService } from './quota-service.ts';

/** The hooks that make recognition creation consume quotas. */
export function quotaRecognitionHooks(quotas: QuotaService): RecognitionHooks {
  return {
    async beforeCreate(draft) {
      const items: QuotaItem[] = [{ quotaType: 'recognitions_per_day' }, { quotaType: 'api_calls_per_hour' }];
      if (draft.points > 0) items.push({ quotaType: 'reward_points_per_month', amount: draft.points });
      const admitted = await quotas.enforceMany(draft.orgId, items);
      return { rollback: () => quotas.refundAll(admitted.tickets) };
    },
  };
}
