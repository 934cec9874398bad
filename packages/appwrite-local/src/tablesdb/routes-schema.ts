/**
 * Table, column and index routes. The same handlers serve TablesDB (`/tablesdb/{db}/tables/{t}/columns…`) and
 * the legacy Databases API the CLI uses for `push tables` (`/databases/{db}/collections/{c}/attributes…`); the
 * dialect picks paths, field names (`columns`/`attributes`) and error types.
 */
import { AppwriteError, invalidArgument } from '../errors.ts';
import { attr, listResponse } from '../list.ts';
import type { ApiRequest, Router } from '../server-context.ts';
import { formatDate, optionalBoolean, optionalStringArray, requireString, resolveId } from '../wire.ts';
import { COLUMN_KINDS, type ColumnDef, type ColumnKind, columnFromRequest, renderColumn } from './columns.ts';
import { sequenceAsString } from './row-store.ts';
import {
  type ColumnRecord,
  type Dialect,
  ERRORS,
  type IndexRecord,
  type TableSchema,
} from './schema-store.ts';
import type { TablesDbService } from './service.ts';

const PATHS = {
  tables: {
    base: '/tablesdb/:databaseId/tables',
    columns: 'columns',
    indexField: 'columns',
    read: ['tables.read', 'collections.read'],
    write: ['tables.write', 'collections.write'],
  },
  legacy: {
    base: '/databases/:databaseId/collections',
    columns: 'attributes',
    indexField: 'attributes',
    read: ['collections.read'],
    write: ['collections.write'],
  },
} as const;

/**
 * The column model of a stored column. String columns report `encrypt: false` in response format 1.9 (as
 * Appwrite 1.9.5 does, DatabasesBase.php:1064 asserts it) but not to older formats: appwrite-cli 12 (format 1.8.0)
 * compares it with configs that omit it and would otherwise see a change on every push.
 */
export function columnModel(c: ColumnRecord, responseFormat = '1.9.5'): Record<string, unknown> {
  const out = renderColumn(c.def, c.createdAt, c.updatedAt);
  if (
    c.def.type === 'string' &&
    !c.def.format &&
    out.encrypt === undefined &&
    sequenceAsString(responseFormat)
  )
    out.encrypt = false;
  return out;
}

/** The index model (`columns` for TablesDB, `attributes` for the legacy API). */
export function indexModel(i: IndexRecord, dialect: Dialect): Record<string, unknown> {
  return {
    $id: i.key,
    $createdAt: formatDate(i.createdAt),
    $updatedAt: formatDate(i.updatedAt),
    key: i.key,
    type: i.type,
    status: 'available',
    error: '',
    [PATHS[dialect].indexField]: i.columns,
    lengths: i.lengths,
    orders: i.orders,
  };
}

/** The table model. */
export function tableModel(t: TableSchema, responseFormat = '1.9.5'): Record<string, unknown> {
  return {
    $id: t.id,
    $createdAt: formatDate(t.createdAt),
    $updatedAt: formatDate(t.updatedAt),
    $permissions: t.permissions,
    databaseId: t.databaseId,
    name: t.name,
    enabled: t.enabled,
    rowSecurity: t.rowSecurity,
    columns: [...t.columns.values()].map((c) => columnModel(c, responseFormat)),
    indexes: t.indexes.map((i) => indexModel(i, 'tables')),
    bytesMax: 65_535,
    bytesUsed: [...t.columns.values()].reduce((n, c) => n + Math.min((c.def.size ?? 8) * 4, 768), 0),
  };
}

/** The create-column kind for an appwrite.json / inline column (`type` + optional `format`). */
export function kindOf(column: { type: string; format?: string | undefined }): ColumnKind {
  const format = column.format ?? '';
  if (column.type === 'string' && ['email', 'url', 'ip', 'enum'].includes(format))
    return format as ColumnKind;
  if (column.type === 'double') return 'float';
  if ((COLUMN_KINDS as readonly string[]).includes(column.type)) return column.type as ColumnKind;
  throw invalidArgument(`Unsupported column type: ${column.type}`);
}

