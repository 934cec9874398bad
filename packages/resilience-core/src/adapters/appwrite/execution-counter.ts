import { type Client, Query } from 'node-appwrite';
import type { ExecutionCount, ExecutionCounter } from '../../slo/execution-counter.ts';
import { translateAppwriteError } from './errors.ts';
import { createFunctionsApi, type FunctionsApi } from './functions-platform.ts';

/** Appwrite counts `total` up to this many rows (`APP_LIMIT_COUNT`, ../shared/appwrite-platform.md §F4). */
export const APPWRITE_COUNT_CAP = 5_000;

/** Options of {@link appwriteExecutionCounter}. */
export interface AppwriteExecutionCounterOptions {
  /** Called once per round trip (the console counts its calls with it). */
  onCall?: () => void;
  /** The Functions calls to use. Default: {@link createFunctionsApi} over the client. */
  api?: Pick<FunctionsApi, 'listExecutions'>;
}

/**
 * The SLO evaluation's ExecutionCounter over Appwrite: ONE `GET /functions/{id}/executions` per count with
 * `total: true` and `limit(1)` (one row read), filtered on `trigger`, `status`, `duration` and `$createdAt`
 * only — what the Executions query validator allows (`slo/execution-counter.ts`). Sent through
 * {@link createFunctionsApi} (the SDK's transport without the `Functions` class), so a function bundle that
 * gates rollouts (deploy-orchestrator) stays small. `onCall` (or `options.onCall`) counts the round trips.
 * Failures are port errors (`translateAppwriteError`: unreachable / 429 / 5xx → `RETRYABLE`), so a rollout start
 * whose gate hit a flaky Appwrite is retried like any other transient failure (`npm run rollout`).
 */
export function appwriteExecutionCounter(
  client: Client,
  options: AppwriteExecutionCounterOptions | (() => void) = {},
): ExecutionCounter {
  const opts = typeof options === 'function' ? { onCall: options } : options;
  const api = opts.api ?? createFunctionsApi(client);
  const onCall = opts.onCall ?? (() => {});
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
      const page = await api
        .listExecutions({ functionId: filter.functionId, queries, total: true })
        .catch((error: unknown) => {
          throw translateAppwriteError(error, { operation: 'listExecutions', id: filter.functionId });
        });
      return { count: page.total, capped: page.total >= APPWRITE_COUNT_CAP };
    },
  };
}
