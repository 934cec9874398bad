/**
 * appwrite-local transactions and concurrency through node-appwrite 27: staging, read-your-writes, commit,
 * rollback, conflict detection, bounds inside a commit, expiry; and the atomicity claims under real concurrent
 * HTTP requests (bounded increments, duplicate creates, conflicting transactions).
 */
import { ID, Query } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAppwriteError, type LocalHarness, startHarness } from './appwrite-local-helpers.ts';
import { checkAgainstSpec } from './appwrite-local-openapi.ts';

let h: LocalHarness;
/** Added to real time by the server's clock, so the expiry test can jump ahead. */
let offset = 0;
const DB = 'txdb';
const T = 'accounts';

beforeAll(async () => {
  h = await startHarness({ clock: { now: () => Date.now() + offset } });
  await h.tables.create({ databaseId: DB, name: DB });
  await h.tables.createTable({
    databaseId: DB,
    tableId: T,
    name: T,
    columns: [
      { key: 'owner', type: 'string', size: 32, required: true },
      { key: 'balance', type: 'integer', required: false, default: 0 },
      { key: 'version', type: 'integer', required: false, default: 0 },
    ],
    indexes: [{ key: 'by_owner', type: 'unique', columns: ['owner'] }],
  });
});

afterAll(async () => {
  await h?.server.stop();
});

const advance = (ms: number) => {
  offset += ms;
};
const row = (rowId: string) => h.tables.getRow({ databaseId: DB, tableId: T, rowId });
/** createRow / updateRow on the test table, staged in `transactionId` when one is given. */
const create = (rowId: string, data: Record<string, unknown>, transactionId?: string) =>
  h.tables.createRow({
    databaseId: DB,
    tableId: T,
    rowId,
    data,
    ...(transactionId ? { transactionId } : {}),
  });
const update = (rowId: string, data: Record<string, unknown>, transactionId?: string) =>
  h.tables.updateRow({
    databaseId: DB,
    tableId: T,
    rowId,
    data,
    ...(transactionId ? { transactionId } : {}),
  });
const commit = (transactionId: string) => h.tables.updateTransaction({ transactionId, commit: true });

