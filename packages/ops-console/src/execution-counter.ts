import { type Client, Functions, Query } from 'node-appwrite';
import type { ExecutionCount, ExecutionCounter } from 'resilience-core/slo';

/** Appwrite counts `total` up to this many rows (`APP_LIMIT_COUNT`, ../shared/appwrite-platform.md §F4). */
export const APPWRITE_COUNT_CAP = 5_000;

/**
 * The SLO evaluation's ExecutionCounter over node-appwrite: ONE `functions.listExecutions` per count with
 * `total: true` and `limit(1)` (one row read), filtered on `trigger`, `status`, `duration` and `$createdAt`
 * only — what the Executions query validator allows (resilience-core `slo/execution-counter.ts`). `onCall`
 * counts the round trips.
 */
export function appwriteExecutionCounter(client: Client, onCall: () => void = () => {}): ExecutionCounter {
  const functions = new Functions(client);
  return {
    async count(filter): Promise<ExecutionCount> {
      const queries = [
        Query.equal('trigger', [...filter.triggers]),
        Query.equal('status', filter.bad?.kind === 'error' ? ['failed'] : ['completed', 'failed']),
        Query.greaterThanEqual('$createdAt', new Date(filter.since).toISOString()),
        Query.lessThan('$createdAt', new Date(filter.until).toISOString()),
        ...(filter.bad?.kind === 'slow'
          ? [Query.greaterThan('duration', filter.bad.slowerThanMs / 1000)]
          : []),
        Query.limit(1),
      ];
      onCall();
      const page = await functions.listExecutions({ functionId: filter.functionId, queries, total: true });
      return { count: page.total, capped: page.total >= APPWRITE_COUNT_CAP };
    },
  };
}
