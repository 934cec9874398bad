/**
 * Conformance: rows of `tests/e2e/Services/Databases/DatabasesBase.php` at Appwrite 1.9.5, TablesDB variant with
 * an API key (the CustomServer scope), through node-appwrite against appwrite-local. Each upstream
 * `$this->assert…` is one `expect`; line numbers point at the upstream test.
 */
import { ID, Permission, Role } from 'node-appwrite';
import { afterAll, beforeAll, expect } from 'vitest';
import { DB_BASE, failure, type Kit, startKit } from './databases-kit.ts';
import { installAssertionCounter, upstream } from './harness.ts';

installAssertionCounter();

let k: Kit;
type Body = Record<string, unknown>;

beforeAll(async () => {
  k = await startKit();
});
afterAll(async () => {
  await k?.server.stop();
});

/** A database with a CounterCollection holding a required integer `count` (upstream set-up of both tests). */
async function counterTable(): Promise<{ databaseId: string; tableId: string }> {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'CounterDatabase' })).$id;
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'CounterCollection',
      rowSecurity: true,
      permissions: [Permission.create(Role.users()), Permission.read(Role.users())],
    })
  ).$id;
  await k.tables.createIntegerColumn({ databaseId, tableId, key: 'count', required: true });
  return { databaseId, tableId };
}

upstream(`${DB_BASE}:7439`, 'testIncrementAttribute', async () => {
  const base = await counterTable();
  const doc = await k.tables.createRow({
    ...base,
    rowId: ID.unique(),
    data: { count: 5 },
    permissions: [Permission.read(Role.any()), Permission.update(Role.any())],
  });
  expect(k.status()).toBe(201);
  const rowId = doc.$id;
  const inc = (await k.tables.incrementRowColumn({ ...base, rowId, column: 'count' })) as unknown as Body;
  expect(k.status()).toBe(200);
  expect(inc.count).toBe(6);
  expect(inc.$tableId).toBe(base.tableId);
  expect(inc.$databaseId).toBe(base.databaseId);
  expect((await k.tables.getRow({ ...base, rowId })).count).toBe(6);
  const inc2 = (await k.tables.incrementRowColumn({
    ...base,
    rowId,
    column: 'count',
    value: 4,
  })) as unknown as Body;
  expect(k.status()).toBe(200);
  expect(inc2.count).toBe(10);
  expect((await k.tables.getRow({ ...base, rowId })).count).toBe(10);
  failure(await k.attempt(k.tables.incrementRowColumn({ ...base, rowId, column: 'count', max: 8 })));
  expect(k.status()).toBe(400);
  failure(await k.attempt(k.tables.incrementRowColumn({ ...base, rowId, column: 'unknown' })));
  expect(k.status()).toBe(404);
  failure(await k.attempt(k.tables.incrementRowColumn({ ...base, rowId, column: 'count', value: 0 })));
  expect(k.status()).toBe(400);
});

upstream(`${DB_BASE}:7559`, 'testDecrementAttribute', async () => {
  const base = await counterTable();
  const doc = await k.tables.createRow({
    ...base,
    rowId: ID.unique(),
    data: { count: 10 },
    permissions: [Permission.read(Role.any()), Permission.update(Role.any())],
  });
  const rowId = doc.$id;
  const dec = (await k.tables.decrementRowColumn({ ...base, rowId, column: 'count' })) as unknown as Body;
  expect(k.status()).toBe(200);
  expect(dec.count).toBe(9);
  expect(dec.$tableId).toBe(base.tableId);
  expect(dec.$databaseId).toBe(base.databaseId);
  expect((await k.tables.getRow({ ...base, rowId })).count).toBe(9);
  const dec2 = (await k.tables.decrementRowColumn({
    ...base,
    rowId,
    column: 'count',
    value: 3,
  })) as unknown as Body;
  expect(k.status()).toBe(200);
  expect(dec2.count).toBe(6);
  expect((await k.tables.getRow({ ...base, rowId })).count).toBe(6);
  failure(await k.attempt(k.tables.decrementRowColumn({ ...base, rowId, column: 'count', min: 7 })));
  expect(k.status()).toBe(400);
  failure(
    await k.attempt(k.tables.decrementRowColumn({ ...base, rowId, column: 'count', value: 3, min: 5 })),
  );
  expect(k.status()).toBe(400);
  failure(
    await k.attempt(k.tables.decrementRowColumn({ ...base, rowId, column: 'count', value: 10, min: 0 })),
  );
  expect(k.status()).toBe(400);
  failure(
    await k.attempt(
      k.tables.decrementRowColumn({
        ...base,
        rowId,
        column: 'count',
        value: 'not-a-number' as unknown as number,
      }),
    ),
  );
  expect(k.status()).toBe(400);
  failure(await k.attempt(k.tables.incrementRowColumn({ ...base, rowId, column: 'count', value: 0 })));
  expect(k.status()).toBe(400);
});
