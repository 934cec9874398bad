/**
 * The Query language as the SDKs serialise it (`{"method":"equal","attribute":"status","values":["a"]}`):
 * parsing and validation against the attributes a resource exposes. Two back ends evaluate the result:
 * SQL for rows (tablesdb/row-query.ts) and {@link applyQueries} for small in-memory lists (databases, tables,
 * columns, teams, users, executions …). Bad queries throw 400 `general_query_invalid`.
 */
import { AppwriteError, invalidArgument } from './errors.ts';
import { parseDate } from './wire.ts';

/** How an attribute's values are typed. */
export type AttributeKind = 'string' | 'integer' | 'number' | 'boolean' | 'datetime';

/** What a query may reference. */
export interface AttributeInfo {
  kind: AttributeKind;
  array: boolean;
}

/** Resolves an attribute name (e.g. `status`, `$createdAt`) to its type; undefined = not queryable. */
export type AttributeResolver = (attribute: string) => AttributeInfo | undefined;

/** A comparison on one attribute; `values` are validated (datetimes as epoch ms). */
export interface Comparison {
  kind: 'cmp';
  method: string;
  attribute: string;
  info: AttributeInfo;
  values: unknown[];
}

/** A filter tree. */
export type Filter = Comparison | { kind: 'and'; children: Filter[] } | { kind: 'or'; children: Filter[] };

/** Everything a list request asked for. */
export interface ParsedQueries {
  filters: Filter[];
  orders: { attribute: string; direction: 'ASC' | 'DESC' }[];
  limit: number;
  offset: number;
  cursor?: { direction: 'after' | 'before'; id: string };
  /** Column keys to return; undefined = all. */
  select?: string[];
}

/** Defaults and caps of list requests. */
export const QUERY_LIMITS = {
  defaultLimit: 25,
  maxQueries: 100,
  maxQueryLength: 4096,
  maxValues: 500,
};

const COMPARISONS = new Set([
  'equal',
  'notEqual',
  'lessThan',
  'lessThanEqual',
  'greaterThan',
  'greaterThanEqual',
  'between',
  'notBetween',
  'isNull',
  'isNotNull',
  'exists',
  'notExists',
  'startsWith',
  'notStartsWith',
  'endsWith',
  'notEndsWith',
  'contains',
  'containsAny',
  'containsAll',
  'notContains',
  'search',
  'notSearch',
]);

const TIME_SHORTCUTS: Record<string, [attribute: string, method: string]> = {
  createdBefore: ['$createdAt', 'lessThan'],
  createdAfter: ['$createdAt', 'greaterThan'],
  createdBetween: ['$createdAt', 'between'],
  updatedBefore: ['$updatedAt', 'lessThan'],
  updatedAfter: ['$updatedAt', 'greaterThan'],
  updatedBetween: ['$updatedAt', 'between'],
};

const ARRAY_METHODS = new Set([
  'contains',
  'containsAny',
  'containsAll',
  'notContains',
  'isNull',
  'isNotNull',
  'exists',
  'notExists',
]);

/** A 400 `general_query_invalid` with Appwrite's `Invalid query: …` prefix. */
export function queryError(detail: string): AppwriteError {
  return new AppwriteError('general_query_invalid', `Invalid query: ${detail}`);
}

/**
 * Parses the `queries` parameter (array of JSON strings, or absent) against the attributes a resource exposes.
 * `allowSelect` is false where Appwrite rejects `select` (list endpoints other than rows).
 */
export function parseQueries(
  raw: unknown,
  resolve: AttributeResolver,
  options: { allowSelect?: boolean } = {},
): ParsedQueries {
  const out: ParsedQueries = { filters: [], orders: [], limit: QUERY_LIMITS.defaultLimit, offset: 0 };
  if (raw === undefined || raw === null || raw === '') return out;
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list)) throw queryError('Syntax error');
  if (list.length > QUERY_LIMITS.maxQueries)
    throw queryError(`Too many queries (max ${QUERY_LIMITS.maxQueries})`);
  for (const item of list) {
    const q = decode(item);
    const method = q.method;
    if (method === 'limit') out.limit = limitValue(q);
    else if (method === 'offset') out.offset = intValue(q, 0, Number.MAX_SAFE_INTEGER, 'offset');
    else if (method === 'cursorAfter' || method === 'cursorBefore') {
      const id = q.values?.[0];
      if (typeof id !== 'string' || id.length === 0)
        throw queryError('Invalid cursor: Cursor must be a string');
      out.cursor = { direction: method === 'cursorAfter' ? 'after' : 'before', id };
    } else if (method === 'orderAsc' || method === 'orderDesc') {
      const attribute = q.attribute ?? '';
      const info = resolve(attribute);
      if (!info) throw queryError(`Attribute not found in schema: ${attribute}`);
      if (info.array) throw queryError(`Cannot order by array attribute: ${attribute}`);
      out.orders.push({ attribute, direction: method === 'orderAsc' ? 'ASC' : 'DESC' });
    } else if (method === 'orderRandom') {
      throw queryError('Method not supported: orderRandom');
    } else if (method === 'select') {
      // A list's Queries param validator refuses it: 400 general_argument_invalid (DatabasesBase.php:1210, 2500).
      if (options.allowSelect === false)
        throw invalidArgument('Invalid `queries` param: Invalid query method: select');
      const keys = q.values ?? [];
      if (!keys.every((k) => typeof k === 'string')) throw queryError('Invalid select values');
      out.select = [...(out.select ?? []), ...(keys as string[])];
    } else {
      out.filters.push(parseFilter(q, resolve, 0));
    }
  }
  return out;
}

