import { hasCode } from '../errors.ts';
import { versionedDelete } from '../ports/compare-and-set.ts';
import {
  deleteWhere,
  forEachLimited,
  PRUNE_PAGE,
  type PruneLimits,
  type PruneResult,
} from '../ports/delete-where.ts';
import type { Condition, TableStore } from '../ports/table-store.ts';
import { type JobStatus, parseJobRow, type StoredJob } from './job-row.ts';
import { isRaceError } from './queue.ts';
import { type ScheduleRow, scheduleRowSchema } from './schedule-row.ts';
import { slotSettledAt } from './schedules.ts';
import { JOB_TABLES } from './tables.ts';

/**
 * Retention of the job system's rows (run daily by quota-reset, see `runRetention`).
 *
 * - Jobs: only COMPLETED and CANCELLED jobs are deleted, once `finishedAt` is older than the retention.
 *   DEAD_LETTER and FAILED jobs are kept until someone redrives them (then they finish and age out) or deletes
 *   them on purpose: they are the evidence an operator needs. A job a schedule materialised is also kept until
 *   its slot can never be materialised again ({@link slotSettledAt}), because its row is what makes that slot
 *   exactly-once. Each delete is compare-and-set on `version` (a transaction: bump it bounded at the version
 *   read, then delete), so a job redriven or touched meanwhile is left alone.
 * - An idempotency key is honoured while its job exists: a key reused after its job was pruned enqueues anew.
 * - Exports: every chunk row older than the retention (by `createdAtMs`); the file then reads as 404.
 */

/** Statuses retention deletes. DEAD_LETTER and FAILED are kept until redriven or purged by hand. */
export const PRUNABLE_JOB_STATUSES: readonly JobStatus[] = ['COMPLETED', 'CANCELLED'];

/** Options of {@link pruneFinishedJobs}. */
export interface PruneJobsOptions extends PruneLimits {
  /** Jobs that finished before this time (epoch ms) are deleted. */
  before: number;
  /** The current time, epoch ms (for the schedule rule). */
  now: number;
  /**
   * A scheduled job is deleted only this long after its slot settled ({@link slotSettledAt}), covering ticks
   * still running with an older `now`. Default 1 hour (function executions last at most 15 minutes).
   */
  settleMarginMs?: number;
}

/** What {@link pruneFinishedJobs} did. */
export interface PruneJobsResult extends PruneResult {
  /** Old enough, but kept because their schedule slot could still be materialised again. */
  keptForSchedules: number;
  /** Skipped because the job changed between the read and the delete (e.g. redriven). */
  raced: number;
}

/**
 * Deletes COMPLETED and CANCELLED jobs that finished before `before` (see the file header for what is kept
 * and why). Pages by `finishedAt` (never by a cursor, which a deleted row would invalidate), so rows it keeps
 * are read once per run. Idempotent: a second run with the same times deletes nothing.
 */
export async function pruneFinishedJobs(
  store: TableStore,
  options: PruneJobsOptions,
): Promise<PruneJobsResult> {
  const max = options.maxDeletes ?? Number.POSITIVE_INFINITY;
  const margin = options.settleMarginMs ?? 3_600_000;
  // A schedule row that no longer validates is 'invalid': its jobs are kept (nothing says when they settle).
  const schedules = new Map<string, ScheduleRow | null | 'invalid'>();
  const seen = new Set<string>();
  const result: PruneJobsResult = { deleted: 0, complete: false, keptForSchedules: 0, raced: 0 };
  let floor: number | null = null;

  async function scheduleOf(id: string): Promise<ScheduleRow | null | 'invalid'> {
    if (!schedules.has(id)) {
      const row = await store.get(JOB_TABLES.schedules, id);
      const parsed = row ? scheduleRowSchema.safeParse(row) : null;
      schedules.set(id, parsed === null ? null : parsed.success ? parsed.data : 'invalid');
    }
    return schedules.get(id)!;
  }

  async function deletable(job: StoredJob): Promise<boolean> {
    if (job.scheduleId === null) return true;
    const schedule = await scheduleOf(job.scheduleId);
    // A deleted schedule is never ticked again (in-flight ticks end long before `before`).
    if (!schedule) return true;
    if (schedule === 'invalid') return false;
    let settled: number | null;
    try {
      settled = slotSettledAt(schedule, job.enqueuedAt);
    } catch {
      return false; // a cron expression croner rejects (hand-edited row): keep, never stop the whole run
    }
    return settled !== null && settled + margin <= options.now;
  }

  for (;;) {
    if (result.deleted >= max || options.shouldStop?.()) return result;
    const where: Condition[] = [
      { field: 'status', op: 'eq', value: PRUNABLE_JOB_STATUSES },
      { field: 'finishedAt', op: 'lt', value: options.before },
      ...(floor === null ? [] : [{ field: 'finishedAt', op: 'gte' as const, value: floor }]),
    ];
    const page = await store.list(JOB_TABLES.queue, {
      where,
      orderBy: [{ field: 'finishedAt', direction: 'asc' }],
      limit: PRUNE_PAGE,
    });
    const fresh = page.rows.map(parseJobRow).filter((job) => !seen.has(job.$id));
    const last = page.rows[page.rows.length - 1];
    if (fresh.length === 0) {
      if (page.rows.length < PRUNE_PAGE || !last) return { ...result, complete: true };
      // A full page of rows already kept, all finished at the same millisecond: step past it.
      floor = Number(last.finishedAt) + 1;
      continue;
    }
    const batch = fresh.slice(0, max - result.deleted);
    await forEachLimited(batch, options.concurrency ?? 8, async (job) => {
      seen.add(job.$id);
      if (!(await deletable(job))) {
        result.keptForSchedules++;
        return;
      }
      try {
        await store.transaction(
          versionedDelete({ table: JOB_TABLES.queue, id: job.$id, expected: job.version }),
        );
        result.deleted++;
      } catch (error) {
        if (hasCode(error, 'OUTCOME_UNKNOWN')) {
          // Re-read: gone means this delete (or a concurrent one) applied; present means it did not.
          if ((await store.get(JOB_TABLES.queue, job.$id)) === null) result.deleted++;
          else result.raced++;
          return;
        }
        if (!isRaceError(error)) throw error;
        result.raced++;
      }
    });
    if (batch.length < fresh.length) return result;
    if (page.rows.length < PRUNE_PAGE) return { ...result, complete: true };
    // Rows before the last finishedAt are all handled (deleted, kept or raced); ties are re-read and skipped.
    floor = Number(last!.finishedAt);
  }
}

/** Deletes export chunk rows written before `before` (epoch ms). Idempotent; see {@link deleteWhere}. */
export function pruneExports(
  store: TableStore,
  before: number,
  limits: PruneLimits = {},
): Promise<PruneResult> {
  return deleteWhere(store, JOB_TABLES.exports, [{ field: 'createdAtMs', op: 'lt', value: before }], {
    ...limits,
    select: ['createdAtMs'],
  });
}
