import { Query } from 'node-appwrite';
import { errors } from '../../errors.ts';
import {
  type Condition,
  LIST_DEFAULT_LIMIT,
  LIST_MAX_LIMIT,
  type ListOptions,
  type Row,
} from '../../ports/table-store.ts';

/** Metadata keys Appwrite adds that the port does not expose. */
const HIDDEN_META = new Set(['$tableId', '$databaseId', '$collectionId']);

/** Metadata columns always returned with a `select`. */
const META_SELECT = ['$id', '$sequence', '$createdAt', '$updatedAt', '$permissions'] as const;

/**
 * An Appwrite row as a port {@link Row}: `$sequence` (a string in response format 1.9.x) becomes a number,
 * `$tableId`/`$databaseId` are dropped, `$permissions` defaults to `[]`, and `bigint` values (json-bigint for
 * integers beyond 2^53) become numbers when exact or strings otherwise.
 */
export function fromAppwriteRow(raw: unknown): Row {
  const source = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (HIDDEN_META.has(key)) continue;
    out[key] = typeof value === 'bigint' ? bigintToJson(value) : value;
  }
  const seq = source.$sequence;
  out.$sequence = typeof seq === 'number' ? seq : Number(seq ?? 0);
  if (!Array.isArray(out.$permissions)) out.$permissions = [];
  return out as Row;
}

function bigintToJson(value: bigint): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

/** Strips `$`-metadata from data before a write (the port forbids writing metadata through data). */
export function toAppwriteData(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!key.startsWith('$') && value !== undefined) out[key] = value;
  }
  return out;
}

function conditionToQuery(c: Condition): string {
  switch (c.op) {
    case 'eq': {
      const values = Array.isArray(c.value) ? [...c.value] : [c.value];
      if (values.length === 0) throw errors.invalidInput(`eq on ${c.field} needs at least one value`);
      // Query.equal(field, [null]) is not valid Appwrite; an eq null is an isNull.
      if (values.length === 1 && values[0] === null) return Query.isNull(c.field);
      return Query.equal(c.field, values as (string | number | boolean)[]);
    }
    case 'ne':
      return c.value === null ? Query.isNotNull(c.field) : Query.notEqual(c.field, c.value);
    case 'lt':
      return Query.lessThan(c.field, c.value);
    case 'lte':
      return Query.lessThanEqual(c.field, c.value);
    case 'gt':
      return Query.greaterThan(c.field, c.value);
    case 'gte':
      return Query.greaterThanEqual(c.field, c.value);
    case 'between':
      return Query.between(c.field, c.value[0], c.value[1]);
    case 'isNull':
      return Query.isNull(c.field);
    case 'isNotNull':
      return Query.isNotNull(c.field);
    case 'startsWith':
      return Query.startsWith(c.field, c.value);
    case 'contains':
      return Query.contains(c.field, [c.value] as string[]);
  }
}

/**
 * The Appwrite query strings for a port list: filters, `orderBy` then `$sequence` ascending (stable paging),
 * `cursorAfter`, `select` (plus metadata), and a limit of `limit + 1` so the adapter can tell whether a next
 * page exists without a count.
 */
export function listQueries(options: ListOptions): { queries: string[]; limit: number } {
  const limit = Math.min(Math.max(1, Math.floor(options.limit ?? LIST_DEFAULT_LIMIT)), LIST_MAX_LIMIT);
  const queries = (options.where ?? []).map(conditionToQuery);
  for (const { field, direction } of options.orderBy ?? []) {
    queries.push(direction === 'asc' ? Query.orderAsc(field) : Query.orderDesc(field));
  }
  if (!(options.orderBy ?? []).some((o) => o.field === '$sequence'))
    queries.push(Query.orderAsc('$sequence'));
  if (options.cursor !== undefined) queries.push(Query.cursorAfter(options.cursor));
  if (options.select) queries.push(Query.select([...new Set([...META_SELECT, ...options.select])]));
  queries.push(Query.limit(limit + 1));
  return { queries, limit };
}

/** Fills columns asked for in `select` that Appwrite omitted (unset) with `null`, like the memory adapter. */
export function fillSelected(row: Row, select: readonly string[] | undefined): Row {
  if (!select) return row;
  for (const key of select) if (!(key in row)) (row as Record<string, unknown>)[key] = null;
  return row;
}
