/**
 * Compiles parsed queries into SQL over `tdb_rows`: filters on `json_extract(data, …)` or the meta columns,
 * ordering with `$sequence` as the final tie-breaker (so pages are stable), keyset cursors, offset and limit.
 */
import type { Database } from 'better-sqlite3';
import { AppwriteError } from '../errors.ts';
import {
  type AttributeInfo,
  type AttributeKind,
  type Filter,
  type ParsedQueries,
  queryError,
} from '../queries.ts';
import { formatDate } from '../wire.ts';
import { type Collation, comparisonKey, DEFAULT_COLLATION, isCollatedType } from './collation.ts';
import { fromDb, type StoredRow } from './row-store.ts';
import { columnSql, type TableSchema } from './schema-store.ts';

const META: Record<string, { sql: string; info: AttributeInfo; kind: 'id' | 'seq' | 'time' }> = {
  $id: { sql: 'id', info: { kind: 'string', array: false }, kind: 'id' },
  $sequence: { sql: 'seq', info: { kind: 'integer', array: false }, kind: 'seq' },
  $createdAt: { sql: 'created_at', info: { kind: 'datetime', array: false }, kind: 'time' },
  $updatedAt: { sql: 'updated_at', info: { kind: 'datetime', array: false }, kind: 'time' },
};

/** The attributes of a table a query may name: its columns and the meta attributes. */
export function rowAttributes(t: TableSchema): (attribute: string) => AttributeInfo | undefined {
  return (attribute) => {
    const meta = META[attribute];
    if (meta) return meta.info;
    const col = t.columns.get(attribute)?.def;
    if (!col) return undefined;
    const kind: AttributeKind =
      col.type === 'integer'
        ? 'integer'
        : col.type === 'double'
          ? 'number'
          : col.type === 'boolean'
            ? 'boolean'
            : col.type === 'datetime'
              ? 'datetime'
              : 'string';
    return { kind, array: col.array };
  };
}

/** The most rows a list's `total` counts (APP_LIMIT_COUNT). */
export const TOTAL_LIMIT = 5000;

/** Filters an index can serve. */
const SELECTIVE = new Set([
  'equal',
  'lessThan',
  'lessThanEqual',
  'greaterThan',
  'greaterThanEqual',
  'between',
]);

/** What compiling a list needs besides the queries: the table and how its strings compare. */
interface Compile {
  t: TableSchema;
  collation: Collation;
}

/** The SQL of an attribute (folded for collated strings, matching the expression indexes). */
function expr(c: Compile, attribute: string): string {
  return columnSql(c.t, attribute, c.collation);
}

/** Whether `attribute` compares under the collation (`$id` and non-array string columns). */
function collated(c: Compile, attribute: string): boolean {
  if (attribute === '$id') return true;
  const def = c.t.columns.get(attribute)?.def;
  return def !== undefined && !def.array && isCollatedType(def.type);
}

/** Converts a validated query value into what SQLite compares the stored value with. */
function sqlValue(c: Compile, attribute: string, info: AttributeInfo, v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (info.kind === 'datetime' && typeof v === 'number') return META[attribute] ? v : formatDate(v);
  return collated(c, attribute) ? comparisonKey(c.collation, v) : v;
}

