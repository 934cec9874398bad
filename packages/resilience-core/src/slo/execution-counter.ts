import type { ExecutionInfo } from '../ports/functions-platform.ts';

/**
 * ExecutionCounter: the port the SLO evaluation reads Appwrite's execution records through. One `count` is ONE
 * list call that returns at most one row: `listExecutions` with `total: true` and `Query.limit(1)`, filtered
 * only on what the Executions query validator allows (../shared/appwrite-platform.md §C4: `trigger`, `status`,
 * `duration`, plus `$createdAt` which every Appwrite list validator accepts):
 *
 *   trigger IN triggers · status IN [completed, failed] · $createdAt ≥ since · $createdAt < until
 *   bad = 'error' → status = failed (Appwrite: failed ⇔ response status ≥ 500, §F5)
 *   bad = 'slow'  → duration > slowerThanMs / 1000 (Appwrite reports seconds)
 *
 * A synchronous execution is recorded when it ends (§F5), so `$createdAt` is its end and an execution in flight
 * is not counted yet. Appwrite counts `total` up to 5,000 (`APP_LIMIT_COUNT`): `capped` says the true count
 * may be higher (the evaluation then splits the interval).
 */
export interface ExecutionCountFilter {
  functionId: string;
  triggers: readonly string[];
  /** Inclusive lower bound, epoch ms. */
  since: number;
  /** Exclusive upper bound, epoch ms. */
  until: number;
  /** Count only bad events of this kind; omitted = every finished execution. */
  bad?: { kind: 'error' } | { kind: 'slow'; slowerThanMs: number };
}

/** A count, and whether the backend stopped counting at its cap. */
export interface ExecutionCount {
  count: number;
  capped: boolean;
}

/** The port. */
export interface ExecutionCounter {
  count(filter: ExecutionCountFilter): Promise<ExecutionCount>;
}

/** True when `e` matches `filter` (the same predicate the Appwrite queries express). */
export function matchesCountFilter(e: ExecutionInfo, filter: ExecutionCountFilter): boolean {
  if (e.functionId !== filter.functionId) return false;
  if (!filter.triggers.includes(e.trigger)) return false;
  if (e.status !== 'completed' && e.status !== 'failed') return false;
  if (e.createdAt < filter.since || e.createdAt >= filter.until) return false;
  if (filter.bad?.kind === 'error') return e.status === 'failed';
  if (filter.bad?.kind === 'slow') return e.durationMs > filter.bad.slowerThanMs;
  return true;
}