/** Validates an index request body (`columns` or `attributes` per dialect). */
export function indexFromRequest(dialect: Dialect, body: Record<string, unknown>) {
  const key = resolveId(body.key, 'key');
  const type = requireString(body, 'type');
  const columns = optionalStringArray(body[PATHS[dialect].indexField], PATHS[dialect].indexField);
  if (!columns) throw invalidArgument(`Param "${PATHS[dialect].indexField}" is not optional.`);
  const orders = (optionalStringArray(body.orders, 'orders') ?? []).map((o) => o.toUpperCase());
  if (orders.some((o) => o !== 'ASC' && o !== 'DESC'))
    throw invalidArgument('Invalid `orders` param: Value must be one of (ASC, DESC)');
  const lengths = body.lengths ?? [];
  if (
    !Array.isArray(lengths) ||
    !lengths.every((l) => l === null || (Number.isInteger(l) && (l as number) >= 0))
  ) {
    throw invalidArgument('Invalid `lengths` param: Value must a valid array of integers');
  }
  return { key, type, columns, orders, lengths: lengths as number[] };
}

const TABLE_ATTRIBUTES = {
  $id: attr.string,
  name: attr.string,
  enabled: attr.boolean,
  rowSecurity: attr.boolean,
  $createdAt: attr.datetime,
  $updatedAt: attr.datetime,
};
const COLUMN_ATTRIBUTES = {
  key: attr.string,
  type: attr.string,
  size: attr.integer,
  required: attr.boolean,
  array: attr.boolean,
  status: attr.string,
  error: attr.string,
};
const INDEX_ATTRIBUTES = {
  key: attr.string,
  type: attr.string,
  status: attr.string,
  error: attr.string,
  columns: attr.strings,
  attributes: attr.strings,
};

/** The `[databaseId, tableId]` of a table route. */
function tableIds(req: ApiRequest): [databaseId: string, tableId: string] {
  return [req.params.databaseId as string, req.params.tableId as string];
}

/** Registers table, column and index routes for a dialect (tables CRUD only for TablesDB). */
export function schemaRoutes(router: Router, svc: TablesDbService, dialect: Dialect): void {
  const p = PATHS[dialect];
  const table = (req: ApiRequest) => svc.schemas.getTable(dialect, ...tableIds(req));

  if (dialect === 'tables') tableRoutes(router, svc);

  const colBase = `${p.base}/:tableId/${p.columns}`;
  router.add({
    method: 'GET',
    path: colBase,
    scope: p.read,
    handler: (req) =>
      listResponse(
        req,
        p.columns,
        [...table(req).columns.values()].map((c) => columnModel(c, req.responseFormat)),
        COLUMN_ATTRIBUTES,
      ),
  });
  router.add({
    method: 'GET',
    path: `${colBase}/:key`,
    scope: p.read,
    handler: (req) => {
      const c = table(req).columns.get(req.params.key as string);
      if (!c) throw new AppwriteError(ERRORS[dialect].columnNotFound, undefined, req.params.key);
      return { status: 200, json: columnModel(c, req.responseFormat) };
    },
  });
  router.add({
    method: 'DELETE',
    path: `${colBase}/:key`,
    scope: p.write,
    handler: (req) => {
      svc.schemas.deleteColumn(dialect, ...tableIds(req), req.params.key as string);
      return { status: 204 };
    },
  });
  for (const kind of COLUMN_KINDS) {
    router.add({
      method: 'POST',
      path: `${colBase}/${kind}`,
      scope: p.write,
      handler: (req) => {
        table(req);
        const def = columnFromRequest(kind, req.body);
        const record = svc.schemas.addColumn(dialect, ...tableIds(req), def);
        return { status: 202, json: columnModel(record, req.responseFormat) };
      },
    });
    router.add({
      method: 'PATCH',
      path: `${colBase}/${kind}/:key`,
      scope: p.write,
      handler: (req) => {
        const t = table(req);
        const key = req.params.key as string;
        const current = t.columns.get(key);
        if (!current) throw new AppwriteError(ERRORS[dialect].columnNotFound, undefined, key);
        if (kindOf(current.def) !== kind) {
          throw new AppwriteError(
            dialect === 'tables' ? 'column_type_invalid' : 'attribute_type_invalid',
            undefined,
            key,
          );
        }
        const body: Record<string, unknown> = { ...current.def, ...req.body, key, array: current.def.array };
        if (kind === 'string' || kind === 'varchar') body.size = req.body.size ?? current.def.size;
        if (req.body.newKey !== undefined && req.body.newKey !== key) {
          throw invalidArgument('Renaming columns (`newKey`) is not supported by appwrite-local.');
        }
        const def: ColumnDef = columnFromRequest(kind, body);
        const record = svc.schemas.updateColumn(dialect, ...tableIds(req), def);
        return { status: 200, json: columnModel(record, req.responseFormat) };
      },
    });
  }

  const idxBase = `${p.base}/:tableId/indexes`;
  router.add({
    method: 'POST',
    path: idxBase,
    scope: p.write,
    handler: (req) => {
      const record = svc.schemas.addIndex(dialect, ...tableIds(req), indexFromRequest(dialect, req.body));
      return { status: 202, json: indexModel(record, dialect) };
    },
  });
  router.add({
    method: 'GET',
    path: idxBase,
    scope: p.read,
    handler: (req) =>
      listResponse(
        req,
        'indexes',
        table(req).indexes.map((i) => indexModel(i, dialect)),
        INDEX_ATTRIBUTES,
      ),
  });
  router.add({
    method: 'GET',
    path: `${idxBase}/:key`,
    scope: p.read,
    handler: (req) => {
      const i = table(req).indexes.find((x) => x.key === req.params.key);
      if (!i) throw new AppwriteError(ERRORS[dialect].indexNotFound, undefined, req.params.key);
      return { status: 200, json: indexModel(i, dialect) };
    },
  });
  router.add({
    method: 'DELETE',
    path: `${idxBase}/:key`,
    scope: p.write,
    handler: (req) => {
      svc.schemas.deleteIndex(dialect, ...tableIds(req), req.params.key as string);
      return { status: 204 };
    },
  });
}

