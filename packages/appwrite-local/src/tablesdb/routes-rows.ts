/**
 * Row routes under `/tablesdb/{db}/tables/{t}/rows`: create (single and bulk), get, list, update, upsert,
 * delete, bulk update/upsert/delete, increment and decrement. A `transactionId` stages the operation instead
 * (the response is a placeholder built from the request, as Appwrite's is); reads with `transactionId` see the
 * staged state. Each direct write runs synchronously in one SQLite transaction and emits its row event after.
 * Users (`X-Appwrite-JWT`) are held to table/row permissions (access.ts); API keys bypass them.
 */
import { AppwriteError, invalidArgument } from '../errors.ts';
import { type ParsedQueries, parseQueries, queryError } from '../queries.ts';
import type { ApiRequest, ApiResponse, Router } from '../server-context.ts';
import { optionalBoolean, resolveId } from '../wire.ts';
import { RowAccess } from './access.ts';
import { permissionsParam } from './permissions.ts';
import { listRows, rowAttributes } from './row-query.ts';
import { renderRow, type StoredRow } from './row-store.ts';
import type { TableSchema } from './schema-store.ts';
import type { TablesDbService } from './service.ts';
import { permissionsOf } from './transactions.ts';

const READ = ['rows.read', 'documents.read'];
const WRITE = ['rows.write', 'documents.write'];
const BASE = '/tablesdb/:databaseId/tables/:tableId/rows';
const META = new Set([
  '$id',
  '$sequence',
  '$createdAt',
  '$updatedAt',
  '$permissions',
  '$tableId',
  '$databaseId',
]);
function dataParam(body: Record<string, unknown>, required: boolean): Record<string, unknown> | undefined {
  let data = body.data;
  if (data === undefined || data === null) {
    if (required) throw invalidArgument('Param "data" is not optional.');
    return undefined;
  }
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      throw invalidArgument('Invalid `data` param: Value must be a valid JSON string');
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalidArgument('Invalid `data` param: Value must be a valid JSON object');
  return data as Record<string, unknown>;
}

function transactionParam(source: Record<string, unknown>): string | undefined {
  const id = source.transactionId;
  if (id === undefined || id === null || id === '') return undefined;
  if (typeof id !== 'string') throw invalidArgument('Invalid `transactionId` param: must be a string');
  return id;
}

/** The `select` set of parsed queries (undefined = every column); unknown keys are 400. */
function selectSet(t: TableSchema, q: ParsedQueries): Set<string> | undefined {
  if (!q.select || q.select.includes('*')) return undefined;
  for (const key of q.select) {
    if (!META.has(key) && !t.columns.has(key)) throw queryError(`Attribute not found in schema: ${key}`);
  }
  return new Set(q.select);
}

function rowsArrayParam(body: Record<string, unknown>): Record<string, unknown>[] {
  const rows = body.rows;
  if (
    !Array.isArray(rows) ||
    rows.length === 0 ||
    !rows.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))
  ) {
    throw invalidArgument('Invalid `rows` param: Value must be a non-empty array of objects');
  }
  for (const r of rows as Record<string, unknown>[]) permissionsParam(r.$permissions);
  return rows as Record<string, unknown>[];
}