function compileFilter(c: Compile, f: Filter, params: unknown[]): string {
  if (f.kind === 'and' || f.kind === 'or') {
    return `(${f.children.map((child) => compileFilter(c, child, params)).join(f.kind === 'and' ? ' AND ' : ' OR ')})`;
  }
  const e = expr(c, f.attribute);
  const vals = f.values.map((v) => sqlValue(c, f.attribute, f.info, v));
  const add = (...v: unknown[]) => {
    params.push(...v);
    return v.map(() => '?').join(', ');
  };
  const each = (v: unknown) => {
    params.push(v);
    // Not `EXISTS (… json_each … WHERE value = ?)`: SQLite 3.51 turns that EXISTS into a join, which repeats a
    // row whose array holds the value twice once OFFSET is applied (found by the query-model property test).
    return `? IN (SELECT value FROM json_each(data, '$."${f.attribute}"'))`;
  };
  switch (f.method) {
    case 'equal':
      return `${e} IN (${add(...vals)})`;
    case 'notEqual':
      return `${e} NOT IN (${add(...vals)})`;
    case 'lessThan':
      return `${e} < ${add(vals[0])}`;
    case 'lessThanEqual':
      return `${e} <= ${add(vals[0])}`;
    case 'greaterThan':
      return `${e} > ${add(vals[0])}`;
    case 'greaterThanEqual':
      return `${e} >= ${add(vals[0])}`;
    case 'between':
      return `${e} BETWEEN ${add(vals[0])} AND ${add(vals[1])}`;
    case 'notBetween':
      return `(${e} < ${add(vals[0])} OR ${e} > ${add(vals[1])})`;
    case 'isNull':
    case 'notExists':
      return `${e} IS NULL`;
    case 'isNotNull':
    case 'exists':
      return `${e} IS NOT NULL`;
    case 'startsWith':
      return `substr(${e}, 1, length(${add(vals[0])})) = ${add(vals[0])}`;
    case 'notStartsWith':
      return `substr(${e}, 1, length(${add(vals[0])})) != ${add(vals[0])}`;
    case 'endsWith':
      return `substr(${e}, -max(length(${add(vals[0])}), 1)) = ${add(vals[0])}`;
    case 'notEndsWith':
      return `substr(${e}, -max(length(${add(vals[0])}), 1)) != ${add(vals[0])}`;
    case 'contains':
    case 'containsAny':
      return f.info.array
        ? `(${vals.map(each).join(' OR ')})`
        : `(${vals.map((v) => `instr(${e}, ${add(v)}) > 0`).join(' OR ')})`;
    case 'containsAll':
      return f.info.array
        ? `(${vals.map(each).join(' AND ')})`
        : `(${vals.map((v) => `instr(${e}, ${add(v)}) > 0`).join(' AND ')})`;
    case 'notContains':
      return f.info.array
        ? `NOT (${vals.map(each).join(' OR ')})`
        : `(${e} IS NOT NULL AND NOT (${vals.map((v) => `instr(${e}, ${add(v)}) > 0`).join(' OR ')}))`;
    case 'search':
    case 'notSearch': {
      const words = String(vals[0]).toLowerCase().split(/\s+/).filter(Boolean);
      const all = words.length ? words.map((w) => `instr(lower(${e}), ${add(w)}) > 0`).join(' AND ') : '1';
      return f.method === 'search' ? `(${all})` : `(${e} IS NOT NULL AND NOT (${all}))`;
    }
    default:
      throw queryError(`Invalid query method: ${f.method}`);
  }
}

/**
 * Runs a list over one table: `total` counts rows matching the filters (0 when `withTotal` is false), `rows`
 * is the requested page. `readableBy` (permission strings) restricts both to rows carrying one of them (row
 * security for a user without the table's read permission); undefined = every row.
 */
