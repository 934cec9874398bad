/**
 * Row routes under `/tablesdb/{db}/tables/{t}/rows`: create (single and bulk), get, list, update, upsert,
 * delete, bulk update/upsert/delete, increment and decrement. A `transactionId` stages the operation instead
 * (the response is a placeholder built from the request, as Appwrite's is); reads with `transactionId` see the
 * staged state. Each direct write runs synchronously in one SQLite transaction and emits its row event after.
 * Users (`X-Appwrite-JWT`) are held to table/row permissions (access.ts); API keys bypass them.
 */
import { AppwriteError, invalidArgument } from '../errors.ts';
import { type ParsedQueries, parseQueries, queryError } from '../queries.ts';
import type { ApiRequest, ApiResponse, RouteDefinition, Router } from '../server-context.ts';
import { optionalBoolean, parseDate, resolveId } from '../wire.ts';
import { RowAccess } from './access.ts';
import { permissionsParam } from './permissions.ts';
import { listRows, rowAttributes } from './row-query.ts';
import { renderRow, type StoredRow } from './row-store.ts';
import type { TableSchema } from './schema-store.ts';
import type { TablesDbService } from './service.ts';
import { permissionsOf, type StagedOperation, type StageOptions } from './transactions.ts';

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
function dataParam(
  body: Record<string, unknown>,
  required: boolean,
  req?: ApiRequest,
): Record<string, unknown> | undefined {
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
  if (req?.auth?.kind === 'user') {
    // Only API keys may set the row's dates (Appwrite's removeReadonlyAttributes for other callers).
    const { $createdAt: _c, $updatedAt: _u, ...rest } = data as Record<string, unknown>;
    return rest;
  }
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

/** Bulk `rows`: a non-empty array of objects with valid `$permissions`, each `$id` resolved (`unique()` if none). */
function bulkRowsParam(body: Record<string, unknown>): (Record<string, unknown> & { $id: string })[] {
  const rows = body.rows;
  if (
    !Array.isArray(rows) ||
    rows.length === 0 ||
    !rows.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))
  ) {
    throw invalidArgument('Invalid `rows` param: Value must be a non-empty array of objects');
  }
  for (const r of rows as Record<string, unknown>[]) permissionsParam(r.$permissions);
  return (rows as Record<string, unknown>[]).map((r) => ({
    ...r,
    $id: resolveId(r.$id ?? 'unique()', '$id'),
  }));
}

/** What every row route shares: table lookup, rendering, staging and the permission-checked steps. */
function rowKit(svc: TablesDbService) {
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
  const stage = (
    txId: string,
    t: TableSchema,
    op: { action: StagedOperation['action']; rowId?: string; data?: unknown },
  ) =>
    svc.transactions.stage(
      txId,
      [{ ...op, databaseId: t.databaseId, tableId: t.id }],
      stageOptions(op.action),
    );
  return {
    /** The route's table (404 when missing). */
    table: (req: ApiRequest) =>
      svc.schemas.getTable('tables', req.params.databaseId as string, req.params.tableId as string),
    model,
    placeholder,
    stage,
    /** A `{ total, rows }` answer. */
    list: (req: ApiRequest, t: TableSchema, rows: StoredRow[], status: number): ApiResponse => ({
      status,
      json: { total: rows.length, rows: rows.map((r) => model(req, t, r)) },
    }),
    /** The `transactionId` of `source` (body or query); 401 for users, whose transactions are not supported. */
    transactionOf: (access: RowAccess, source: Record<string, unknown>): string | undefined => {
      const txId = transactionParam(source);
      if (txId) access.keyOnly('Transactions');
      return txId;
    },
    /**
     * Stages a create, update or upsert of one row (`permissions`, when set, as its `$permissions`) and answers
     * with the placeholder Appwrite returns: the request's known columns, not the row as the commit will leave it.
     */
    stageWrite: (
      req: ApiRequest,
      t: TableSchema,
      txId: string,
      write: { action: 'create' | 'update' | 'upsert'; rowId: string; status: number },
      data: Record<string, unknown>,
      permissions: string[] | undefined,
    ): ApiResponse => {
      const staged = permissions ? { ...data, $permissions: permissions } : data;
      stage(txId, t, { action: write.action, rowId: write.rowId, data: staged });
      return {
        status: write.status,
        json: model(req, t, placeholder(t, write.rowId, data, permissions ?? [])),
      };
    },
    /** A user's update or delete of an existing row: 404 `row_not_found` when missing, else the permission check. */
    checkExistingWrite: (access: RowAccess, t: TableSchema, rowId: string, action: 'update' | 'delete') => {
      const existing = svc.rows.get(t, rowId);
      if (!existing) throw new AppwriteError('row_not_found', undefined, rowId);
      access.write(t, existing, action);
    },
    /** Every row matching the filters of `q` (no limit), for the bulk update and delete. */
    matching: (t: TableSchema, q: ParsedQueries) =>
      listRows(svc.db, t, { ...q, limit: Number.MAX_SAFE_INTEGER }, false, undefined, svc.rows.collation)
        .rows,
  };
}

