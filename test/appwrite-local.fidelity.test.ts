/**
 * appwrite-local reproduces what Appwrite 1.9.5 on MariaDB does where it breaks naive expectations (platform
 * notes §F1–F3): utf8mb4_general_ci comparison of ids, unique indexes and filters (and `binary` on request);
 * NULL in counter columns added to populated tables; staging checks of transactions; fault injection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foldGeneralCi } from 'appwrite-local';
import { Query, TablesDBIndexType } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../scripts/scenario-support.ts';
import { expectAppwriteError, type LocalHarness, startHarness } from './appwrite-local-helpers.ts';

/** Waits until the wall clock is past `at` (an Appwrite datetime), so a later write gets a later timestamp. */
function clockPast(at: string): Promise<true> {
  return waitFor(`the clock to pass ${at}`, async () => (Date.now() > Date.parse(at) ? true : undefined), {
    timeoutMs: 1_000,
    intervalMs: 1,
  });
}

const DB = 'db';

async function makeTable(h: LocalHarness, tableId: string): Promise<void> {
  await h.tables.createTable({
    databaseId: DB,
    tableId,
    name: tableId,
    columns: [
      { key: 'status', type: 'string', size: 32, required: false },
      { key: 'email', type: 'string', size: 64, required: false },
      { key: 'n', type: 'integer', required: false },
    ],
    indexes: [
      { key: 'by_email', type: 'unique', columns: ['email'] },
      { key: 'by_status', type: 'key', columns: ['status'] },
    ],
  });
}

describe('foldGeneralCi', () => {
  it('ignores case, accents and trailing spaces, keeps other differences', () => {
    expect(foldGeneralCi('Order-1')).toBe(foldGeneralCi('order-1'));
    expect(foldGeneralCi('Ünïcödé')).toBe(foldGeneralCi('unicode'));
    expect(foldGeneralCi('straße')).toBe(foldGeneralCi('STRASE'));
    expect(foldGeneralCi('a  ')).toBe(foldGeneralCi('a'));
    expect(foldGeneralCi(' a')).not.toBe(foldGeneralCi('a'));
    expect(foldGeneralCi('order-1')).not.toBe(foldGeneralCi('order_1'));
  });
});

