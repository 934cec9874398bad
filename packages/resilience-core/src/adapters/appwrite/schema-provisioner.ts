import { type Client, Query, TablesDB, type TablesDBIndexType } from 'node-appwrite';
import { ResilienceError } from '../../errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  type ColumnSpec,
  counterSpecProblems,
  counterStartOf,
  DATABASE_ID,
  type IndexSpec,
  type TableSpec,
} from '../../schema/table-spec.ts';
import { readFailure, translateAppwriteError } from './errors.ts';

/**
 * Brings an Appwrite database in line with declared {@link TableSpec}s, additively and idempotently: creates
 * the database, missing tables, missing columns (then waits until each is `available`), and missing indexes
 * (then waits); updates what can change in place (table name/permissions/rowSecurity; a column's required,
 * default, min/max, enum elements added, string size grown). It never deletes or recreates anything: a change
 * that would need it (type, array, format, shrinking a string, removing enum values, a different index) is
 * refused — all refusals are reported together, before anything is written.
 *
 * Counters (`ColumnSpec.counter`): Appwrite leaves NULL in a column added to a table that has rows, and an
 * increment of NULL writes nothing (platform notes §F2). DECISION: the provisioner backfills rather than
 * refuses. After a table's columns are available, every counter column of an existing table is checked for
 * rows holding NULL (one `isNull` list per counter; none for a table created in this run), and each such row is
 * set to the column's start value ({@link counterStartOf}) — before `npm run deploy` deploys the code that
 * increments it (the schema step precedes the code step), so no deployed code uses the column meanwhile. A
 * counter declared so that new rows could hold NULL (not required and no numeric default) is refused with the
 * reason ({@link counterSpecProblems}), as a change that would lose data is. The same check repairs NULLs left by
 * an interrupted run or by a column added outside `npm run deploy` (e.g. `appwrite push tables`).
 */

/** One step of provisioning, for a progress display. */
export interface ProvisionEvent {
  kind: 'database' | 'table' | 'column' | 'index';
  /** `table`, `table.column` or `table.index`. */
  id: string;
  status: 'exists' | 'created' | 'updated' | 'waiting' | 'available' | 'extra' | 'backfilled';
  detail?: string;
}

/** A declared change that cannot be applied without losing data. */
export interface SchemaProblem {
  table: string;
  key: string;
  problem: string;
}

/** Options of {@link provisionSchema}. */
export interface ProvisionOptions {
  client: Client;
  /** Default {@link DATABASE_ID}. */
  databaseId?: string;
  /** Default: the database id. */
  databaseName?: string;
  tables: readonly TableSpec[];
  onProgress?: (event: ProvisionEvent) => void;
  clock?: Clock;
  /** Between status polls, ms. Default 500. */
  pollIntervalMs?: number;
  /** Longest wait for one table's columns or indexes to become available, ms. Default 120000. */
  waitTimeoutMs?: number;
}

/** What provisioning did. */
export interface ProvisionReport {
  created: string[];
  updated: string[];
  /** Remote columns/indexes not declared in code (left alone). */
  extra: string[];
  /** Counter columns whose NULL rows were set to the start value: `table.column` → rows set. */
  backfilled: Record<string, number>;
}

/** A column as Appwrite reports it (the fields compared). */
export interface RemoteColumn {
  key: string;
  type: string;
  status?: string;
  error?: string;
  required?: boolean;
  array?: boolean;
  size?: number;
  min?: number | string | bigint;
  max?: number | string | bigint;
  default?: unknown;
  format?: string;
  elements?: string[];
}
/** An index as Appwrite reports it. */
export interface RemoteIndex {
  key: string;
  type: string;
  status?: string;
  error?: string;
  columns?: string[];
  attributes?: string[];
}
/** A table as Appwrite reports it (getTable). */
export interface RemoteTable {
  $id: string;
  name: string;
  rowSecurity?: boolean;
  $permissions?: string[];
  columns?: RemoteColumn[];
  indexes?: RemoteIndex[];
}

/** The planned changes for one table. */
export interface TablePlan {
  spec: TableSpec;
  exists: boolean;
  updateTable: boolean;
  createColumns: ColumnSpec[];
  updateColumns: Array<{ spec: ColumnSpec; why: string }>;
  createIndexes: IndexSpec[];
  extra: string[];
  problems: SchemaProblem[];
}

const normType = (t: string) => (t === 'float' ? 'double' : t);
const formatOf = (c: { format?: string | undefined; elements?: unknown }) =>
  c.format ?? (Array.isArray(c.elements) ? 'enum' : '');
const sameSet = (a: readonly string[] = [], b: readonly string[] = []) =>
  a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
