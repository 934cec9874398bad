/**
 * Opens the project's SQLite database (better-sqlite3) and creates the core tables. Timestamps are epoch
 * milliseconds (INTEGER); JSON columns are TEXT. Modules add their own tables with their own prefix.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { registerFold } from './tablesdb/collation.ts';

/** The file name inside `--data DIR`. */
export const DB_FILE = 'appwrite-local.sqlite';

/** Opens `:memory:` or `<dataDir>/appwrite-local.sqlite` (WAL) and applies the core schema. */
export function openDatabase(options: { memory: boolean; dataDir?: string | undefined }): Database.Database {
  let db: Database.Database;
  if (options.memory || !options.dataDir) {
    db = new Database(':memory:');
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    db = new Database(join(options.dataDir, DB_FILE));
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  // Before the schema: the row-id index below is built over it (see tablesdb/collation.ts).
  registerFold(db);
  db.exec(CORE_SCHEMA);
  return db;
}

const CORE_SCHEMA = `
CREATE TABLE IF NOT EXISTS tdb_databases (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tdb_tables (
  database_id TEXT NOT NULL REFERENCES tdb_databases(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  row_security INTEGER NOT NULL DEFAULT 0,
  permissions TEXT NOT NULL DEFAULT '[]',
  -- the last $sequence handed out in this table (Appwrite sequences are per table, from 1)
  last_sequence INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (database_id, id)
);
CREATE TABLE IF NOT EXISTS tdb_columns (
  database_id TEXT NOT NULL,
  table_id TEXT NOT NULL,
  key TEXT NOT NULL,
  -- ColumnDef as JSON (type, format, size, min, max, elements, required, array, default)
  spec TEXT NOT NULL,
  position INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (database_id, table_id, key),
  FOREIGN KEY (database_id, table_id) REFERENCES tdb_tables(database_id, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS tdb_indexes (
  database_id TEXT NOT NULL,
  table_id TEXT NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  columns TEXT NOT NULL,
  orders TEXT NOT NULL,
  lengths TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (database_id, table_id, key),
  FOREIGN KEY (database_id, table_id) REFERENCES tdb_tables(database_id, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS tdb_rows (
  database_id TEXT NOT NULL,
  table_id TEXT NOT NULL,
  id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data TEXT NOT NULL,
  permissions TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (database_id, table_id, id),
  FOREIGN KEY (database_id, table_id) REFERENCES tdb_tables(database_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS tdb_rows_seq ON tdb_rows (database_id, table_id, seq);
-- Row ids compared as utf8mb4_general_ci compares them (aw_fold, registered before this runs).
CREATE INDEX IF NOT EXISTS tdb_rows_fold ON tdb_rows (database_id, table_id, aw_fold(id));
-- Server-wide settings of a data directory (e.g. the collation its unique entries were built with).
CREATE TABLE IF NOT EXISTS tdb_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- One entry per row per unique index (rows with a null in an indexed column are exempt, as in MariaDB).
CREATE TABLE IF NOT EXISTS tdb_unique (
  database_id TEXT NOT NULL,
  table_id TEXT NOT NULL,
  index_key TEXT NOT NULL,
  value TEXT NOT NULL,
  row_id TEXT NOT NULL,
  PRIMARY KEY (database_id, table_id, index_key, value),
  FOREIGN KEY (database_id, table_id, row_id) REFERENCES tdb_rows(database_id, table_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tdb_unique_row ON tdb_unique (database_id, table_id, row_id);
CREATE TABLE IF NOT EXISTS tdb_transactions (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  -- StagedOperation[] as JSON
  operations TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tdb_transactions_expires ON tdb_transactions (expires_at);
`;
