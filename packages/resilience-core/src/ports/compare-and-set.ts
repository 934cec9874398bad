/**
 * Version compare-and-set over the {@link TableStore} port: the one place that builds it.
 *
 * A row that is changed by compare-and-set carries an integer counter column (`version`, or another name such
 * as a lease's `generation`). A writer reads the row, remembers the counter (`expected`), and commits its
 * change in ONE transaction beside an increment of the counter by 1 bounded at `max = expected + 1`.
 *
 * Guarantee (from the port: increments are atomic under a row lock, transactions apply every operation or
 * none): the transaction commits only if the counter was still `expected`, and then leaves it at exactly
 * `expected + 1`. If anyone else bumped it since the read, the increment fails with `BOUND_EXCEEDED` (or the
 * transaction with `CONFLICT`, when the backend sees the other commit on the row first, as Appwrite's conflict
 * detection can) and the whole transaction with it, writing nothing; a row deleted meanwhile fails with
 * `NOT_FOUND`. Of any number of concurrent writers that read the same `expected`, at most one succeeds. The new
 * counter value is the fencing token of the winner. An `OUTCOME_UNKNOWN` commit leaves the caller to re-read the
 * row: the counter is either still `expected` (nothing applied) or past it.
 *
 * The operations these builders return can be joined with others into one transaction (several rows'
 * compare-and-sets, an audit row). Adapters commit a transaction's operations ordered by (table, row id) —
 * `orderForCommit` — keeping the given order within one row, so the bump and the change of a row stay in the
 * order built here and concurrent batches lock rows in the same order.
 */
import type { RowData, WriteOp } from './table-store.ts';

/** The row a compare-and-set guards and the counter value its writer read. */
export interface VersionedRow {
  table: string;
  id: string;
  /** The counter value read before the change; the commit leaves `expected + 1`. */
  expected: number;
  /** The counter column. Default `version`. */
  column?: string;
}

/** The bounded increment alone: the compare-and-set guard (for a transaction whose other ops the caller builds). */
export function versionBump(row: VersionedRow): WriteOp {
  return {
    action: 'increment',
    table: row.table,
    id: row.id,
    column: row.column ?? 'version',
    by: 1,
    bound: { max: row.expected + 1 },
  };
}

/** A compare-and-set update: `patch` is written only if the row's counter is still `row.expected`. */
export function versionedUpdate(row: VersionedRow, patch: RowData): WriteOp[] {
  return [{ action: 'update', table: row.table, id: row.id, data: patch }, versionBump(row)];
}

/** A compare-and-set delete: the row is deleted only if nobody changed it since it was read. */
export function versionedDelete(row: VersionedRow): WriteOp[] {
  // The bump goes first: an increment of a row deleted earlier in the same transaction is NOT_FOUND.
  return [versionBump(row), { action: 'delete', table: row.table, id: row.id }];
}
