/**
 * Databases, tables, columns and indexes in SQLite, with an in-memory cache of each table's schema (the server
 * is the only writer, so the cache is invalidated exactly where the schema changes). Schema changes are
 * applied synchronously: columns and indexes are `available` as soon as they are created.
 */
import type { Database } from 'better-sqlite3';
import { AppwriteError, invalidArgument } from '../errors.ts';
import type { ServerClock } from '../server-context.ts';
import { type Collation, comparisonKey, DEFAULT_COLLATION, foldSql, isCollatedType } from './collation.ts';
import type { ColumnDef } from './columns.ts';

/** Which family of error types a route raises: TablesDB (`table_*`, `column_*`) or legacy (`collection_*`…). */
export type Dialect = 'tables' | 'legacy';

/** A database record. */
export interface DatabaseRecord {
  id: string;
  name: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A column with its timestamps (ms). */
export interface ColumnRecord {
  def: ColumnDef;
  createdAt: number;
  updatedAt: number;
}

/** An index definition. */
export interface IndexRecord {
  key: string;
  type: 'key' | 'unique' | 'fulltext';
  columns: string[];
  orders: string[];
  lengths: number[];
  createdAt: number;
  updatedAt: number;
}

/** A table with its columns (in creation order) and indexes. */
export interface TableSchema {
  databaseId: string;
  id: string;
  name: string;
  enabled: boolean;
  rowSecurity: boolean;
  permissions: string[];
  createdAt: number;
  updatedAt: number;
  columns: Map<string, ColumnRecord>;
  indexes: IndexRecord[];
}

/** Error types per dialect. */
export const ERRORS = {
  tables: {
    tableNotFound: 'table_not_found',
    tableExists: 'table_already_exists',
    columnNotFound: 'column_not_found',
    columnExists: 'column_already_exists',
    columnUnknown: 'column_unknown',
    indexNotFound: 'column_index_not_found',
    indexExists: 'column_index_already_exists',
    indexInvalid: 'column_index_invalid',
    indexDependency: 'column_index_dependency',
    rowNotFound: 'row_not_found',
    rowExists: 'row_already_exists',
  },
  legacy: {
    tableNotFound: 'collection_not_found',
    tableExists: 'collection_already_exists',
    columnNotFound: 'attribute_not_found',
    columnExists: 'attribute_already_exists',
    columnUnknown: 'attribute_unknown',
    indexNotFound: 'index_not_found',
    indexExists: 'index_already_exists',
    indexInvalid: 'index_invalid',
    indexDependency: 'index_dependency',
    rowNotFound: 'document_not_found',
    rowExists: 'document_already_exists',
  },
} as const;

interface TableRow {
  database_id: string;
  id: string;
  name: string;
  enabled: number;
  row_security: number;
  permissions: string;
  created_at: number;
  updated_at: number;
}

/** The schema side of TablesDB. All methods are synchronous and throw `AppwriteError`. */
export class SchemaStore {
  private readonly cache = new Map<string, TableSchema>();

  /** Also writes the planner statistics of the row indexes (see {@link syncRowIndexStats}). */
  constructor(
    private readonly db: Database,
    private readonly clock: ServerClock,
    /** How unique-index values and indexed string columns compare (tablesdb/collation.ts). */
    readonly collation: Collation = DEFAULT_COLLATION,
  ) {
    applyCollation(db, collation);
    syncRowIndexStats(db);
  }

  // --- databases -------------------------------------------------------------------------------------------