const num = (v: unknown) => (v === undefined || v === null ? undefined : Number(v));

/** Compares one declared table with its remote state (or `null`). Pure; exported for tests. */
export function planTable(spec: TableSpec, remote: RemoteTable | null): TablePlan {
  const plan: TablePlan = {
    spec,
    exists: remote !== null,
    updateTable: false,
    createColumns: [],
    updateColumns: [],
    createIndexes: [],
    extra: [],
    problems: [],
  };
  if (!remote) {
    plan.createColumns = [...spec.columns];
    plan.createIndexes = [...spec.indexes];
    return plan;
  }
  plan.updateTable =
    remote.name !== spec.name ||
    (remote.rowSecurity ?? false) !== (spec.rowSecurity ?? false) ||
    !sameSet(remote.$permissions ?? [], spec.$permissions ?? []);

  const remoteColumns = new Map((remote.columns ?? []).map((c) => [c.key, c]));
  for (const column of spec.columns) {
    const r = remoteColumns.get(column.key);
    if (!r) {
      plan.createColumns.push(column);
      continue;
    }
    const problem = (text: string) => plan.problems.push({ table: spec.$id, key: column.key, problem: text });
    if (normType(r.type) !== column.type) {
      problem(`type ${r.type} → ${column.type} would need the column recreated (data loss)`);
      continue;
    }
    if ((r.array ?? false) !== (column.array ?? false)) {
      problem(
        `array ${r.array ?? false} → ${column.array ?? false} would need the column recreated (data loss)`,
      );
      continue;
    }
    if (column.type === 'string' && formatOf(r) !== formatOf(column)) {
      problem(`format "${formatOf(r)}" → "${formatOf(column)}" would need the column recreated (data loss)`);
      continue;
    }
    const reasons: string[] = [];
    if (
      column.type === 'string' &&
      formatOf(column) === '' &&
      column.size !== undefined &&
      r.size !== undefined
    ) {
      if (column.size < r.size) {
        problem(`size ${r.size} → ${column.size} could truncate stored values`);
        continue;
      }
      if (column.size > r.size) reasons.push(`size ${r.size} → ${column.size}`);
    }
    if (formatOf(column) === 'enum') {
      const removed = (r.elements ?? []).filter((e) => !(column.elements ?? []).includes(e));
      if (removed.length) {
        problem(`enum values ${removed.join(', ')} removed; stored rows may hold them`);
        continue;
      }
      if (!sameSet(r.elements ?? [], column.elements ?? [])) reasons.push('enum elements added');
    }
    if ((r.required ?? false) !== column.required)
      reasons.push(`required ${r.required} → ${column.required}`);
    const remoteDefault = r.default ?? null;
    const declaredDefault = column.default ?? null;
    if (remoteDefault !== declaredDefault && String(remoteDefault) !== String(declaredDefault)) {
      reasons.push(`default ${JSON.stringify(remoteDefault)} → ${JSON.stringify(declaredDefault)}`);
    }
    if (column.type === 'integer' || column.type === 'double') {
      if (column.min !== undefined && num(r.min) !== column.min) reasons.push(`min ${r.min} → ${column.min}`);
      if (column.max !== undefined && num(r.max) !== column.max) reasons.push(`max ${r.max} → ${column.max}`);
    }
    if (reasons.length) plan.updateColumns.push({ spec: column, why: reasons.join(', ') });
  }
  const declaredColumns = new Set(spec.columns.map((c) => c.key));
  for (const key of remoteColumns.keys())
    if (!declaredColumns.has(key)) plan.extra.push(`${spec.$id}.${key}`);

  const remoteIndexes = new Map((remote.indexes ?? []).map((i) => [i.key, i]));
  for (const index of spec.indexes) {
    const r = remoteIndexes.get(index.key);
    if (!r) {
      plan.createIndexes.push(index);
      continue;
    }
    const columns = r.columns ?? r.attributes ?? [];
    if (r.type !== index.type || columns.join(',') !== index.columns.join(',')) {
      plan.problems.push({
        table: spec.$id,
        key: index.key,
        problem: `index ${r.type}(${columns.join(',')}) → ${index.type}(${index.columns.join(',')}) would need it dropped and recreated; give the new index a new key`,
      });
    }
  }
  const declaredIndexes = new Set(spec.indexes.map((i) => i.key));
  for (const key of remoteIndexes.keys())
    if (!declaredIndexes.has(key)) plan.extra.push(`${spec.$id}.${key}`);
  return plan;
}

/** Options of {@link planSchema}. */
export interface PlanSchemaOptions {
  client: Client;
  /** Default {@link DATABASE_ID}. */
  databaseId?: string;
  tables: readonly TableSpec[];
}

