/**
 * Conformance: `tests/e2e/Services/Databases/Transactions/TransactionsBase.php` at Appwrite 1.9.5, TablesDB
 * variant with an API key (TablesDBTransactionsCustomServerTest), through node-appwrite against appwrite-local.
 * Each upstream `$this->assert…` is one `expect`; line numbers point at the upstream test.
 */
import { ID, Permission, Query, Role, TablesDBIndexType } from 'node-appwrite';
import { afterAll, beforeAll, expect } from 'vitest';
import { ACID_BASE, failure, type Kit, startKit, TX_BASE } from './databases-kit.ts';
import { installAssertionCounter, upstream } from './harness.ts';

installAssertionCounter();

let k: Kit;

beforeAll(async () => {
  k = await startKit();
});
afterAll(async () => {
  await k?.server.stop();
});

const ANY = [
  Permission.create(Role.any()),
  Permission.read(Role.any()),
  Permission.update(Role.any()),
  Permission.delete(Role.any()),
];

/** A database (asserted 201) and a table (asserted 201) with a required string column (asserted 202). */
async function setup(dbName: string, tableName: string, column = 'name', assertTable = true) {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: dbName })).$id;
  expect(k.status()).toBe(201);
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: tableName,
      rowSecurity: false,
      permissions: ANY,
    })
  ).$id;
  if (assertTable) expect(k.status()).toBe(201);
  await k.tables.createStringColumn({ databaseId, tableId, key: column, size: 256, required: true });
  if (assertTable) expect(k.status()).toBe(202);
  return { databaseId, tableId };
}

upstream(`${TX_BASE}:106`, 'testCreate', async () => {
  await k.tables.create({ databaseId: ID.unique(), name: 'TransactionTestDatabase' });
  expect(k.status()).toBe(201);
  const response = (await k.tables.createTransaction({})) as unknown as Record<string, unknown>;
  expect(k.status()).toBe(201);
  expect(response).toHaveProperty('$id');
  expect(response).toHaveProperty('status');
  expect(response).toHaveProperty('operations');
  expect(response).toHaveProperty('expiresAt');
  expect(response.status).toBe('pending');
  expect(response.operations).toBe(0);
  const custom = await k.tables.createTransaction({ ttl: 900 });
  expect(k.status()).toBe(201);
  expect(custom.status).toBe('pending');
  const diff = (Date.parse(custom.expiresAt) - Date.now()) / 1000;
  expect(diff).toBeGreaterThan(800);
  expect(diff).toBeLessThan(1000);
  failure(await k.attempt(k.tables.createTransaction({ ttl: 30 })));
  expect(k.status()).toBe(400);
  failure(await k.attempt(k.tables.createTransaction({ ttl: 4000 })));
  expect(k.status()).toBe(400);
});

upstream(`${TX_BASE}:179`, 'testCreateOperations', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'TransactionOperationsTestDB' }))
    .$id;
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'TransactionOperationsTest',
      rowSecurity: false,
      permissions: ANY,
    })
  ).$id;
  expect(k.status()).toBe(201);
  await k.tables.createStringColumn({ databaseId, tableId, key: 'name', size: 256, required: true });
  expect(k.status()).toBe(202);
  const stage = (operations: object[]) => k.attempt(k.tables.createOperations({ transactionId, operations }));
  const r1 = (await stage([
    { databaseId, tableId, action: 'create', rowId: 'doc1', data: { name: 'Test Document 1' } },
    { databaseId, tableId, action: 'create', rowId: 'doc2', data: { name: 'Test Document 2' } },
  ])) as { operations: number };
  expect(k.status()).toBe(201);
  expect(r1.operations).toBe(2);
  const r2 = (await stage([
    { databaseId, tableId, action: 'update', rowId: 'doc1', data: { name: 'Updated Document 1' } },
  ])) as { operations: number };
  expect(k.status()).toBe(201);
  expect(r2.operations).toBe(3);
  failure(
    await stage([
      {
        databaseId: 'invalid_database',
        tableId,
        action: 'create',
        rowId: ID.unique(),
        data: { name: 'Test' },
      },
    ]),
  );
  expect(k.status()).toBe(404);
  failure(
    await stage([
      {
        databaseId,
        tableId: 'invalid_collection',
        action: 'create',
        rowId: ID.unique(),
        data: { name: 'Test' },
      },
    ]),
  );
  expect(k.status()).toBe(404);
});