  /** Creates a database; 409 `database_already_exists`. */
  createDatabase(id: string, name: string, enabled: boolean): DatabaseRecord {
    const now = this.clock.now();
    const info = this.db
      .prepare(
        'INSERT OR IGNORE INTO tdb_databases (id, name, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(id, name, enabled ? 1 : 0, now, now);
    if (info.changes === 0) throw new AppwriteError('database_already_exists', undefined, id);
    return { id, name, enabled, createdAt: now, updatedAt: now };
  }

  /** The database; 404 `database_not_found`. */
  getDatabase(id: string): DatabaseRecord {
    const row = this.db.prepare('SELECT * FROM tdb_databases WHERE id = ?').get(id) as
      | { id: string; name: string; enabled: number; created_at: number; updated_at: number }
      | undefined;
    if (!row) throw new AppwriteError('database_not_found', undefined, id);
    return {
      id: row.id,
      name: row.name,
      enabled: row.enabled === 1,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /** Every database, oldest first. */
  listDatabases(): DatabaseRecord[] {
    const rows = this.db.prepare('SELECT id FROM tdb_databases ORDER BY created_at, id').all() as {
      id: string;
    }[];
    return rows.map((r) => this.getDatabase(r.id));
  }

  /** Renames and (optionally) enables/disables a database. */
  updateDatabase(id: string, name: string, enabled: boolean | undefined): DatabaseRecord {
    const current = this.getDatabase(id);
    const now = this.clock.now();
    const next = enabled ?? current.enabled;
    this.db
      .prepare('UPDATE tdb_databases SET name = ?, enabled = ?, updated_at = ? WHERE id = ?')
      .run(name, next ? 1 : 0, now, id);
    return { ...current, name, enabled: next, updatedAt: now };
  }

  /** Deletes a database with its tables, rows and indexes. */
  deleteDatabase(id: string): void {
    this.getDatabase(id);
    for (const t of this.listTables('tables', id)) this.deleteTable('tables', id, t.id);
    this.db.prepare('DELETE FROM tdb_databases WHERE id = ?').run(id);
    for (const key of [...this.cache.keys()]) if (key.startsWith(`${id}/`)) this.cache.delete(key);
  }

  // --- tables ----------------------------------------------------------------------------------------------

  /** Creates a table; 409 when the id is taken, 404 when the database is missing. */
  createTable(
    dialect: Dialect,
    databaseId: string,
    t: { id: string; name: string; permissions: string[]; rowSecurity: boolean; enabled: boolean },
  ): TableSchema {
    this.getDatabase(databaseId);
    const now = this.clock.now();
    const info = this.db
      .prepare(
        `INSERT OR IGNORE INTO tdb_tables (database_id, id, name, enabled, row_security, permissions, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        databaseId,
        t.id,
        t.name,
        t.enabled ? 1 : 0,
        t.rowSecurity ? 1 : 0,
        JSON.stringify(t.permissions),
        now,
        now,
      );
    if (info.changes === 0) throw new AppwriteError(ERRORS[dialect].tableExists, undefined, t.id);
    return this.getTable(dialect, databaseId, t.id);
  }

  /** The cached schema; 404 database/table not found. */
  getTable(dialect: Dialect, databaseId: string, tableId: string): TableSchema {
    const cached = this.cache.get(`${databaseId}/${tableId}`);
    if (cached) return cached;
    const row = this.db
      .prepare('SELECT * FROM tdb_tables WHERE database_id = ? AND id = ?')
      .get(databaseId, tableId) as TableRow | undefined;
    if (!row) {
      this.getDatabase(databaseId);
      throw new AppwriteError(ERRORS[dialect].tableNotFound, undefined, tableId);
    }
    const columns = new Map<string, ColumnRecord>();
    const cols = this.db
      .prepare(
        'SELECT spec, created_at, updated_at FROM tdb_columns WHERE database_id = ? AND table_id = ? ORDER BY position',
      )
      .all(databaseId, tableId) as { spec: string; created_at: number; updated_at: number }[];
    for (const c of cols) {
      const def = JSON.parse(c.spec) as ColumnDef;
      columns.set(def.key, { def, createdAt: c.created_at, updatedAt: c.updated_at });
    }
    const idx = this.db
      .prepare('SELECT * FROM tdb_indexes WHERE database_id = ? AND table_id = ? ORDER BY created_at, key')
      .all(databaseId, tableId) as {
      key: string;
      type: IndexRecord['type'];
      columns: string;
      orders: string;
      lengths: string;
      created_at: number;
      updated_at: number;
    }[];
    const schema: TableSchema = {
      databaseId,
      id: row.id,
      name: row.name,
      enabled: row.enabled === 1,
      rowSecurity: row.row_security === 1,
      permissions: JSON.parse(row.permissions) as string[],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      columns,
      indexes: idx.map((i) => ({
        key: i.key,
        type: i.type,
        columns: JSON.parse(i.columns) as string[],
        orders: JSON.parse(i.orders) as string[],
        lengths: JSON.parse(i.lengths) as number[],
        createdAt: i.created_at,
        updatedAt: i.updated_at,
      })),
    };
    this.cache.set(`${databaseId}/${tableId}`, schema);
    return schema;
  }

  /** Every table of a database, oldest first. */
  listTables(dialect: Dialect, databaseId: string): TableSchema[] {
    this.getDatabase(databaseId);
    const rows = this.db
      .prepare('SELECT id FROM tdb_tables WHERE database_id = ? ORDER BY created_at, id')
      .all(databaseId) as { id: string }[];
    return rows.map((r) => this.getTable(dialect, databaseId, r.id));
  }

  /** Updates name, permissions, row security and enabled. */
  updateTable(
    dialect: Dialect,
    databaseId: string,
    tableId: string,
    patch: {
      name: string;
      permissions?: string[] | undefined;
      rowSecurity?: boolean | undefined;
      enabled?: boolean | undefined;
    },
  ): TableSchema {
    const t = this.getTable(dialect, databaseId, tableId);
    this.db
      .prepare(
        'UPDATE tdb_tables SET name = ?, permissions = ?, row_security = ?, enabled = ?, updated_at = ? WHERE database_id = ? AND id = ?',
      )
      .run(
        patch.name,
        JSON.stringify(patch.permissions ?? t.permissions),
        (patch.rowSecurity ?? t.rowSecurity) ? 1 : 0,
        (patch.enabled ?? t.enabled) ? 1 : 0,
        this.clock.now(),
        databaseId,
        tableId,
      );
    return this.invalidate(dialect, databaseId, tableId);
  }

  /** Deletes a table with its rows and indexes. */
  deleteTable(dialect: Dialect, databaseId: string, tableId: string): void {
    const t = this.getTable(dialect, databaseId, tableId);
    this.db.transaction(() => {
      for (const i of t.indexes)
        this.db.exec(`DROP INDEX IF EXISTS ${sqlIndexName(databaseId, tableId, i.key)}`);
      this.db.prepare('DELETE FROM tdb_tables WHERE database_id = ? AND id = ?').run(databaseId, tableId);
    })();
    this.cache.delete(`${databaseId}/${tableId}`);
  }

  // --- columns ---------------------------------------------------------------------------------------------

  /** Adds a column; existing rows keep NULL in it (no backfill). 409 when the key is taken. */
  addColumn(dialect: Dialect, databaseId: string, tableId: string, def: ColumnDef): ColumnRecord {
    const t = this.getTable(dialect, databaseId, tableId);
    if (t.columns.has(def.key)) throw new AppwriteError(ERRORS[dialect].columnExists, undefined, def.key);
    const now = this.clock.now();
    this.db
      .prepare(
        `INSERT INTO tdb_columns (database_id, table_id, key, spec, position, created_at, updated_at)
         VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM tdb_columns WHERE database_id = ? AND table_id = ?), ?, ?)`,
      )
      .run(databaseId, tableId, def.key, JSON.stringify(def), databaseId, tableId, now, now);
    // Existing rows are not backfilled: utopia-php/database 6.0.0 adds the column without an SQL DEFAULT
    // (`Adapter/SQL.php:265-269`, nullable for every non-spatial type), so they hold NULL until an update
    // re-encodes them with defaults (row-store.ts `write`). Reads show null (§F2).
    this.invalidate(dialect, databaseId, tableId);
    return { def, createdAt: now, updatedAt: now };
  }

  /** Replaces a column's definition (PATCH …/columns/{type}/{key}): required, default, size, min/max, elements. */
  updateColumn(dialect: Dialect, databaseId: string, tableId: string, def: ColumnDef): ColumnRecord {
    const t = this.getTable(dialect, databaseId, tableId);
    const current = t.columns.get(def.key);
    if (!current) throw new AppwriteError(ERRORS[dialect].columnNotFound, undefined, def.key);
    if (current.def.type !== def.type || (current.def.format ?? '') !== (def.format ?? '')) {
      throw new AppwriteError(
        dialect === 'tables' ? 'column_type_invalid' : 'attribute_type_invalid',
        undefined,
        def.key,
      );
    }
    const now = this.clock.now();
    const next = { ...def, array: current.def.array };
    // utopia's updateAttribute re-validates the indexes that cover the column (a larger size can push an index
    // past the length limit: DatabasesBase.php:1218-1284).
    const columns = new Map(t.columns).set(def.key, { ...current, def: next });
    for (const index of t.indexes.filter((i) => i.columns.includes(def.key))) {
      validateIndex(dialect, { ...t, columns, indexes: t.indexes.filter((i) => i !== index) }, index);
    }
    this.db
      .prepare(
        'UPDATE tdb_columns SET spec = ?, updated_at = ? WHERE database_id = ? AND table_id = ? AND key = ?',
      )
      .run(JSON.stringify(next), now, databaseId, tableId, def.key);
    this.invalidate(dialect, databaseId, tableId);
    return { def: next, createdAt: current.createdAt, updatedAt: now };
  }

  /** Deletes a column and its values; 409 while an index uses it. */
  deleteColumn(dialect: Dialect, databaseId: string, tableId: string, key: string): void {
    const t = this.getTable(dialect, databaseId, tableId);
    if (!t.columns.has(key)) throw new AppwriteError(ERRORS[dialect].columnNotFound, undefined, key);
    if (t.indexes.some((i) => i.columns.includes(key))) {
      throw new AppwriteError(ERRORS[dialect].indexDependency, undefined, key);
    }
    const tx = this.db.transaction(() => {
      this.db
        .prepare('DELETE FROM tdb_columns WHERE database_id = ? AND table_id = ? AND key = ?')
        .run(databaseId, tableId, key);
      this.db
        .prepare(
          `UPDATE tdb_rows SET data = json_remove(data, '$."' || ? || '"') WHERE database_id = ? AND table_id = ?`,
        )
        .run(key, databaseId, tableId);
    });
    tx();
    this.invalidate(dialect, databaseId, tableId);
  }

  // --- indexes ---------------------------------------------------------------------------------------------

  /**
   * Adds an index. A unique index over rows that already hold duplicates fails with 409 (the index is not
   * created), like Appwrite's failed index build, reported synchronously.
   */
  addIndex(
    dialect: Dialect,
    databaseId: string,
    tableId: string,
    idx: { key: string; type: string; columns: string[]; orders: string[]; lengths: number[] },
  ): IndexRecord {
    const t = this.getTable(dialect, databaseId, tableId);
    validateIndex(dialect, t, idx);
    if (t.indexes.some((i) => i.key === idx.key))
      throw new AppwriteError(ERRORS[dialect].indexExists, undefined, idx.key);
    const now = this.clock.now();
    const record: IndexRecord = {
      key: idx.key,
      type: idx.type as IndexRecord['type'],
      columns: idx.columns,
      orders: idx.orders,
      lengths: idx.lengths,
      createdAt: now,
      updatedAt: now,
    };
    const tx = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO tdb_indexes (database_id, table_id, key, type, columns, orders, lengths, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          databaseId,
          tableId,
          idx.key,
          idx.type,
          JSON.stringify(idx.columns),
          JSON.stringify(idx.orders),
          JSON.stringify(idx.lengths),
          now,
          now,
        );
      this.db.exec(createSqlIndex(databaseId, tableId, record, t, this.collation));
      syncRowIndexStats(this.db);
      if (idx.type === 'unique') {
        const rows = this.db
          .prepare('SELECT id, data FROM tdb_rows WHERE database_id = ? AND table_id = ?')
          .all(databaseId, tableId) as { id: string; data: string }[];
        const insert = this.db.prepare(
          'INSERT OR IGNORE INTO tdb_unique (database_id, table_id, index_key, value, row_id) VALUES (?, ?, ?, ?, ?)',
        );
        for (const r of rows) {
          const value = uniqueValue(
            record,
            r.id,
            JSON.parse(r.data) as Record<string, unknown>,
            this.collation,
          );
          if (value === null) continue;
          if (insert.run(databaseId, tableId, idx.key, value, r.id).changes === 0) {
            throw new AppwriteError(
              ERRORS[dialect].indexInvalid,
              `Unique index "${idx.key}" cannot be created: duplicate values exist.`,
            );
          }
        }
      }
    });
    tx();
    this.invalidate(dialect, databaseId, tableId);
    return record;
  }

  /** Deletes an index (and its uniqueness entries). */
  deleteIndex(dialect: Dialect, databaseId: string, tableId: string, key: string): void {
    const t = this.getTable(dialect, databaseId, tableId);
    if (!t.indexes.some((i) => i.key === key))
      throw new AppwriteError(ERRORS[dialect].indexNotFound, undefined, key);
    const tx = this.db.transaction(() => {
      this.db
        .prepare('DELETE FROM tdb_indexes WHERE database_id = ? AND table_id = ? AND key = ?')
        .run(databaseId, tableId, key);
      this.db
        .prepare('DELETE FROM tdb_unique WHERE database_id = ? AND table_id = ? AND index_key = ?')
        .run(databaseId, tableId, key);
      this.db.exec(`DROP INDEX IF EXISTS ${sqlIndexName(databaseId, tableId, key)}`);
    });
    tx();
    this.invalidate(dialect, databaseId, tableId);
  }

  /** Drops a table's cached schema (after a rolled-back SQLite transaction that touched it). */
  forget(databaseId: string, tableId: string): void {
    this.cache.delete(`${databaseId}/${tableId}`);
  }

  private invalidate(dialect: Dialect, databaseId: string, tableId: string): TableSchema {
    this.cache.delete(`${databaseId}/${tableId}`);
    return this.getTable(dialect, databaseId, tableId);
  }
}

/** MariaDB's index length limit in utf8mb4 characters (`Adapter/SQL.php` getMaxIndexLength, not shared tables). */
export const MAX_INDEX_LENGTH = 768;

/** Index keys MariaDB reserves (`Adapter/MariaDB.php` getInternalIndexesKeys). */
const RESERVED_INDEX_KEYS = new Set(['primary', '_created_at', '_updated_at', '_tenant_id']);

/**
 * Appwrite's checks of a new index, in its order (`Collections/Indexes/Create.php`, then utopia-php/database
 * 6.0.0 `Validator/Index.php` with the MariaDB adapter's settings): unknown column (`column_unknown`), array
 * column (not supported), type, no columns, duplicate columns, fulltext over a non-string column, lengths (count,
 * negative, above the column size, total above {@link MAX_INDEX_LENGTH}; a string counts its size, a float 2,
 * anything else 1), reserved keys. Messages are utopia's, verbatim.
 */
function validateIndex(
  dialect: Dialect,
  t: TableSchema,
  idx: { key: string; type: string; columns: string[]; orders: string[]; lengths: number[] },
): void {
  const invalid = (message: string) => new AppwriteError(ERRORS[dialect].indexInvalid, message);
  const meta: Record<string, { type: string; size: number }> = {
    $id: { type: 'string', size: 255 },
    $createdAt: { type: 'datetime', size: 0 },
    $updatedAt: { type: 'datetime', size: 0 },
    $sequence: { type: 'integer', size: 0 },
  };
  for (const c of idx.columns) {
    const col = t.columns.get(c)?.def;
    if (!col && !meta[c]) throw new AppwriteError(ERRORS[dialect].columnUnknown, undefined, c);
    if (col?.array) throw invalid('Creating indexes on array attributes is not currently supported.');
  }
  if (idx.type !== 'key' && idx.type !== 'unique' && idx.type !== 'fulltext') {
    throw invalidArgument('Invalid `type` param: Value must be one of (key, fulltext, unique, spatial)');
  }
  if (idx.columns.length === 0) throw invalid('No attributes provided for index');
  if (new Set(idx.columns.map((c) => c.toLowerCase())).size !== idx.columns.length)
    throw invalid('Duplicate attributes provided');
  const typeOf = (c: string) => t.columns.get(c)?.def.type ?? meta[c]?.type ?? 'string';
  if (idx.type === 'fulltext') {
    for (const c of idx.columns) {
      if (!isCollatedType(typeOf(c)))
        throw invalid(`Attribute "${c}" cannot be part of a fulltext index, must be of type string`);
    }
    return;
  }
  if (idx.lengths.length > idx.columns.length)
    throw invalid(
      'Invalid index lengths. Count of lengths must be equal or less than the number of attributes.',
    );
  let total = 0;
  idx.columns.forEach((c, i) => {
    const type = typeOf(c);
    const stringy = isCollatedType(type);
    const size = stringy ? (t.columns.get(c)?.def.size ?? meta[c]?.size ?? 0) : type === 'double' ? 2 : 1;
    const given = idx.lengths[i];
    const length = stringy && given ? given : size;
    if (length < 0) throw invalid(`Negative index length provided for ${c}`);
    if (length > size) throw invalid(`Index length ${length} is larger than the size for ${c}: ${size}"`);
    total += length;
  });
  if (total > MAX_INDEX_LENGTH) throw invalid(`Index length is longer than the maximum: ${MAX_INDEX_LENGTH}`);
  if (RESERVED_INDEX_KEYS.has(idx.key.toLowerCase())) throw invalid('Index key name is reserved');
}

/**
 * The value a row contributes to a unique index (JSON of the indexed values), or null when any of them is
 * null: MariaDB lets any number of rows hold NULL in a unique index.
 */
export function uniqueValue(
  index: IndexRecord,
  rowId: string,
  data: Record<string, unknown>,
  collation: Collation,
): string | null {
  const values: unknown[] = [];
  for (const c of index.columns) {
    const v = c === '$id' ? rowId : data[c];
    if (v === null || v === undefined) return null;
    // Under utf8mb4_general_ci `Ünique` and `unique ` collide with `unique`; arrays are JSON (compared whole).
    values.push(comparisonKey(collation, v));
  }
  return JSON.stringify(values);
}

/** The SQLite index backing an Appwrite index (ids are `[a-zA-Z0-9._-]`, so quoting is safe). */
export function sqlIndexName(databaseId: string, tableId: string, key: string): string {
  return `"tdbx:${databaseId}:${tableId}:${key}"`;
}

const META_SQL: Record<string, string> = {
  $id: 'id',
  $sequence: 'seq',
  $createdAt: 'created_at',
  $updatedAt: 'updated_at',
};

/**
 * An expression index over the row JSON for an Appwrite `key`/`unique` index, so filters, orders and counts on
 * indexed columns do not scan the table. The expression text equals the one row-query.ts emits (SQLite matches
 * expression indexes textually). Array columns are not indexed (they are queried through json_each).
 */
function createSqlIndex(
  databaseId: string,
  tableId: string,
  index: IndexRecord,
  t: TableSchema,
  collation: Collation,
): string {
  const parts = index.columns
    .filter((c) => META_SQL[c] || !t.columns.get(c)?.def.array)
    .map((c) => columnSql(t, c, collation));
  if (parts.length === 0) return '';
  return `CREATE INDEX IF NOT EXISTS ${sqlIndexName(databaseId, tableId, index.key)} ON tdb_rows (database_id, table_id, ${parts.join(', ')})`;
}

/**
 * The SQL expression a filter, an order or an index uses for attribute `c` of `t` (SQLite matches expression
 * indexes textually, so row-query.ts and the index builder must both call this): meta columns, or
 * `json_extract` of the row JSON, wrapped in `aw_fold` for string columns under utf8mb4_general_ci.
 */
export function columnSql(t: TableSchema, c: string, collation: Collation): string {
  if (c === '$id') return foldSql(collation, 'id');
  const meta = META_SQL[c];
  if (meta) return meta;
  const def = t.columns.get(c)?.def;
  const raw = `json_extract(data, '$."${c}"')`;
  return def && !def.array && isCollatedType(def.type) ? foldSql(collation, raw) : raw;
}

/**
 * Makes a data directory's derived state match `collation`: when it was last opened with another one (or before
 * collations existed, which was binary), the uniqueness entries and the SQL indexes of declared indexes are
 * rebuilt. Refuses (throws) to open under utf8mb4_general_ci when rows or unique values that were distinct in
 * binary now collide, naming them, rather than silently merging them.
 */
export function applyCollation(db: Database, collation: Collation): void {
  const stored = db.prepare("SELECT value FROM tdb_meta WHERE key = 'collation'").pluck().get() as
    | string
    | undefined;
  const hasRows = db.prepare('SELECT 1 FROM tdb_rows LIMIT 1').pluck().get() !== undefined;
  const previous = stored ?? (hasRows ? 'binary' : collation);
  if (previous === collation) {
    db.prepare("INSERT OR REPLACE INTO tdb_meta (key, value) VALUES ('collation', ?)").run(collation);
    return;
  }
  db.transaction(() => {
    if (collation === 'utf8mb4_general_ci') {
      const clash = db
        .prepare(
          'SELECT database_id, table_id, aw_fold(id) AS k, group_concat(id) AS ids FROM tdb_rows GROUP BY database_id, table_id, k HAVING count(*) > 1 LIMIT 1',
        )
        .get() as { database_id: string; table_id: string; ids: string } | undefined;
      if (clash) {
        throw new Error(
          `appwrite-local: cannot open this data directory with collation utf8mb4_general_ci: rows ${clash.ids} of ${clash.database_id}/${clash.table_id} differ only in case or accents (start with --collation binary)`,
        );
      }
    }
    const tables = db.prepare('SELECT database_id, id FROM tdb_tables').all() as {
      database_id: string;
      id: string;
    }[];
    const insert = db.prepare(
      'INSERT OR IGNORE INTO tdb_unique (database_id, table_id, index_key, value, row_id) VALUES (?, ?, ?, ?, ?)',
    );
    db.prepare('DELETE FROM tdb_unique').run();
    for (const { database_id, id } of tables) {
      const t = loadSchemaForRebuild(db, database_id, id);
      for (const index of t.indexes) {
        db.exec(`DROP INDEX IF EXISTS ${sqlIndexName(database_id, id, index.key)}`);
        const sql = createSqlIndex(database_id, id, index, t, collation);
        if (sql) db.exec(sql);
        if (index.type !== 'unique') continue;
        const rows = db
          .prepare('SELECT id, data FROM tdb_rows WHERE database_id = ? AND table_id = ?')
          .all(database_id, id) as { id: string; data: string }[];
        for (const r of rows) {
          const value = uniqueValue(index, r.id, JSON.parse(r.data) as Record<string, unknown>, collation);
          if (value === null) continue;
          if (insert.run(database_id, id, index.key, value, r.id).changes === 0) {
            throw new Error(
              `appwrite-local: cannot open this data directory with collation ${collation}: unique index ${database_id}/${id}/${index.key} holds values that collide (${value}) (start with --collation ${previous})`,
            );
          }
        }
      }
    }
    db.prepare("INSERT OR REPLACE INTO tdb_meta (key, value) VALUES ('collation', ?)").run(collation);
  })();
}

/** Columns and indexes of one table, read directly (the schema cache does not exist yet). */
function loadSchemaForRebuild(db: Database, databaseId: string, tableId: string): TableSchema {
  const columns = new Map<string, ColumnRecord>();
  for (const c of db
    .prepare('SELECT key, spec FROM tdb_columns WHERE database_id = ? AND table_id = ? ORDER BY position')
    .all(databaseId, tableId) as { key: string; spec: string }[]) {
    columns.set(c.key, { def: JSON.parse(c.spec) as ColumnDef, createdAt: 0, updatedAt: 0 });
  }
  const indexes = (
    db
      .prepare(
        'SELECT key, type, columns, orders, lengths FROM tdb_indexes WHERE database_id = ? AND table_id = ?',
      )
      .all(databaseId, tableId) as {
      key: string;
      type: IndexRecord['type'];
      columns: string;
      orders: string;
      lengths: string;
    }[]
  ).map((i) => ({
    key: i.key,
    type: i.type,
    columns: JSON.parse(i.columns) as string[],
    orders: JSON.parse(i.orders) as string[],
    lengths: JSON.parse(i.lengths) as number[],
    createdAt: 0,
    updatedAt: 0,
  }));
  return {
    databaseId,
    id: tableId,
    name: tableId,
    enabled: true,
    rowSecurity: false,
    permissions: [],
    createdAt: 0,
    updatedAt: 0,
    columns,
    indexes,
  };
}

/** Planner statistics: rows assumed in `tdb_rows`, per database, per table. */
const STAT_PREFIX = '1000000 100000 10000';
/** Rows assumed to share the values of the first 1, 2, 3 … indexed columns of one table (then 2). */
const STAT_PER_COLUMN = [100, 10, 5, 3];

/**
 * Writes fixed `sqlite_stat1` statistics for `tdb_rows` and reloads them, so the query planner uses the
 * expression indexes of declared `key`/`unique` indexes. Without statistics SQLite assumes an equality on the
 * first column of an index matches about 10 rows, so `database_id = ? AND table_id = ?` on the (covering,
 * WITHOUT ROWID) primary key looks cheaper than any secondary index and every filtered list scans the whole
 * table. These figures say the opposite, as real statistics of a large table would: a table holds many rows
 * (10,000), an equality on the first indexed column keeps about 1 % of them (100), each further column
 * narrows that. Fixed figures keep plans stable (no `ANALYZE` of live data, no plan flips as tables grow);
 * idempotent; called when the schema store opens (which upgrades data directories created before) and after
 * every index is created (`DROP INDEX` removes an index's row itself).
 */
export function syncRowIndexStats(db: Database): void {
  db.transaction(() => {
    // Creates sqlite_stat1 when missing (the name is reserved: CREATE TABLE is refused) and analyzes nothing.
    db.exec('ANALYZE sqlite_schema');
    db.prepare("DELETE FROM sqlite_stat1 WHERE tbl = 'tdb_rows'").run();
    const insert = db.prepare("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('tdb_rows', ?, ?)");
    // The WITHOUT ROWID primary key is recorded under the table's own name, as ANALYZE does.
    insert.run('tdb_rows', `${STAT_PREFIX} 1`);
    insert.run('tdb_rows_seq', `${STAT_PREFIX} 1`);
    insert.run('tdb_rows_fold', `${STAT_PREFIX} 1`);
    for (const { name } of db.pragma('index_list(tdb_rows)') as { name: string }[]) {
      if (!name.startsWith('tdbx:')) continue;
      // (database_id, table_id, …expressions)
      const columns = (db.pragma(`index_info("${name}")`) as unknown[]).length;
      const stat = [STAT_PREFIX];
      for (let i = 2; i < columns; i++) stat.push(String(STAT_PER_COLUMN[i - 2] ?? 2));
      insert.run(name, stat.join(' '));
    }
    // Reloads the statistics into the planner.
    db.exec('ANALYZE sqlite_schema');
  })();
}