/** One declared table compared with the server: the plan and the remote table it was made from (`null` = missing). */
export interface TableState {
  plan: TablePlan;
  remote: RemoteTable | null;
}

/** What {@link planSchema} read: whether the database exists, and each declared table's plan. */
export interface SchemaPlan {
  databaseId: string;
  databaseExists: boolean;
  tables: TableState[];
}

/**
 * Reads the database and every declared table (1 + tables.length GET calls, none when the database is missing)
 * and compares them with the specs ({@link planTable}) — READ-ONLY: what {@link provisionSchema} would do, and
 * what `npm run doctor` reports. Appwrite errors other than 404 are translated (`translateAppwriteError`).
 */
export async function planSchema(options: PlanSchemaOptions): Promise<SchemaPlan> {
  const db = new TablesDB(options.client);
  const databaseId = options.databaseId ?? DATABASE_ID;
  const getOrNull = async <T>(operation: string, fn: () => Promise<T>, id: string): Promise<T | null> => {
    try {
      return await fn();
    } catch (error) {
      if (readFailure(error).status === 404) return null;
      throw translateAppwriteError(error, { operation, id });
    }
  };
  const database = await getOrNull('get database', () => db.get({ databaseId }), databaseId);
  const tables: TableState[] = [];
  for (const spec of options.tables) {
    const remote = database
      ? ((await getOrNull(
          'get table',
          () => db.getTable({ databaseId, tableId: spec.$id }),
          spec.$id,
        )) as RemoteTable | null)
      : null;
    tables.push({ plan: planTable(spec, remote), remote });
  }
  return { databaseId, databaseExists: database !== null, tables };
}

/** A counter column ({@link ColumnSpec.counter}) that holds NULL in some rows (increments of them count nothing). */
export interface NullCounter {
  table: string;
  column: string;
  /** Rows holding NULL (Appwrite counts up to 5,000). */
  rows: number;
}

/**
 * The counter columns of the given (existing) tables that hold NULL in some rows — e.g. added by `appwrite push
 * tables` to a table that had rows, which `npm run deploy` would backfill. READ-ONLY: one `isNull` list (limit 1,
 * with its total) per counter column the server has; `npm run doctor` reports them.
 */
export async function findNullCounters(options: {
  client: Client;
  databaseId?: string;
  tables: readonly TableState[];
}): Promise<NullCounter[]> {
  const db = new TablesDB(options.client);
  const databaseId = options.databaseId ?? DATABASE_ID;
  const out: NullCounter[] = [];
  for (const { plan, remote } of options.tables) {
    if (!remote) continue;
    const present = new Set((remote.columns ?? []).map((c) => c.key));
    for (const column of plan.spec.columns.filter((c) => c.counter && present.has(c.key))) {
      const tableId = plan.spec.$id;
      let total: number;
      try {
        ({ total } = await db.listRows({
          databaseId,
          tableId,
          queries: [Query.isNull(column.key), Query.select(['$id']), Query.limit(1)],
        }));
      } catch (error) {
        throw translateAppwriteError(error, {
          operation: 'list null counters',
          id: `${tableId}.${column.key}`,
        });
      }
      if (total > 0) out.push({ table: tableId, column: column.key, rows: total });
    }
  }
  return out;
}