export function listRows(
  db: Database,
  t: TableSchema,
  q: ParsedQueries,
  withTotal: boolean,
  readableBy?: readonly string[],
  collation: Collation = DEFAULT_COLLATION,
): { total: number; rows: StoredRow[] } {
  const c: Compile = { t, collation };
  const params: unknown[] = [t.databaseId, t.id];
  let where = 'database_id = ? AND table_id = ?';
  for (const f of q.filters) where += ` AND ${compileFilter(c, f, params)}`;
  if (readableBy) {
    // Row security: only rows whose $permissions hold one of these permission strings (e.g. `read("users")`).
    where +=
      readableBy.length === 0
        ? ' AND 0'
        : ` AND EXISTS (SELECT 1 FROM json_each(tdb_rows.permissions) WHERE json_each.value IN (${readableBy.map(() => '?').join(', ')}))`;
    params.push(...readableBy);
  }
  const filterParams = [...params];

  const orders = [...q.orders];
  if (!orders.some((o) => o.attribute === '$sequence'))
    orders.push({ attribute: '$sequence', direction: 'ASC' });

  let reverse = false;
  let cursorSql = '';
  if (q.cursor) {
    const cursorRow = db
      .prepare(
        `SELECT id, seq, data, permissions, created_at, updated_at FROM tdb_rows WHERE database_id = ? AND table_id = ? AND ${expr(c, '$id')} = ?`,
      )
      .get(t.databaseId, t.id, comparisonKey(collation, q.cursor.id)) as
      | Parameters<typeof fromDb>[0]
      | undefined;
    if (!cursorRow)
      throw new AppwriteError(
        'general_cursor_not_found',
        `Cursor not found: Row '${q.cursor.id}' does not exist.`,
      );
    const cursor = fromDb(cursorRow);
    reverse = q.cursor.direction === 'before';
    // Keyset: (o1 > v1) OR (o1 = v1 AND o2 > v2) OR … with > flipped for DESC and for cursorBefore.
    const ors: string[] = [];
    orders.forEach((o, i) => {
      const parts: string[] = [];
      for (let j = 0; j < i; j++) {
        const prev = orders[j] as (typeof orders)[number];
        parts.push(`${expr(c, prev.attribute)} = ?`);
        params.push(cursorKey(c, prev.attribute, cursor));
      }
      const ascending = (o.direction === 'ASC') !== reverse;
      parts.push(`${expr(c, o.attribute)} ${ascending ? '>' : '<'} ?`);
      params.push(cursorKey(c, o.attribute, cursor));
      ors.push(`(${parts.join(' AND ')})`);
    });
    cursorSql = ` AND (${ors.join(' OR ')})`;
  }
  // When a filter can use a declared index, keep SQLite from walking the $sequence index instead (without
  // statistics it prefers an index that yields the order, scanning far more rows): `+expr` disables that.
  const leading = new Set(t.indexes.map((i) => i.columns[0]));
  const selective = q.filters.some(
    (f) => f.kind === 'cmp' && leading.has(f.attribute) && SELECTIVE.has(f.method),
  );
  const orderSql = orders
    .map(
      (o) =>
        `${selective ? '+' : ''}${expr(c, o.attribute)} ${(o.direction === 'ASC') !== reverse ? 'ASC' : 'DESC'}`,
    )
    .join(', ');
  params.push(q.limit, q.offset);
  const rows = (
    db
      .prepare(
        `SELECT id, seq, data, permissions, created_at, updated_at FROM tdb_rows WHERE ${where}${cursorSql} ORDER BY ${orderSql} LIMIT ? OFFSET ?`,
      )
      .all(...params) as Parameters<typeof fromDb>[0][]
  ).map(fromDb);
  if (reverse) rows.reverse();
  // Appwrite counts at most APP_LIMIT_COUNT (5,000) rows (Documents/XList.php:208).
  const total = withTotal
    ? (db
        .prepare(`SELECT COUNT(*) FROM (SELECT 1 FROM tdb_rows WHERE ${where} LIMIT ${TOTAL_LIMIT})`)
        .pluck()
        .get(...filterParams) as number)
    : 0;
  return { total, rows };
}

/** A cursor row's value of an order attribute, as the order compares it. */
function cursorKey(c: Compile, attribute: string, row: StoredRow): unknown {
  const v = cursorValue(attribute, row);
  return collated(c, attribute) ? comparisonKey(c.collation, v) : v;
}

function cursorValue(attribute: string, row: StoredRow): unknown {
  let v: unknown;
  if (attribute === '$id') v = row.id;
  else if (attribute === '$sequence') v = row.seq;
  else if (attribute === '$createdAt') v = row.createdAt;
  else if (attribute === '$updatedAt') v = row.updatedAt;
  else v = row.data[attribute];
  if (v === null || v === undefined) {
    throw new AppwriteError(
      'database_query_order_null',
      `The order column '${attribute}' had a null value. Cursor pagination requires all rows order column values are non-null.`,
    );
  }
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}
