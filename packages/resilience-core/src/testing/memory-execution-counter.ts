import type { ExecutionInfo } from '../ports/functions-platform.ts';
import {
  type ExecutionCount,
  type ExecutionCounter,
  type ExecutionCountFilter,
  matchesCountFilter,
} from '../slo/execution-counter.ts';

/**
 * A counter over records in memory (tests). `cap` mimics Appwrite's count
 * limit (default none).
 */
export function memoryExecutionCounter(
  records: () => readonly ExecutionInfo[],
  options: { cap?: number } = {},
): ExecutionCounter & { calls: number } {
  const counter = {
    calls: 0,
    async count(filter: ExecutionCountFilter): Promise<ExecutionCount> {
      counter.calls++;
      const n = records().filter((e) => matchesCountFilter(e, filter)).length;
      const cap = options.cap ?? Number.POSITIVE_INFINITY;
      return n >= cap ? { count: cap, capped: true } : { count: n, capped: false };
    },
  };
  return counter;
}
