/**
 * The Query language (as node-appwrite serialises it: JSON strings) evaluated over rendered models, for the
 * functions module's lists (functions, deployments, executions, variables — small per-function sets, so
 * filtering in memory is fine). Supports comparisons, between, null checks, startsWith/endsWith/contains/search,
 * and/or, created/updated before/after, orderAsc/Desc, limit, offset, cursorAfter/Before and select (models
 * keep the selected attributes and the `$` ones, as Appwrite answers a select). Bad queries → 400 `general_query_invalid`, unknown cursor → 400
 * `general_cursor_not_found`.
 */
import { AppwriteError } from '../errors.ts';

type Model = Record<string, unknown>;

interface ParsedQuery {
  method: string;
  attribute?: string;
  values?: unknown[];
}

/** Default page size, as Appwrite. */
export const DEFAULT_LIMIT = 25;
const MAX_QUERIES = 100;
const DATE_ATTRIBUTES = new Set(['$createdAt', '$updatedAt', 'scheduledAt', 'deploymentCreatedAt']);

/** Parses the `queries` parameter (array of JSON strings, or absent). */
export function parseQueries(raw: unknown): ParsedQuery[] {
  if (raw === undefined || raw === null || raw === '') return [];
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_QUERIES) throw invalid(`Queries must be at most ${MAX_QUERIES} items`);
  return list.map((q) => {
    if (typeof q !== 'string') throw invalid('Query must be a JSON string');
    let parsed: unknown;
    try {
      parsed = JSON.parse(q);
    } catch {
      throw invalid(`Invalid query: Syntax error in ${q.slice(0, 100)}`);
    }
    return checkShape(parsed);
  });
}

function checkShape(parsed: unknown): ParsedQuery {
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as ParsedQuery).method !== 'string') {
    throw invalid('Invalid query: missing method');
  }
  const q = parsed as ParsedQuery;
  if (q.values !== undefined && !Array.isArray(q.values))
    throw invalid(`Invalid query: ${q.method} values must be an array`);
  return q;
}

/**
 * Filters, orders and pages `items` by the queries. `attributes` lists what may be filtered or ordered on.
 * Returns the page and `total` (matches before limit/offset/cursor).
 */
export function applyQueries(
  items: Model[],
  queries: ParsedQuery[],
  attributes: readonly string[],
): { total: number; page: Model[] } {
  const allowed = new Set(['$id', '$createdAt', '$updatedAt', ...attributes]);
  const filters: ParsedQuery[] = [];
  const orders: { attribute: string; desc: boolean }[] = [];
  let limit = DEFAULT_LIMIT;
  let offset = 0;
  let cursor: { id: string; before: boolean } | undefined;
  let selected: Set<string> | undefined;
  for (const q of queries) {
    switch (q.method) {
      case 'limit':
        limit = nonNegativeInt(q, 'limit', 0);
        break;
      case 'offset':
        offset = nonNegativeInt(q, 'offset', 0);
        break;
      case 'cursorAfter':
      case 'cursorBefore':
        cursor = { id: String(q.values?.[0] ?? ''), before: q.method === 'cursorBefore' };
        break;
      case 'orderAsc':
      case 'orderDesc':
        orders.push({
          attribute: checkAttribute(q.attribute ?? '$sequence', allowed, true),
          desc: q.method === 'orderDesc',
        });
        break;
      case 'orderRandom':
        break;
      case 'select':
        // Any attribute of the model may be selected, filterable or not (as Appwrite).
        selected = new Set([...(selected ?? []), ...(q.values ?? []).map(String)]);
        break;
      default:
        validateFilter(q, allowed);
        filters.push(q);
    }
  }
  let matched = items.filter((item) => filters.every((f) => test(item, f)));
  const total = matched.length;
  if (orders.length > 0) {
    matched = [...matched].sort((a, b) => {
      for (const o of orders) {
        const c = o.attribute === '$sequence' ? 0 : compare(a[o.attribute], b[o.attribute], o.attribute);
        if (c !== 0) return o.desc ? -c : c;
      }
      return 0;
    });
    const seq = orders.find((o) => o.attribute === '$sequence');
    if (seq?.desc && orders.length === 1) matched.reverse();
  }
  if (cursor) {
    const at = matched.findIndex((m) => m.$id === cursor.id);
    if (at < 0) throw new AppwriteError('general_cursor_not_found');
    matched = cursor.before
      ? matched
          .slice(0, at)
          .reverse()
          .slice(offset, offset + limit)
          .reverse()
      : matched.slice(at + 1);
    if (cursor.before) return { total, page: project(matched, selected) };
  }
  return { total, page: project(matched.slice(offset, offset + limit), selected) };
}