upstream(`${TX_BASE}:336`, 'testCommit', async () => {
  const { databaseId, tableId } = await setup('TransactionCommitTestDB', 'TransactionCommitTest');
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  const staged = await k.tables.createOperations({
    transactionId,
    operations: [
      { databaseId, tableId, action: 'create', rowId: 'doc1', data: { name: 'Test Document 1' } },
      { databaseId, tableId, action: 'create', rowId: 'doc2', data: { name: 'Test Document 2' } },
      { databaseId, tableId, action: 'update', rowId: 'doc1', data: { name: 'Updated Document 1' } },
    ],
  });
  expect(k.status()).toBe(201);
  expect(staged.operations).toBe(3);
  const committed = await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  expect(committed.status).toBe('committed');
  const documents = await k.tables.listRows({ databaseId, tableId });
  expect(k.status()).toBe(200);
  expect(documents.total).toBe(2);
  let doc1Found = false;
  for (const doc of documents.rows) {
    if (doc.$id === 'doc1') {
      expect(doc.name).toBe('Updated Document 1');
      doc1Found = true;
    }
  }
  expect(doc1Found).toBe(true);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId, commit: true })));
  expect(k.status()).toBe(400);
});

upstream(`${TX_BASE}:482`, 'testRollback', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'TransactionRollbackTestDB' }))
    .$id;
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'TransactionRollbackTest',
      rowSecurity: false,
      permissions: ANY,
    })
  ).$id;
  await k.tables.createStringColumn({ databaseId, tableId, key: 'value', size: 256, required: true });
  await k.tables.createOperations({
    transactionId,
    operations: [
      { databaseId, tableId, action: 'create', rowId: 'rollback_doc', data: { value: 'Should not exist' } },
    ],
  });
  expect(k.status()).toBe(201);
  const rolled = await k.tables.updateTransaction({ transactionId, rollback: true });
  expect(k.status()).toBe(200);
  expect(rolled.status).toBe('failed');
  const documents = await k.tables.listRows({ databaseId, tableId });
  expect(k.status()).toBe(200);
  expect(documents.total).toBe(0);
});

upstream(`${TX_BASE}:4436`, 'testCreateOperationsValidation', async () => {
  const { databaseId, tableId } = await setup('ValidationTestDatabase', 'ValidationTest');
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  const stage = async (operations: unknown) => {
    failure(
      await k.attempt(k.tables.createOperations({ transactionId, operations: operations as object[] })),
    );
    return k.status();
  };
  const row = ID.unique();
  expect(
    await stage([{ action: 'invalidAction', databaseId, tableId, rowId: row, data: { name: 'Test' } }]),
  ).toBe(400);
  expect(await stage([{ databaseId, tableId, rowId: row, data: { name: 'Test' } }])).toBe(400);
  expect(await stage([{ action: 'create', tableId, rowId: row, data: { name: 'Test' } }])).toBe(400);
  expect(await stage([{ action: 'create', databaseId, rowId: row, data: { name: 'Test' } }])).toBe(400);
  expect(await stage([{ action: 'create', databaseId, tableId, data: { name: 'Test' } }])).toBe(400);
  expect(await stage([{ action: 'create', databaseId, tableId, rowId: row }])).toBe(400);
  expect(await stage([{ action: 'bulkCreate', databaseId, tableId, data: 'not an array' }])).toBe(400);
  expect(
    await stage([{ action: 'bulkUpdate', databaseId, tableId, data: { data: { name: 'Updated' } } }]),
  ).toBe(400);
  expect(
    await stage([
      {
        action: 'bulkUpdate',
        databaseId,
        tableId,
        data: { queries: 'not an array', data: { name: 'Updated' } },
      },
    ]),
  ).toBe(400);
  expect(await stage([{ action: 'bulkDelete', databaseId, tableId, data: [] }])).toBe(400);
  expect(await stage([{ action: 'increment', databaseId, tableId, rowId: row, data: { value: 1 } }])).toBe(
    400,
  );
  expect(
    await stage([
      {
        action: 'decrement',
        databaseId,
        tableId,
        rowId: row,
        data: { column: 'counter', value: 'not a number' },
      },
    ]),
  ).toBe(400);
  expect(await stage([])).toBe(400);
  expect(await stage('not an array')).toBe(400);
});

upstream(`${TX_BASE}:4750`, 'testCommitRollbackValidation', async () => {
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId })));
  expect(k.status()).toBe(400);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId, commit: true, rollback: true })));
  expect(k.status()).toBe(400);
  failure(
    await k.attempt(k.tables.updateTransaction({ transactionId: 'invalid_transaction_id', commit: true })),
  );
  expect(k.status()).toBe(404);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId, commit: true })));
  expect(k.status()).toBe(400);
});

