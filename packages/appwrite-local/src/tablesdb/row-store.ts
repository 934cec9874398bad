/**
 * Rows in SQLite: one `tdb_rows` record per row (column values as JSON), unique indexes enforced through
 * `tdb_unique`. Every method is synchronous and runs its check and write inside one SQLite transaction, so
 * each call is atomic against every other request (and nests as a savepoint inside a commit).
 */
import type { Database, Statement } from 'better-sqlite3';
import { AppwriteError } from '../errors.ts';
import type { ServerClock } from '../server-context.ts';
import { formatDate, parseDate } from '../wire.ts';
import { type Collation, DEFAULT_COLLATION, FOLD_SQL } from './collation.ts';
import { validateValue } from './columns.ts';
import { type Dialect, ERRORS, type TableSchema, uniqueValue } from './schema-store.ts';

/** A row as stored. */
export interface StoredRow {
  id: string;
  /** Per-table insertion sequence, from 1. */
  seq: number;
  /** Column values (every column present after validation; unset = null). */
  data: Record<string, unknown>;
  permissions: string[];
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
}

/** Bounds for {@link RowStore.increment}. */
export interface IncrementBound {
  max?: number | undefined;
  min?: number | undefined;
}

interface DbRow {
  id: string;
  seq: number;
  data: string;
  permissions: string;
  created_at: number;
  updated_at: number;
}

/** Meta keys a client may send inside `data` (they are not columns). */
const META_KEYS = new Set([
  '$id',
  '$sequence',
  '$tableId',
  '$collectionId',
  '$databaseId',
  '$createdAt',
  '$updatedAt',
  '$permissions',
]);

/** Row operations over one SQLite database. */
export class RowStore {
  private readonly stmt: Record<
    'get' | 'exists' | 'seq' | 'insert' | 'update' | 'delete' | 'uniqueInsert' | 'uniqueDelete',
    Statement
  >;

  constructor(
    private readonly db: Database,
    private readonly clock: ServerClock,
    /** How row ids and unique-index values compare (tablesdb/collation.ts). */
    readonly collation: Collation = DEFAULT_COLLATION,
  ) {
    // Under utf8mb4_general_ci an id matches every spelling that folds alike (served by tdb_rows_fold).
    const idMatch = collation === 'binary' ? 'id = ?' : `${FOLD_SQL}(id) = ${FOLD_SQL}(?)`;
    this.stmt = {
      get: db.prepare(
        `SELECT id, seq, data, permissions, created_at, updated_at FROM tdb_rows WHERE database_id = ? AND table_id = ? AND ${idMatch}`,
      ),
      exists: db
        .prepare(`SELECT id FROM tdb_rows WHERE database_id = ? AND table_id = ? AND ${idMatch}`)
        .pluck(),
      seq: db
        .prepare(
          'UPDATE tdb_tables SET last_sequence = last_sequence + 1 WHERE database_id = ? AND id = ? RETURNING last_sequence',
        )
        .pluck(),
      insert: db.prepare(
        'INSERT INTO tdb_rows (database_id, table_id, id, seq, data, permissions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      update: db.prepare(
        'UPDATE tdb_rows SET data = ?, permissions = ?, updated_at = ? WHERE database_id = ? AND table_id = ? AND id = ?',
      ),
      delete: db.prepare('DELETE FROM tdb_rows WHERE database_id = ? AND table_id = ? AND id = ?'),
      uniqueInsert: db.prepare(
        'INSERT OR IGNORE INTO tdb_unique (database_id, table_id, index_key, value, row_id) VALUES (?, ?, ?, ?, ?)',
      ),
      uniqueDelete: db.prepare(
        'DELETE FROM tdb_unique WHERE database_id = ? AND table_id = ? AND row_id = ?',
      ),
    };
  }

  /**
   * A strictly increasing write time in epoch ms (fractional below the millisecond): `$updatedAt` of every
   * write and the staging time of transaction operations come from it, so "changed after staging" is exact
   * even within one millisecond. Rendered dates truncate to milliseconds, as Appwrite's do.
   */
  tick(): number {
    this.last = Math.max(this.clock.now(), this.last + 0.001);
    return this.last;
  }

  private last = 0;