interface RawQuery {
  method: string;
  attribute?: string | undefined;
  values?: unknown[] | undefined;
}

function decode(item: unknown): RawQuery {
  let q: unknown = item;
  if (typeof item === 'string') {
    if (item.length > QUERY_LIMITS.maxQueryLength) throw queryError('Query too long');
    try {
      q = JSON.parse(item);
    } catch {
      throw queryError('Syntax error');
    }
  }
  if (typeof q !== 'object' || q === null || Array.isArray(q)) throw queryError('Syntax error');
  const { method, attribute, values } = q as Record<string, unknown>;
  if (typeof method !== 'string') throw queryError('Syntax error');
  if (attribute !== undefined && typeof attribute !== 'string') throw queryError('Syntax error');
  if (values !== undefined && !Array.isArray(values)) throw queryError('Syntax error');
  if (Array.isArray(values) && values.length > QUERY_LIMITS.maxValues) {
    // utopia's Query validator names the attribute (DatabasesBase.php:4309 asserts it).
    const name = typeof attribute === 'string' ? `: ${attribute}` : '';
    throw queryError(`Query on attribute has greater than ${QUERY_LIMITS.maxValues} values${name}`);
  }
  return { method, attribute: attribute as string | undefined, values: values as unknown[] | undefined };
}

/**
 * `limit`: utopia's Limit validator is `Range(1, PHP_INT_MAX)` (`Validator/Query/Limit.php:18,50`): no upper cap,
 * `limit(0)` refused.
 */
function limitValue(q: RawQuery): number {
  const v = q.values?.[0];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw queryError('Invalid limit: Value must be a valid range between 1 and 9,223,372,036,854,775,807');
  }
  return Math.min(v, Number.MAX_SAFE_INTEGER);
}

function intValue(q: RawQuery, min: number, max: number, name: string): number {
  const v = q.values?.[0];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw queryError(
      `Invalid ${name}: Value must be a valid range between ${min} and ${max.toLocaleString('en-US')}`,
    );
  }
  return v;
}

function parseFilter(q: RawQuery, resolve: AttributeResolver, depth: number): Filter {
  if (q.method === 'and' || q.method === 'or') {
    if (depth > 3) throw queryError('Maximum nesting depth exceeded');
    const children = (q.values ?? []).map((v) => parseFilter(decode(v), resolve, depth + 1));
    if (children.length === 0) throw queryError(`${q.method} queries require at least one query`);
    return q.method === 'and' ? { kind: 'and', children } : { kind: 'or', children };
  }
  let method = q.method;
  let attribute = q.attribute ?? '';
  const shortcut = TIME_SHORTCUTS[method];
  if (shortcut) [attribute, method] = shortcut;
  if (!COMPARISONS.has(method)) throw queryError(`Invalid query method: ${q.method}`);
  const info = resolve(attribute);
  if (!info) throw queryError(`Attribute not found in schema: ${attribute}`);
  if (info.array && !ARRAY_METHODS.has(method)) {
    throw queryError(`Cannot query ${method} on attribute "${attribute}" because it is an array.`);
  }
  const values = q.values ?? [];
  const arity = method === 'between' || method === 'notBetween' ? 2 : undefined;
  const noValues = ['isNull', 'isNotNull', 'exists', 'notExists'].includes(method);
  if (!noValues) {
    if (values.length === 0) throw queryError(`${method} queries require at least one value.`);
    if (arity && values.length !== arity) throw queryError(`${method} queries require exactly two values.`);
    if (
      !['equal', 'notEqual', 'contains', 'containsAny', 'containsAll', 'notContains'].includes(method) &&
      !arity
    ) {
      if (values.length !== 1) throw queryError(`${method} queries require exactly one value.`);
    }
  }
  const textual = ['startsWith', 'notStartsWith', 'endsWith', 'notEndsWith', 'search', 'notSearch'].includes(
    method,
  );
  if (textual && info.kind !== 'string') {
    throw queryError(`Cannot query ${method} on attribute "${attribute}" because it is not a string.`);
  }
  const contains = method.toLowerCase().includes('contains');
  const typed = noValues
    ? []
    : values.map((v) => {
        const t = contains && !info.array ? (typeof v === 'string' ? v : undefined) : typeValue(info.kind, v);
        if (t === undefined) throw queryError(`Query value is invalid for attribute "${attribute}"`);
        return t;
      });
  return { kind: 'cmp', method, attribute, info, values: typed };
}

