/**
 * TablesDB transactions (platform notes §C2, §D1): operations are staged with their staging time; commit replays
 * them in order inside one SQLite transaction, so all apply or none do. Conflict detection is Appwrite's: an
 * update, upsert or delete of a row whose `$updatedAt` is later than the operation's staging time fails with
 * 409 `transaction_conflict` (rows created or written earlier in the same commit are exempt); increments are not
 * timestamp-checked but bound-checked (400 `attribute_limit_exceeded`). Duplicate ids and unique violations at
 * commit are 409 `transaction_conflict`; a staged write to a missing row is 404 `document_not_found`.
 * A failed commit marks the transaction `failed`.
 */
import type { Database } from 'better-sqlite3';
import { AppwriteError, invalidArgument } from '../errors.ts';
import { parseQueries } from '../queries.ts';
import type { ServerClock } from '../server-context.ts';
import { formatDate, resolveId, uniqueId } from '../wire.ts';
import { comparisonKey } from './collation.ts';
import { permissionsParam } from './permissions.ts';
import { listRows, rowAttributes } from './row-query.ts';
import type { RowStore, StoredRow } from './row-store.ts';
import type { SchemaStore, TableSchema } from './schema-store.ts';

/** Actions an operation may carry. */
export const TRANSACTION_ACTIONS = [
  'create',
  'update',
  'upsert',
  'delete',
  'increment',
  'decrement',
  'bulkCreate',
  'bulkUpdate',
  'bulkUpsert',
  'bulkDelete',
] as const;

/** One staged operation (persisted as JSON in tdb_transactions.operations). */
export interface StagedOperation {
  action: (typeof TRANSACTION_ACTIONS)[number];
  databaseId: string;
  tableId: string;
  rowId?: string;
  /** create/update/upsert: column values (may hold `$permissions`); increment: {column, value, max};
   * decrement: {column, value, min}; bulkCreate/bulkUpsert: row objects; bulkUpdate: {data, queries};
   * bulkDelete: {queries}. */
  data?: unknown;
  /** Staging time, epoch ms (from the row store's write clock). */
  stagedAt: number;
}

/**
 * How a route stages (Appwrite's routes differ): `notPending` = the error for a transaction that is not pending
 * (createOperations, increments and bulk routes: 400 `general_bad_request`; the create, update, upsert and delete
 * routes: `transaction_not_ready`); `notFound` = the type of the staging existence check (createOperations:
 * `document_not_found`; the update and delete routes: `row_not_found`; null = none, as the increment routes).
 */
export interface StageOptions {
  notPending?: 'general_bad_request' | 'transaction_not_ready';
  notFound?: 'document_not_found' | 'row_not_found' | null;
}

/** A transaction record. */
export interface TransactionRecord {
  id: string;
  status: 'pending' | 'committing' | 'committed' | 'failed';
  operations: StagedOperation[];
  createdAt: number;
  updatedAt: number;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * A row write of a commit that fires an event, as `Transactions/Update.php:397-445` picks them: create →
 * `create`; update, increment, decrement and upsert (even of a new row) → `update`; delete → `delete`; bulk
 * operations none.
 */
export interface AppliedWrite {
  action: 'create' | 'update' | 'delete';
  table: TableSchema;
  row: StoredRow;
}

/** How long an expired transaction record is kept before a sweep removes it, ms. */
export const TRANSACTION_RETENTION_MS = 3_600_000;

/** Maximum operations per transaction (self-hosted Appwrite's limit). */
export const MAX_TRANSACTION_OPERATIONS = 100;

const ROLLBACK = Symbol('rollback');

/** Transaction storage and commit. */
export class TransactionStore {
  constructor(
    private readonly db: Database,
    private readonly schemas: SchemaStore,
    private readonly rows: RowStore,
    private readonly clock: ServerClock,
  ) {}

  /** Creates a pending transaction; `ttl` seconds in 60..3600 (default 300). */
  create(ttl: number): TransactionRecord {
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 3600) {
      throw invalidArgument('Invalid `ttl` param: Value must be a valid range between 60 and 3,600');
    }
    const now = this.clock.now();
    // Appwrite's maintenance worker removes expired transactions; here creating one sweeps those expired for
    // over an hour (kept that long so callers can still read a failed or expired transaction's status).
    this.db.prepare('DELETE FROM tdb_transactions WHERE expires_at < ?').run(now - TRANSACTION_RETENTION_MS);
    const tx: TransactionRecord = {
      id: uniqueId(),
      status: 'pending',
      operations: [],
      createdAt: now,
      updatedAt: now,
      expiresAt: now + ttl * 1000,
    };
    this.db
      .prepare(
        'INSERT INTO tdb_transactions (id, status, operations, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(tx.id, tx.status, '[]', now, now, tx.expiresAt);
    return tx;
  }

