/**
 * Conformance: indexes of `tests/e2e/Services/Databases/DatabasesBase.php` at Appwrite 1.9.5, TablesDB variant
 * (ApiTablesDB: `columns` instead of `attributes`), MariaDB adapter branches (index length limit below 1024
 * bytes, several fulltext indexes per table), through node-appwrite against appwrite-local.
 */
import { ID, OrderBy, Permission, Role, TablesDBIndexType } from 'node-appwrite';
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

upstream(`${DB_BASE}:2040`, 'testCreateIndexes', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'Test Database' })).$id;
  const collection = await k.tables.createTable({
    databaseId,
    tableId: ID.unique(),
    name: 'IndexTestCollection',
    rowSecurity: true,
    permissions: [Permission.create(Role.users())],
  });
  expect(k.status()).toBe(201);
  const base = { databaseId, tableId: collection.$id };
  await k.tables.createStringColumn({ ...base, key: 'title', size: 256, required: true });
  expect(k.status()).toBe(202);
  await k.tables.createStringColumn({
    ...base,
    key: 'description',
    size: 512,
    required: false,
    xdefault: '',
  });
  expect(k.status()).toBe(202);
  await k.tables.createStringColumn({ ...base, key: 'tagline', size: 512, required: false, xdefault: '' });
  expect(k.status()).toBe(202);
  await k.tables.createIntegerColumn({ ...base, key: 'releaseYear', required: true, min: 1900, max: 2200 });
  expect(k.status()).toBe(202);
  await k.tables.createStringColumn({ ...base, key: 'actors', size: 256, required: false, array: true });
  expect(k.status()).toBe(202);
  await k.tables.createDatetimeColumn({ ...base, key: 'birthDay', required: false });
  expect(k.status()).toBe(202);
  await k.tables.createIntegerColumn({
    ...base,
    key: 'integers',
    required: false,
    array: true,
    min: 10,
    max: 99,
  });
  expect(k.status()).toBe(202);
  await k.tables.createIntegerColumn({
    ...base,
    key: 'integers2',
    required: false,
    array: true,
    min: 10,
    max: 99,
  });
  expect(k.status()).toBe(202);

  const index = (key: string, type: TablesDBIndexType, columns: string[], orders?: OrderBy[]) =>
    k.attempt(k.tables.createIndex({ ...base, key, type, columns, ...(orders ? { orders } : {}) }));

  const titleIndex = (await index('titleIndex', TablesDBIndexType.Fulltext, ['title'])) as Body;
  expect(k.status()).toBe(202);
  expect(titleIndex.key).toBe('titleIndex');
  expect(titleIndex.type).toBe('fulltext');
  expect(titleIndex.columns).toHaveLength(1);
  expect((titleIndex.columns as string[])[0]).toBe('title');

  const releaseYearIndex = (await index('releaseYear', TablesDBIndexType.Key, ['releaseYear'])) as Body;
  expect(k.status()).toBe(202);
  expect(releaseYearIndex.key).toBe('releaseYear');
  expect(releaseYearIndex.type).toBe('key');
  expect(releaseYearIndex.columns).toHaveLength(1);
  expect((releaseYearIndex.columns as string[])[0]).toBe('releaseYear');

  const releaseWithDate1 = (await index('releaseYearDated', TablesDBIndexType.Key, [
    'releaseYear',
    '$createdAt',
    '$updatedAt',
  ])) as Body;
  expect(k.status()).toBe(202);
  expect(releaseWithDate1.key).toBe('releaseYearDated');
  expect(releaseWithDate1.type).toBe('key');
  expect(releaseWithDate1.columns).toHaveLength(3);
  expect((releaseWithDate1.columns as string[])[0]).toBe('releaseYear');
  expect((releaseWithDate1.columns as string[])[1]).toBe('$createdAt');
  expect((releaseWithDate1.columns as string[])[2]).toBe('$updatedAt');

  const releaseWithDate2 = (await index('birthDay', TablesDBIndexType.Key, ['birthDay'])) as Body;
  expect(k.status()).toBe(202);
  expect(releaseWithDate2.key).toBe('birthDay');
  expect(releaseWithDate2.type).toBe('key');
  expect(releaseWithDate2.columns).toHaveLength(1);
  expect((releaseWithDate2.columns as string[])[0]).toBe('birthDay');

  const fulltextReleaseYear = failure(
    await index('releaseYearDated', TablesDBIndexType.Fulltext, ['releaseYear']),
  );
  expect(fulltextReleaseYear.code).toBe(400);

  const noAttributes = failure(await index('none', TablesDBIndexType.Key, []));
  expect(noAttributes.code).toBe(400);
  expect(noAttributes.message).toBe('No attributes provided for index');

  const duplicates = failure(
    await index('duplicate', TablesDBIndexType.Fulltext, ['releaseYear', 'releaseYear']),
  );
  expect(duplicates.code).toBe(400);
  expect(duplicates.message).toBe('Duplicate attributes provided');

  const tooLong = failure(await index('tooLong', TablesDBIndexType.Key, ['description', 'tagline']));
  expect(tooLong.code).toBe(400);
  expect(tooLong.message).toContain('Index length is longer than the maximum');

  const fulltextArray = failure(await index('ft', TablesDBIndexType.Fulltext, ['actors']));
  expect(fulltextArray.code).toBe(400);
  expect(fulltextArray.message).toBe('Creating indexes on array attributes is not currently supported.');

  const actorsArray = failure(await index('index-actors', TablesDBIndexType.Key, ['actors']));
  expect(actorsArray.code).toBe(400);
  expect(actorsArray.message).toBe('Creating indexes on array attributes is not currently supported.');

  const twoLevelsArray = failure(
    await index(
      'index-ip-actors',
      TablesDBIndexType.Key,
      ['releaseYear', 'actors'],
      [OrderBy.Desc, OrderBy.Desc],
    ),
  );
  expect(twoLevelsArray.code).toBe(400);
  expect(twoLevelsArray.message).toBe('Creating indexes on array attributes is not currently supported.');

  const unknown = failure(await index('index-unknown', TablesDBIndexType.Key, ['Unknown']));
  expect(unknown.code).toBe(400);
  expect(unknown.message).toContain("'Unknown' required for the index could not be found");

  const index1 = failure(await index('integers-order', TablesDBIndexType.Key, ['integers'], [OrderBy.Desc]));
  expect(index1.code).toBe(400);
  expect(index1.message).toBe('Creating indexes on array attributes is not currently supported.');

  const index2 = failure(await index('integers-size', TablesDBIndexType.Key, ['integers2']));
  expect(index2.code).toBe(400);
  expect(index2.message).toBe('Creating indexes on array attributes is not currently supported.');

  // MariaDB allows several fulltext indexes: the refusal names the non-string column.
  expect(fulltextReleaseYear.message).toBe(
    'Attribute "releaseYear" cannot be part of a fulltext index, must be of type string',
  );

  const collectionResponse = (await k.tables.getTable(base)) as unknown as Body;
  const indexes = collectionResponse.indexes as Body[];
  expect(Array.isArray(indexes)).toBe(true);
  expect(indexes).toHaveLength(4);
  const indexKeys = indexes.map((i) => i.key);
  expect(indexKeys).toContain(titleIndex.key);
  expect(indexKeys).toContain(releaseYearIndex.key);
  expect(indexKeys).toContain(releaseWithDate1.key);
  expect(indexKeys).toContain(releaseWithDate2.key);
  for (const i of indexes) expect(i.status).toBe('available');
});

