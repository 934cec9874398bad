/** List responses for small in-memory collections (databases, tables, columns, teams, users, executions …). */
import { type AttributeInfo, applyQueries, parseQueries } from './queries.ts';
import type { ApiRequest, ApiResponse } from './server-context.ts';
import { optionalBoolean } from './wire.ts';

/**
 * Applies the request's `queries` (filters on `attributes`, order, limit, offset, cursor by `$id`), `search`
 * (substring of any string attribute, case-insensitive) and `total` to `docs` (API models, in creation order)
 * and returns `{total, [key]: page}`.
 */
export function listResponse(
  req: ApiRequest,
  key: string,
  docs: Record<string, unknown>[],
  attributes: Record<string, AttributeInfo>,
): ApiResponse {
  const source = { ...req.query, ...req.body };
  const q = parseQueries(source.queries, (a) => attributes[a], { allowSelect: false });
  const search = typeof source.search === 'string' ? source.search.toLowerCase() : '';
  const searched = search
    ? docs.filter((d) =>
        Object.values(d).some((v) => typeof v === 'string' && v.toLowerCase().includes(search)),
      )
    : docs;
  const { total, page } = applyQueries(searched, q);
  const withTotal = optionalBoolean(source.total, 'total', true);
  return { status: 200, json: { total: withTotal ? total : 0, [key]: page } };
}

/** Shorthands for attribute maps. */
export const attr = {
  string: { kind: 'string', array: false } as AttributeInfo,
  strings: { kind: 'string', array: true } as AttributeInfo,
  integer: { kind: 'integer', array: false } as AttributeInfo,
  number: { kind: 'number', array: false } as AttributeInfo,
  boolean: { kind: 'boolean', array: false } as AttributeInfo,
  datetime: { kind: 'datetime', array: false } as AttributeInfo,
};
