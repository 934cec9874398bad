import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppwriteException, Query } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../errors.ts';
import type { Clock } from '../../ports/clock.ts';
import {
  type AppwriteRequestInfo,
  createAppwriteTableStore,
  type TablesDbApi,
} from './appwrite-table-store.ts';
import { translateAppwriteError } from './errors.ts';

/** A clock whose sleeps resolve at once and are recorded. */
function instantClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => 0, sleep: async (ms) => void slept.push(ms) };
}

type Call = { method: string; params: Record<string, unknown> };

/** A fake TablesDB: each method answers from `script` (a function of the call), recording every call. */
function fakeTables(script: (call: Call) => unknown): { api: TablesDbApi; calls: Call[] } {
  const calls: Call[] = [];
  const handler = (method: string) => async (params: Record<string, unknown>) => {
    const call = { method, params };
    calls.push(call);
    const result = script(call);
    if (result instanceof Error) throw result;
    return result;
  };
  const methods = [
    'createRow',
    'getRow',
    'updateRow',
    'upsertRow',
    'deleteRow',
    'listRows',
    'incrementRowColumn',
    'decrementRowColumn',
    'createTransaction',
    'createOperations',
    'updateTransaction',
  ] as const;
  const api = Object.fromEntries(methods.map((m) => [m, handler(m)])) as unknown as TablesDbApi;
  return { api, calls };
}

const appwriteError = (status: number, type: string) =>
  new AppwriteException(`failed: ${type}`, status, type, '');
const rawRow = (id: string, extra: Record<string, unknown> = {}) => ({
  $id: id,
  $sequence: '42',
  $tableId: 't',
  $databaseId: 'resilience',
  $createdAt: '2026-01-01T00:00:00.000+00:00',
  $updatedAt: '2026-01-01T00:00:00.000+00:00',
  $permissions: [],
  ...extra,
});

describe('translateAppwriteError', () => {
  const table: Array<[number, string, string]> = [
    [409, 'row_already_exists', 'CONFLICT'],
    [409, 'document_already_exists', 'CONFLICT'],
    [409, 'transaction_conflict', 'CONFLICT'],
    [404, 'row_not_found', 'NOT_FOUND'],
    [404, 'document_not_found', 'NOT_FOUND'],
    [404, 'column_not_found', 'NOT_FOUND'],
    [400, 'column_limit_exceeded', 'BOUND_EXCEEDED'],
    [400, 'attribute_limit_exceeded', 'BOUND_EXCEEDED'],
    [429, 'general_rate_limit_exceeded', 'RETRYABLE'],
    [500, 'general_unknown', 'RETRYABLE'],
    [503, 'general_service_disabled', 'RETRYABLE'],
    [410, 'transaction_expired', 'RETRYABLE'],
    [400, 'general_query_invalid', 'INVALID_INPUT'],
    [401, 'general_unauthorized_scope', 'INTERNAL'],
  ];
  it.each(table)('maps %i %s to %s', (status, type, code) => {
    const error = translateAppwriteError(appwriteError(status, type), {
      operation: 'op',
      table: 't',
      id: 'r',
    });
    expect(error.code).toBe(code);
    expect(error.details).toMatchObject({ table: 't', id: 'r', appwriteStatus: status, appwriteType: type });
  });

  it('maps a network TypeError to RETRYABLE', () => {
    const failure = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect'), { code: 'ECONNRESET' }),
    });
    expect(translateAppwriteError(failure, { operation: 'get' }).code).toBe('RETRYABLE');
  });
});

