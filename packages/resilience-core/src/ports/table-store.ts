/**
 * TableStore: the storage port every service is written against.
 *
 * What it promises (and both adapters — memory and Appwrite TablesDB — keep):
 * - Each single-row method is atomic on its own row.
 * - `create` with a caller-chosen id is the strongest coordination primitive: of any number of concurrent
 *   creates with one id, exactly one succeeds; the rest fail with `CONFLICT` and write nothing. A unique
 *   index violation is also `CONFLICT`.
 * - `increment` is atomic under a row lock. A signed `by`: positive increments and is checked against
 *   `bound.max`, negative decrements and is checked against `bound.min`. Reaching the bound exactly is allowed;
 *   crossing it fails with `BOUND_EXCEEDED` and writes nothing. This is the primitive for quotas and
 *   version compare-and-set (increment `version` by 1 with `max = expected + 1`; build it with
 *   compare-and-set.ts).
 * - `transaction` applies every operation or none. It fails with `CONFLICT` (duplicate id or unique violation),
 *   `NOT_FOUND` (an update/delete/increment of a missing row) or `BOUND_EXCEEDED`; after any of those nothing
 *   of it is visible. Put a version increment beside an update to make the update compare-and-set. It fails
 *   with `OUTCOME_UNKNOWN` when the backend cannot say whether the commit applied (Appwrite: 400
 *   `transaction_failed`, a 5xx or a lost response on commit): the caller re-reads the rows to learn the result.
 *   Adapters commit the operations ordered by (table, row id) — {@link orderForCommit} — so two transactions
 *   never lock rows in opposite orders (on MariaDB that deadlock can commit part of a batch).
 * - `list` reads committed data; ordering is by `orderBy` then by `$sequence` (insertion order), so paging with
 *   `cursor` is stable. `limit` defaults to 100 and is capped at 1000.
 * - `get` returns `null` for a missing row; `update` and `increment` of a missing row fail with `NOT_FOUND`;
 *   `delete` returns whether a row was deleted.
 *
 * What the adapter owns: translating its backend's errors into these codes (anything transient — 429, 5xx,
 * network — becomes `RETRYABLE`, after the adapter's own bounded retries), the database id, and timestamps.
 * Left out on purpose: read-modify-write helpers (use increment or a transaction), schema management
 * (appwrite.json declares tables), and read locks (Appwrite has none).
 *
 * Rows are plain JSON objects whose keys are the column keys, plus `$id`, `$sequence`, `$createdAt` and
 * `$updatedAt` (ISO-8601 with milliseconds and offset, as Appwrite returns them). A column that is unset reads
 * as `null`.
 */

/** A value a column can hold. */
export type Scalar = string | number | boolean | null;

/** The column values of a row, without the `$`-prefixed metadata. */
export type RowData = Record<string, unknown>;

/** Metadata every stored row carries. */
export interface RowMeta {
  $id: string;
  /** Insertion order, increasing across the table. */
  $sequence: number;
  $createdAt: string;
  $updatedAt: string;
  /** Appwrite permission strings, e.g. `read("team:abc")`. Empty when not set. */
  $permissions: string[];
}

/** A stored row: column values plus metadata. */
export type Row<T extends RowData = RowData> = T & RowMeta;

/** One condition in a list filter; conditions in a list are ANDed. */
export type Condition =
  /** Equal to the value, or to any of the values when an array is given. */
  | { field: string; op: 'eq'; value: Scalar | readonly Scalar[] }
  | { field: string; op: 'ne'; value: Scalar }
  | { field: string; op: 'lt' | 'lte' | 'gt' | 'gte'; value: string | number }
  /** Inclusive on both ends. */
  | { field: string; op: 'between'; value: readonly [string | number, string | number] }
  | { field: string; op: 'isNull' | 'isNotNull' }
  | { field: string; op: 'startsWith'; value: string }
  /** For array columns: the array holds the value. For string columns: the string contains it. */
  | { field: string; op: 'contains'; value: string | number };

/** Fields that may be ordered by besides columns. */
export type MetaField = '$id' | '$sequence' | '$createdAt' | '$updatedAt';

export interface OrderBy {
  field: string;
  direction: 'asc' | 'desc';
}

export interface ListOptions {
  where?: readonly Condition[];
  orderBy?: readonly OrderBy[];
  /** Page size; default 100, at most 1000. */
  limit?: number;
  /** Continue after the row with this id (the `nextCursor` of the previous page). */
  cursor?: string;
  /** Only these columns (plus metadata) are returned. */
  select?: readonly string[];
}

export interface ListResult<T extends RowData = RowData> {
  rows: Row<T>[];
  /** The cursor for the next page, or `null` when this page is the last. */
  nextCursor: string | null;
}

export interface IncrementBound {
  /** For positive `by`: the result may reach but not exceed this. */
  max?: number;
  /** For negative `by`: the result may reach but not go below this. */
  min?: number;
}

export interface WriteOptions {
  /** Appwrite permission strings for the row. */
  permissions?: readonly string[];
}

/** One operation of an all-or-nothing {@link TableStore.transaction}. */
export type WriteOp =
  | { action: 'create'; table: string; id: string; data: RowData; permissions?: readonly string[] }
  | { action: 'update'; table: string; id: string; data: RowData }
  | { action: 'upsert'; table: string; id: string; data: RowData; permissions?: readonly string[] }
  | { action: 'delete'; table: string; id: string }
  | { action: 'increment'; table: string; id: string; column: string; by: number; bound?: IncrementBound };

/** The storage port. See the header of this file for every guarantee. */
export interface TableStore {
  create<T extends RowData>(table: string, id: string, data: T, options?: WriteOptions): Promise<Row<T>>;
  get<T extends RowData>(table: string, id: string): Promise<Row<T> | null>;
  update<T extends RowData>(table: string, id: string, patch: Partial<T>): Promise<Row<T>>;
  upsert<T extends RowData>(table: string, id: string, data: T, options?: WriteOptions): Promise<Row<T>>;
  delete(table: string, id: string): Promise<boolean>;
  list<T extends RowData>(table: string, options?: ListOptions): Promise<ListResult<T>>;
  increment<T extends RowData>(
    table: string,
    id: string,
    column: string,
    by: number,
    bound?: IncrementBound,
  ): Promise<Row<T>>;
  transaction(ops: readonly WriteOp[]): Promise<void>;
}

/**
 * The operations of a transaction in commit order: sorted by (table, row id), operations on one row kept in
 * the order given (a create before the increment of the same row). Every adapter commits in this order, so
 * concurrent transactions always take row locks in the same order and cannot deadlock each other.
 */
export function orderForCommit(ops: readonly WriteOp[]): WriteOp[] {
  return ops
    .map((op, index) => ({ op, index }))
    .sort((a, b) => compareText(a.op.table, b.op.table) || compareText(a.op.id, b.op.id) || a.index - b.index)
    .map(({ op }) => op);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Default and maximum page sizes for {@link TableStore.list}. */
export const LIST_DEFAULT_LIMIT = 100;
export const LIST_MAX_LIMIT = 1000;

/** Reads every page of a list (use only where the result is known to be bounded). */
export async function listAll<T extends RowData>(
  store: TableStore,
  table: string,
  options: Omit<ListOptions, 'cursor'> = {},
): Promise<Row<T>[]> {
  const out: Row<T>[] = [];
  let cursor: string | null = null;
  do {
    const page: ListResult<T> = await store.list<T>(table, {
      ...options,
      limit: options.limit ?? LIST_MAX_LIMIT,
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.rows);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