describe('transactions', () => {
  it('stages operations, shows them to reads with the transactionId only, and applies them on commit', async () => {
    const tx = await h.tables.createTransaction({ ttl: 120 });
    expect(tx).toMatchObject({ status: 'pending', operations: 0 });
    expect(Date.parse(tx.expiresAt) - Date.parse(tx.$createdAt)).toBe(120_000);
    const staged = await create('a1', { owner: 'ann' }, tx.$id);
    expect(staged).toMatchObject({ $id: 'a1', owner: 'ann' });
    await h.tables.createOperations({
      transactionId: tx.$id,
      operations: [
        { action: 'create', databaseId: DB, tableId: T, rowId: 'b1', data: { owner: 'bob', balance: 5 } },
        {
          action: 'increment',
          databaseId: DB,
          tableId: T,
          rowId: 'b1',
          data: { column: 'balance', value: 2, max: 10 },
        },
      ],
    });
    expect((await h.tables.getTransaction({ transactionId: tx.$id })).operations).toBe(3);
    await expectAppwriteError(row('a1'), 404, 'row_not_found');
    expect(
      (await h.tables.getRow({ databaseId: DB, tableId: T, rowId: 'b1', transactionId: tx.$id })).balance,
    ).toBe(7);
    const listed = await h.tables.listRows({
      databaseId: DB,
      tableId: T,
      transactionId: tx.$id,
      queries: [Query.orderAsc('owner')],
    });
    expect(listed.rows.map((r) => r.owner)).toEqual(['ann', 'bob']);
    expect((await h.tables.listRows({ databaseId: DB, tableId: T })).total).toBe(0);

    const committed = await commit(tx.$id);
    expect(committed.status).toBe('committed');
    expect((await row('b1')).balance).toBe(7);
    expect((await row('a1')).owner).toBe('ann');
    await expectAppwriteError(commit(tx.$id), 400, 'transaction_not_ready');
    expect(
      (await h.tables.listTransactions({ queries: [Query.equal('status', ['committed'])] })).total,
    ).toBeGreaterThanOrEqual(1);
  });

  it('rolls back: nothing staged is applied, and the transaction is failed (as Appwrite marks it)', async () => {
    const tx = await h.tables.createTransaction({});
    await update('a1', { balance: 99 }, tx.$id);
    await h.tables.deleteRow({ databaseId: DB, tableId: T, rowId: 'b1', transactionId: tx.$id });
    // Appwrite 1.9.5 Transactions/Update.php:507-512 sets `failed` on rollback (this test said rolled_back before).
    expect((await h.tables.updateTransaction({ transactionId: tx.$id, rollback: true })).status).toBe(
      'failed',
    );
    expect((await row('a1')).balance).toBe(0);
    expect((await row('b1')).balance).toBe(7);
  });

  it('fails the whole commit when one operation fails, and marks the transaction failed', async () => {
    const tx = await h.tables.createTransaction({});
    // A row missing at staging is refused then (Operations/Create.php:146-161) and nothing of the batch is staged.
    await expectAppwriteError(
      h.tables.createOperations({
        transactionId: tx.$id,
        operations: [
          { action: 'update', databaseId: DB, tableId: T, rowId: 'a1', data: { balance: 1 } },
          { action: 'update', databaseId: DB, tableId: T, rowId: 'ghost', data: { balance: 1 } },
        ],
      }),
      404,
      'document_not_found',
    );
    expect((await h.tables.getTransaction({ transactionId: tx.$id })).operations).toBe(0);
    // A row that disappears between staging and commit fails the commit as a whole.
    await create('gone', { owner: 'x' });
    await h.tables.createOperations({
      transactionId: tx.$id,
      operations: [
        { action: 'update', databaseId: DB, tableId: T, rowId: 'a1', data: { balance: 1 } },
        { action: 'update', databaseId: DB, tableId: T, rowId: 'gone', data: { balance: 1 } },
      ],
    });
    await h.tables.deleteRow({ databaseId: DB, tableId: T, rowId: 'gone' });
    await expectAppwriteError(commit(tx.$id), 404, 'document_not_found');
    expect((await h.tables.getTransaction({ transactionId: tx.$id })).status).toBe('failed');
    expect((await row('a1')).balance).toBe(0);
  });

  it('reports increments over max inside a commit as attribute_limit_exceeded, writing nothing', async () => {
    const tx = await h.tables.createTransaction({});
    await update('a1', { balance: 50 }, tx.$id);
    await h.tables.incrementRowColumn({
      databaseId: DB,
      tableId: T,
      rowId: 'b1',
      column: 'balance',
      value: 10,
      max: 10,
      transactionId: tx.$id,
    });
    await expectAppwriteError(commit(tx.$id), 400, 'attribute_limit_exceeded');
    expect((await row('a1')).balance).toBe(0);
    expect((await row('b1')).balance).toBe(7);
  });

  it('turns duplicate ids and unique violations at commit into transaction_conflict', async () => {
    const tx = await h.tables.createTransaction({});
    await create('a1', { owner: 'someone' }, tx.$id);
    await expectAppwriteError(commit(tx.$id), 409, 'transaction_conflict');
    const tx2 = await h.tables.createTransaction({});
    await create('c1', { owner: 'ann' }, tx2.$id);
    await expectAppwriteError(commit(tx2.$id), 409, 'transaction_conflict');
    await expectAppwriteError(row('c1'), 404, 'row_not_found');
  });

  it('detects a row changed after the operation was staged (version compare-and-set)', async () => {
    const tx = await h.tables.createTransaction({});
    await update('a1', { balance: 10 }, tx.$id);
    await update('a1', { balance: 20 });
    await expectAppwriteError(commit(tx.$id), 409, 'transaction_conflict');
    expect((await row('a1')).balance).toBe(20);
    // A row created and then updated within one transaction is not a conflict.
    const tx2 = await h.tables.createTransaction({});
    await create('n1', { owner: 'nina' }, tx2.$id);
    await update('n1', { balance: 3 }, tx2.$id);
    await update('n1', { balance: 4 }, tx2.$id);
    await commit(tx2.$id);
    expect((await row('n1')).balance).toBe(4);
  });

  it('validates ttl, operations and the operation limit', async () => {
    await expectAppwriteError(h.tables.createTransaction({ ttl: 30 }), 400, 'general_argument_invalid');
    await expectAppwriteError(h.tables.createTransaction({ ttl: 3601 }), 400, 'general_argument_invalid');
    const tx = await h.tables.createTransaction({});
    await expectAppwriteError(
      h.tables.createOperations({
        transactionId: tx.$id,
        operations: [{ action: 'explode', databaseId: DB, tableId: T }],
      }),
      400,
      'general_argument_invalid',
    );
    await expectAppwriteError(
      h.tables.createOperations({
        transactionId: tx.$id,
        operations: [{ action: 'update', databaseId: DB, tableId: 'nope', rowId: 'x', data: {} }],
      }),
      404,
      'table_not_found',
    );
    const many = Array.from({ length: 101 }, (_, i) => ({
      action: 'create',
      databaseId: DB,
      tableId: T,
      rowId: `m${i}`,
      data: { owner: `m${i}` },
    }));
    await expectAppwriteError(
      h.tables.createOperations({ transactionId: tx.$id, operations: many }),
      400,
      'transaction_limit_exceeded',
    );
    expect((await h.tables.getTransaction({ transactionId: tx.$id })).operations).toBe(0);
    await expectAppwriteError(
      h.tables.updateTransaction({ transactionId: tx.$id, commit: true, rollback: true }),
      400,
      'general_argument_invalid',
    );
    await h.tables.deleteTransaction({ transactionId: tx.$id });
    await expectAppwriteError(
      h.tables.getTransaction({ transactionId: tx.$id }),
      404,
      'transaction_not_found',
    );
  });

  it('rejects an expired transaction with 410', async () => {
    const tx = await h.tables.createTransaction({ ttl: 60 });
    await update('a1', { balance: 1 }, tx.$id);
    advance(61_000);
    await expectAppwriteError(commit(tx.$id), 410, 'transaction_expired');
    await expectAppwriteError(update('a1', { balance: 2 }, tx.$id), 410, 'transaction_expired');
    expect((await row('a1')).balance).toBe(20);
    // Expired records are swept an hour later, when a new transaction is created.
    expect((await h.tables.getTransaction({ transactionId: tx.$id })).$id).toBe(tx.$id);
    advance(3_600_000);
    await h.tables.createTransaction({});
    await expectAppwriteError(
      h.tables.getTransaction({ transactionId: tx.$id }),
      404,
      'transaction_not_found',
    );
  });
});