  /** 404 transaction_not_found when missing. */
  get(id: string): TransactionRecord {
    const r = this.db.prepare('SELECT * FROM tdb_transactions WHERE id = ?').get(id) as
      | {
          id: string;
          status: TransactionRecord['status'];
          operations: string;
          created_at: number;
          updated_at: number;
          expires_at: number;
        }
      | undefined;
    if (!r) throw new AppwriteError('transaction_not_found', undefined, id);
    return {
      id: r.id,
      status: r.status,
      operations: JSON.parse(r.operations) as StagedOperation[],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      expiresAt: r.expires_at,
    };
  }

  /** Every transaction, oldest first. */
  list(): TransactionRecord[] {
    const ids = this.db
      .prepare('SELECT id FROM tdb_transactions ORDER BY created_at, id')
      .pluck()
      .all() as string[];
    return ids.map((id) => this.get(id));
  }

  /** Deletes a transaction record (any status). */
  delete(id: string): void {
    this.get(id);
    this.db.prepare('DELETE FROM tdb_transactions WHERE id = ?').run(id);
  }

  /** A transaction that can take operations: pending (400 transaction_not_ready) and alive (410). */
  pending(id: string): TransactionRecord {
    const tx = this.get(id);
    if (tx.status !== 'pending') {
      throw new AppwriteError(
        'transaction_not_ready',
        `The transaction is ${tx.status.replace('_', ' ')}, not pending.`,
      );
    }
    if (tx.expiresAt < this.clock.now()) throw new AppwriteError('transaction_expired');
    return tx;
  }

