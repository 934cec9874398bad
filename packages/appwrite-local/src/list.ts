/**
 * List responses for small in-memory collections (databases, tables, columns, teams, users, executions …), and
 * the list/get/delete routes such a collection shares (collectionRoutes).
 */
import { type AttributeInfo, applyQueries, parseQueries } from './queries.ts';
import type { ApiRequest, ApiResponse, RouteDefinition, Router } from './server-context.ts';
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

/** What collectionRoutes needs to know about a collection of `T`. */
export interface Collection<T> {
  /** The collection's path, e.g. `/teams`; an item's is `${path}/:${idParam}`. */
  path: string;
  /** The item id's path parameter, e.g. `teamId`. */
  idParam: string;
  /** The list response's key, e.g. `teams`. */
  key: string;
  /** Scope of the list and get routes. */
  read: RouteDefinition['scope'];
  /** Scope of the delete route. */
  write: RouteDefinition['scope'];
  /** Attributes list queries may name. */
  attributes: Record<string, AttributeInfo>;
  /** Every item, in creation order. */
  list(): T[];
  /** One item; throws the collection's 404 when there is none. */
  get(id: string): T;
  /** Deletes one item; throws the collection's 404 when there is none. */
  remove(id: string): void;
  /** The item's API model. */
  render(item: T): Record<string, unknown>;
}

/**
 * Registers `GET path` (listResponse over every item), `GET path/:id` (200 and the model) and
 * `DELETE path/:id` (204): the read and delete routes Appwrite collections (databases, teams, users, …) share.
 */
export function collectionRoutes<T>(router: Router, c: Collection<T>): void {
  const item = `${c.path}/:${c.idParam}`;
  const id = (req: ApiRequest) => req.params[c.idParam] as string;
  router.add({
    method: 'GET',
    path: c.path,
    scope: c.read,
    handler: (req) => listResponse(req, c.key, c.list().map(c.render), c.attributes),
  });
  router.add({
    method: 'GET',
    path: item,
    scope: c.read,
    handler: (req) => ({ status: 200, json: c.render(c.get(id(req))) }),
  });
  router.add({
    method: 'DELETE',
    path: item,
    scope: c.write,
    handler: (req) => {
      c.remove(id(req));
      return { status: 204 };
    },
  });
}
