import { errorText } from '../error-classification.ts';
import type { Logger } from '../ports/logger.ts';
import type { Row } from '../ports/table-store.ts';
import type { RecognitionData } from './tables.ts';

/** What a hook learns about the recognition being created. */
export interface RecognitionDraft extends RecognitionData {
  /** The row id it will be stored under. */
  id: string;
  traceId: string;
}

/** What `beforeCreate` may hand back: how to finish or undo what it did (e.g. a quota reservation). */
export interface Admission {
  /** Called after the row was stored. */
  commit?(): Promise<void>;
  /** Called when the row could not be stored (or was a duplicate), to refund. */
  rollback?(): Promise<void>;
  /**
   * Response headers this admission adds to the success answer (201, or 200 for a repeated `requestId`), e.g.
   * the `RateLimit-*` of the tightest quota consumed. Read once, after `commit` or `rollback` ran, so it can
   * describe the state after either. Absent or `undefined` → no headers.
   */
  headers?(): Record<string, string> | undefined;
}

/**
 * The seams of recognition creation, filled by other services:
 * - `prepare` (optional) warms caches in parallel with the membership checks; never writes or refuses.
 * - `beforeCreate` runs after validation and membership checks, before the write. Throw a ResilienceError to
 *   refuse (e.g. `QUOTA_EXCEEDED` → 429); return an {@link Admission} to be committed or rolled back. This is
 *   where quota consumption goes (atomic admission: the check consumes).
 * - `afterCreate` runs after the row is stored. Its failures are logged, never returned to the caller: the
 *   recognition exists. Notifications and jobs go here (enqueue; do not call slow services inline).
 */
export interface RecognitionHooks {
  /**
   * Started before the membership checks and run in parallel with them, to warm per-execution caches that
   * `beforeCreate` will need (e.g. the org's quota limits), so they cost no extra round trip of latency. Must
   * not write and must not refuse: it runs for requests that may still be refused (403), and its failures are
   * ignored (`beforeCreate` meets them again).
   */
  prepare?(orgId: string, log: Logger): Promise<void> | void;
  beforeCreate?(draft: RecognitionDraft, log: Logger): Promise<Admission | undefined> | Admission | undefined;
  afterCreate?(row: Row<RecognitionData>, log: Logger): Promise<void> | void;
}

/**
 * Runs several hook sets as one, in order. `prepare`s run in parallel (a failing one is logged and ignored);
 * `beforeCreate`s run in sequence; if one refuses, the admissions
 * already granted are rolled back (in reverse order) before the refusal propagates. The composed admission's
 * `headers()` merges every granted admission's headers.
 */
export function composeHooks(...sets: readonly RecognitionHooks[]): RecognitionHooks {
  return {
    async prepare(orgId, log) {
      await Promise.all(sets.map((set) => safely(() => set.prepare?.(orgId, log), log, 'prepare')));
    },
    async beforeCreate(draft, log) {
      const granted: Admission[] = [];
      try {
        for (const set of sets) {
          const admission = await set.beforeCreate?.(draft, log);
          if (admission) granted.push(admission);
        }
      } catch (error) {
        for (const a of granted.reverse()) await safely(() => a.rollback?.(), log, 'rollback');
        throw error;
      }
      return {
        async commit() {
          for (const a of granted) await safely(() => a.commit?.(), log, 'commit');
        },
        async rollback() {
          for (const a of [...granted].reverse()) await safely(() => a.rollback?.(), log, 'rollback');
        },
        // Merged in hook order (a later set's header of the same name wins). Headers are decoration: a failing
        // `headers()` is logged and skipped, never turned into a failed request.
        headers() {
          const merged: Record<string, string> = {};
          for (const a of granted) {
            try {
              Object.assign(merged, a.headers?.() ?? {});
            } catch (error) {
              log.error('recognition hook headers failed', {
                error: errorText(error),
              });
            }
          }
          return merged;
        },
      };
    },
    async afterCreate(row, log) {
      for (const set of sets) await safely(() => set.afterCreate?.(row, log), log, 'afterCreate');
    },
  };
}

/** Runs a hook step, logging its failure instead of returning it (steps after the row is stored never fail it). */
export async function safely(
  fn: () => Promise<void> | void | undefined,
  log: Logger,
  what: string,
): Promise<void> {
  try {
    await fn();
  } catch (error) {
    log.error(`recognition hook ${what} failed`, {
      error: errorText(error),
    });
  }
}