  /**
   * Validates and appends operations (all or none); returns the updated record. As Appwrite's
   * `Transactions/Operations/Create.php`: an empty list is 400; a transaction that is not pending is 400
   * `general_bad_request` and an expired one 410; the operation limit counts each operation once (a bulk
   * operation is one); each operation is checked as Appwrite's Operation validator checks it; and an update,
   * delete, increment or decrement of a row that neither exists (committed, or as this transaction's staged
   * state leaves it) nor is created by an earlier `create` of the same batch is 404 `document_not_found` (an
   * upsert does not count as a create, `:146-161, 237-244`).
   */
  stage(id: string, ops: unknown[], options: StageOptions = {}): TransactionRecord {
    if (ops.length === 0) throw new AppwriteError('general_bad_request', 'Operations array cannot be empty');
    const tx = this.get(id);
    if (tx.status !== 'pending') {
      if (options.notPending === 'transaction_not_ready') throw new AppwriteError('transaction_not_ready');
      throw new AppwriteError('general_bad_request', 'Invalid or non\u2011pending transaction');
    }
    if (tx.expiresAt < this.clock.now()) throw new AppwriteError('transaction_expired');
    const existing = tx.operations.length;
    if (existing + ops.length > MAX_TRANSACTION_OPERATIONS) {
      throw new AppwriteError(
        'transaction_limit_exceeded',
        `Transaction already has ${existing} operations, adding ${ops.length} would exceed the maximum of ${MAX_TRANSACTION_OPERATIONS}`,
      );
    }
    const staged = ops.map((op) => this.validate(op));
    const notFound = options.notFound === undefined ? 'document_not_found' : options.notFound;
    if (notFound) this.checkTargets(tx.operations, staged, notFound);
    tx.operations.push(...staged);
    tx.updatedAt = this.clock.now();
    this.db
      .prepare('UPDATE tdb_transactions SET operations = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(tx.operations), tx.updatedAt, id);
    return tx;
  }

  /** The existence check of {@link stage}: 404 `document_not_found` for a write to a row that is not there. */
  private checkTargets(
    previous: StagedOperation[],
    batch: StagedOperation[],
    notFound: 'document_not_found' | 'row_not_found',
  ): void {
    const rowKey = (databaseId: string, tableId: string, rowId: string) =>
      `${databaseId}/${tableId}/${String(comparisonKey(this.rows.collation, rowId))}`;
    // What the staged state says about a row: true = written by a staged create/upsert, false = deleted.
    const stagedState = new Map<string, boolean>();
    for (const op of previous) {
      const items =
        op.action === 'bulkCreate' || op.action === 'bulkUpsert'
          ? (op.data as Record<string, unknown>[]).map((r) => r.$id).filter((x) => typeof x === 'string')
          : op.rowId !== undefined
            ? [op.rowId]
            : [];
      for (const rowId of items as string[]) {
        if (op.action === 'delete') stagedState.set(rowKey(op.databaseId, op.tableId, rowId), false);
        else if (op.action !== 'update' && op.action !== 'increment' && op.action !== 'decrement')
          stagedState.set(rowKey(op.databaseId, op.tableId, rowId), true);
      }
    }
    const dependants = new Set<string>();
    for (const op of batch) {
      if (op.rowId !== undefined && ['update', 'delete', 'increment', 'decrement'].includes(op.action)) {
        const k = rowKey(op.databaseId, op.tableId, op.rowId);
        const t = this.schemas.getTable('tables', op.databaseId, op.tableId);
        const exists = stagedState.get(k) ?? this.rows.get(t, op.rowId) !== null;
        if (!exists && !dependants.has(k)) throw new AppwriteError(notFound, undefined, op.rowId);
      }
      if (op.action === 'create' && op.rowId !== undefined)
        dependants.add(rowKey(op.databaseId, op.tableId, op.rowId));
    }
  }

  /** Rolls a pending transaction back: Appwrite marks it `failed` (`Transactions/Update.php:507-512`). */
  rollback(id: string): TransactionRecord {
    const tx = this.pending(id);
    return this.setStatus(tx, 'failed');
  }

  /**
   * Replays the operations atomically; on success the transaction is `committed` and the applied writes are
   * returned (for events); on failure it is `failed` and the error is rethrown.
   */
  commit(id: string): { tx: TransactionRecord; writes: AppliedWrite[] } {
    const tx = this.pending(id);
    let writes: AppliedWrite[];
    try {
      writes = this.db.transaction(() => this.replay(tx.operations, true))();
    } catch (e) {
      this.setStatus(tx, 'failed');
      throw e;
    }
    return { tx: this.setStatus(tx, 'committed'), writes };
  }

  /**
   * An injected commit failure (faults.ts), nothing applied: `failed` = 400 `transaction_failed` and the
   * transaction `failed` (a utopia TransactionException); `stuck` = 500 and the transaction left `committing`
   * (an uncaught PDOException after `Update.php` set `committing`), so rollback and commit are refused after.
   */
  failCommit(id: string, how: 'failed' | 'stuck'): never {
    const tx = this.pending(id);
    if (how === 'failed') {
      this.setStatus(tx, 'failed');
      throw new AppwriteError('transaction_failed');
    }
    this.setStatus(tx, 'committing');
    throw new AppwriteError('general_unknown');
  }

  /**
   * Runs `read` against the transaction's staged state (read-your-writes), then discards it. Conflict checks
   * are skipped: this shows what the caller staged, not whether the commit would succeed.
   */
  readStaged<T>(id: string, read: () => T): T {
    const tx = this.pending(id);
    let result: T | undefined;
    try {
      this.db.transaction(() => {
        this.replay(tx.operations, false);
        result = read();
        throw ROLLBACK;
      })();
    } catch (e) {
      if (e !== ROLLBACK) throw e;
    }
    return result as T;
  }

  private setStatus(tx: TransactionRecord, status: TransactionRecord['status']): TransactionRecord {
    const now = this.clock.now();
    this.db
      .prepare('UPDATE tdb_transactions SET status = ?, updated_at = ? WHERE id = ?')
      .run(status, now, tx.id);
    return { ...tx, status, updatedAt: now };
  }

  /** Appwrite's Operation validator (`Utopia/Database/Validator/Operation.php`), then the tablesdb checks. */
  private validate(raw: unknown): StagedOperation {
    const bad = (description: string) => invalidArgument(`Invalid \`operations\` param: ${description}`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('Value must be an array');
    const op = raw as Record<string, unknown>;
    for (const key of ['databaseId', 'action', 'tableId']) {
      if (!(key in op)) throw bad(`Missing required key: ${key}`);
    }
    for (const key of ['databaseId', 'action', 'tableId']) {
      const v = op[key];
      if (typeof v !== 'string' || v.trim() === '') throw bad(`Key '${key}' must be a non\u2011empty string`);
    }
    const action = op.action as StagedOperation['action'];
    if (!TRANSACTION_ACTIONS.includes(action))
      throw bad(`Key 'action' must be one of: ${TRANSACTION_ACTIONS.join(', ')}`);
    const single = ['create', 'update', 'upsert', 'delete', 'increment', 'decrement'].includes(action);
    if (single && !('rowId' in op)) throw bad(`Key 'rowId' is required for action '${action}'`);
    if ('rowId' in op && (typeof op.rowId !== 'string' || op.rowId.trim() === ''))
      throw bad("Key 'rowId' must be a non-empty string");
    const data = op.data;
    const isObject = (v: unknown) => typeof v === 'object' && v !== null;
    if (action !== 'delete' && !('data' in op)) throw bad('Missing required key: data');
    if ('data' in op && !isObject(data)) throw bad("Key 'data' must be an array");
    if (action === 'bulkUpdate' || action === 'bulkDelete') {
      const d = data as Record<string, unknown>;
      if (!('queries' in d)) throw bad(`Key 'queries' is required in data for ${action}`);
      if (!Array.isArray(d.queries)) throw bad(`Key 'queries' must be an array for ${action}`);
      if (action === 'bulkUpdate') {
        if (!('data' in d)) throw bad(`Key 'data' is required in data for ${action}`);
        if (!isObject(d.data)) throw bad(`Key 'data.data' must be an array for ${action}`);
      }
    }
    if (action === 'increment' || action === 'decrement') {
      const d = data as Record<string, unknown>;
      if (!('column' in d)) throw bad(`Key 'column' is required in data for ${action}`);
      if ('value' in d && (typeof d.value !== 'number' || !Number.isFinite(d.value)))
        throw bad(`Key 'value' must be a numeric value for ${action}`);
      const value = d.value ?? 1;
      if (typeof d.column !== 'string') throw bad(`Key 'column' must be a string for ${action}`);
      if (!((value as number) > 0))
        throw invalidArgument('Invalid `value` param: Value must be a number greater than 0');
    }
    this.schemas.getTable('tables', op.databaseId as string, op.tableId as string);
    const rowId = single ? resolveId(op.rowId, 'rowId') : undefined;
    if (action === 'bulkCreate' || action === 'bulkUpsert') {
      if (!Array.isArray(data) || !data.every((r) => isObject(r) && !Array.isArray(r)))
        throw bad(`${action} data must be an array of rows`);
      for (const r of data as Record<string, unknown>[]) {
        if (r.$id !== undefined) resolveId(r.$id, '$id');
        permissionsParam(r.$permissions);
      }
    } else if (single && action !== 'delete' && action !== 'increment' && action !== 'decrement') {
      if (Array.isArray(data)) throw bad("Key 'data' must be an object");
      permissionsParam((data as Record<string, unknown>).$permissions);
    }
    return {
      action,
      databaseId: op.databaseId as string,
      tableId: op.tableId as string,
      ...(rowId ? { rowId } : {}),
      ...(data !== undefined ? { data } : {}),
      stagedAt: this.rows.tick(),
    };
  }

  private replay(ops: StagedOperation[], checkConflicts: boolean): AppliedWrite[] {
    const writes: AppliedWrite[] = [];
    const touched = new Set<string>();
    // Under utf8mb4_general_ci `Order-1` and `order-1` are one row, so they share a key here too.
    const key = (t: TableSchema, id: string) =>
      `${t.databaseId}/${t.id}/${String(comparisonKey(this.rows.collation, id))}`;
    const mark = (t: TableSchema, id: string) => touched.add(key(t, id));
    const guard = (t: TableSchema, id: string, stagedAt: number) => {
      const row = this.rows.get(t, id);
      // DATETIME(3) on both sides: whole milliseconds, strictly later (a write in the staging millisecond is not a
      // conflict, as on Appwrite).
      if (
        checkConflicts &&
        row &&
        !touched.has(key(t, id)) &&
        Math.floor(row.updatedAt) > Math.floor(stagedAt)
      ) {
        throw new AppwriteError(
          'transaction_conflict',
          `Row '${id}' was modified after it was staged in this transaction.`,
        );
      }
      return row;
    };
    const conflictOnDuplicate = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (e) {
        if (e instanceof AppwriteError && e.type === 'document_already_exists') {
          throw new AppwriteError('transaction_conflict', e.message);
        }
        throw e;
      }
    };
    for (const op of ops) {
      const t = this.schemas.getTable('tables', op.databaseId, op.tableId);
      const data = (op.data ?? {}) as Record<string, unknown>;
      switch (op.action) {
        case 'create':
        case 'bulkCreate': {
          const items =
            op.action === 'create' ? [{ ...data, $id: op.rowId }] : (op.data as Record<string, unknown>[]);
          for (const item of items) {
            const id = resolveId(item.$id ?? 'unique()', '$id');
            const row = conflictOnDuplicate(() =>
              this.rows.create('legacy', t, id, item, permissionsOf(item) ?? []),
            );
            mark(t, id);
            if (op.action === 'create') writes.push({ action: 'create', table: t, row });
          }
          break;
        }
        case 'upsert':
        case 'bulkUpsert': {
          const items =
            op.action === 'upsert' ? [{ ...data, $id: op.rowId }] : (op.data as Record<string, unknown>[]);
          for (const item of items) {
            const id = resolveId(item.$id ?? 'unique()', '$id');
            guard(t, id, op.stagedAt);
            const { row } = conflictOnDuplicate(() =>
              this.rows.upsert('legacy', t, id, item, permissionsOf(item)),
            );
            mark(t, id);
            if (op.action === 'upsert') writes.push({ action: 'update', table: t, row });
          }
          break;
        }
        case 'update': {
          const id = op.rowId as string;
          if (!guard(t, id, op.stagedAt)) throw new AppwriteError('document_not_found', undefined, id);
          const row = conflictOnDuplicate(() => this.rows.update('legacy', t, id, data, permissionsOf(data)));
          mark(t, id);
          writes.push({ action: 'update', table: t, row });
          break;
        }
        case 'delete': {
          const id = op.rowId as string;
          if (!guard(t, id, op.stagedAt)) throw new AppwriteError('document_not_found', undefined, id);
          writes.push({ action: 'delete', table: t, row: this.rows.delete('legacy', t, id) });
          mark(t, id);
          break;
        }
        case 'increment':
        case 'decrement': {
          const id = op.rowId as string;
          if (!this.rows.get(t, id)) throw new AppwriteError('document_not_found', undefined, id);
          const value = (data.value as number | undefined) ?? 1;
          const bound =
            op.action === 'increment'
              ? { max: data.max as number | undefined }
              : { min: data.min as number | undefined };
          const row = this.rows.increment(
            t,
            id,
            data.column as string,
            op.action === 'increment' ? value : -value,
            bound,
            'attribute_limit_exceeded',
          );
          mark(t, id);
          writes.push({ action: 'update', table: t, row });
          break;
        }
        case 'bulkUpdate':
        case 'bulkDelete': {
          const q = parseQueries(data.queries, rowAttributes(t));
          const matched = listRows(
            this.db,
            t,
            { ...q, limit: Number.MAX_SAFE_INTEGER, offset: 0 },
            false,
            undefined,
            this.rows.collation,
          ).rows;
          for (const current of matched) {
            guard(t, current.id, op.stagedAt);
            if (op.action === 'bulkDelete') {
              this.rows.delete('legacy', t, current.id);
            } else {
              const patch = (data.data ?? {}) as Record<string, unknown>;
              conflictOnDuplicate(() =>
                this.rows.update('legacy', t, current.id, patch, permissionsOf(patch)),
              );
            }
            mark(t, current.id);
          }
          break;
        }
      }
    }
    return writes;
  }
}

/** `$permissions` carried inside operation data, if any. */
export function permissionsOf(data: Record<string, unknown>): string[] | undefined {
  const p = data.$permissions;
  return Array.isArray(p) && p.every((x) => typeof x === 'string') ? (p as string[]) : undefined;
}

/** The transaction model. */
export function renderTransaction(tx: TransactionRecord): Record<string, unknown> {
  return {
    $id: tx.id,
    $createdAt: formatDate(tx.createdAt),
    $updatedAt: formatDate(tx.updatedAt),
    status: tx.status,
    // One per operation, a bulk operation included (Operations/Create.php:103-111).
    operations: tx.operations.length,
    expiresAt: formatDate(tx.expiresAt),
  };
}