upstream(`${TX_BASE}:3849`, 'testIncrementDecrementEndpointsWithTransaction', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'IncrDecrEndpointTestDB' })).$id;
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'AccountsCollection',
      permissions: [
        Permission.create(Role.any()),
        Permission.read(Role.any()),
        Permission.update(Role.any()),
      ],
    })
  ).$id;
  const base = { databaseId, tableId };
  await k.tables.createIntegerColumn({ ...base, key: 'balance', required: false, xdefault: 0 });
  await k.tables.createRow({ ...base, rowId: 'joe', data: { balance: 100 } });
  await k.tables.createRow({ ...base, rowId: 'jane', data: { balance: 50 } });
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  const dec = (await k.tables.decrementRowColumn({
    ...base,
    rowId: 'joe',
    column: 'balance',
    value: 50,
    min: 0,
    transactionId,
  })) as unknown as Record<string, unknown>;
  expect(k.status()).toBe(200);
  expect(dec).toHaveProperty('$tableId');
  expect(dec).not.toHaveProperty('$collectionId');
  expect(dec.$tableId).toBe(tableId);
  expect(dec.$databaseId).toBe(databaseId);
  const inc = (await k.tables.incrementRowColumn({
    ...base,
    rowId: 'jane',
    column: 'balance',
    value: 50,
    transactionId,
  })) as unknown as Record<string, unknown>;
  expect(k.status()).toBe(200);
  expect(inc).toHaveProperty('$tableId');
  expect(inc).not.toHaveProperty('$collectionId');
  expect(inc.$tableId).toBe(tableId);
  expect(inc.$databaseId).toBe(databaseId);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  const joe = await k.tables.getRow({ ...base, rowId: 'joe' });
  const joeStatus = k.status();
  const jane = await k.tables.getRow({ ...base, rowId: 'jane' });
  expect(joeStatus).toBe(200);
  expect(joe.balance).toBe(50);
  expect(k.status()).toBe(200);
  expect(jane.balance).toBe(100);
});

upstream(`${TX_BASE}:2578`, 'testMixedSingleOperations', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'MultipleSingleRoutesDB' })).$id;
  const tableId = (
    await k.tables.createTable({ databaseId, tableId: ID.unique(), name: 'TestCollection', permissions: ANY })
  ).$id;
  const base = { databaseId, tableId };
  await k.tables.createStringColumn({ ...base, key: 'name', size: 256, required: true });
  await k.tables.createStringColumn({ ...base, key: 'status', size: 256, required: false });
  await k.tables.createIntegerColumn({ ...base, key: 'priority', required: false, min: 1, max: 10 });
  await k.tables.createRow({
    ...base,
    rowId: 'existing_doc',
    data: { name: 'Existing Document', status: 'active', priority: 5 },
  });
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  await k.tables.createRow({
    ...base,
    rowId: 'new_doc_1',
    data: { name: 'New Document 1', status: 'pending', priority: 1 },
    transactionId,
  });
  expect(k.status()).toBe(201);
  await k.tables.createRow({
    ...base,
    rowId: 'new_doc_2',
    data: { name: 'New Document 2', status: 'pending', priority: 2 },
    transactionId,
  });
  expect(k.status()).toBe(201);
  await k.tables.updateRow({
    ...base,
    rowId: 'existing_doc',
    data: { status: 'updated', priority: 10 },
    transactionId,
  });
  expect(k.status()).toBe(200);
  await k.tables.updateRow({
    ...base,
    rowId: 'new_doc_1',
    data: { status: 'active', priority: 8 },
    transactionId,
  });
  expect(k.status()).toBe(200);
  await k.tables.deleteRow({ ...base, rowId: 'new_doc_2', transactionId });
  expect(k.status()).toBe(204);
  await k.tables.upsertRow({
    ...base,
    rowId: 'upserted_doc',
    data: { name: 'Upserted Document', status: 'new', priority: 3 },
    transactionId,
  });
  expect(k.status()).toBe(201);
  const txnDetails = await k.tables.getTransaction({ transactionId });
  expect(k.status()).toBe(200);
  expect(txnDetails.operations).toBe(6);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId: 'new_doc_1' })));
  expect(k.status()).toBe(404);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId: 'upserted_doc' })));
  expect(k.status()).toBe(404);
  let response = await k.tables.getRow({ ...base, rowId: 'existing_doc' });
  expect(response.status).toBe('active');
  expect(response.priority).toBe(5);
  const committed = await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  expect(committed.status).toBe('committed');
  response = await k.tables.getRow({ ...base, rowId: 'new_doc_1' });
  expect(k.status()).toBe(200);
  expect(response.name).toBe('New Document 1');
  expect(response.status).toBe('active');
  expect(response.priority).toBe(8);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId: 'new_doc_2' })));
  expect(k.status()).toBe(404);
  response = await k.tables.getRow({ ...base, rowId: 'existing_doc' });
  expect(response.status).toBe('updated');
  expect(response.priority).toBe(10);
  response = await k.tables.getRow({ ...base, rowId: 'upserted_doc' });
  expect(k.status()).toBe(200);
  expect(response.name).toBe('Upserted Document');
  expect(response.status).toBe('new');
  expect(response.priority).toBe(3);
  const documents = await k.tables.listRows(base);
  expect(documents.total).toBe(3);
});