function typeValue(kind: AttributeKind, v: unknown): unknown {
  switch (kind) {
    case 'integer':
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
      return undefined;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    case 'datetime':
      return typeof v === 'string' ? parseDate(v) : undefined;
    default:
      return typeof v === 'string' ? v : undefined;
  }
}

/**
 * Evaluates parsed queries over in-memory documents (API models): filters, order (then insertion order),
 * cursor (by `$id`), offset and limit. Returns the page and the total that matched the filters.
 */
export function applyQueries<T extends Record<string, unknown>>(
  docs: readonly T[],
  q: ParsedQueries,
): { total: number; page: T[] } {
  const matched = docs.filter((d) => q.filters.every((f) => matches(f, d)));
  const indexed = matched.map((doc, i) => ({ doc, i }));
  indexed.sort((a, b) => {
    for (const o of q.orders) {
      const c = compare(a.doc[o.attribute], b.doc[o.attribute]);
      if (c !== 0) return o.direction === 'ASC' ? c : -c;
    }
    return a.i - b.i;
  });
  let ordered = indexed.map((x) => x.doc);
  if (q.cursor) {
    // Models without `$id` (columns) are addressed by their `key`, as Appwrite's attribute cursors are.
    const at = ordered.findIndex((d) => (d.$id ?? d.key) === q.cursor?.id);
    if (at < 0) throw new AppwriteError('general_cursor_not_found', `Cursor "${q.cursor.id}" not found.`);
    ordered = q.cursor.direction === 'after' ? ordered.slice(at + 1) : ordered.slice(0, at);
    if (q.cursor.direction === 'before') {
      ordered = ordered.slice(Math.max(0, ordered.length - q.offset - q.limit), ordered.length - q.offset);
      return { total: matched.length, page: ordered };
    }
  }
  return { total: matched.length, page: ordered.slice(q.offset, q.offset + q.limit) };
}

function toComparable(info: AttributeInfo, v: unknown): unknown {
  if (info.kind === 'datetime' && typeof v === 'string') return parseDate(v) ?? v;
  return v;
}

function matches(f: Filter, doc: Record<string, unknown>): boolean {
  if (f.kind === 'and') return f.children.every((c) => matches(c, doc));
  if (f.kind === 'or') return f.children.some((c) => matches(c, doc));
  const raw = doc[f.attribute];
  const v = Array.isArray(raw) ? raw : toComparable(f.info, raw);
  const [a, b] = f.values;
  switch (f.method) {
    case 'equal':
      return v !== null && v !== undefined && f.values.some((x) => x === v);
    case 'notEqual':
      return v !== null && v !== undefined && f.values.every((x) => x !== v);
    case 'lessThan':
      return v !== null && v !== undefined && compare(v, a) < 0;
    case 'lessThanEqual':
      return v !== null && v !== undefined && compare(v, a) <= 0;
    case 'greaterThan':
      return v !== null && v !== undefined && compare(v, a) > 0;
    case 'greaterThanEqual':
      return v !== null && v !== undefined && compare(v, a) >= 0;
    case 'between':
      return v !== null && v !== undefined && compare(v, a) >= 0 && compare(v, b) <= 0;
    case 'notBetween':
      return v !== null && v !== undefined && (compare(v, a) < 0 || compare(v, b) > 0);
    case 'isNull':
    case 'notExists':
      return v === null || v === undefined;
    case 'isNotNull':
    case 'exists':
      return v !== null && v !== undefined;
    case 'startsWith':
      return typeof v === 'string' && v.startsWith(a as string);
    case 'notStartsWith':
      return typeof v === 'string' && !v.startsWith(a as string);
    case 'endsWith':
      return typeof v === 'string' && v.endsWith(a as string);
    case 'notEndsWith':
      return typeof v === 'string' && !v.endsWith(a as string);
    case 'contains':
    case 'containsAny':
      return Array.isArray(v)
        ? f.values.some((x) => v.includes(x))
        : typeof v === 'string' && f.values.some((x) => v.includes(x as string));
    case 'containsAll':
      return Array.isArray(v)
        ? f.values.every((x) => v.includes(x))
        : typeof v === 'string' && f.values.every((x) => v.includes(x as string));
    case 'notContains':
      return Array.isArray(v)
        ? !f.values.some((x) => v.includes(x))
        : typeof v === 'string' && !f.values.some((x) => v.includes(x as string));
    case 'search':
      return typeof v === 'string' && words(a as string).every((w) => v.toLowerCase().includes(w));
    case 'notSearch':
      return typeof v === 'string' && !words(a as string).every((w) => v.toLowerCase().includes(w));
    default:
      return false;
  }
}

function words(s: string): string[] {
  return s
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/** Total order used for sorting: null first (as MariaDB sorts NULL in ASC), then numbers/strings/booleans. */
export function compare(a: unknown, b: unknown): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) return an && bn ? 0 : an ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const as = String(a);
  const bs = String(b);
  return as < bs ? -1 : as > bs ? 1 : 0;
}