/** Registers the row routes. */
export function rowRoutes(router: Router, svc: TablesDbService): void {
  const table = (req: ApiRequest) =>
    svc.schemas.getTable('tables', req.params.databaseId as string, req.params.tableId as string);
  const model = (req: ApiRequest, t: TableSchema, row: StoredRow, select?: Set<string>) =>
    renderRow(t, row, req.responseFormat, select);
  const placeholder = (
    t: TableSchema,
    id: string,
    data: Record<string, unknown>,
    permissions: string[],
  ): StoredRow => {
    const now = svc.clock.now();
    const known = Object.fromEntries(Object.entries(data).filter(([k]) => t.columns.has(k)));
    return { id, seq: 0, data: known, permissions, createdAt: now, updatedAt: now };
  };
  const list = (req: ApiRequest, t: TableSchema, rows: StoredRow[], status: number): ApiResponse => ({
    status,
    json: { total: rows.length, rows: rows.map((r) => model(req, t, r)) },
  });

  router.add({
    method: 'POST',
    path: BASE,
    scope: WRITE,
    handler: (req) => {
      const access = new RowAccess(req);
      const t = access.table(table(req));
      const txId = transactionParam(req.body);
      if (txId) access.keyOnly('Transactions');
      if (req.body.rows !== undefined) {
        access.keyOnly('Bulk operations');
        const items = rowsArrayParam(req.body).map((r) => ({
          ...r,
          $id: resolveId(r.$id ?? 'unique()', '$id'),
        }));
        if (txId) {
          svc.transactions.stage(txId, [
            { action: 'bulkCreate', databaseId: t.databaseId, tableId: t.id, data: items },
          ]);
          return list(
            req,
            t,
            items.map((r) => placeholder(t, r.$id, r, permissionsOf(r) ?? [])),
            201,
          );
        }
        const created = svc.db.transaction(() =>
          items.map((r) => svc.rows.create('tables', t, r.$id, r, permissionsOf(r) ?? [])),
        )();
        for (const row of created) svc.emitRow('create', t, row);
        return list(req, t, created, 201);
      }
      const rowId = resolveId(req.body.rowId, 'rowId');
      const data = dataParam(req.body, true) as Record<string, unknown>;
      if (Object.keys(data).length === 0) throw new AppwriteError('row_missing_data');
      access.create(t);
      const permissions =
        access.rowPermissions(permissionsParam(req.body.permissions) ?? permissionsOf(data), true) ?? [];
      if (txId) {
        svc.transactions.stage(txId, [
          {
            action: 'create',
            databaseId: t.databaseId,
            tableId: t.id,
            rowId,
            data: { ...data, $permissions: permissions },
          },
        ]);
        return { status: 201, json: model(req, t, placeholder(t, rowId, data, permissions)) };
      }
      const row = svc.rows.create('tables', t, rowId, data, permissions);
      svc.emitRow('create', t, row);
      return { status: 201, json: model(req, t, row) };
    },
  });

  router.add({
    method: 'GET',
    path: BASE,
    scope: READ,
    handler: (req) => {
      const access = new RowAccess(req);
      const t = access.table(table(req));
      const q = parseQueries(req.query.queries, rowAttributes(t));
      const select = selectSet(t, q);
      const withTotal = optionalBoolean(req.query.total, 'total', true);
      const txId = transactionParam(req.query);
      if (txId) access.keyOnly('Transactions');
      const readableBy = access.listFilter(t);
      const run = () => listRows(svc.db, t, q, withTotal, readableBy);
      const { total, rows } = txId ? svc.transactions.readStaged(txId, run) : run();
      return { status: 200, json: { total, rows: rows.map((r) => model(req, t, r, select)) } };
    },
  });

  router.add({
    method: 'GET',
    path: `${BASE}/:rowId`,
    scope: READ,
    handler: (req) => {
      const access = new RowAccess(req);
      const t = access.table(table(req));
      const q = parseQueries(req.query.queries, rowAttributes(t));
      if (q.filters.length || q.orders.length || q.cursor)
        throw queryError('Only select queries are allowed when getting a row');
      const select = selectSet(t, q);
      const rowId = req.params.rowId as string;
      const txId = transactionParam(req.query);
      if (txId) access.keyOnly('Transactions');
      const row = txId
        ? svc.transactions.readStaged(txId, () => svc.rows.get(t, rowId))
        : svc.rows.get(t, rowId);
      if (!row || !access.canRead(t, row)) throw new AppwriteError('row_not_found', undefined, rowId);
      return { status: 200, json: model(req, t, row, select) };
    },
  });

  router.add({
    method: 'PATCH',
    path: `${BASE}/:rowId`,
    scope: WRITE,
    handler: (req) => {
      const access = new RowAccess(req);
      const t = access.table(table(req));
      const rowId = req.params.rowId as string;
      const data = dataParam(req.body, false) ?? {};
      let permissions = permissionsParam(req.body.permissions) ?? permissionsOf(data);
      if (Object.keys(data).length === 0 && permissions === undefined)
        throw new AppwriteError('row_missing_payload');
      const txId = transactionParam(req.body);
      if (txId) access.keyOnly('Transactions');
      if (req.auth?.kind === 'user') {
        const existing = svc.rows.get(t, rowId);
        if (!existing) throw new AppwriteError('row_not_found', undefined, rowId);
        access.write(t, existing, 'update');
        permissions = access.rowPermissions(permissions, false);
      }
      if (txId) {
        const staged = permissions ? { ...data, $permissions: permissions } : data;
        svc.transactions.stage(txId, [
          { action: 'update', databaseId: t.databaseId, tableId: t.id, rowId, data: staged },
        ]);
        return { status: 200, json: model(req, t, placeholder(t, rowId, data, permissions ?? [])) };
      }
      const row = svc.rows.update('tables', t, rowId, data, permissions);
      svc.emitRow('update', t, row);
      return { status: 200, json: model(req, t, row) };
    },
  });

  router.add({
    method: 'PUT',
    path: `${BASE}/:rowId`,
    scope: WRITE,
    handler: (req) => {
      const access = new RowAccess(req);
      const t = access.table(table(req));
      const rowId = resolveId(req.params.rowId, 'rowId');
      const data = dataParam(req.body, false) ?? {};
      let permissions = permissionsParam(req.body.permissions) ?? permissionsOf(data);
      const txId = transactionParam(req.body);
      if (txId) access.keyOnly('Transactions');
      if (req.auth?.kind === 'user') {
        const existing = svc.rows.get(t, rowId);
        if (existing) access.write(t, existing, 'update');
        else access.create(t);
        permissions = access.rowPermissions(permissions, !existing);
      }
      if (txId) {
        const staged = permissions ? { ...data, $permissions: permissions } : data;
        svc.transactions.stage(txId, [
          { action: 'upsert', databaseId: t.databaseId, tableId: t.id, rowId, data: staged },
        ]);
        return { status: 201, json: model(req, t, placeholder(t, rowId, data, permissions ?? [])) };
      }
      const { row, created } = svc.rows.upsert('tables', t, rowId, data, permissions);
      svc.emitRow(created ? 'create' : 'update', t, row);
      return { status: 201, json: model(req, t, row) };
    },
  });

  router.add({
    method: 'DELETE',
    path: `${BASE}/:rowId`,
    scope: WRITE,
    handler: (req) => {
      const access = new RowAccess(req);
      const t = access.table(table(req));
      const rowId = req.params.rowId as string;
      const txId = transactionParam(req.body);
      if (txId) access.keyOnly('Transactions');
      if (req.auth?.kind === 'user') {
        const existing = svc.rows.get(t, rowId);
        if (!existing) throw new AppwriteError('row_not_found', undefined, rowId);
        access.write(t, existing, 'delete');
      }
      if (txId) {
        svc.transactions.stage(txId, [{ action: 'delete', databaseId: t.databaseId, tableId: t.id, rowId }]);
        return { status: 204 };
      }
      svc.emitRow('delete', t, svc.rows.delete('tables', t, rowId));
      return { status: 204 };
    },
  });

  for (const direction of ['increment', 'decrement'] as const) {
    router.add({
      method: 'PATCH',
      path: `${BASE}/:rowId/:column/${direction}`,
      scope: WRITE,
      handler: (req) => {
        const access = new RowAccess(req);
        const t = access.table(table(req));
        const rowId = req.params.rowId as string;
        const column = req.params.column as string;
        const value = req.body.value ?? 1;
        if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
          throw invalidArgument('Invalid `value` param: Value must be a number greater than 0');
        }
        const boundKey = direction === 'increment' ? 'max' : 'min';
        const bound = req.body[boundKey];
        if (bound !== undefined && bound !== null && (typeof bound !== 'number' || !Number.isFinite(bound))) {
          throw invalidArgument(`Invalid \`${boundKey}\` param: Value must be a valid number`);
        }
        const txId = transactionParam(req.body);
        if (txId) access.keyOnly('Transactions');
        if (req.auth?.kind === 'user') {
          // A missing row keeps the store's answer (404 column_not_found, as Appwrite).
          const existing = svc.rows.get(t, rowId);
          if (existing) access.write(t, existing, 'update');
        }
        if (txId) {
          const data: Record<string, unknown> = { column, value };
          if (typeof bound === 'number') data[boundKey] = bound;
          svc.transactions.stage(txId, [
            { action: direction, databaseId: t.databaseId, tableId: t.id, rowId, data },
          ]);
          const current = svc.rows.get(t, rowId) ?? placeholder(t, rowId, {}, []);
          return { status: 200, json: model(req, t, current) };
        }
        const limit = typeof bound === 'number' ? { [boundKey]: bound } : {};
        const row = svc.rows.increment(t, rowId, column, direction === 'increment' ? value : -value, limit);
        svc.emitRow('update', t, row);
        return { status: 200, json: model(req, t, row) };
      },
    });
  }

  bulkRoutes(router, svc, table, list);
}