/** A database and table with the given columns (upstream's per-test set-up; its asserts not counted). */
async function tableWith(
  dbName: string,
  columns: ((b: { databaseId: string; tableId: string }) => Promise<unknown>)[],
) {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: dbName })).$id;
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'TestCollection',
      rowSecurity: false,
      permissions: ANY,
    })
  ).$id;
  for (const c of columns) await c({ databaseId, tableId });
  return { databaseId, tableId };
}

upstream(`${TX_BASE}:1582`, 'testCreateDocument (staged through the createRow route)', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'WriteRoutesTestDB' })).$id;
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'TestCollection',
      rowSecurity: false,
      permissions: ANY,
    })
  ).$id;
  const base = { databaseId, tableId };
  await k.tables.createStringColumn({ ...base, key: 'name', size: 256, required: true });
  expect(k.status()).toBe(202);
  await k.tables.createIntegerColumn({ ...base, key: 'counter', required: false, min: 0, max: 10000 });
  expect(k.status()).toBe(202);
  await k.tables.createStringColumn({ ...base, key: 'category', size: 256, required: false });
  expect(k.status()).toBe(202);
  await k.tables.createStringColumn({ ...base, key: 'data', size: 256, required: false });
  expect(k.status()).toBe(202);
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  await k.tables.createRow({
    ...base,
    rowId: 'doc_from_route',
    data: { name: 'Created via normal route', counter: 100, category: 'test' },
    transactionId,
  });
  expect(k.status()).toBe(201);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId: 'doc_from_route' })));
  expect(k.status()).toBe(404);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  const response = await k.tables.getRow({ ...base, rowId: 'doc_from_route' });
  expect(k.status()).toBe(200);
  expect(response.name).toBe('Created via normal route');
});

upstream(`${TX_BASE}:1697`, 'testUpdateDocument (staged through the updateRow route)', async () => {
  const base = await tableWith('UpdateRouteTestDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'name', size: 256, required: true }),
    (b) => k.tables.createIntegerColumn({ ...b, key: 'counter', required: false, min: 0, max: 10000 }),
    (b) => k.tables.createStringColumn({ ...b, key: 'category', size: 256, required: false }),
  ]);
  await k.tables.createRow({
    ...base,
    rowId: 'doc_to_update',
    data: { name: 'Original name', counter: 50, category: 'original' },
  });
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.updateRow({
    ...base,
    rowId: 'doc_to_update',
    data: { name: 'Updated via normal route', counter: 150, category: 'updated' },
    transactionId,
  });
  expect(k.status()).toBe(200);
  let response = await k.tables.getRow({ ...base, rowId: 'doc_to_update' });
  expect(response.name).toBe('Original name');
  expect(response.counter).toBe(50);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  response = await k.tables.getRow({ ...base, rowId: 'doc_to_update' });
  expect(response.name).toBe('Updated via normal route');
  expect(response.counter).toBe(150);
});

upstream(`${TX_BASE}:1836`, 'testUpsertDocument (staged through the upsertRow route)', async () => {
  const base = await tableWith('UpsertRouteTestDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'name', size: 256, required: true }),
    (b) => k.tables.createIntegerColumn({ ...b, key: 'counter', required: false, min: 0, max: 10000 }),
  ]);
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.upsertRow({
    ...base,
    rowId: 'doc_upsert',
    data: { name: 'Created by upsert', counter: 25 },
    transactionId,
  });
  expect(k.status()).toBe(201);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId: 'doc_upsert' })));
  expect(k.status()).toBe(404);
  await k.tables.upsertRow({
    ...base,
    rowId: 'doc_upsert',
    data: { name: 'Updated by upsert', counter: 75 },
    transactionId,
  });
  expect(k.status()).toBe(201);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  const response = await k.tables.getRow({ ...base, rowId: 'doc_upsert' });
  expect(k.status()).toBe(200);
  expect(response.name).toBe('Updated by upsert');
  expect(response.counter).toBe(75);
});

upstream(`${TX_BASE}:1965`, 'testDeleteDocument (staged through the deleteRow route)', async () => {
  const base = await tableWith('SharedTransactionTestDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'name', size: 256, required: false }),
  ]);
  const rowId = ID.unique();
  await k.tables.createRow({ ...base, rowId, data: { name: 'Will be deleted' } });
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.deleteRow({ ...base, rowId, transactionId });
  expect(k.status()).toBe(204);
  await k.tables.getRow({ ...base, rowId });
  expect(k.status()).toBe(200);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId })));
  expect(k.status()).toBe(404);
});

