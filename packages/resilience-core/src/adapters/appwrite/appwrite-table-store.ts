import { Client } from 'node-appwrite';
import { errorText } from '../../error-classification.ts';
import { errors, hasCode } from '../../errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  type IncrementBound,
  type ListOptions,
  type ListResult,
  orderForCommit,
  type Row,
  type RowData,
  type TableStore,
  type WriteOp,
  type WriteOptions,
} from '../../ports/table-store.ts';
import { backoffDelay } from '../../retry/backoff.ts';
import { DATABASE_ID } from '../../schema/table-spec.ts';
import {
  type AppwriteFailure,
  isAnswer,
  isTransient,
  readFailure,
  translateAppwriteError,
} from './errors.ts';
import { createTablesDbApi } from './lean-services.ts';
import { pathSegment } from './path-segment.ts';
import { fillSelected, fromAppwriteRow, listQueries, toAppwriteData } from './rows.ts';

/** Where to reach Appwrite when no ready `Client` is passed. */
export interface AppwriteConnection {
  /** e.g. `https://cloud.appwrite.io/v1` (must end in `/v1`). */
  endpoint: string;
  projectId: string;
  /** An API key or a function's dynamic `x-appwrite-key`. Never logged. */
  key: string;
}

/** Bounded exponential backoff with full jitter for transient failures (429, 5xx, network). */
export interface RetryOptions {
  /** Total tries per call, first included. Default 4. 1 disables retries. */
  attempts?: number;
  /** Delay before the first retry, before jitter, in ms. Default 100. */
  baseDelayMs?: number;
  /** Upper bound of any one delay, in ms. Default 2000. */
  maxDelayMs?: number;
  /** Source of randomness in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
}

/** One round trip to Appwrite, reported to `onRequest` (for logs, metrics, breakers). No secrets. */
export interface AppwriteRequestInfo {
  /** The SDK method, e.g. `createRow`. */
  method: string;
  table?: string;
  /** 1 for the first try. */
  attempt: number;
  durationMs: number;
  ok: boolean;
  /** HTTP status of a failure (0 = network). */
  status?: number;
  /** Appwrite error type of a failure. */
  type?: string;
  /**
   * On a failure: true when it is a definite answer the port turns into a result or a domain error its callers
   * handle — 404 (`get` → null, NOT_FOUND), 409 (CONFLICT: an id taken, a lost compare-and-set, a transaction
   * conflict), 400 bound crossed (BOUND_EXCEEDED) — or the refusal of a best-effort rollback. A lost claim race
   * is one of these: log them at debug level at most. False for real failures: 5xx, network, 401/403, 429,
   * other 4xx.
   */
  expected?: boolean;
  /** On a failure: true when the adapter sends the call again (a transient failure with attempts left). */
  retrying?: boolean;
}

/**
 * Options of {@link createAppwriteTableStore}. Give either `client` or the connection fields
 * (`endpoint`, `projectId`, `key`).
 */
export interface AppwriteTableStoreOptions extends Partial<AppwriteConnection> {
  /** A configured node-appwrite `Client` (endpoint, project and key set). Wins over the connection fields. */
  client?: Client;
  /** Database every table lives in. Default {@link DATABASE_ID}. */
  databaseId?: string;
  retry?: RetryOptions;
  /** Time source for backoff sleeps. Default the system clock. */
  clock?: Clock;
  onRequest?: (info: AppwriteRequestInfo) => void;
  /**
   * The TablesDB calls to use (tests inject a fake). Default: the same endpoints as node-appwrite's `TablesDB`,
   * sent through the client's `call` (see lean-services.ts). Typed loosely so fakes need not reproduce the
   * SDK's overloads.
   */
  tablesDB?: TablesDbApi;
}

type AnyParams = Record<string, unknown>;
/** The subset of node-appwrite's `TablesDB` the adapter calls, object-form only. */
export interface TablesDbApi {
  createRow(params: AnyParams): Promise<unknown>;
  getRow(params: AnyParams): Promise<unknown>;
  updateRow(params: AnyParams): Promise<unknown>;
  upsertRow(params: AnyParams): Promise<unknown>;
  deleteRow(params: AnyParams): Promise<unknown>;
  listRows(params: AnyParams): Promise<unknown>;
  incrementRowColumn(params: AnyParams): Promise<unknown>;
  decrementRowColumn(params: AnyParams): Promise<unknown>;
  createTransaction(params: AnyParams): Promise<unknown>;
  createOperations(params: AnyParams): Promise<unknown>;
  updateTransaction(params: AnyParams): Promise<unknown>;
}

/** Counters of port calls and of Appwrite round trips (retries included). */
export interface AppwriteStoreStats {
  /** Port method calls. */
  calls: number;
  byMethod: Record<string, number>;
  /** HTTP round trips to Appwrite, retries included. */
  roundTrips: number;
  /** Round trips by SDK method. */
  bySdkMethod: Record<string, number>;
  /** Retries performed after transient failures. */
  retries: number;
}

/** A {@link TableStore} over Appwrite TablesDB, with call counters. */
export interface AppwriteTableStore extends TableStore {
  readonly stats: AppwriteStoreStats;
  readonly databaseId: string;
}

/**
 * Whether a call may be sent again after a transient failure whose outcome is unknown (a 5xx or a dropped
 * connection may come after Appwrite applied the write). `idempotent` calls always may; `once` calls
 * (create, increment, transaction staging and commit) only when the failure proves nothing was applied (429,
 * connection refused).
 */
type RetryKind = 'idempotent' | 'once';

/** Builds a node-appwrite `Client` from a connection (endpoint, project, key). */
export function createAppwriteClient(connection: AppwriteConnection): Client {
  return new Client()
    .setEndpoint(connection.endpoint)
    .setProject(connection.projectId)
    .setKey(connection.key);
}

/**
 * Creates the Appwrite TablesDB adapter of the storage port.
 *
 * Port → SDK: `create` → `createRow`, `get` → `getRow` (404 → null), `update` → `updateRow`, `upsert` →
 * `upsertRow`, `delete` → `deleteRow` (404 → false), `list` → `listRows` with Query strings (`$sequence`
 * tiebreak, `cursorAfter`, `limit + 1` to find the next page, `total: false`), `increment` →
 * `incrementRowColumn` with `max` (positive `by`) or `decrementRowColumn` with `min` (negative), and
 * `transaction` → `createTransaction` + one `createOperations` + `updateTransaction({commit})`, rolled back when
 * staging fails. Errors are translated by {@link translateAppwriteError}; transient ones are retried with
 * backoff (see {@link RetryOptions}; non-idempotent calls only when provably not applied) and then surface
 * as `RETRYABLE`.
 *
 * Not verified against Appwrite Cloud (the contract suite runs against appwrite-local; run it against a real
 * project with APPWRITE_ENDPOINT/PROJECT_ID/API_KEY set): row permissions in a transaction's create/upsert
 * are sent as `$permissions` inside the operation's data; `upsert` of an existing row is a PUT, so pass the
 * full row (whether Appwrite keeps or resets columns omitted from it is not pinned down).
 */
export function createAppwriteTableStore(options: AppwriteTableStoreOptions): AppwriteTableStore {
  const databaseId = options.databaseId ?? DATABASE_ID;
  const clock = options.clock ?? systemClock;
  const attempts = Math.max(1, Math.floor(options.retry?.attempts ?? 4));
  const baseDelayMs = options.retry?.baseDelayMs ?? 100;
  const maxDelayMs = options.retry?.maxDelayMs ?? 2000;
  const random = options.retry?.random ?? Math.random;
  const tables = options.tablesDB ?? createTablesDbApi(resolveClient(options));
  const stats: AppwriteStoreStats = { calls: 0, byMethod: {}, roundTrips: 0, bySdkMethod: {}, retries: 0 };

  const count = (method: string) => {
    stats.calls++;
    stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
  };

  /** One SDK call with retries; returns the raw result or throws the raw failure. */
  async function send<R>(
    sdkMethod: keyof TablesDbApi,
    params: AnyParams,
    kind: RetryKind,
    table?: string,
    /** A best-effort call (rollback): a refusal because the work is already over is expected. */
    bestEffort = false,
  ): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      const started = clock.now();
      stats.roundTrips++;
      stats.bySdkMethod[sdkMethod] = (stats.bySdkMethod[sdkMethod] ?? 0) + 1;
      try {
        const result = (await tables[sdkMethod](params)) as R;
        options.onRequest?.({
          method: sdkMethod,
          ...(table ? { table } : {}),
          attempt,
          durationMs: clock.now() - started,
          ok: true,
        });
        return result;
      } catch (error) {
        const failure: AppwriteFailure = readFailure(error);
        const retryable = isTransient(failure) && (kind === 'idempotent' || failure.notApplied);
        const retrying = retryable && attempt < attempts;
        options.onRequest?.({
          method: sdkMethod,
          ...(table ? { table } : {}),
          attempt,
          durationMs: clock.now() - started,
          ok: false,
          status: failure.status,
          type: failure.type,
          expected: isAnswer(failure) || (bestEffort && endedAlready(failure)),
          retrying,
        });
        if (!retrying) throw error;
        stats.retries++;
        await clock.sleep(
          backoffDelay(attempt, { baseMs: baseDelayMs, maxMs: maxDelayMs, jitter: 'full' }, random),
        );
      }
    }
  }

  /** `send` plus translation into port errors. */
  async function call<R>(
    operation: string,
    sdkMethod: keyof TablesDbApi,
    params: AnyParams,
    kind: RetryKind,
    table?: string,
    id?: string,
  ): Promise<R> {
    try {
      return await send<R>(sdkMethod, params, kind, table);
    } catch (error) {
      throw translateAppwriteError(error, {
        operation,
        ...(table ? { table } : {}),
        ...(id ? { id } : {}),
      });
    }
  }

  // Every id is checked before any request: one that is not an Appwrite id is refused (INVALID_INPUT), never
  // encoded into a URL where `.` or `..` would address the table or the database instead of a row.
  pathSegment(databaseId, 'databaseId');
  const rowParams = (table: string, id: string) => ({
    databaseId,
    tableId: pathSegment(table, 'table'),
    rowId: pathSegment(id, 'id'),
  });

  function incrementCall(table: string, id: string, column: string, by: number, bound: IncrementBound = {}) {
    if (!Number.isFinite(by) || by === 0) {
      throw errors.invalidInput('Increment must be a non-zero finite number', [
        { path: 'by', message: 'must be a non-zero finite number' },
      ]);
    }
    if (by > 0) {
      return {
        sdkMethod: 'incrementRowColumn' as const,
        params: {
          ...rowParams(table, id),
          column: pathSegment(column, 'column'),
          value: by,
          ...(bound.max !== undefined ? { max: bound.max } : {}),
        },
      };
    }
    return {
      sdkMethod: 'decrementRowColumn' as const,
      params: {
        ...rowParams(table, id),
        column: pathSegment(column, 'column'),
        value: -by,
        ...(bound.min !== undefined ? { min: bound.min } : {}),
      },
    };
  }

  function toOperation(op: WriteOp): AnyParams {
    const base = rowParams(op.table, op.id);
    switch (op.action) {
      case 'create':
      case 'upsert':
        return {
          ...base,
          action: op.action,
          data: {
            ...toAppwriteData(op.data),
            ...(op.permissions ? { $permissions: [...op.permissions] } : {}),
          },
        };
      case 'update':
        return { ...base, action: 'update', data: toAppwriteData(op.data) };
      case 'delete':
        return { ...base, action: 'delete' };
      case 'increment': {
        const { sdkMethod, params } = incrementCall(op.table, op.id, op.column, op.by, op.bound);
        const { column, value, max, min } = params as AnyParams;
        return {
          ...base,
          action: sdkMethod === 'incrementRowColumn' ? 'increment' : 'decrement',
          data: {
            column,
            value,
            ...(max !== undefined ? { max } : {}),
            ...(min !== undefined ? { min } : {}),
          },
        };
      }
    }
  }

  const store: AppwriteTableStore = {
    stats,
    databaseId,

    async create<T extends RowData>(table: string, id: string, data: T, opts?: WriteOptions) {
      count('create');
      const raw = await call(
        'create',
        'createRow',
        {
          ...rowParams(table, id),
          data: toAppwriteData(data),
          ...(opts?.permissions ? { permissions: [...opts.permissions] } : {}),
        },
        'once',
        table,
        id,
      );
      return fromAppwriteRow(raw) as Row<T>;
    },

    async get<T extends RowData>(table: string, id: string) {
      count('get');
      try {
        return fromAppwriteRow(
          await call('get', 'getRow', rowParams(table, id), 'idempotent', table, id),
        ) as Row<T>;
      } catch (error) {
        if (hasCode(error, 'NOT_FOUND')) return null;
        throw error;
      }
    },

    async update<T extends RowData>(table: string, id: string, patch: Partial<T>) {
      count('update');
      const raw = await call(
        'update',
        'updateRow',
        { ...rowParams(table, id), data: toAppwriteData(patch) },
        'idempotent',
        table,
        id,
      );
      return fromAppwriteRow(raw) as Row<T>;
    },

    async upsert<T extends RowData>(table: string, id: string, data: T, opts?: WriteOptions) {
      count('upsert');
      const raw = await call(
        'upsert',
        'upsertRow',
        {
          ...rowParams(table, id),
          data: toAppwriteData(data),
          ...(opts?.permissions ? { permissions: [...opts.permissions] } : {}),
        },
        'idempotent',
        table,
        id,
      );
      return fromAppwriteRow(raw) as Row<T>;
    },

    async delete(table: string, id: string) {
      count('delete');
      try {
        await call('delete', 'deleteRow', rowParams(table, id), 'idempotent', table, id);
        return true;
      } catch (error) {
        if (hasCode(error, 'NOT_FOUND')) return false;
        throw error;
      }
    },

    async list<T extends RowData>(table: string, listOptions: ListOptions = {}): Promise<ListResult<T>> {
      count('list');
      const { queries, limit } = listQueries(listOptions);
      if (listOptions.cursor !== undefined) pathSegment(listOptions.cursor, 'cursor');
      const raw = await call<{ rows?: unknown[] }>(
        'list',
        'listRows',
        { databaseId, tableId: pathSegment(table, 'table'), queries, total: false },
        'idempotent',
        table,
      );
      const all = (raw.rows ?? []).map((r) => fillSelected(fromAppwriteRow(r), listOptions.select));
      const rows = all.slice(0, limit) as Row<T>[];
      const nextCursor = all.length > limit ? (rows[rows.length - 1]?.$id ?? null) : null;
      return { rows, nextCursor };
    },

    async increment<T extends RowData>(
      table: string,
      id: string,
      column: string,
      by: number,
      bound?: IncrementBound,
    ) {
      count('increment');
      const { sdkMethod, params } = incrementCall(table, id, column, by, bound);
      return fromAppwriteRow(
        await call(`increment ${column}`, sdkMethod, params, 'once', table, id),
      ) as Row<T>;
    },

    async transaction(ops: readonly WriteOp[]) {
      count('transaction');
      if (ops.length === 0) return;
      const operations = orderForCommit(ops).map(toOperation);
      const tx = await call<{ $id: string }>('transaction begin', 'createTransaction', {}, 'idempotent');
      const transactionId = tx.$id;
      try {
        // `once`: staging appends, so re-sending after an unknown outcome could stage every operation twice
        // (an increment applied twice at commit). After such a failure the transaction is rolled back instead.
        await call('transaction stage', 'createOperations', { transactionId, operations }, 'once');
      } catch (error) {
        await rollback(transactionId);
        throw error;
      }
      try {
        await call('transaction commit', 'updateTransaction', { transactionId, commit: true }, 'once');
      } catch (error) {
        // A commit refused with a definite answer (409 conflict, 404, bound crossed) marked the transaction
        // `failed` (platform notes D1): nothing applied, nothing to release.
        if (hasCode(error, 'CONFLICT', 'NOT_FOUND', 'BOUND_EXCEEDED')) throw error;
        // Anything else (400 transaction_failed, 5xx, a lost response) may or may not have applied (§F3). A
        // rollback that Appwrite accepts proves the transaction was still pending, so nothing applied; a refused
        // one (already committed, failed or stuck `committing`) leaves the outcome unknown: the caller re-reads.
        if (await rollback(transactionId)) throw error;
        throw errors.outcomeUnknown(
          `transaction commit: outcome unknown (${errorText(error)}); re-read the rows`,
          error,
          { transactionId },
        );
      }
    },
  };

  /** Rolls a transaction back; true when Appwrite accepted it (the transaction was pending, nothing applied). */
  async function rollback(transactionId: string): Promise<boolean> {
    try {
      await send('updateTransaction', { transactionId, rollback: true }, 'idempotent', undefined, true);
      return true;
    } catch {
      // An uncommitted transaction expires on its own after its TTL (default 300 s).
      return false;
    }
  }

  return store;
}

/** A rollback refused because the transaction already ended: 400 not pending, 404 gone, 410 expired. */
function endedAlready(f: AppwriteFailure): boolean {
  return f.status === 400 || f.status === 404 || f.status === 410;
}

function resolveClient(options: AppwriteTableStoreOptions): Client {
  if (options.client) return options.client;
  const { endpoint, projectId, key } = options;
  if (endpoint && projectId && key) return createAppwriteClient({ endpoint, projectId, key });
  throw errors.invalidInput('createAppwriteTableStore needs `client` or `endpoint`, `projectId` and `key`', [
    { path: 'client', message: 'required unless endpoint, projectId and key are given' },
  ]);
}