describe('createAppwriteTableStore (fake TablesDB)', () => {
  it('converts rows: $sequence to a number, no $tableId/$databaseId', async () => {
    const { api, calls } = fakeTables(() => rawRow('a', { name: 'x' }));
    const store = createAppwriteTableStore({ tablesDB: api });
    const row = await store.create('t', 'a', { name: 'x', $id: 'ignored' });
    expect(row).toEqual({
      $id: 'a',
      $sequence: 42,
      $createdAt: '2026-01-01T00:00:00.000+00:00',
      $updatedAt: '2026-01-01T00:00:00.000+00:00',
      $permissions: [],
      name: 'x',
    });
    expect(calls[0]).toEqual({
      method: 'createRow',
      params: { databaseId: 'resilience', tableId: 't', rowId: 'a', data: { name: 'x' } },
    });
  });

  it('returns null for a 404 get and false for a 404 delete', async () => {
    const { api } = fakeTables(() => appwriteError(404, 'row_not_found'));
    const store = createAppwriteTableStore({ tablesDB: api });
    expect(await store.get('t', 'x')).toBeNull();
    expect(await store.delete('t', 'x')).toBe(false);
  });

  it('sends positive increments with max and negative ones as decrements with min', async () => {
    const { api, calls } = fakeTables(() => rawRow('a', { n: 1 }));
    const store = createAppwriteTableStore({ tablesDB: api });
    await store.increment('t', 'a', 'n', 3, { max: 5, min: 0 });
    await store.increment('t', 'a', 'n', -2, { max: 5, min: 0 });
    expect(calls.map((c) => [c.method, c.params.value, c.params.max, c.params.min])).toEqual([
      ['incrementRowColumn', 3, 5, undefined],
      ['decrementRowColumn', 2, undefined, 0],
    ]);
    await expect(store.increment('t', 'a', 'n', 0)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('maps a bound crossing to BOUND_EXCEEDED and a missing row to NOT_FOUND without retrying', async () => {
    let answer: Error = appwriteError(400, 'column_limit_exceeded');
    const { api, calls } = fakeTables(() => answer);
    const store = createAppwriteTableStore({ tablesDB: api, clock: instantClock() });
    await expect(store.increment('t', 'a', 'n', 1, { max: 1 })).rejects.toMatchObject({
      code: 'BOUND_EXCEEDED',
    });
    answer = appwriteError(404, 'column_not_found');
    await expect(store.increment('t', 'a', 'n', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toHaveLength(2);
  });

  it('builds list queries: filters, order, $sequence tiebreak, cursor, limit + 1, no total', async () => {
    const rows = [rawRow('a'), rawRow('b'), rawRow('c')];
    const { api, calls } = fakeTables(() => ({ total: 0, rows }));
    const store = createAppwriteTableStore({ tablesDB: api });
    const page = await store.list('t', {
      where: [
        { field: 'group', op: 'eq', value: 'g' },
        { field: 'n', op: 'between', value: [1, 2] },
      ],
      orderBy: [{ field: 'n', direction: 'desc' }],
      cursor: 'z',
      limit: 2,
    });
    expect(page.rows.map((r) => r.$id)).toEqual(['a', 'b']);
    expect(page.nextCursor).toBe('b');
    expect(calls[0]?.params).toEqual({
      databaseId: 'resilience',
      tableId: 't',
      total: false,
      queries: [
        Query.equal('group', ['g']),
        Query.between('n', 1, 2),
        Query.orderDesc('n'),
        Query.orderAsc('$sequence'),
        Query.cursorAfter('z'),
        Query.limit(3),
      ],
    });
  });

  it('reports no next page when Appwrite returns at most `limit` rows', async () => {
    const { api } = fakeTables(() => ({ total: 0, rows: [rawRow('a')] }));
    const page = await createAppwriteTableStore({ tablesDB: api }).list('t', { limit: 1 });
    expect(page.nextCursor).toBeNull();
  });

  it('retries idempotent calls on 5xx with growing jittered delays, then gives RETRYABLE', async () => {
    const clock = instantClock();
    const { api, calls } = fakeTables(() => appwriteError(503, 'general_service_disabled'));
    const store = createAppwriteTableStore({
      tablesDB: api,
      clock,
      retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 250, random: () => 0.999 },
    });
    const error = await store.get('t', 'a').catch((e: unknown) => e);
    expect(hasCode(error, 'RETRYABLE')).toBe(true);
    expect(calls).toHaveLength(4);
    expect(clock.slept).toEqual([99, 199, 249]);
    expect(store.stats).toMatchObject({ calls: 1, roundTrips: 4, retries: 3 });
  });

  it('recovers when a retry succeeds', async () => {
    let n = 0;
    const { api } = fakeTables(() => (n++ < 2 ? appwriteError(500, 'general_unknown') : rawRow('a')));
    const store = createAppwriteTableStore({ tablesDB: api, clock: instantClock() });
    expect((await store.get('t', 'a'))?.$id).toBe('a');
    expect(store.stats.retries).toBe(2);
  });

  it('retries a create after 429 but not after an ambiguous 500 (it may have been applied)', async () => {
    let answer: Error = appwriteError(500, 'general_unknown');
    const { api, calls } = fakeTables(() => answer);
    const store = createAppwriteTableStore({ tablesDB: api, clock: instantClock() });
    await expect(store.create('t', 'a', {})).rejects.toMatchObject({ code: 'RETRYABLE' });
    expect(calls).toHaveLength(1);
    answer = appwriteError(429, 'general_rate_limit_exceeded');
    await expect(store.create('t', 'a', {})).rejects.toMatchObject({ code: 'RETRYABLE' });
    expect(calls).toHaveLength(5);
  });

  it('stages a transaction in one createOperations call and commits it', async () => {
    const { api, calls } = fakeTables(() => ({ $id: 'tx1' }));
    const store = createAppwriteTableStore({ tablesDB: api });
    await store.transaction([
      { action: 'create', table: 't', id: 'a', data: { name: 'a' }, permissions: ['read("any")'] },
      { action: 'update', table: 't', id: 'b', data: { name: 'b' } },
      { action: 'delete', table: 't', id: 'c' },
      { action: 'increment', table: 't', id: 'd', column: 'n', by: 1, bound: { max: 3 } },
      { action: 'increment', table: 't', id: 'd', column: 'n', by: -2, bound: { min: 0 } },
    ]);
    expect(calls.map((c) => c.method)).toEqual([
      'createTransaction',
      'createOperations',
      'updateTransaction',
    ]);
    const base = { databaseId: 'resilience', tableId: 't' };
    expect(calls[1]?.params).toEqual({
      transactionId: 'tx1',
      operations: [
        { ...base, rowId: 'a', action: 'create', data: { name: 'a', $permissions: ['read("any")'] } },
        { ...base, rowId: 'b', action: 'update', data: { name: 'b' } },
        { ...base, rowId: 'c', action: 'delete' },
        { ...base, rowId: 'd', action: 'increment', data: { column: 'n', value: 1, max: 3 } },
        { ...base, rowId: 'd', action: 'decrement', data: { column: 'n', value: 2, min: 0 } },
      ],
    });
    expect(calls[2]?.params).toEqual({ transactionId: 'tx1', commit: true });
  });

  it('does not re-stage after an ambiguous 500 (staging appends): rolls back and gives RETRYABLE', async () => {
    const { api, calls } = fakeTables((c) =>
      c.method === 'createOperations' ? appwriteError(500, 'general_unknown') : { $id: 'tx' },
    );
    const store = createAppwriteTableStore({ tablesDB: api, clock: instantClock() });
    await expect(
      store.transaction([{ action: 'increment', table: 't', id: 'a', column: 'n', by: 1 }]),
    ).rejects.toMatchObject({ code: 'RETRYABLE' });
    expect(calls.map((c) => c.method)).toEqual([
      'createTransaction',
      'createOperations',
      'updateTransaction',
    ]);
    expect(calls[2]?.params).toEqual({ transactionId: 'tx', rollback: true });
  });

  it.each([
    [409, 'transaction_conflict', 'CONFLICT'],
    [404, 'document_not_found', 'NOT_FOUND'],
    [400, 'attribute_limit_exceeded', 'BOUND_EXCEEDED'],
  ])(
    'maps a commit failing with %i %s to %s, without a rollback (the transaction is failed)',
    async (status, type, code) => {
      const { api, calls } = fakeTables((c) =>
        c.method === 'updateTransaction' && c.params.commit ? appwriteError(status, type) : { $id: 'tx' },
      );
      const seen: AppwriteRequestInfo[] = [];
      const store = createAppwriteTableStore({
        tablesDB: api,
        clock: instantClock(),
        onRequest: (i) => seen.push(i),
      });
      await expect(
        store.transaction([{ action: 'update', table: 't', id: 'a', data: { n: 1 } }]),
      ).rejects.toMatchObject({ code });
      expect(calls.map((c) => c.method)).toEqual([
        'createTransaction',
        'createOperations',
        'updateTransaction',
      ]);
      // A lost compare-and-set is an answer, not a fault.
      expect(seen.at(-1)).toMatchObject({ ok: false, status, type, expected: true, retrying: false });
    },
  );

  it('a commit answered 5xx whose rollback is refused is OUTCOME_UNKNOWN; the refused rollback is expected', async () => {
    const { api, calls } = fakeTables((c) => {
      if (c.method === 'updateTransaction' && c.params.commit) return appwriteError(500, 'general_unknown');
      if (c.method === 'updateTransaction' && c.params.rollback)
        return appwriteError(400, 'transaction_not_ready');
      return { $id: 'tx' };
    });
    const seen: AppwriteRequestInfo[] = [];
    const store = createAppwriteTableStore({
      tablesDB: api,
      clock: instantClock(),
      onRequest: (i) => seen.push(i),
    });
    await expect(
      store.transaction([{ action: 'update', table: 't', id: 'a', data: { n: 1 } }]),
    ).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN', details: { transactionId: 'tx' } });
    expect(calls.map((c) => c.method)).toEqual([
      'createTransaction',
      'createOperations',
      'updateTransaction',
      'updateTransaction',
    ]);
    expect(calls[3]?.params).toEqual({ transactionId: 'tx', rollback: true });
    expect(seen.filter((i) => !i.ok).map((i) => [i.status, i.expected, i.retrying])).toEqual([
      [500, false, false], // a commit is not re-sent after an ambiguous 500
      [400, true, false],
    ]);
  });

  it.each([
    [400, 'transaction_failed'],
    [500, 'general_unknown'],
  ])('a commit answered %i %s is OUTCOME_UNKNOWN, never INVALID_INPUT (§F3)', async (status, type) => {
    const { api } = fakeTables((c) => {
      if (c.method === 'updateTransaction' && c.params.commit) return appwriteError(status, type);
      if (c.method === 'updateTransaction' && c.params.rollback)
        return appwriteError(400, 'transaction_not_ready');
      return { $id: 'tx' };
    });
    const store = createAppwriteTableStore({ tablesDB: api, clock: instantClock() });
    await expect(
      store.transaction([{ action: 'update', table: 't', id: 'a', data: { n: 1 } }]),
    ).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
  });

  it('a commit whose response is lost but whose rollback is accepted applied nothing: RETRYABLE', async () => {
    const { api } = fakeTables((c) => {
      if (c.method === 'updateTransaction' && c.params.commit)
        return appwriteError(503, 'general_server_error');
      return { $id: 'tx' };
    });
    const store = createAppwriteTableStore({ tablesDB: api, clock: instantClock() });
    await expect(
      store.transaction([{ action: 'update', table: 't', id: 'a', data: { n: 1 } }]),
    ).rejects.toMatchObject({ code: 'RETRYABLE' });
  });

  it('stages operations ordered by (table, row id), keeping the order of operations on one row', async () => {
    const { api, calls } = fakeTables(() => ({ $id: 'tx' }));
    const store = createAppwriteTableStore({ tablesDB: api, clock: instantClock() });
    await store.transaction([
      { action: 'update', table: 'b', id: 'x', data: { n: 1 } },
      { action: 'create', table: 'a', id: 'z', data: {} },
      { action: 'increment', table: 'a', id: 'z', column: 'n', by: 1 },
      { action: 'update', table: 'a', id: 'y', data: { n: 2 } },
    ]);
    const staged = calls.find((c) => c.method === 'createOperations')?.params.operations as Array<{
      tableId: string;
      rowId: string;
      action: string;
    }>;
    expect(staged.map((o) => `${o.tableId}/${o.rowId}:${o.action}`)).toEqual([
      'a/y:update',
      'a/z:create',
      'a/z:increment',
      'b/x:update',
    ]);
  });

  it('marks 404, 409 and bound answers expected; 5xx, 429, 401 and other 4xx not', async () => {
    const cases: Array<[number, string, boolean]> = [
      [404, 'row_not_found', true],
      [409, 'row_already_exists', true],
      [409, 'transaction_conflict', true],
      [400, 'attribute_limit_exceeded', true],
      [400, 'column_limit_exceeded', true],
      [400, 'general_query_invalid', false],
      [401, 'general_unauthorized_scope', false],
      [403, 'general_access_forbidden', false],
      [429, 'general_rate_limit_exceeded', false],
      [500, 'general_unknown', false],
      [503, 'general_service_disabled', false],
    ];
    for (const [status, type, expected] of cases) {
      const seen: AppwriteRequestInfo[] = [];
      const { api } = fakeTables(() => appwriteError(status, type));
      const store = createAppwriteTableStore({
        tablesDB: api,
        clock: instantClock(),
        retry: { attempts: 2 },
        onRequest: (i) => seen.push(i),
      });
      await store.update('t', 'a', { n: 1 }).catch(() => undefined);
      expect(seen[0], `${status} ${type}`).toMatchObject({ ok: false, status, type, expected });
      // Transient failures of an idempotent call are retried: the first attempt says so, the last does not.
      const transient = status === 429 || status >= 500;
      expect(seen.map((i) => i.retrying)).toEqual(transient ? [true, false] : [false]);
    }
  });

  it('makes no call for an empty transaction', async () => {
    const { api, calls } = fakeTables(() => ({}));
    await createAppwriteTableStore({ tablesDB: api }).transaction([]);
    expect(calls).toHaveLength(0);
  });

  it('reports each round trip to onRequest without secrets', async () => {
    const seen: unknown[] = [];
    const { api } = fakeTables(() => appwriteError(409, 'row_already_exists'));
    const store = createAppwriteTableStore({ tablesDB: api, onRequest: (i) => seen.push(i) });
    await expect(store.create('t', 'a', {})).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(seen).toEqual([
      {
        method: 'createRow',
        table: 't',
        attempt: 1,
        durationMs: expect.any(Number),
        ok: false,
        status: 409,
        type: 'row_already_exists',
        expected: true,
        retrying: false,
      },
    ]);
  });
});

describe('createAppwriteTableStore (real node-appwrite over HTTP)', () => {
  let server: Server;
  let endpoint = '';
  let status = 200;
  let body: unknown = {};
  let requests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const store = () => createAppwriteTableStore({ endpoint, projectId: 'p', key: 'k', clock: instantClock() });

  it('parses a row with a string $sequence', async () => {
    status = 200;
    body = rawRow('a', { n: 1 });
    const row = await store().get('t', 'a');
    expect(row).toMatchObject({ $id: 'a', $sequence: 42, n: 1 });
    expect(row).not.toHaveProperty('$tableId');
  });

  it('maps a real 409 row_already_exists to CONFLICT', async () => {
    status = 409;
    body = { message: 'exists', code: 409, type: 'row_already_exists', version: '1.9.5' };
    await expect(store().create('t', 'a', {})).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('retries a real 500 for a read and then gives RETRYABLE', async () => {
    status = 500;
    body = { message: 'boom', code: 500, type: 'general_unknown', version: '1.9.5' };
    requests = 0;
    await expect(store().get('t', 'a')).rejects.toMatchObject({ code: 'RETRYABLE' });
    expect(requests).toBe(4);
  });

  it('maps a refused connection (fetch failed) to RETRYABLE after retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const s = createAppwriteTableStore({
      endpoint: `http://127.0.0.1:${port}/v1`,
      projectId: 'p',
      key: 'k',
      clock: instantClock(),
    });
    const error = await s.create('t', 'a', {}).catch((e: unknown) => e);
    expect(hasCode(error, 'RETRYABLE')).toBe(true);
    // Connection refused proves nothing was applied, so even a create is retried.
    expect(s.stats.roundTrips).toBe(4);
  });
});