const nameAndCategory = [
  (b: { databaseId: string; tableId: string }) =>
    k.tables.createStringColumn({ ...b, key: 'name', size: 256, required: true }),
  (b: { databaseId: string; tableId: string }) =>
    k.tables.createStringColumn({ ...b, key: 'category', size: 256, required: false }),
];

upstream(`${TX_BASE}:2034`, 'testBulkCreate (staged through the createRows route)', async () => {
  const base = await tableWith('BulkCreateTestDB', nameAndCategory);
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.createRows({
    ...base,
    rows: [1, 2, 3].map((i) => ({
      $id: `bulk_create_${i}`,
      name: `Bulk created ${i}`,
      category: 'bulk_created',
    })),
    transactionId,
  });
  expect(k.status()).toBe(200);
  let list = await k.tables.listRows({ ...base, queries: [Query.equal('category', ['bulk_created'])] });
  expect(list.total).toBe(0);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId: 'bulk_create_1' })));
  expect(k.status()).toBe(404);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  list = await k.tables.listRows({ ...base, queries: [Query.equal('category', ['bulk_created'])] });
  expect(list.total).toBe(3);
  for (let i = 1; i <= 3; i++) {
    const response = await k.tables.getRow({ ...base, rowId: `bulk_create_${i}` });
    expect(k.status()).toBe(200);
    expect(response.name).toBe(`Bulk created ${i}`);
    expect(response.category).toBe('bulk_created');
  }
});

upstream(`${TX_BASE}:2179`, 'testBulkUpdate (staged through the updateRows route)', async () => {
  const base = await tableWith('BulkUpdateTestDB', nameAndCategory);
  for (let i = 1; i <= 3; i++) {
    await k.tables.createRow({
      ...base,
      rowId: `bulk_update_${i}`,
      data: { name: `Bulk doc ${i}`, category: 'bulk_test' },
    });
  }
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.updateRows({
    ...base,
    queries: [Query.equal('category', ['bulk_test'])],
    data: { category: 'bulk_updated' },
    transactionId,
  });
  expect(k.status()).toBe(200);
  let list = await k.tables.listRows({ ...base, queries: [Query.equal('category', ['bulk_test'])] });
  expect(list.total).toBe(3);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  list = await k.tables.listRows({ ...base, queries: [Query.equal('category', ['bulk_updated'])] });
  expect(list.total).toBe(3);
});

upstream(`${TX_BASE}:2305`, 'testBulkUpsert (staged through the upsertRows route)', async () => {
  const base = await tableWith('BulkUpsertTestDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'name', size: 256, required: true }),
    (b) => k.tables.createIntegerColumn({ ...b, key: 'counter', required: false, min: 0, max: 10000 }),
  ]);
  await k.tables.createRow({
    ...base,
    rowId: 'bulk_upsert_existing',
    data: { name: 'Existing doc', counter: 10 },
  });
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.upsertRows({
    ...base,
    rows: [
      { $id: 'bulk_upsert_existing', name: 'Updated existing', counter: 20 },
      { $id: 'bulk_upsert_new', name: 'New doc', counter: 30 },
    ],
    transactionId,
  });
  expect(k.status()).toBe(200);
  let response = await k.tables.getRow({ ...base, rowId: 'bulk_upsert_existing' });
  expect(response.name).toBe('Existing doc');
  expect(response.counter).toBe(10);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId: 'bulk_upsert_new' })));
  expect(k.status()).toBe(404);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  response = await k.tables.getRow({ ...base, rowId: 'bulk_upsert_existing' });
  expect(response.name).toBe('Updated existing');
  expect(response.counter).toBe(20);
  response = await k.tables.getRow({ ...base, rowId: 'bulk_upsert_new' });
  expect(response.name).toBe('New doc');
  expect(response.counter).toBe(30);
});

upstream(`${TX_BASE}:2453`, 'testBulkDelete (staged through the deleteRows route)', async () => {
  const base = await tableWith('BulkDeleteTestDB', nameAndCategory);
  for (let i = 1; i <= 3; i++) {
    await k.tables.createRow({
      ...base,
      rowId: `bulk_delete_${i}`,
      data: { name: `Delete doc ${i}`, category: 'bulk_delete_test' },
    });
  }
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.deleteRows({
    ...base,
    queries: [Query.equal('category', ['bulk_delete_test'])],
    transactionId,
  });
  expect(k.status()).toBe(200);
  let list = await k.tables.listRows({ ...base, queries: [Query.equal('category', ['bulk_delete_test'])] });
  expect(list.total).toBe(3);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  list = await k.tables.listRows({ ...base, queries: [Query.equal('category', ['bulk_delete_test'])] });
  expect(list.total).toBe(0);
});