function validateFilter(q: ParsedQuery, allowed: Set<string>): void {
  if (q.method === 'and' || q.method === 'or') {
    for (const inner of q.values ?? []) {
      const parsed = checkShape(typeof inner === 'string' ? safeJson(inner) : inner);
      validateFilter(parsed, allowed);
    }
    return;
  }
  if (TIME_SHORTCUTS[q.method]) return;
  if (!(q.method in PREDICATES)) throw invalid(`Invalid query method: ${q.method}`);
  checkAttribute(q.attribute ?? '', allowed, false);
}

function checkAttribute(attribute: string, allowed: Set<string>, ordering: boolean): string {
  if (ordering && attribute === '$sequence') return attribute;
  if (!allowed.has(attribute)) throw invalid(`Invalid query: Attribute not found in schema: ${attribute}`);
  return attribute;
}

function nonNegativeInt(q: ParsedQuery, name: string, min: number): number {
  const v = q.values?.[0];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw invalid(`Invalid ${name} query: value must be an integer >= ${min}`);
  return v;
}

const TIME_SHORTCUTS: Record<string, [attribute: string, op: 'lessThan' | 'greaterThan']> = {
  createdBefore: ['$createdAt', 'lessThan'],
  createdAfter: ['$createdAt', 'greaterThan'],
  updatedBefore: ['$updatedAt', 'lessThan'],
  updatedAfter: ['$updatedAt', 'greaterThan'],
};

const PREDICATES: Record<string, (actual: unknown, values: unknown[], attribute: string) => boolean> = {
  equal: (a, vs, attr) => vs.some((v) => compare(a, v, attr) === 0),
  notEqual: (a, vs, attr) => vs.every((v) => compare(a, v, attr) !== 0),
  lessThan: (a, vs, attr) => a !== null && compare(a, vs[0], attr) < 0,
  lessThanEqual: (a, vs, attr) => a !== null && compare(a, vs[0], attr) <= 0,
  greaterThan: (a, vs, attr) => a !== null && compare(a, vs[0], attr) > 0,
  greaterThanEqual: (a, vs, attr) => a !== null && compare(a, vs[0], attr) >= 0,
  between: (a, vs, attr) => a !== null && compare(a, vs[0], attr) >= 0 && compare(a, vs[1], attr) <= 0,
  isNull: (a) => a === null || a === undefined || a === '',
  isNotNull: (a) => !(a === null || a === undefined || a === ''),
  startsWith: (a, vs) => typeof a === 'string' && a.startsWith(String(vs[0])),
  endsWith: (a, vs) => typeof a === 'string' && a.endsWith(String(vs[0])),
  search: (a, vs) => typeof a === 'string' && a.toLowerCase().includes(String(vs[0]).toLowerCase()),
  contains: (a, vs) =>
    Array.isArray(a)
      ? vs.some((v) => a.includes(v))
      : typeof a === 'string' && vs.some((v) => a.includes(String(v))),
};

function test(item: Model, q: ParsedQuery): boolean {
  const values = q.values ?? [];
  if (q.method === 'and' || q.method === 'or') {
    const inner = values.map((v) => checkShape(typeof v === 'string' ? safeJson(v) : v));
    return q.method === 'and' ? inner.every((i) => test(item, i)) : inner.some((i) => test(item, i));
  }
  const shortcut = TIME_SHORTCUTS[q.method];
  if (shortcut) return PREDICATES[shortcut[1]]!(item[shortcut[0]], values, shortcut[0]);
  const attribute = q.attribute ?? '';
  return PREDICATES[q.method]!(item[attribute], values, attribute);
}

/** The models cut to the selected attributes plus every `$` attribute (none selected: whole models). */
function project(models: Model[], selected: Set<string> | undefined): Model[] {
  if (!selected) return models;
  return models.map((m) =>
    Object.fromEntries(Object.entries(m).filter(([key]) => key.startsWith('$') || selected.has(key))),
  );
}

/**
 * The `total` a list answers: the count, or 0 when the caller sent `total=false` (Appwrite skips the count
 * then, and says 0).
 */
export function listTotal(query: Record<string, unknown>, total: number): number {
  const flag = query.total;
  return flag === false || flag === 'false' || flag === '0' ? 0 : total;
}

/** Whether `model` matches a list's `search` term: a case-insensitive substring of one of `fields`. */
export function matchesSearch(model: Model, search: unknown, fields: readonly string[]): boolean {
  if (typeof search !== 'string' || search === '') return true;
  const term = search.toLowerCase();
  return fields.some(
    (f) => typeof model[f] === 'string' && (model[f] as string).toLowerCase().includes(term),
  );
}

function compare(a: unknown, b: unknown, attribute: string): number {
  if (DATE_ATTRIBUTES.has(attribute) && typeof a === 'string' && typeof b === 'string') {
    return Math.sign((Date.parse(a) || 0) - (Date.parse(b) || 0));
  }
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b ? 0 : 1;
  const sa = a === null || a === undefined ? '' : String(a);
  const sb = b === null || b === undefined ? '' : String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    throw invalid('Invalid query: Syntax error in nested query');
  }
}

function invalid(message: string): AppwriteError {
  return new AppwriteError('general_query_invalid', message);
}