upstream(`${DB_BASE}:5969`, 'testUniqueIndexDuplicate', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'Test Database' })).$id;
  const user = 'conformance-user';
  const perms = [
    Permission.read(Role.user(user)),
    Permission.update(Role.user(user)),
    Permission.delete(Role.user(user)),
  ];
  const tableId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'uniqueIndexTest',
      permissions: [...perms, Permission.create(Role.user(user))],
      rowSecurity: true,
    })
  ).$id;
  expect(k.status()).toBe(201);
  const base = { databaseId, tableId };
  await k.tables.createStringColumn({ ...base, key: 'title', size: 256, required: true });
  const create = (title: string) =>
    k.attempt(k.tables.createRow({ ...base, rowId: ID.unique(), data: { title }, permissions: perms }));
  await create('Unique Title A');
  await create('Unique Title B');
  await k.tables.createIndex({
    ...base,
    key: 'unique_title',
    type: TablesDBIndexType.Unique,
    columns: ['title'],
    orders: [OrderBy.Desc],
  });
  expect(k.status()).toBe(202);
  failure(await create('Unique Title A'));
  expect(k.status()).toBe(409);
  const document = (await create('Unique Title C')) as { $id: string };
  expect(k.status()).toBe(201);
  failure(
    await k.attempt(k.tables.updateRow({ ...base, rowId: document.$id, data: { title: 'Unique Title A' } })),
  );
  expect(k.status()).toBe(409);
});

upstream(`${DB_BASE}:2384`, 'testGetIndexByKeyWithLengths', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'Test Database' })).$id;
  const tableId = (
    await k.tables.createTable({ databaseId, tableId: ID.unique(), name: 'Movies', rowSecurity: true })
  ).$id;
  const base = { databaseId, tableId };
  // setupAttributes' movie columns (DatabasesBase.php:182-225), without the relationship column.
  await k.tables.createStringColumn({ ...base, key: 'title', size: 256, required: true });
  await k.tables.createStringColumn({
    ...base,
    key: 'description',
    size: 512,
    required: false,
    xdefault: '',
  });
  await k.tables.createStringColumn({ ...base, key: 'tagline', size: 512, required: false, xdefault: '' });
  await k.tables.createStringColumn({ ...base, key: 'actors', size: 256, required: false, array: true });
  const index = (key: string, columns: string[], lengths: number[]) =>
    k.attempt(k.tables.createIndex({ ...base, key, type: TablesDBIndexType.Key, columns, lengths }));
  await index('lengthTestIndex', ['title', 'description'], [128, 200]);
  expect(k.status()).toBe(202);
  const got = await k.tables.getIndex({ ...base, key: 'lengthTestIndex' });
  expect(k.status()).toBe(200);
  expect(got.key).toBe('lengthTestIndex');
  expect(got.lengths).toEqual([128, 200]);
  const arrays = failure(await index('lengthOverrideTestIndex', ['actors'], [120]));
  expect(k.status()).toBe(400);
  expect(arrays.message).toBe('Creating indexes on array attributes is not currently supported.');
  failure(await index('lengthCountExceededIndex', ['title'], [128, 128]));
  expect(k.status()).toBe(400);
  // 500 without relationships (upstream: getSupportForRelationships() ? 256 : 500).
  failure(
    await index('lengthTooLargeIndex', ['title', 'description', 'tagline', 'actors'], [500, 500, 500, 20]),
  );
  expect(k.status()).toBe(400);
  failure(await index('negativeLengthIndex', ['title'], [-1]));
  expect(k.status()).toBe(400);
});