upstream(`${TX_BASE}:682`, 'testTransactionSizeLimit', async () => {
  const base = await tableWith('SizeLimitTestDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'value', size: 256, required: false }),
  ]);
  const transactionId = (await k.tables.createTransaction({})).$id;
  const creates = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, n) => ({
      ...base,
      action: 'create',
      rowId: `doc_${from + n}`,
      data: { value: `Test ${from + n}` },
    }));
  let response = await k.tables.createOperations({ transactionId, operations: creates(0, 50) });
  expect(k.status()).toBe(201);
  expect(response.operations).toBe(50);
  response = await k.tables.createOperations({ transactionId, operations: creates(50, 100) });
  expect(k.status()).toBe(201);
  expect(response.operations).toBe(100);
  failure(
    await k.attempt(
      k.tables.createOperations({
        transactionId,
        operations: [
          { ...base, action: 'create', rowId: 'doc_overflow', data: { value: 'This should fail' } },
        ],
      }),
    ),
  );
  expect(k.status()).toBe(400);
});

upstream(`${TX_BASE}:802`, 'testConcurrentTransactionConflicts', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'ConflictTestDB' })).$id;
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'TestCollection',
      rowSecurity: false,
      permissions: ANY,
    })
  ).$id;
  const base = { databaseId, tableId };
  await k.tables.createIntegerColumn({ ...base, key: 'counter', required: true, min: 0, max: 1_000_000 });
  expect(k.status()).toBe(202);
  await k.tables.createRow({ ...base, rowId: 'shared_doc', data: { counter: 100 } });
  expect(k.status()).toBe(201);
  const t1 = (await k.tables.createTransaction({})).$id;
  const t2 = (await k.tables.createTransaction({})).$id;
  const stage = (transactionId: string, counter: number) =>
    k.tables.createOperations({
      transactionId,
      operations: [{ ...base, action: 'update', rowId: 'shared_doc', data: { counter } }],
    });
  await stage(t1, 200);
  await stage(t2, 300);
  // Timestamps are whole milliseconds (as DATETIME(3)); against a real server the round trips between staging
  // and this commit take longer than that, here they may not.
  await new Promise((r) => setTimeout(r, 3));
  await k.tables.updateTransaction({ transactionId: t1, commit: true });
  expect(k.status()).toBe(200);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId: t2, commit: true })));
  expect([409, 500]).toContain(k.status());
  const doc = await k.tables.getRow({ ...base, rowId: 'shared_doc' });
  expect(doc.counter).toBe(200);
});

upstream(`${TX_BASE}:943`, 'testDeleteDocumentDuringTransaction', async () => {
  const base = await tableWith('DeleteConflictDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'data', size: 256, required: false }),
  ]);
  await k.tables.createRow({ ...base, rowId: 'target_doc', data: { data: 'Original' } });
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.createOperations({
    transactionId,
    operations: [
      { ...base, action: 'update', rowId: 'target_doc', data: { data: 'Updated in transaction' } },
    ],
  });
  await k.tables.deleteRow({ ...base, rowId: 'target_doc' });
  expect(k.status()).toBe(204);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId, commit: true })));
  expect(k.status()).toBe(404);
});

upstream(`${ACID_BASE}:18`, 'testAtomicity', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'AtomicityTestDB' })).$id;
  expect(k.status()).toBe(201);
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'AtomicityTest',
      rowSecurity: false,
      permissions: ANY,
    })
  ).$id;
  const base = { databaseId, tableId };
  await k.tables.createStringColumn({ ...base, key: 'email', size: 256, required: true });
  await k.tables.createIndex({
    ...base,
    key: 'unique_email',
    type: TablesDBIndexType.Unique,
    columns: ['email'],
  });
  await k.tables.createRow({ ...base, rowId: ID.unique(), data: { email: 'existing@example.com' } });
  expect(k.status()).toBe(201);
  const transaction = await k.tables.createTransaction({});
  expect(k.status()).toBe(201);
  expect(transaction).toHaveProperty('$id');
  await k.tables.createOperations({
    transactionId: transaction.$id,
    operations: ['newuser@example.com', 'existing@example.com', 'anotheruser@example.com'].map((email) => ({
      ...base,
      action: 'create',
      rowId: ID.unique(),
      data: { email },
    })),
  });
  expect(k.status()).toBe(201);
  await k.attempt(k.tables.updateTransaction({ transactionId: transaction.$id, commit: true }));
  if (k.status() === 200) {
    const documents = await k.tables.listRows(base);
    expect(documents.total).toBeGreaterThanOrEqual(1);
  } else {
    expect(k.status()).toBe(409);
    const documents = await k.tables.listRows(base);
    expect(documents.total).toBe(1);
    expect(documents.rows[0]?.email).toBe('existing@example.com');
  }
});

