/**
 * String comparison of row ids, unique indexes and filters (platform notes §F1). Appwrite on MariaDB creates its
 * tables without `COLLATE`, so utf8mb4's default `utf8mb4_general_ci` applies: `Order-1` and `order-1` are the
 * same id, a unique index refuses `Ünique` after `unique`, `equal('status', ['PENDING'])` matches `pending`, and
 * trailing spaces are ignored (PAD SPACE). `binary` compares code points exactly (the emulator's old behaviour).
 *
 * SQLite has no such collation and better-sqlite3 cannot register one, so the server registers a deterministic
 * SQL function `aw_fold(text)` = {@link foldGeneralCi} and, in `utf8mb4_general_ci` mode, compares
 * `aw_fold(expr)` with folded values. The row-id index and the expression indexes of declared key/unique indexes
 * are built over the same `aw_fold(…)` expressions, so folded lookups stay indexed. `aw_fold` never depends on the
 * mode, so an index built under one mode stays valid (merely unused) under the other.
 */
import type { Database } from 'better-sqlite3';

/** The two comparison modes of the local server. */
export type Collation = 'utf8mb4_general_ci' | 'binary';

/** Accepted values, for option and flag validation. */
export const COLLATIONS: readonly Collation[] = ['utf8mb4_general_ci', 'binary'];

/** The default: what a self-hosted Appwrite 1.9.5 on MariaDB does. */
export const DEFAULT_COLLATION: Collation = 'utf8mb4_general_ci';

/** The SQL name of the fold function. */
export const FOLD_SQL = 'aw_fold';

const MARKS = /\p{M}+/gu;
const TRAILING_SPACES = / +$/;

/**
 * The comparison key of `utf8mb4_general_ci`: accents stripped (canonical decomposition without combining
 * marks), `ß` as `s`, upper-cased (general_ci weighs a letter by its upper-case form, so `_` sorts after letters
 * as it does in MariaDB), trailing spaces removed. Known gaps against MariaDB's tables: letters without a
 * decomposition (`Æ`, `Ø`, `Đ`) stay distinct from their base letters, and characters outside the BMP compare
 * by code point rather than all alike.
 */
export function foldGeneralCi(s: string): string {
  return s.normalize('NFD').replace(MARKS, '').replace(/ß/g, 's').toUpperCase().replace(TRAILING_SPACES, '');
}

/** Registers `aw_fold` on a database connection (before any statement that uses it). */
export function registerFold(db: Database): void {
  db.function(FOLD_SQL, { deterministic: true }, (v: unknown) =>
    typeof v === 'string' ? foldGeneralCi(v) : v,
  );
}

/** The comparison key of a string under `collation` (other values unchanged). */
export function comparisonKey(collation: Collation, v: unknown): unknown {
  return collation === 'utf8mb4_general_ci' && typeof v === 'string' ? foldGeneralCi(v) : v;
}

/** Wraps a SQL expression of a string value so it compares under `collation`. */
export function foldSql(collation: Collation, sql: string): string {
  return collation === 'utf8mb4_general_ci' ? `${FOLD_SQL}(${sql})` : sql;
}

/** Whether a column type holds strings that the collation applies to (not datetimes, which are ISO text). */
export function isCollatedType(type: string): boolean {
  return type !== 'integer' && type !== 'double' && type !== 'boolean' && type !== 'datetime';
}