describe('collation utf8mb4_general_ci (the default)', () => {
  let h: LocalHarness;
  beforeAll(async () => {
    h = await startHarness();
    await h.tables.create({ databaseId: DB, name: DB });
    await makeTable(h, 'orders');
  });
  afterAll(async () => {
    await h?.server.stop();
  });

  it('treats ids differing in case or accents as one row, keeping the first spelling', async () => {
    await h.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: 'Order-1', data: { n: 1 } });
    await expectAppwriteError(
      h.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: 'order-1', data: { n: 2 } }),
      409,
      'row_already_exists',
    );
    const got = await h.tables.getRow({ databaseId: DB, tableId: 'orders', rowId: 'order-1' });
    expect(got.$id).toBe('Order-1');
    expect(got.n).toBe(1);
    const updated = await h.tables.updateRow({
      databaseId: DB,
      tableId: 'orders',
      rowId: 'ORDER-1',
      data: { n: 5 },
    });
    expect(updated.$id).toBe('Order-1');
    const upserted = await h.tables.upsertRow({
      databaseId: DB,
      tableId: 'orders',
      rowId: 'order-1',
      data: { n: 6 },
    });
    expect(upserted.$id).toBe('Order-1');
    const listed = await h.tables.listRows({
      databaseId: DB,
      tableId: 'orders',
      queries: [Query.equal('$id', ['ORDER-1'])],
    });
    expect(listed.rows.map((r) => [r.$id, r.n])).toEqual([['Order-1', 6]]);
    await h.tables.deleteRow({ databaseId: DB, tableId: 'orders', rowId: 'order-1' });
    await expectAppwriteError(
      h.tables.getRow({ databaseId: DB, tableId: 'orders', rowId: 'Order-1' }),
      404,
      'row_not_found',
    );
  });

  it('enforces unique indexes case- and accent-insensitively', async () => {
    await h.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: 'u1', data: { email: 'ann@x.io' } });
    await expectAppwriteError(
      h.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: 'u2', data: { email: 'ANN@x.io' } }),
      409,
      'row_already_exists',
    );
    await expectAppwriteError(
      h.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: 'u3', data: { email: 'ánn@x.io ' } }),
      409,
      'row_already_exists',
    );
  });

  it('matches equal, notEqual, startsWith and contains without regard to case or accents', async () => {
    for (const [id, status] of [
      ['s1', 'pending'],
      ['s2', 'PENDING'],
      ['s3', 'pendíng'],
      ['s4', 'done'],
    ] as const) {
      await h.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: id, data: { status } });
    }
    const ids = async (queries: string[]) =>
      (await h.tables.listRows({ databaseId: DB, tableId: 'orders', queries })).rows.map((r) => r.$id).sort();
    expect(await ids([Query.equal('status', ['Pending'])])).toEqual(['s1', 's2', 's3']);
    expect(await ids([Query.notEqual('status', 'pending')])).toEqual(['s4']);
    expect(await ids([Query.startsWith('status', 'PEN')])).toEqual(['s1', 's2', 's3']);
    expect(await ids([Query.contains('status', 'ENDI')])).toEqual(['s1', 's2', 's3']);
    // Cursor pagination over a collated order stays consistent.
    const page1 = await h.tables.listRows({
      databaseId: DB,
      tableId: 'orders',
      queries: [Query.isNotNull('status'), Query.orderAsc('status'), Query.limit(2)],
    });
    const page2 = await h.tables.listRows({
      databaseId: DB,
      tableId: 'orders',
      queries: [
        Query.isNotNull('status'),
        Query.orderAsc('status'),
        Query.cursorAfter(page1.rows[1]?.$id as string),
        Query.limit(10),
      ],
    });
    expect([...page1.rows, ...page2.rows].map((r) => r.$id)).toEqual(['s4', 's1', 's2', 's3']);
  });

  it('folds row ids inside transactions: a staged create of `X` then an update of `x` is one row', async () => {
    const tx = await h.tables.createTransaction({});
    await h.tables.createOperations({
      transactionId: tx.$id,
      operations: [
        { action: 'create', databaseId: DB, tableId: 'orders', rowId: 'Tx-1', data: { n: 1 } },
        {
          action: 'increment',
          databaseId: DB,
          tableId: 'orders',
          rowId: 'tx-1',
          data: { column: 'n', value: 2 },
        },
      ],
    });
    await h.tables.updateTransaction({ transactionId: tx.$id, commit: true });
    const got = await h.tables.getRow({ databaseId: DB, tableId: 'orders', rowId: 'TX-1' });
    expect([got.$id, got.n]).toEqual(['Tx-1', 3]);
  });
});

describe('collation binary', () => {
  let h: LocalHarness;
  beforeAll(async () => {
    h = await startHarness({ collation: 'binary' });
    await h.tables.create({ databaseId: DB, name: DB });
    await makeTable(h, 'orders');
  });
  afterAll(async () => {
    await h?.server.stop();
  });

  it('keeps ids, unique values and equality exact', async () => {
    await h.tables.createRow({
      databaseId: DB,
      tableId: 'orders',
      rowId: 'Order-1',
      data: { email: 'a@x.io', status: 'pending' },
    });
    await h.tables.createRow({
      databaseId: DB,
      tableId: 'orders',
      rowId: 'order-1',
      data: { email: 'A@x.io', status: 'PENDING' },
    });
    expect((await h.tables.getRow({ databaseId: DB, tableId: 'orders', rowId: 'order-1' })).email).toBe(
      'A@x.io',
    );
    const eq = await h.tables.listRows({
      databaseId: DB,
      tableId: 'orders',
      queries: [Query.equal('status', ['pending'])],
    });
    expect(eq.rows.map((r) => r.$id)).toEqual(['Order-1']);
  });

  it('refuses an unknown collation', async () => {
    await expect(startHarness({ collation: 'latin1' as never })).rejects.toThrow(/collation must be one of/);
  });
});