/** Provisions the database and tables; see the file header. Throws CONFLICT listing every refused change. */
export async function provisionSchema(options: ProvisionOptions): Promise<ProvisionReport> {
  const db = new TablesDB(options.client);
  const databaseId = options.databaseId ?? DATABASE_ID;
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollIntervalMs ?? 500;
  const waitMs = options.waitTimeoutMs ?? 120_000;
  const emit = options.onProgress ?? (() => {});
  const report: ProvisionReport = { created: [], updated: [], extra: [], backfilled: {} };
  const wrap = async <T>(operation: string, fn: () => Promise<T>, id?: string): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw translateAppwriteError(error, { operation, ...(id ? { id } : {}) });
    }
  };

  // Plan everything first (read-only), so a refused change stops the run before any write.
  const planned = await planSchema({ client: options.client, databaseId, tables: options.tables });
  const database = planned.databaseExists;
  const plans: TablePlan[] = planned.tables.map((t) => t.plan);
  const problems = [
    ...plans.flatMap((p) => p.problems),
    ...options.tables.flatMap((spec) => counterSpecProblems(spec).map((p) => ({ table: spec.$id, ...p }))),
  ];
  if (problems.length) {
    throw new ResilienceError(
      'CONFLICT',
      `Refusing ${problems.length} schema change(s) that would lose data or counts:\n` +
        problems.map((p) => `  ${p.table}.${p.key}: ${p.problem}`).join('\n'),
      { details: { problems } },
    );
  }

  if (!database) {
    await wrap('create database', () => db.create({ databaseId, name: options.databaseName ?? databaseId }));
    report.created.push(databaseId);
    emit({ kind: 'database', id: databaseId, status: 'created' });
  } else emit({ kind: 'database', id: databaseId, status: 'exists' });

  for (const plan of plans) {
    const { spec } = plan;
    const tableId = spec.$id;
    const tableParams = {
      databaseId,
      tableId,
      name: spec.name,
      permissions: spec.$permissions ?? [],
      rowSecurity: spec.rowSecurity ?? false,
    };
    if (!plan.exists) {
      await wrap('create table', () => db.createTable({ ...tableParams, enabled: true }), tableId);
      report.created.push(tableId);
      emit({ kind: 'table', id: tableId, status: 'created' });
    } else if (plan.updateTable) {
      await wrap('update table', () => db.updateTable(tableParams), tableId);
      report.updated.push(tableId);
      emit({ kind: 'table', id: tableId, status: 'updated' });
    } else emit({ kind: 'table', id: tableId, status: 'exists' });

    for (const column of plan.createColumns) {
      await wrap(
        'create column',
        () => createColumn(db, databaseId, tableId, column),
        `${tableId}.${column.key}`,
      );
      report.created.push(`${tableId}.${column.key}`);
      emit({ kind: 'column', id: `${tableId}.${column.key}`, status: 'created', detail: column.type });
    }
    for (const { spec: column, why } of plan.updateColumns) {
      await wrap(
        'update column',
        () => updateColumn(db, databaseId, tableId, column),
        `${tableId}.${column.key}`,
      );
      report.updated.push(`${tableId}.${column.key}`);
      emit({ kind: 'column', id: `${tableId}.${column.key}`, status: 'updated', detail: why });
    }
    for (const extra of plan.extra) {
      report.extra.push(extra);
      emit({ kind: 'column', id: extra, status: 'extra', detail: 'not declared in code; left alone' });
    }
    if (plan.createColumns.length || plan.updateColumns.length) {
      await waitAvailable(
        'column',
        tableId,
        [...plan.createColumns, ...plan.updateColumns.map((u) => u.spec)].map((c) => c.key),
      );
    }
    for (const index of plan.createIndexes) {
      await wrap(
        'create index',
        () =>
          db.createIndex({
            databaseId,
            tableId,
            key: index.key,
            type: index.type as TablesDBIndexType,
            columns: index.columns,
            ...(index.orders ? { orders: index.orders as never } : {}),
          }),
        `${tableId}.${index.key}`,
      );
      report.created.push(`${tableId}.${index.key}`);
      emit({ kind: 'index', id: `${tableId}.${index.key}`, status: 'created', detail: index.type });
    }
    if (plan.createIndexes.length)
      await waitAvailable(
        'index',
        tableId,
        plan.createIndexes.map((i) => i.key),
      );
    if (plan.exists) {
      for (const column of spec.columns.filter((c) => c.counter)) {
        const id = `${tableId}.${column.key}`;
        const rows = await wrap(
          'backfill counter',
          () => backfillCounter(db, databaseId, tableId, column),
          id,
        );
        if (!rows) continue;
        report.backfilled[id] = rows;
        emit({
          kind: 'column',
          id,
          status: 'backfilled',
          detail: `${rows} row(s) held NULL (increments of NULL count nothing): set to ${counterStartOf(column)}`,
        });
      }
    }
  }
  return report;

  async function waitAvailable(kind: 'column' | 'index', tableId: string, keys: string[]): Promise<void> {
    const deadline = clock.now() + waitMs;
    for (;;) {
      const table = (await wrap(
        'get table',
        () => db.getTable({ databaseId, tableId }),
        tableId,
      )) as RemoteTable;
      const items: Array<{ key: string; status?: string; error?: string }> =
        kind === 'column' ? (table.columns ?? []) : (table.indexes ?? []);
      const pending: string[] = [];
      for (const key of keys) {
        const item = items.find((i) => i.key === key);
        if (item?.status === 'failed' || item?.status === 'stuck') {
          throw new ResilienceError(
            'INTERNAL',
            `${kind} ${tableId}.${key} is ${item.status}: ${item.error ?? ''}`,
          );
        }
        if (!item || (item.status !== undefined && item.status !== 'available')) pending.push(key);
      }
      if (!pending.length) {
        for (const key of keys) emit({ kind, id: `${tableId}.${key}`, status: 'available' });
        return;
      }
      if (clock.now() >= deadline) {
        throw new ResilienceError(
          'TIMEOUT',
          `${kind}s of ${tableId} not available after ${waitMs} ms: ${pending.join(', ')}`,
        );
      }
      emit({ kind, id: `${tableId}.${pending[0]}`, status: 'waiting', detail: `${pending.length} pending` });
      await clock.sleep(pollMs);
    }
  }
}