function tableRoutes(router: Router, svc: TablesDbService): void {
  const p = PATHS.tables;
  router.add({
    method: 'POST',
    path: p.base,
    scope: p.write,
    handler: (req) => {
      const databaseId = req.params.databaseId as string;
      const id = resolveId(req.body.tableId, 'tableId');
      const name = requireString(req.body, 'name');
      const permissions = optionalStringArray(req.body.permissions, 'permissions') ?? [];
      const rowSecurity = optionalBoolean(req.body.rowSecurity, 'rowSecurity', false);
      const enabled = optionalBoolean(req.body.enabled, 'enabled', true);
      const columns = (req.body.columns ?? []) as unknown[];
      const indexes = (req.body.indexes ?? []) as unknown[];
      if (!Array.isArray(columns) || !Array.isArray(indexes))
        throw invalidArgument('Invalid `columns`/`indexes` param: must be arrays');
      // Validate everything before writing, then create table, columns and indexes in one SQLite transaction.
      const defs = columns.map((c) => {
        const body = (c ?? {}) as Record<string, unknown>;
        return columnFromRequest(
          kindOf({ type: String(body.type ?? ''), format: body.format as string | undefined }),
          body,
        );
      });
      const idx = indexes.map((i) => indexFromRequest('tables', (i ?? {}) as Record<string, unknown>));
      let t: TableSchema;
      try {
        t = svc.db.transaction(() => {
          svc.schemas.createTable('tables', databaseId, { id, name, permissions, rowSecurity, enabled });
          for (const d of defs) svc.schemas.addColumn('tables', databaseId, id, d);
          for (const i of idx) svc.schemas.addIndex('tables', databaseId, id, i);
          return svc.schemas.getTable('tables', databaseId, id);
        })();
      } catch (e) {
        svc.schemas.forget(databaseId, id);
        throw e;
      }
      return { status: 201, json: tableModel(t, req.responseFormat) };
    },
  });
  router.add({
    method: 'GET',
    path: p.base,
    scope: p.read,
    handler: (req) =>
      listResponse(
        req,
        'tables',
        svc.schemas
          .listTables('tables', req.params.databaseId as string)
          .map((t) => tableModel(t, req.responseFormat)),
        TABLE_ATTRIBUTES,
      ),
  });
  router.add({
    method: 'GET',
    path: `${p.base}/:tableId`,
    scope: p.read,
    handler: (req) => ({
      status: 200,
      json: tableModel(svc.schemas.getTable('tables', ...tableIds(req)), req.responseFormat),
    }),
  });
  router.add({
    method: 'PUT',
    path: `${p.base}/:tableId`,
    scope: p.write,
    handler: (req) => {
      const name = requireString(req.body, 'name');
      const t = svc.schemas.updateTable('tables', ...tableIds(req), {
        name,
        permissions: optionalStringArray(req.body.permissions, 'permissions'),
        rowSecurity:
          req.body.rowSecurity === undefined
            ? undefined
            : optionalBoolean(req.body.rowSecurity, 'rowSecurity', false),
        enabled:
          req.body.enabled === undefined ? undefined : optionalBoolean(req.body.enabled, 'enabled', true),
      });
      return { status: 200, json: tableModel(t, req.responseFormat) };
    },
  });
  router.add({
    method: 'DELETE',
    path: `${p.base}/:tableId`,
    scope: p.write,
    handler: (req) => {
      svc.schemas.deleteTable('tables', ...tableIds(req));
      return { status: 204 };
    },
  });
}