  /** The row, or null. */
  get(t: TableSchema, rowId: string): StoredRow | null {
    const r = this.stmt.get.get(t.databaseId, t.id, rowId) as DbRow | undefined;
    return r ? fromDb(r) : null;
  }

  /** Creates a row; 409 row_already_exists for a taken id or a unique-index violation; 400 on bad data. */
  create(
    dialect: Dialect,
    t: TableSchema,
    rowId: string,
    data: Record<string, unknown>,
    permissions: string[],
  ): StoredRow {
    const values = validateRow(t, data, 'create');
    return this.db.transaction(() => {
      if (this.stmt.exists.get(t.databaseId, t.id, rowId))
        throw new AppwriteError(ERRORS[dialect].rowExists, undefined, rowId);
      const seq = this.stmt.seq.get(t.databaseId, t.id) as number;
      const now = this.tick();
      const dates = metaDates(data);
      const row: StoredRow = {
        id: rowId,
        seq,
        data: values,
        permissions,
        createdAt: dates.createdAt ?? now,
        updatedAt: dates.updatedAt ?? now,
      };
      this.stmt.insert.run(
        t.databaseId,
        t.id,
        rowId,
        seq,
        JSON.stringify(values),
        JSON.stringify(permissions),
        row.createdAt,
        row.updatedAt,
      );
      this.writeUnique(dialect, t, row, false);
      return row;
    })();
  }

  /** Merges `data` into a row; 404 when missing; 409 on a unique-index violation. */
  update(
    dialect: Dialect,
    t: TableSchema,
    rowId: string,
    data: Record<string, unknown>,
    permissions: string[] | undefined,
  ): StoredRow {
    const patch = validateRow(t, data, 'update');
    const dates = metaDates(data);
    return this.db.transaction(() => {
      const current = this.get(t, rowId);
      if (!current) throw new AppwriteError(ERRORS[dialect].rowNotFound, undefined, rowId);
      return this.write(dialect, t, current, patch, permissions, true, dates);
    })();
  }

  /** Creates or merges; `created` tells which happened. */
  upsert(
    dialect: Dialect,
    t: TableSchema,
    rowId: string,
    data: Record<string, unknown>,
    permissions: string[] | undefined,
  ): { row: StoredRow; created: boolean } {
    return this.db.transaction(() => {
      const current = this.get(t, rowId);
      if (!current) return { row: this.create(dialect, t, rowId, data, permissions ?? []), created: true };
      return {
        row: this.write(
          dialect,
          t,
          current,
          validateRow(t, data, 'update'),
          permissions,
          true,
          metaDates(data),
        ),
        created: false,
      };
    })();
  }

  /** Deletes a row and returns it; 404 when missing. */
  delete(dialect: Dialect, t: TableSchema, rowId: string): StoredRow {
    return this.db.transaction(() => {
      const current = this.get(t, rowId);
      if (!current) throw new AppwriteError(ERRORS[dialect].rowNotFound, undefined, rowId);
      this.stmt.delete.run(t.databaseId, t.id, current.id);
      return current;
    })();
  }

  /**
   * Adds `delta` (negative to decrement) to a numeric column, checked against `bound` (reaching it is allowed);
   * crossing it throws `limitType` (400) and writes nothing. A missing row or column is 404 `column_not_found`
   * (Appwrite maps both to that type).
   */
  increment(
    t: TableSchema,
    rowId: string,
    column: string,
    delta: number,
    bound: IncrementBound,
    limitType: 'column_limit_exceeded' | 'attribute_limit_exceeded' = 'column_limit_exceeded',
  ): StoredRow {
    const col = t.columns.get(column);
    if (!col) throw new AppwriteError('column_not_found', undefined, column);
    if ((col.def.type !== 'integer' && col.def.type !== 'double') || col.def.array) {
      throw new AppwriteError('attribute_type_invalid', undefined, column);
    }
    if (col.def.type === 'integer' && !Number.isInteger(delta)) {
      throw new AppwriteError(
        'general_argument_invalid',
        'Invalid `value` param: Value must be a valid integer',
      );
    }
    return this.db.transaction(() => {
      const current = this.get(t, rowId);
      if (!current)
        throw new AppwriteError(
          'column_not_found',
          `Row with the requested ID '${rowId}' could not be found.`,
        );
      const stored = current.data[column];
      // PHP's `null + value` is `value`: the bound check and the answer count a NULL as 0 (§F2).
      const before = typeof stored === 'number' ? stored : 0;
      const after = before + delta;
      if (bound.max !== undefined && delta > 0 && after > bound.max) {
        throw new AppwriteError(
          limitType,
          `Column "${column}" has reached the maximum value of ${bound.max}`,
        );
      }
      if (bound.min !== undefined && delta < 0 && after < bound.min) {
        throw new AppwriteError(
          limitType,
          `Column "${column}" has reached the minimum value of ${bound.min}`,
        );
      }
      if (stored === null || stored === undefined)
        return this.incrementNull(t, current, column, after, bound);
      const written = this.write('tables', t, current, { [column]: after }, undefined, false);
      // Appwrite answers the row as it read it (under the lock) with the computed value: the stored `$updatedAt`
      // moves, the answer's does not (`Database.php:7602-7605`).
      return { ...written, updatedAt: current.updatedAt };
    })();
  }