upstream(`${TX_BASE}:1218`, 'testPartialFailureRollback', async () => {
  const base = await tableWith('PartialFailureDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'email', size: 256, required: true }),
    (b) =>
      k.tables.createIndex({ ...b, key: 'unique_email', type: TablesDBIndexType.Unique, columns: ['email'] }),
  ]);
  await k.tables.createRow({ ...base, rowId: ID.unique(), data: { email: 'existing@example.com' } });
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.createOperations({
    transactionId,
    operations: [
      'valid1@example.com',
      'valid2@example.com',
      'existing@example.com',
      'valid3@example.com',
    ].map((email) => ({ ...base, action: 'create', rowId: ID.unique(), data: { email } })),
  });
  expect(k.status()).toBe(201);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId, commit: true })));
  expect(k.status()).toBe(409);
  const documents = await k.tables.listRows(base);
  expect(documents.total).toBe(1);
  expect(documents.rows[0]?.email).toBe('existing@example.com');
});

upstream(`${TX_BASE}:1357`, 'testDoubleCommitRollback', async () => {
  const base = await tableWith('DoubleCommitDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'data', size: 256, required: false }),
  ]);
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.createOperations({
    transactionId,
    operations: [{ ...base, action: 'create', rowId: ID.unique(), data: { data: 'Test' } }],
  });
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId, commit: true })));
  expect(k.status()).toBe(400);
  const transactionId2 = (await k.tables.createTransaction({})).$id;
  await k.tables.updateTransaction({ transactionId: transactionId2, rollback: true });
  expect(k.status()).toBe(200);
  failure(await k.attempt(k.tables.updateTransaction({ transactionId: transactionId2, rollback: true })));
  expect(k.status()).toBe(400);
});

upstream(`${TX_BASE}:1479`, 'testOperationsOnNonExistentDocuments', async () => {
  const base = await tableWith('NonExistentDocDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'data', size: 256, required: false }),
  ]);
  const transactionId = (await k.tables.createTransaction({})).$id;
  failure(
    await k.attempt(
      k.tables.createOperations({
        transactionId,
        operations: [{ ...base, action: 'update', rowId: 'non_existent_doc', data: { data: 'Should fail' } }],
      }),
    ),
  );
  expect(k.status()).toBe(404);
  const transactionId2 = (await k.tables.createTransaction({})).$id;
  failure(
    await k.attempt(
      k.tables.createOperations({
        transactionId: transactionId2,
        operations: [{ ...base, action: 'delete', rowId: 'non_existent_doc', data: [] }],
      }),
    ),
  );
  expect(k.status()).toBe(404);
});

upstream(`${TX_BASE}:4819`, 'testNonExistentResources', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'ResourceTestDatabase' })).$id;
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  expect(k.status()).toBe(201);
  failure(
    await k.attempt(
      k.tables.createOperations({
        transactionId,
        operations: [
          {
            action: 'create',
            databaseId: 'nonExistentDatabase',
            tableId: 'someCollection',
            rowId: ID.unique(),
            data: { name: 'Test' },
          },
        ],
      }),
    ),
  );
  expect(k.status()).toBe(404);
  failure(
    await k.attempt(
      k.tables.createOperations({
        transactionId,
        operations: [
          {
            action: 'create',
            databaseId,
            tableId: 'nonExistentCollection',
            rowId: ID.unique(),
            data: { name: 'Test' },
          },
        ],
      }),
    ),
  );
  expect(k.status()).toBe(404);
});

upstream(`${TX_BASE}:3687`, 'testIncrementDecrementOperations', async () => {
  const base = await tableWith('IncrementDecrementTestDB', [
    (b) => k.tables.createIntegerColumn({ ...b, key: 'counter', required: false, xdefault: 0 }),
    (b) => k.tables.createIntegerColumn({ ...b, key: 'score', required: false, xdefault: 100 }),
  ]);
  await k.tables.createRow({ ...base, rowId: 'counter_doc', data: { counter: 10, score: 50 } });
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.createOperations({
    transactionId,
    operations: [
      { ...base, action: 'increment', rowId: 'counter_doc', data: { column: 'counter', value: 5 } },
      { ...base, action: 'decrement', rowId: 'counter_doc', data: { column: 'score', value: 20 } },
      { ...base, action: 'increment', rowId: 'counter_doc', data: { column: 'counter', value: 3, max: 20 } },
      { ...base, action: 'decrement', rowId: 'counter_doc', data: { column: 'score', value: 30, min: 0 } },
    ],
  });
  expect(k.status()).toBe(201);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  const doc = await k.tables.getRow({ ...base, rowId: 'counter_doc' });
  expect(k.status()).toBe(200);
  expect(doc.counter).toBe(18);
  expect(doc.score).toBe(0);
});