describe('concurrency (real concurrent requests)', () => {
  it('200 concurrent bounded increments on one row admit exactly the bound', async () => {
    await create('quota', { owner: 'quota', balance: 0 });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        h.tables.incrementRowColumn({
          databaseId: DB,
          tableId: T,
          rowId: 'quota',
          column: 'balance',
          value: 1,
          max: 57,
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(57);
    expect(failed.every((r) => (r.reason as { type?: string }).type === 'column_limit_exceeded')).toBe(true);
    expect((await row('quota')).balance).toBe(57);
    // Every admitted increment saw a distinct value: no lost updates.
    const seen = new Set(ok.map((r) => (r as PromiseFulfilledResult<{ balance?: unknown }>).value.balance));
    expect(seen.size).toBe(57);
  });

  it('100 concurrent creates with one id give exactly one success', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        h.tables.createRow({ databaseId: DB, tableId: T, rowId: 'claim', data: { owner: `claimer-${i}` } }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(
      rejected.every((r) => (r.reason as { code?: number; type?: string }).type === 'row_already_exists'),
    ).toBe(true);
    expect(
      (await h.tables.listRows({ databaseId: DB, tableId: T, queries: [Query.equal('$id', ['claim'])] }))
        .total,
    ).toBe(1);
  });

  it('100 concurrent creates of distinct ids with one unique value give exactly one success', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => create(ID.unique(), { owner: 'contested' })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('conflicting transactions: one commits, the other fails and changes nothing', async () => {
    await create('cas', { owner: 'cas', version: 1, balance: 0 });
    const stage = async (balance: number) => {
      const tx = await h.tables.createTransaction({});
      // Version compare-and-set: bump version to exactly 2, and write the balance, atomically.
      await h.tables.createOperations({
        transactionId: tx.$id,
        operations: [
          {
            action: 'increment',
            databaseId: DB,
            tableId: T,
            rowId: 'cas',
            data: { column: 'version', value: 1, max: 2 },
          },
          { action: 'update', databaseId: DB, tableId: T, rowId: 'cas', data: { balance } },
        ],
      });
      return tx.$id;
    };
    const [t1, t2] = await Promise.all([stage(100), stage(200)]);
    const results = await Promise.allSettled([commit(t1), commit(t2)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failure = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as {
      type: string;
    };
    expect(['transaction_conflict', 'attribute_limit_exceeded']).toContain(failure.type);
    const final = await row('cas');
    expect(final.version).toBe(2);
    const winner = results[0]?.status === 'fulfilled' ? 100 : 200;
    expect(final.balance).toBe(winner);
  });

  it('conflicting plain updates in two transactions: the later commit fails with transaction_conflict', async () => {
    await create('plain', { owner: 'plain' });
    const a = await h.tables.createTransaction({});
    const b = await h.tables.createTransaction({});
    await update('plain', { balance: 1 }, a.$id);
    await update('plain', { balance: 2 }, b.$id);
    await commit(a.$id);
    await expectAppwriteError(commit(b.$id), 409, 'transaction_conflict');
    expect((await row('plain')).balance).toBe(1);
  });

  it('answered with bodies that match the OpenAPI schemas', () => {
    const report = checkAgainstSpec(h.trace);
    expect(report.problems).toEqual([]);
  });
});

describe('staging checks (Transactions/Operations/Create.php)', () => {
  it('refuses empty operations, a create without rowId, bulk updates and deletes without queries', async () => {
    const tx = await h.tables.createTransaction({});
    const stage = (operations: object[]) => h.tables.createOperations({ transactionId: tx.$id, operations });
    await expectAppwriteError(stage([]), 400, 'general_bad_request');
    await expectAppwriteError(
      stage([{ action: 'create', databaseId: DB, tableId: T, data: { owner: 'z' } }]),
      400,
      'general_argument_invalid',
    );
    await expectAppwriteError(
      stage([{ action: 'bulkUpdate', databaseId: DB, tableId: T, data: { data: { balance: 1 } } }]),
      400,
      'general_argument_invalid',
    );
    await expectAppwriteError(
      stage([{ action: 'bulkDelete', databaseId: DB, tableId: T, data: {} }]),
      400,
      'general_argument_invalid',
    );
    await expectAppwriteError(
      stage([{ action: 'increment', databaseId: DB, tableId: T, rowId: 'a1', data: { value: 1 } }]),
      400,
      'general_argument_invalid',
    );
    expect((await h.tables.getTransaction({ transactionId: tx.$id })).operations).toBe(0);
  });

  it('404s writes to missing rows unless an earlier create of the batch makes them; upsert does not count', async () => {
    const tx = await h.tables.createTransaction({});
    const stage = (operations: object[]) => h.tables.createOperations({ transactionId: tx.$id, operations });
    for (const action of ['update', 'delete', 'increment', 'decrement'] as const) {
      const data = action === 'increment' || action === 'decrement' ? { column: 'balance', value: 1 } : {};
      await expectAppwriteError(
        stage([{ action, databaseId: DB, tableId: T, rowId: 'nobody', data }]),
        404,
        'document_not_found',
      );
    }
    await expectAppwriteError(
      stage([
        { action: 'upsert', databaseId: DB, tableId: T, rowId: 'up-new', data: { owner: 'up' } },
        {
          action: 'increment',
          databaseId: DB,
          tableId: T,
          rowId: 'up-new',
          data: { column: 'balance', value: 1 },
        },
      ]),
      404,
      'document_not_found',
    );
    await stage([
      { action: 'create', databaseId: DB, tableId: T, rowId: 'born', data: { owner: 'born' } },
      {
        action: 'increment',
        databaseId: DB,
        tableId: T,
        rowId: 'born',
        data: { column: 'balance', value: 4 },
      },
    ]);
    // A later batch sees the staged create through the transaction's state.
    await stage([{ action: 'update', databaseId: DB, tableId: T, rowId: 'born', data: { version: 1 } }]);
    expect((await h.tables.getTransaction({ transactionId: tx.$id })).operations).toBe(3);
    await commit(tx.$id);
    const born = await row('born');
    expect([born.balance, born.version]).toEqual([4, 1]);
  });

  it('counts a bulk operation once and answers staged bulk routes 200', async () => {
    const tx = await h.tables.createTransaction({});
    const created = await h.tables.createRows({
      databaseId: DB,
      tableId: T,
      rows: [
        { $id: 'bulk1', owner: 'bulk1' },
        { $id: 'bulk2', owner: 'bulk2' },
      ],
      transactionId: tx.$id,
    });
    expect(created.total).toBe(2);
    const updatedRaw = await h.raw('PATCH', `/tablesdb/${DB}/tables/${T}/rows`, {
      body: JSON.stringify({ data: { balance: 3 }, queries: [], transactionId: tx.$id }),
    });
    expect(updatedRaw.status).toBe(200);
    const createdRaw = await h.raw('POST', `/tablesdb/${DB}/tables/${T}/rows`, {
      body: JSON.stringify({ rows: [{ $id: 'bulk3', owner: 'bulk3' }], transactionId: tx.$id }),
    });
    expect(createdRaw.status).toBe(200);
    expect((await h.tables.getTransaction({ transactionId: tx.$id })).operations).toBe(3);
    await h.tables.updateTransaction({ transactionId: tx.$id, rollback: true });
  });

  it('refuses staging into a transaction that is not pending (400 general_bad_request)', async () => {
    const tx = await h.tables.createTransaction({});
    await h.tables.updateTransaction({ transactionId: tx.$id, rollback: true });
    await expectAppwriteError(
      h.tables.createOperations({
        transactionId: tx.$id,
        operations: [
          { action: 'create', databaseId: DB, tableId: T, rowId: 'late', data: { owner: 'late' } },
        ],
      }),
      400,
      'general_bad_request',
    );
    await expectAppwriteError(create('late', { owner: 'late' }, tx.$id), 400, 'transaction_not_ready');
  });

  it('compares conflict timestamps in whole milliseconds', async () => {
    await create('ms1', { owner: 'ms1' });
    const tx = await h.tables.createTransaction({});
    // Frozen clock: staging and the outside write land in the same millisecond, which Appwrite's DATETIME(3)
    // cannot tell apart, so the commit goes through.
    const frozen = Date.now() + offset + 1000;
    const saved = offset;
    offset = frozen - Date.now();
    const realNow = Date.now;
    Date.now = () => frozen - offset;
    try {
      await update('ms1', { balance: 1 }, tx.$id);
      await update('ms1', { version: 9 });
    } finally {
      Date.now = realNow;
      offset = saved + 1000;
    }
    expect((await commit(tx.$id)).status).toBe('committed');
    expect((await row('ms1')).balance).toBe(1);
  });
});

describe('fault injection', () => {
  const stageOne = async (rowId: string) => {
    const tx = await h.tables.createTransaction({});
    await create(rowId, { owner: rowId }, tx.$id);
    return tx.$id;
  };

  it('commit-failed: 400 transaction_failed, nothing applied, the transaction failed', async () => {
    h.server.faults.add({
      method: 'PATCH',
      path: '^/tablesdb/transactions/',
      action: { kind: 'commit-failed' },
    });
    const id = await stageOne('f1');
    await expectAppwriteError(commit(id), 400, 'transaction_failed');
    expect((await h.tables.getTransaction({ transactionId: id })).status).toBe('failed');
    await expectAppwriteError(row('f1'), 404, 'row_not_found');
    // Used up: the next commit goes through.
    const again = await stageOne('f1');
    expect((await commit(again)).status).toBe('committed');
  });

  it('commit-stuck: 500, nothing applied, committing for good, rollback refused', async () => {
    h.server.faults.add({
      method: 'PATCH',
      path: '^/tablesdb/transactions/',
      action: { kind: 'commit-stuck' },
    });
    const id = await stageOne('f2');
    await expectAppwriteError(commit(id), 500, 'general_unknown');
    expect((await h.tables.getTransaction({ transactionId: id })).status).toBe('committing');
    await expectAppwriteError(
      h.tables.updateTransaction({ transactionId: id, rollback: true }),
      400,
      'transaction_not_ready',
    );
    await expectAppwriteError(row('f2'), 404, 'row_not_found');
  });

  it('drop: the commit is applied, the caller gets no response', async () => {
    h.server.faults.add({ method: 'PATCH', path: '^/tablesdb/transactions/', action: { kind: 'drop' } });
    const id = await stageOne('f3');
    await expect(commit(id)).rejects.toThrow();
    expect((await h.tables.getTransaction({ transactionId: id })).status).toBe('committed');
    expect((await row('f3')).owner).toBe('f3');
  });

  it('error rules answer before the handler; rules are listed, counted and cleared over HTTP with the key', async () => {
    const denied = await h.raw('POST', '/local/faults', {
      headers: { 'x-appwrite-key': 'wrong' },
      body: JSON.stringify({ path: 'x', action: { kind: 'drop' } }),
    });
    expect(denied.status).toBe(401);
    const bad = await h.raw('POST', '/local/faults', {
      body: JSON.stringify({ path: 'x', action: { kind: 'nope' } }),
    });
    expect(bad.status).toBe(400);
    const added = await h.raw('POST', '/local/faults', {
      body: JSON.stringify({
        method: 'POST',
        path: `^/tablesdb/${DB}/tables/${T}/rows$`,
        times: 2,
        action: { kind: 'error', status: 503, type: 'general_server_error' },
      }),
    });
    expect(added.status).toBe(201);
    await expect(create('f4', { owner: 'f4' })).rejects.toMatchObject({ code: 503 });
    const listed = await h.raw('GET', '/local/faults');
    expect(listed.json).toMatchObject({ total: 1, faults: [{ remaining: 1, method: 'POST' }] });
    expect((await h.raw('DELETE', '/local/faults')).status).toBe(204);
    await create('f4', { owner: 'f4' });
    expect((await row('f4')).owner).toBe('f4');
  });
});