  /**
   * An increment of a NULL column, as utopia-php/database 6.0.0 runs it on MariaDB (§F2): `UPDATE … SET c = c + v,
   * _updatedAt = now WHERE _uid = … [AND c <= max - v]`. `NULL + v` stays NULL, and with a (non-zero) bound
   * `NULL <= …` matches no row, so nothing is written; without one only `$updatedAt` moves. The affected-row count
   * is not checked, and the answer is the row as read before the update with the computed value
   * (`Database.php:7591-7605`, `MariaDB.php:1237-1274`).
   */
  private incrementNull(
    t: TableSchema,
    current: StoredRow,
    column: string,
    after: number,
    bound: IncrementBound,
  ): StoredRow {
    // `$max ? … : null` in utopia: a bound of 0 drops the SQL guard.
    const guarded = Boolean(bound.max) || Boolean(bound.min);
    if (!guarded) {
      const now = Math.max(this.tick(), current.updatedAt);
      this.db
        .prepare('UPDATE tdb_rows SET updated_at = ? WHERE database_id = ? AND table_id = ? AND id = ?')
        .run(now, t.databaseId, t.id, current.id);
    }
    return { ...current, data: { ...current.data, [column]: after } };
  }

  /**
   * Writes `patch` over `current`. `applyDefaults` (updates and upserts): utopia's `updateDocument` re-encodes the
   * merged row with defaults (`Database.php:6333`, `encode` 8839-8880), so a column still NULL (e.g. added after
   * the row was created, which leaves it NULL) or set to null gets its default written. Increments do not encode.
   */
  private write(
    dialect: Dialect,
    t: TableSchema,
    current: StoredRow,
    patch: Record<string, unknown>,
    permissions: string[] | undefined,
    applyDefaults = true,
    dates: { createdAt?: number; updatedAt?: number } = {},
  ): StoredRow {
    const data = { ...current.data, ...patch };
    // utopia bumps `$updatedAt` only when a value or the permissions changed (`Database.php:6153-6160, 6323-6325`);
    // increments always move it (the SQL sets `_updatedAt`).
    const changed =
      !applyDefaults ||
      Object.keys(patch).some(
        (k) => JSON.stringify(patch[k] ?? null) !== JSON.stringify(current.data[k] ?? null),
      ) ||
      (permissions !== undefined && JSON.stringify(permissions) !== JSON.stringify(current.permissions));
    const now = dates.updatedAt ?? (changed ? Math.max(this.tick(), current.updatedAt) : current.updatedAt);
    if (applyDefaults) {
      for (const [key, { def }] of t.columns) {
        if (
          (data[key] === null || data[key] === undefined) &&
          def.default !== null &&
          def.default !== undefined
        )
          data[key] = def.default;
      }
    }
    const row: StoredRow = {
      ...current,
      data,
      permissions: permissions ?? current.permissions,
      createdAt: dates.createdAt ?? current.createdAt,
      updatedAt: now,
    };
    this.stmt.update.run(
      JSON.stringify(row.data),
      JSON.stringify(row.permissions),
      now,
      t.databaseId,
      t.id,
      row.id,
    );
    this.writeUnique(dialect, t, row, true);
    return row;
  }