/** Rows updated per page of a backfill, and the most pages one backfill reads (10,000 rows per deploy). */
const BACKFILL_PAGE = 100;
const BACKFILL_MAX_PAGES = 100;

/**
 * Sets every row of `tableId` whose counter `column` is NULL to its start value; returns how many. Re-lists
 * from the start after each page (updated rows no longer match `isNull`); a page that returns a row already set
 * means the server did not apply the write, and is an error rather than a loop.
 */
async function backfillCounter(
  db: TablesDB,
  databaseId: string,
  tableId: string,
  column: ColumnSpec,
): Promise<number> {
  const start = counterStartOf(column);
  const done = new Set<string>();
  for (let page = 0; page < BACKFILL_MAX_PAGES; page++) {
    const { rows } = await db.listRows({
      databaseId,
      tableId,
      queries: [Query.isNull(column.key), Query.select(['$id']), Query.limit(BACKFILL_PAGE)],
      total: false,
    });
    if (!rows.length) return done.size;
    for (const row of rows) {
      if (done.has(row.$id))
        throw new ResilienceError(
          'INTERNAL',
          `${tableId}.${column.key}: row ${row.$id} still NULL after the backfill`,
        );
      await db.updateRow({ databaseId, tableId, rowId: row.$id, data: { [column.key]: start } });
      done.add(row.$id);
    }
  }
  throw new ResilienceError(
    'INTERNAL',
    `${tableId}.${column.key}: more than ${BACKFILL_PAGE * BACKFILL_MAX_PAGES} rows hold NULL; run the deploy again to continue`,
  );
}

function createColumn(db: TablesDB, databaseId: string, tableId: string, c: ColumnSpec): Promise<unknown> {
  const base = { databaseId, tableId, key: c.key, required: c.required, array: c.array ?? false };
  const withDefault = c.default !== undefined && c.default !== null ? { xdefault: c.default as never } : {};
  const range = {
    ...(c.min !== undefined ? { min: c.min } : {}),
    ...(c.max !== undefined ? { max: c.max } : {}),
  };
  switch (c.type) {
    case 'string':
      if (c.format === 'enum')
        return db.createEnumColumn({ ...base, ...withDefault, elements: c.elements ?? [] });
      if (c.format === 'email') return db.createEmailColumn({ ...base, ...withDefault });
      if (c.format === 'url') return db.createUrlColumn({ ...base, ...withDefault });
      if (c.format === 'ip') return db.createIpColumn({ ...base, ...withDefault });
      return db.createStringColumn({ ...base, ...withDefault, size: c.size ?? 255 });
    case 'integer':
      return db.createIntegerColumn({ ...base, ...withDefault, ...range });
    case 'double':
      return db.createFloatColumn({ ...base, ...withDefault, ...range });
    case 'boolean':
      return db.createBooleanColumn({ ...base, ...withDefault });
    case 'datetime':
      return db.createDatetimeColumn({ ...base, ...withDefault });
  }
}

function updateColumn(db: TablesDB, databaseId: string, tableId: string, c: ColumnSpec): Promise<unknown> {
  // Appwrite requires `default` on updates (null clears it).
  const base = {
    databaseId,
    tableId,
    key: c.key,
    required: c.required,
    xdefault: (c.default ?? null) as never,
  };
  const range = {
    ...(c.min !== undefined ? { min: c.min } : {}),
    ...(c.max !== undefined ? { max: c.max } : {}),
  };
  switch (c.type) {
    case 'string':
      if (c.format === 'enum') return db.updateEnumColumn({ ...base, elements: c.elements ?? [] });
      if (c.format === 'email') return db.updateEmailColumn(base);
      if (c.format === 'url') return db.updateUrlColumn(base);
      if (c.format === 'ip') return db.updateIpColumn(base);
      return db.updateStringColumn({ ...base, ...(c.size !== undefined ? { size: c.size } : {}) });
    case 'integer':
      return db.updateIntegerColumn({ ...base, ...range });
    case 'double':
      return db.updateFloatColumn({ ...base, ...range });
    case 'boolean':
      return db.updateBooleanColumn(base);
    case 'datetime':
      return db.updateDatetimeColumn(base);
  }
}