describe('a data directory changing collation', () => {
  it('rebuilds unique entries going to general_ci, and refuses when rows would collide', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'awl-collation-'));
    try {
      const a = await startHarness({ collation: 'binary', memory: false, dataDir: dir });
      await a.tables.create({ databaseId: DB, name: DB });
      await makeTable(a, 'orders');
      await a.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: 'r1', data: { email: 'a@x.io' } });
      await a.server.stop();
      const b = await startHarness({ memory: false, dataDir: dir });
      // The unique entry of r1 was rebuilt folded: a differently cased email now collides.
      await expectAppwriteError(
        b.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: 'r2', data: { email: 'A@X.IO' } }),
        409,
        'row_already_exists',
      );
      await b.server.stop();
      const c = await startHarness({ collation: 'binary', memory: false, dataDir: dir });
      await c.tables.createRow({ databaseId: DB, tableId: 'orders', rowId: 'R1', data: { n: 1 } });
      await c.server.stop();
      await expect(startHarness({ memory: false, dataDir: dir })).rejects.toThrow(/rows r1,R1|rows R1,r1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('NULL counters (columns added to populated tables)', () => {
  let h: LocalHarness;
  beforeAll(async () => {
    h = await startHarness();
    await h.tables.create({ databaseId: DB, name: DB });
    await h.tables.createTable({
      databaseId: DB,
      tableId: 'q',
      name: 'q',
      columns: [{ key: 'name', type: 'string', size: 16, required: false }],
    });
    for (const id of ['old1', 'old2', 'old3', 'old4']) {
      await h.tables.createRow({ databaseId: DB, tableId: 'q', rowId: id, data: { name: id } });
    }
    await h.tables.createIntegerColumn({
      databaseId: DB,
      tableId: 'q',
      key: 'used',
      required: false,
      xdefault: 0,
    });
    await h.tables.createRow({ databaseId: DB, tableId: 'q', rowId: 'new1', data: { name: 'new1' } });
  });
  afterAll(async () => {
    await h?.server.stop();
  });
  const get = (rowId: string) => h.tables.getRow({ databaseId: DB, tableId: 'q', rowId });

  it('leaves existing rows NULL (reads show null, not the default); new rows get the default', async () => {
    expect((await get('old1')).used).toBeNull();
    expect((await get('new1')).used).toBe(0);
    const nulls = await h.tables.listRows({ databaseId: DB, tableId: 'q', queries: [Query.isNull('used')] });
    expect(nulls.rows.map((r) => r.$id).sort()).toEqual(['old1', 'old2', 'old3', 'old4']);
  });

  it('an unbounded increment of NULL answers the computed value, writes nothing but $updatedAt', async () => {
    const before = await get('old1');
    await clockPast(before.$updatedAt);
    const answer = await h.tables.incrementRowColumn({
      databaseId: DB,
      tableId: 'q',
      rowId: 'old1',
      column: 'used',
      value: 3,
    });
    expect(answer.used).toBe(3);
    const after = await get('old1');
    expect(after.used).toBeNull();
    expect(Date.parse(after.$updatedAt)).toBeGreaterThan(Date.parse(before.$updatedAt));
  });

  it('a bounded increment of NULL matches no row: answers the computed value, changes nothing', async () => {
    const before = await get('old2');
    const answer = await h.tables.incrementRowColumn({
      databaseId: DB,
      tableId: 'q',
      rowId: 'old2',
      column: 'used',
      value: 1,
      max: 5,
    });
    expect(answer.used).toBe(1);
    const after = await get('old2');
    expect(after.used).toBeNull();
    expect(after.$updatedAt).toBe(before.$updatedAt);
    // The bound is still checked in PHP with NULL as 0.
    await expectAppwriteError(
      h.tables.incrementRowColumn({
        databaseId: DB,
        tableId: 'q',
        rowId: 'old2',
        column: 'used',
        value: 6,
        max: 5,
      }),
      400,
      'column_limit_exceeded',
    );
    const dec = await h.tables.decrementRowColumn({
      databaseId: DB,
      tableId: 'q',
      rowId: 'old2',
      column: 'used',
      value: 1,
      min: -5,
    });
    expect(dec.used).toBe(-1);
    expect((await get('old2')).used).toBeNull();
  });

  it('an updateRow re-encodes the row with defaults, after which increments count', async () => {
    const updated = await h.tables.updateRow({
      databaseId: DB,
      tableId: 'q',
      rowId: 'old3',
      data: { name: 'x' },
    });
    expect(updated.used).toBe(0);
    expect((await get('old3')).used).toBe(0);
    await h.tables.incrementRowColumn({
      databaseId: DB,
      tableId: 'q',
      rowId: 'old3',
      column: 'used',
      value: 2,
      max: 5,
    });
    expect((await get('old3')).used).toBe(2);
  });

  it('an increment inside a transaction of a NULL column writes nothing either', async () => {
    const tx = await h.tables.createTransaction({});
    await h.tables.createOperations({
      transactionId: tx.$id,
      operations: [
        {
          action: 'increment',
          databaseId: DB,
          tableId: 'q',
          rowId: 'old4',
          data: { column: 'used', value: 1, max: 9 },
        },
      ],
    });
    expect((await h.tables.updateTransaction({ transactionId: tx.$id, commit: true })).status).toBe(
      'committed',
    );
    expect((await get('old4')).used).toBeNull();
  });
});

describe('column and index limits as Appwrite', () => {
  let h: LocalHarness;
  beforeAll(async () => {
    h = await startHarness();
    await h.tables.create({ databaseId: DB, name: DB });
    await h.tables.createTable({ databaseId: DB, tableId: 'lim', name: 'lim' });
  });
  afterAll(async () => {
    await h?.server.stop();
  });
  const base = { databaseId: DB, tableId: 'lim' };

  it('caps varchar at 16381 characters and checks defaults against the size', async () => {
    await h.tables.createVarcharColumn({ ...base, key: 'v_ok', size: 16_381, required: false });
    const tooBig = await expectAppwriteError(
      h.tables.createVarcharColumn({ ...base, key: 'v_big', size: 16_382, required: false }),
      400,
      'general_argument_invalid',
    );
    expect(tooBig.message).toBe('Invalid `size` param: Value must be a valid range between 1 and 16,381');
    await expectAppwriteError(
      h.tables.createStringColumn({ ...base, key: 's_def', size: 3, required: false, xdefault: 'four' }),
      400,
      'general_argument_invalid',
    );
  });

  it('refuses indexes on arrays, duplicate columns and over 768 characters in total', async () => {
    await h.tables.createStringColumn({ ...base, key: 'a', size: 400, required: false });
    await h.tables.createStringColumn({ ...base, key: 'b', size: 400, required: false });
    await h.tables.createStringColumn({ ...base, key: 'tags', size: 10, required: false, array: true });
    await h.tables.createEmailColumn({ ...base, key: 'mail', required: false });
    const index = (key: string, columns: string[], lengths?: number[]) =>
      h.tables.createIndex({
        ...base,
        key,
        type: TablesDBIndexType.Key,
        columns,
        ...(lengths ? { lengths } : {}),
      });
    const long = await expectAppwriteError(index('ab', ['a', 'b']), 400, 'column_index_invalid');
    expect(long.message).toBe('Index length is longer than the maximum: 768');
    await index('ab_short', ['a', 'b'], [300, 300]);
    await index('mail', ['mail']);
    const arr = await expectAppwriteError(index('t', ['tags']), 400, 'column_index_invalid');
    expect(arr.message).toBe('Creating indexes on array attributes is not currently supported.');
    const dup = await expectAppwriteError(index('aa', ['a', 'a']), 400, 'column_index_invalid');
    expect(dup.message).toBe('Duplicate attributes provided');
    const over = await expectAppwriteError(index('a_over', ['a'], [401]), 400, 'column_index_invalid');
    expect(over.message).toBe('Index length 401 is larger than the size for a: 400"');
    await expectAppwriteError(index('ab_short', ['b']), 409, 'column_index_already_exists');
  });
});

describe('X-Appwrite-Timestamp', () => {
  it('refuses an update or delete of a row changed after the timestamp with 409 row_update_conflict', async () => {
    const h = await startHarness();
    try {
      await h.tables.create({ databaseId: DB, name: DB });
      await makeTable(h, 'ts');
      const before = new Date(Date.now() - 60_000).toISOString();
      await h.tables.createRow({ databaseId: DB, tableId: 'ts', rowId: 'r1', data: { n: 1 } });
      const path = `/tablesdb/${DB}/tables/ts/rows/r1`;
      const stale = { 'x-appwrite-timestamp': before };
      const patch = await h.raw('PATCH', path, { headers: stale, body: JSON.stringify({ data: { n: 2 } }) });
      expect([patch.status, (patch.json as { type: string }).type]).toEqual([409, 'row_update_conflict']);
      expect((await h.raw('DELETE', path, { headers: stale })).status).toBe(409);
      const fresh = { 'x-appwrite-timestamp': new Date(Date.now() + 1000).toISOString() };
      expect(
        (await h.raw('PATCH', path, { headers: fresh, body: JSON.stringify({ data: { n: 3 } }) })).status,
      ).toBe(200);
      const bad = await h.raw('PATCH', path, {
        headers: { 'x-appwrite-timestamp': 'yesterday' },
        body: '{"data":{"n":4}}',
      });
      expect(bad.status).toBe(400);
      expect((await h.tables.getRow({ databaseId: DB, tableId: 'ts', rowId: 'r1' })).n).toBe(3);
    } finally {
      await h.server.stop();
    }
  });
});

describe('rows and queries (platform notes §F4)', () => {
  let h: LocalHarness;
  beforeAll(async () => {
    h = await startHarness();
    await h.tables.create({ databaseId: DB, name: DB });
    await makeTable(h, 'f4');
  });
  afterAll(async () => {
    await h?.server.stop();
  });
  const base = { databaseId: DB, tableId: 'f4' };

  it('an update or upsert that changes nothing keeps $updatedAt; one that changes a value moves it', async () => {
    const created = await h.tables.createRow({ ...base, rowId: 'same', data: { status: 'a', n: 1 } });
    await clockPast(created.$updatedAt);
    const same = await h.tables.updateRow({ ...base, rowId: 'same', data: { status: 'a' } });
    expect(same.$updatedAt).toBe(created.$updatedAt);
    const upserted = await h.tables.upsertRow({ ...base, rowId: 'same', data: { status: 'a', n: 1 } });
    expect(upserted.$updatedAt).toBe(created.$updatedAt);
    const changed = await h.tables.updateRow({ ...base, rowId: 'same', data: { n: 2 } });
    expect(Date.parse(changed.$updatedAt)).toBeGreaterThan(Date.parse(created.$updatedAt));
  });

  it('refuses limit(0), has no upper limit, and counts total up to 5,000', async () => {
    await expectAppwriteError(
      h.tables.listRows({ ...base, queries: [Query.limit(0)] }),
      400,
      'general_query_invalid',
    );
    for (let chunk = 0; chunk < 6; chunk++) {
      await h.tables.createRows({
        ...base,
        rows: Array.from({ length: 1000 }, (_, i) => ({ $id: `bulk-${chunk}-${i}`, n: i })),
      });
    }
    const page = await h.tables.listRows({ ...base, queries: [Query.limit(6000)] });
    expect(page.rows.length).toBeGreaterThan(5000);
    expect(page.total).toBe(5000);
  });
});

describe('increment answers', () => {
  it('answer the row as read before the update (old $updatedAt, new value), while the stored $updatedAt moves', async () => {
    const h = await startHarness();
    try {
      await h.tables.create({ databaseId: DB, name: DB });
      await makeTable(h, 'inc');
      const created = await h.tables.createRow({
        databaseId: DB,
        tableId: 'inc',
        rowId: 'c',
        data: { n: 1 },
      });
      await clockPast(created.$updatedAt);
      const answer = await h.tables.incrementRowColumn({
        databaseId: DB,
        tableId: 'inc',
        rowId: 'c',
        column: 'n',
      });
      expect([answer.n, answer.$updatedAt]).toEqual([2, created.$updatedAt]);
      const stored = await h.tables.getRow({ databaseId: DB, tableId: 'inc', rowId: 'c' });
      expect(stored.n).toBe(2);
      expect(Date.parse(stored.$updatedAt)).toBeGreaterThan(Date.parse(created.$updatedAt));
    } finally {
      await h.server.stop();
    }
  });
});