function bulkRoutes(
  router: Router,
  svc: TablesDbService,
  table: (req: ApiRequest) => TableSchema,
  list: (req: ApiRequest, t: TableSchema, rows: StoredRow[], status: number) => ApiResponse,
): void {
  router.add({
    method: 'PUT',
    path: BASE,
    scope: WRITE,
    handler: (req) => {
      new RowAccess(req).keyOnly('Bulk operations');
      const t = table(req);
      const items = rowsArrayParam(req.body).map((r) => ({
        ...r,
        $id: resolveId(r.$id ?? 'unique()', '$id'),
      }));
      const txId = transactionParam(req.body);
      if (txId) {
        svc.transactions.stage(txId, [
          { action: 'bulkUpsert', databaseId: t.databaseId, tableId: t.id, data: items },
        ]);
        return list(req, t, [], 201);
      }
      const results = svc.db.transaction(() =>
        items.map((r) => svc.rows.upsert('tables', t, r.$id, r, permissionsOf(r))),
      )();
      for (const { row, created } of results) svc.emitRow(created ? 'create' : 'update', t, row);
      return list(
        req,
        t,
        results.map((r) => r.row),
        201,
      );
    },
  });
  router.add({
    method: 'PATCH',
    path: BASE,
    scope: WRITE,
    handler: (req) => {
      new RowAccess(req).keyOnly('Bulk operations');
      const t = table(req);
      const data = dataParam(req.body, false) ?? {};
      const q = parseQueries(req.body.queries, rowAttributes(t));
      const txId = transactionParam(req.body);
      if (txId) {
        svc.transactions.stage(txId, [
          {
            action: 'bulkUpdate',
            databaseId: t.databaseId,
            tableId: t.id,
            data: { data, queries: req.body.queries ?? [] },
          },
        ]);
        return list(req, t, [], 200);
      }
      const updated = svc.db.transaction(() =>
        listRows(svc.db, t, { ...q, limit: Number.MAX_SAFE_INTEGER }, false).rows.map((r) =>
          svc.rows.update('tables', t, r.id, data, permissionsOf(data)),
        ),
      )();
      for (const row of updated) svc.emitRow('update', t, row);
      return list(req, t, updated, 200);
    },
  });
  router.add({
    method: 'DELETE',
    path: BASE,
    scope: WRITE,
    handler: (req) => {
      new RowAccess(req).keyOnly('Bulk operations');
      const t = table(req);
      const q = parseQueries(req.body.queries, rowAttributes(t));
      const txId = transactionParam(req.body);
      if (txId) {
        svc.transactions.stage(txId, [
          {
            action: 'bulkDelete',
            databaseId: t.databaseId,
            tableId: t.id,
            data: { queries: req.body.queries ?? [] },
          },
        ]);
        return list(req, t, [], 200);
      }
      const deleted = svc.db.transaction(() =>
        listRows(svc.db, t, { ...q, limit: Number.MAX_SAFE_INTEGER }, false).rows.map((r) =>
          svc.rows.delete('tables', t, r.id),
        ),
      )();
      for (const row of deleted) svc.emitRow('delete', t, row);
      return list(req, t, deleted, 200);
    },
  });
}