/** The helpers the row routes share (rowKit). */
type RowKit = ReturnType<typeof rowKit>;

/** Registers the row routes. */
export function rowRoutes(router: Router, svc: TablesDbService): void {
  const kit = rowKit(svc);
  const { table, model, placeholder, list, transactionOf, stageWrite, checkExistingWrite } = kit;
  /** Registers a route whose handler gets the caller's RowAccess and the route's table (404 if disabled, for users). */
  const route = (
    method: RouteDefinition['method'],
    path: string,
    scope: string[],
    handler: (req: ApiRequest, access: RowAccess, t: TableSchema) => ApiResponse,
  ) =>
    router.add({
      method,
      path,
      scope,
      handler: (req) => {
        const access = new RowAccess(req);
        return handler(req, access, access.table(table(req)));
      },
    });

  route('POST', BASE, WRITE, (req, access, t) => {
    const txId = transactionOf(access, req.body);
    if (req.body.rows !== undefined) {
      access.keyOnly('Bulk operations');
      const items = bulkRowsParam(req.body);
      if (txId) {
        kit.stage(txId, t, { action: 'bulkCreate', data: items });
        // Appwrite answers a staged bulk create 200 `{rows: [], total: n}` (Documents/Create.php:439-444).
        return { status: 200, json: { total: items.length, rows: [] } };
      }
      const created = svc.db.transaction(() =>
        items.map((r) => svc.rows.create('tables', t, r.$id, r, permissionsOf(r) ?? [])),
      )();
      for (const row of created) svc.emitRow('create', t, row);
      return list(req, t, created, 201);
    }
    const rowId = resolveId(req.body.rowId, 'rowId');
    const data = dataParam(req.body, true, req) as Record<string, unknown>;
    if (Object.keys(data).length === 0) throw new AppwriteError('row_missing_data');
    access.create(t);
    const permissions =
      access.rowPermissions(permissionsParam(req.body.permissions) ?? permissionsOf(data), true) ?? [];
    if (txId) return stageWrite(req, t, txId, { action: 'create', rowId, status: 201 }, data, permissions);
    const row = svc.rows.create('tables', t, rowId, data, permissions);
    svc.emitRow('create', t, row);
    return { status: 201, json: model(req, t, row) };
  });

  route('GET', BASE, READ, (req, access, t) => {
    const q = parseQueries(req.query.queries, rowAttributes(t));
    const select = selectSet(t, q);
    const withTotal = optionalBoolean(req.query.total, 'total', true);
    const txId = transactionOf(access, req.query);
    const readableBy = access.listFilter(t);
    const run = () => listRows(svc.db, t, q, withTotal, readableBy, svc.rows.collation);
    const { total, rows } = txId ? svc.transactions.readStaged(txId, run) : run();
    return { status: 200, json: { total, rows: rows.map((r) => model(req, t, r, select)) } };
  });

  route('GET', `${BASE}/:rowId`, READ, (req, access, t) => {
    const q = parseQueries(req.query.queries, rowAttributes(t));
    if (q.filters.length || q.orders.length || q.cursor)
      throw queryError('Only select queries are allowed when getting a row');
    const select = selectSet(t, q);
    const rowId = req.params.rowId as string;
    const txId = transactionOf(access, req.query);
    const row = txId
      ? svc.transactions.readStaged(txId, () => svc.rows.get(t, rowId))
      : svc.rows.get(t, rowId);
    if (!row || !access.canRead(t, row)) throw new AppwriteError('row_not_found', undefined, rowId);
    return { status: 200, json: model(req, t, row, select) };
  });

  route('PATCH', `${BASE}/:rowId`, WRITE, (req, access, t) => {
    const rowId = req.params.rowId as string;
    const data = dataParam(req.body, false, req) ?? {};
    let permissions = permissionsParam(req.body.permissions) ?? permissionsOf(data);
    if (Object.keys(data).length === 0 && permissions === undefined)
      throw new AppwriteError('row_missing_payload');
    const txId = transactionOf(access, req.body);
    if (req.auth?.kind === 'user') {
      checkExistingWrite(access, t, rowId, 'update');
      permissions = access.rowPermissions(permissions, false);
    }
    if (txId) return stageWrite(req, t, txId, { action: 'update', rowId, status: 200 }, data, permissions);
    checkTimestamp(req, svc.rows.get(t, rowId));
    const row = svc.rows.update('tables', t, rowId, data, permissions);
    svc.emitRow('update', t, row);
    return { status: 200, json: model(req, t, row) };
  });

  route('PUT', `${BASE}/:rowId`, WRITE, (req, access, t) => {
    const rowId = resolveId(req.params.rowId, 'rowId');
    const data = dataParam(req.body, false, req) ?? {};
    let permissions = permissionsParam(req.body.permissions) ?? permissionsOf(data);
    const txId = transactionOf(access, req.body);
    if (req.auth?.kind === 'user') {
      const existing = svc.rows.get(t, rowId);
      if (existing) access.write(t, existing, 'update');
      else access.create(t);
      permissions = access.rowPermissions(permissions, !existing);
    }
    if (txId) return stageWrite(req, t, txId, { action: 'upsert', rowId, status: 201 }, data, permissions);
    checkTimestamp(req, svc.rows.get(t, rowId));
    const { row, created } = svc.rows.upsert('tables', t, rowId, data, permissions);
    svc.emitRow(created ? 'create' : 'update', t, row);
    // 200 whether it created or updated: the route sets no status outside a transaction (Documents/Upsert.php:
    // 389), and Appwrite's tests assert 200 for both (DatabasesBase.php:2677, 2718).
    return { status: 200, json: model(req, t, row) };
  });

  route('DELETE', `${BASE}/:rowId`, WRITE, (req, access, t) => {
    const rowId = req.params.rowId as string;
    const txId = transactionOf(access, req.body);
    if (req.auth?.kind === 'user') checkExistingWrite(access, t, rowId, 'delete');
    if (txId) {
      kit.stage(txId, t, { action: 'delete', rowId });
      return { status: 204 };
    }
    checkTimestamp(req, svc.rows.get(t, rowId));
    svc.emitRow('delete', t, svc.rows.delete('tables', t, rowId));
    return { status: 204 };
  });

  for (const direction of ['increment', 'decrement'] as const) {
    route('PATCH', `${BASE}/:rowId/:column/${direction}`, WRITE, (req, access, t) => {
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
      const txId = transactionOf(access, req.body);
      if (req.auth?.kind === 'user') {
        // A missing row keeps the store's answer (404 column_not_found, as Appwrite).
        const existing = svc.rows.get(t, rowId);
        if (existing) access.write(t, existing, 'update');
      }
      if (txId) {
        const data: Record<string, unknown> = { column, value };
        if (typeof bound === 'number') data[boundKey] = bound;
        kit.stage(txId, t, { action: direction, rowId, data });
        // Appwrite's placeholder: the id and the requested value, nothing read (Attribute/Increment.php).
        return { status: 200, json: model(req, t, placeholder(t, rowId, { [column]: value }, [])) };
      }
      const limit = typeof bound === 'number' ? { [boundKey]: bound } : {};
      const row = svc.rows.increment(t, rowId, column, direction === 'increment' ? value : -value, limit);
      svc.emitRow('update', t, row);
      return { status: 200, json: model(req, t, row) };
    });
  }

  bulkRoutes(router, svc, kit);
}