upstream(`${TX_BASE}:4885`, 'testIncrementThenUpdate', async () => {
  const base = await tableWith('IncrementUpdateTestDB', [
    (b) => k.tables.createIntegerColumn({ ...b, key: 'counter', required: false, xdefault: 0 }),
    (b) => k.tables.createStringColumn({ ...b, key: 'status', size: 50, required: false }),
  ]);
  await k.tables.createRow({ ...base, rowId: 'test_row', data: { counter: 10, status: 'initial' } });
  expect(k.status()).toBe(201);
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.createOperations({
    transactionId,
    operations: [
      { ...base, action: 'increment', rowId: 'test_row', data: { column: 'counter', value: 5 } },
      { ...base, action: 'update', rowId: 'test_row', data: { status: 'updated' } },
    ],
  });
  expect(k.status()).toBe(201);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  const row = await k.tables.getRow({ ...base, rowId: 'test_row' });
  expect(k.status()).toBe(200);
  expect(row.counter).toBe(15);
  expect(row.status).toBe('updated');
});

upstream(`${TX_BASE}:5592`, 'testUpsertAutoIdThenUpdate', async () => {
  const base = await tableWith('UpsertAutoIDTestDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'name', size: 256, required: true }),
    (b) => k.tables.createIntegerColumn({ ...b, key: 'counter', required: false, min: 0, max: 10000 }),
  ]);
  const transactionId = (await k.tables.createTransaction({})).$id;
  const created = await k.tables.createRow({
    ...base,
    rowId: ID.unique(),
    data: { name: 'Initial document', counter: 5 },
    transactionId,
  });
  expect(k.status()).toBe(201);
  const rowId = created.$id;
  await k.tables.upsertRow({
    ...base,
    rowId,
    data: { name: 'Upserted in transaction', counter: 10 },
    transactionId,
  });
  expect(k.status()).toBe(201);
  await k.tables.updateRow({
    ...base,
    rowId,
    data: { name: 'Updated after upsert', counter: 20 },
    transactionId,
  });
  expect(k.status()).toBe(200);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  const response = await k.tables.getRow({ ...base, rowId });
  expect(k.status()).toBe(200);
  expect(response.name).toBe('Updated after upsert');
  expect(response.counter).toBe(20);
});

upstream(`${TX_BASE}:3994`, 'testBulkUpdateOperations', async () => {
  const base = await tableWith('BulkUpdateTestDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'status', size: 50, required: false }),
    (b) => k.tables.createStringColumn({ ...b, key: 'category', size: 50, required: false }),
  ]);
  for (let i = 1; i <= 5; i++) {
    await k.tables.createRow({
      ...base,
      rowId: `doc_${i}`,
      data: { status: 'pending', category: i % 2 === 0 ? 'even' : 'odd' },
    });
  }
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.createOperations({
    transactionId,
    operations: [
      {
        ...base,
        action: 'bulkUpdate',
        data: { queries: [Query.equal('category', ['even'])], data: { status: 'approved' } },
      },
      {
        ...base,
        action: 'bulkUpdate',
        data: { queries: [Query.equal('category', ['odd'])], data: { status: 'rejected' } },
      },
    ],
  });
  expect(k.status()).toBe(201);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  const docs = await k.tables.listRows(base);
  for (const doc of docs.rows) {
    if (doc.category === 'even') expect(doc.status).toBe('approved');
    else expect(doc.status).toBe('rejected');
  }
});

upstream(`${TX_BASE}:4299`, 'testBulkDeleteOperations', async () => {
  const base = await tableWith('BulkDeleteTestDB', [
    (b) => k.tables.createStringColumn({ ...b, key: 'type', size: 50, required: false }),
    (b) => k.tables.createIntegerColumn({ ...b, key: 'priority', required: false }),
  ]);
  for (let i = 1; i <= 10; i++) {
    await k.tables.createRow({
      ...base,
      rowId: `doc_${i}`,
      data: { type: i <= 5 ? 'temp' : 'permanent', priority: i },
    });
  }
  const transactionId = (await k.tables.createTransaction({})).$id;
  await k.tables.createOperations({
    transactionId,
    operations: [
      { ...base, action: 'bulkDelete', data: { queries: [Query.equal('type', ['temp'])] } },
      { ...base, action: 'bulkDelete', data: { queries: [Query.greaterThan('priority', 8)] } },
    ],
  });
  expect(k.status()).toBe(201);
  await k.tables.updateTransaction({ transactionId, commit: true });
  expect(k.status()).toBe(200);
  const docs = await k.tables.listRows(base);
  expect(docs.total).toBe(3);
  expect(docs.rows.map((d) => d.$id).sort()).toEqual(['doc_6', 'doc_7', 'doc_8']);
});