  private writeUnique(dialect: Dialect, t: TableSchema, row: StoredRow, replace: boolean): void {
    const unique = t.indexes.filter((i) => i.type === 'unique');
    if (unique.length === 0) return;
    if (replace) this.stmt.uniqueDelete.run(t.databaseId, t.id, row.id);
    for (const index of unique) {
      const value = uniqueValue(index, row.id, row.data, this.collation);
      if (value === null) continue;
      if (this.stmt.uniqueInsert.run(t.databaseId, t.id, index.key, value, row.id).changes === 0) {
        throw new AppwriteError(
          ERRORS[dialect].rowExists,
          `Row with the requested unique index "${index.key}" already exists (${value}).`,
        );
      }
    }
  }
}

/**
 * `$createdAt` / `$updatedAt` given in row data: API-key callers may set them (Appwrite's `preserveDates`; the
 * routes drop them for users, as `removeReadonlyAttributes` does); an invalid date is 400
 * `row_invalid_structure` (DatabasesBase.php:11650-11680). Null or absent = the server's time.
 */
export function metaDates(data: Record<string, unknown>): { createdAt?: number; updatedAt?: number } {
  const out: { createdAt?: number; updatedAt?: number } = {};
  for (const [key, field] of [
    ['$createdAt', 'createdAt'],
    ['$updatedAt', 'updatedAt'],
  ] as const) {
    const v = data[key];
    if (v === undefined || v === null || v === '') continue;
    const ms = typeof v === 'string' ? parseDate(v) : undefined;
    if (ms === undefined) {
      throw new AppwriteError(
        'row_invalid_structure',
        `Invalid document structure: Attribute "${key}" has invalid format. Value must be valid date between 0000-01-01 00:00:00 and 9999-12-31 23:59:59.`,
      );
    }
    out[field] = ms;
  }
  return out;
}

/**
 * Validates row data against the table (Appwrite's Structure validator): unknown keys and wrong types are
 * 400 `row_invalid_structure`. `create` fills defaults and requires required columns; `update` checks only
 * the given keys. Meta keys (`$id`, `$permissions` …) are ignored here.
 */
export function validateRow(
  t: TableSchema,
  data: Record<string, unknown>,
  mode: 'create' | 'update',
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(data)) {
    if (META_KEYS.has(key)) continue;
    if (!t.columns.has(key)) {
      throw new AppwriteError(
        'row_invalid_structure',
        `Invalid document structure: Unknown attribute: "${key}"`,
      );
    }
  }
  for (const [key, { def }] of t.columns) {
    if (mode === 'update' && !(key in data)) continue;
    let value = data[key];
    if (mode === 'create' && (value === undefined || value === null)) value = def.default ?? null;
    out[key] = validateValue(def, value);
  }
  return out;
}

/** Renders a row as the API model; `$sequence` is a string from response format 1.9.0 on, an integer before. */
export function renderRow(
  t: TableSchema,
  row: StoredRow,
  responseFormat: string,
  select?: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    $id: row.id,
    $sequence: sequenceAsString(responseFormat) ? String(row.seq) : row.seq,
    $tableId: t.id,
    $databaseId: t.databaseId,
    $createdAt: formatDate(row.createdAt),
    $updatedAt: formatDate(row.updatedAt),
    $permissions: row.permissions,
  };
  for (const key of t.columns.keys()) {
    if (select && !select.has(key)) continue;
    out[key] = row.data[key] ?? null;
  }
  return out;
}

/** Whether a response format (e.g. `1.9.5`, `1.8.0`) renders `$sequence` as a string. */
export function sequenceAsString(responseFormat: string): boolean {
  const [major = 0, minor = 0] = responseFormat.split('.').map((n) => Number.parseInt(n, 10) || 0);
  return major > 1 || (major === 1 && minor >= 9);
}

/** Decodes a `tdb_rows` record. */
export function fromDb(r: DbRow): StoredRow {
  return {
    id: r.id,
    seq: r.seq,
    data: JSON.parse(r.data) as Record<string, unknown>,
    permissions: JSON.parse(r.permissions) as string[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