/** Bulk upsert, update and delete (`PUT`/`PATCH`/`DELETE` on the rows path); API keys only. */
function bulkRoutes(router: Router, svc: TablesDbService, kit: RowKit): void {
  const { table, list, stage, matching } = kit;
  /** Registers a bulk route on the rows path (401 but for API keys); its handler gets the route's table. */
  const bulkRoute = (
    method: RouteDefinition['method'],
    handler: (req: ApiRequest, t: TableSchema) => ApiResponse,
  ) =>
    router.add({
      method,
      path: BASE,
      scope: WRITE,
      handler: (req) => {
        new RowAccess(req).keyOnly('Bulk operations');
        return handler(req, table(req));
      },
    });
  bulkRoute('PUT', (req, t) => {
    const items = bulkRowsParam(req.body);
    const txId = transactionParam(req.body);
    if (txId) {
      stage(txId, t, { action: 'bulkUpsert', data: items });
      // Staged: 200 `{rows: [], total: n}` (Bulk/Upsert.php).
      return { status: 200, json: { total: items.length, rows: [] } };
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
  });
  bulkRoute('PATCH', (req, t) => {
    const data = dataParam(req.body, false, req) ?? {};
    const q = parseQueries(req.body.queries, rowAttributes(t));
    const txId = transactionParam(req.body);
    if (txId) {
      stage(txId, t, { action: 'bulkUpdate', data: { data, queries: req.body.queries ?? [] } });
      return list(req, t, [], 200);
    }
    const updated = svc.db.transaction(() =>
      matching(t, q).map((r) => svc.rows.update('tables', t, r.id, data, permissionsOf(data))),
    )();
    for (const row of updated) svc.emitRow('update', t, row);
    return list(req, t, updated, 200);
  });
  bulkRoute('DELETE', (req, t) => {
    const q = parseQueries(req.body.queries, rowAttributes(t));
    const txId = transactionParam(req.body);
    if (txId) {
      stage(txId, t, { action: 'bulkDelete', data: { queries: req.body.queries ?? [] } });
      return list(req, t, [], 200);
    }
    const deleted = svc.db.transaction(() => matching(t, q).map((r) => svc.rows.delete('tables', t, r.id)))();
    for (const row of deleted) svc.emitRow('delete', t, row);
    return list(req, t, deleted, 200);
  });
}

/**
 * How each row route stages (Appwrite 1.9.5, `Collections/Documents/*.php`): the create, update, upsert and delete
 * routes refuse a non-pending transaction with `transaction_not_ready`, the others with `general_bad_request`;
 * the update and delete routes read the row through the transaction's state and answer 404 `row_not_found`
 * when it is missing (`Update.php:127-136`, `Delete.php:127-136`); the increment routes check nothing.
 */
function stageOptions(action: StagedOperation['action']): StageOptions {
  const notPending = ['create', 'bulkCreate', 'update', 'upsert', 'delete'].includes(action)
    ? 'transaction_not_ready'
    : 'general_bad_request';
  return { notPending, notFound: action === 'update' || action === 'delete' ? 'row_not_found' : null };
}

/**
 * `X-Appwrite-Timestamp` (the SDKs' optimistic-concurrency header, Appwrite's `requestTimestamp`): a row changed
 * after it is 409 `row_update_conflict` (utopia `Database.php:6328-6331`, whole milliseconds). A malformed value
 * is 400; no header = no check. Runs right before the write, with no await in between (atomic).
 */
function checkTimestamp(req: ApiRequest, current: StoredRow | null): void {
  const raw = req.headers['x-appwrite-timestamp'];
  if (raw === undefined || raw === '') return;
  const since = parseDate(raw);
  if (since === undefined)
    throw invalidArgument('Invalid `X-Appwrite-Timestamp` header: Value must be valid date');
  if (current && Math.floor(current.updatedAt) > since) throw new AppwriteError('row_update_conflict');
}
