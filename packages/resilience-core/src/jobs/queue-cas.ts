/**
 * What the queue's producer, admin and lease halves share: the table, the context they are built over, and
 * the job compare-and-set — {@link casOps} (the ports' `versionedUpdate` on a job row), {@link isRaceError}
 * (the codes a lost compare-and-set raises) and {@link reconcile} (what a commit with an unknown outcome did,
 * from the row as re-read) — plus the reads they all make.
 */
import { hasCode } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import { versionedUpdate } from '../ports/compare-and-set.ts';
import type { TableStore, WriteOp } from '../ports/table-store.ts';
import { type JobRow, parseJobRow, readHistory, type StoredJob } from './job-row.ts';
import type { JobTypeSpec } from './job-types.ts';
import { JOB_TABLES } from './tables.ts';

export const TABLE = JOB_TABLES.queue;

/** What every half of the queue is built over (the resolved options of `createJobQueue`). */
export interface QueueContext {
  store: TableStore;
  clock: Clock;
  /** Randomness in [0, 1). */
  random: () => number;
  /** The accepted job types, by name. */
  types: ReadonlyMap<string, JobTypeSpec>;
}

/** True for the errors a compare-and-set transaction raises when someone else moved the row first. */
export function isRaceError(error: unknown): boolean {
  return hasCode(error, 'CONFLICT', 'BOUND_EXCEEDED', 'NOT_FOUND');
}

/**
 * The two operations that make a patch compare-and-set on `job`: the update, then the version bump bounded
 * at `seen + 1`, which fails the whole transaction if anyone else bumped it since `seen` was read.
 */
export function casOps(job: StoredJob, seen: number, patch: Partial<JobRow>): WriteOp[] {
  return versionedUpdate({ table: TABLE, id: job.$id, expected: seen }, patch);
}

/**
 * What a compare-and-set with an unknown commit outcome did to a job, from the job as re-read: `applied`
 * (the version moved past `seen` and the row carries the patch — every field, or for patches that append to
 * the history, this patch's history record), `not-applied` (the version is still `seen`: the transaction, all
 * or nothing, did not commit) or `moved` (someone else changed the job).
 */
export function reconcile(
  row: StoredJob,
  seen: number,
  patch: Partial<JobRow>,
): 'applied' | 'not-applied' | 'moved' {
  if (row.version === seen) return 'not-applied';
  if (row.version < seen) return 'moved';
  const { history, ...fields } = patch;
  if (row.version === seen + 1) {
    const same = Object.entries(fields).every(([k, v]) => row[k as keyof JobRow] === v);
    if (same && (history === undefined || row.history === history)) return 'applied';
  }
  // Moved on since: applied only if the row's history still shows this patch's record.
  if (history !== undefined) {
    const mine = readHistory({ history });
    const record = JSON.stringify(mine[mine.length - 1] ?? null);
    if (readHistory(row).some((r) => JSON.stringify(r) === record)) return 'applied';
  }
  return 'moved';
}

/** A job by id, or null (a corrupt row throws). */
export async function readJob(store: TableStore, jobId: string): Promise<StoredJob | null> {
  const row = await store.get(TABLE, jobId);
  return row ? parseJobRow(row) : null;
}

/** Parses listed rows for claiming, skipping corrupt ones so one bad row cannot stop the whole queue. */
export function claimable(rows: readonly Record<string, unknown>[]): StoredJob[] {
  const out: StoredJob[] = [];
  for (const row of rows) {
    try {
      out.push(parseJobRow(row));
    } catch {
      // Left in place for an operator (get() still reports it as corrupt); never claimed.
    }
  }
  return out;
}

/** The current rows of some jobs, by id (missing ones absent), in one list request. */
export async function readJobs(store: TableStore, ids: readonly string[]): Promise<Map<string, StoredJob>> {
  const page = await store.list(TABLE, {
    where: [{ field: '$id', op: 'eq', value: ids }],
    limit: Math.max(1, ids.length),
  });
  return new Map(claimable(page.rows).map((j) => [j.$id, j]));
}
