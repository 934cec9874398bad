/**
 * Conformance: rows of `tests/e2e/Services/Databases/DatabasesBase.php` at Appwrite 1.9.5, TablesDB variant with
 * an API key (the CustomServer scope), through node-appwrite against appwrite-local. Each upstream
 * `$this->assert…` is one `expect`; line numbers point at the upstream test.
 */
import { Client, ID, Permission, Query, Role, TablesDB, TablesDBIndexType } from 'node-appwrite';
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

/** The user upstream's permissions name (the CustomServer scope creates one; here any id will do). */
const USER = 'conformance-user';

const moviesData = new Map<string, Promise<{ databaseId: string; moviesId: string }>>();
/**
 * Upstream's setupDatabase + setupCollection + setupAttributes + setupIndexes (DatabasesBase.php:46-330) for the
 * movies table, without the `starringActors` relationship column (relationships are not served); its asserts
 * are set-up, not counted here.
 */
function movies(instance = 'create'): Promise<{ databaseId: string; moviesId: string }> {
  let data = moviesData.get(instance);
  if (data) return data;
  data = (async () => {
    const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'Test Database' })).$id;
    const moviesId = (
      await k.tables.createTable({
        databaseId,
        tableId: ID.unique(),
        name: 'Movies',
        rowSecurity: true,
        permissions: [Permission.create(Role.user(USER))],
      })
    ).$id;
    const base = { databaseId, tableId: moviesId };
    await k.tables.createStringColumn({ ...base, key: 'title', size: 256, required: true });
    await k.tables.createStringColumn({
      ...base,
      key: 'description',
      size: 512,
      required: false,
      xdefault: '',
    });
    await k.tables.createStringColumn({ ...base, key: 'tagline', size: 512, required: false, xdefault: '' });
    await k.tables.createIntegerColumn({ ...base, key: 'releaseYear', required: true, min: 1900, max: 2200 });
    await k.tables.createIntegerColumn({ ...base, key: 'duration', required: false, min: 60 });
    await k.tables.createStringColumn({ ...base, key: 'actors', size: 256, required: false, array: true });
    await k.tables.createDatetimeColumn({ ...base, key: 'birthDay', required: false });
    await k.tables.createIntegerColumn({
      ...base,
      key: 'integers',
      required: false,
      array: true,
      min: 10,
      max: 99,
    });
    await k.tables.createIndex({
      ...base,
      key: 'titleIndex',
      type: TablesDBIndexType.Fulltext,
      columns: ['title'],
    });
    await k.tables.createIndex({
      ...base,
      key: 'releaseYear',
      type: TablesDBIndexType.Key,
      columns: ['releaseYear'],
    });
    await k.tables.createIndex({
      ...base,
      key: 'releaseYearDated',
      type: TablesDBIndexType.Key,
      columns: ['releaseYear', '$createdAt', '$updatedAt'],
    });
    await k.tables.createIndex({
      ...base,
      key: 'birthDay',
      type: TablesDBIndexType.Key,
      columns: ['birthDay'],
    });
    return { databaseId, moviesId };
  })();
  moviesData.set(instance, data);
  return data;
}

const userPermissions = () => [
  Permission.read(Role.user(USER)),
  Permission.update(Role.user(USER)),
  Permission.delete(Role.user(USER)),
];

upstream(`${DB_BASE}:2505`, 'testCreateDocument', async () => {
  const { databaseId, moviesId } = await movies();
  const base = { databaseId, tableId: moviesId };
  const create = async (data: Body) => {
    const r = await k.attempt(
      k.tables.createRow({ ...base, rowId: ID.unique(), data, permissions: userPermissions() }),
    );
    return { status: k.status(), body: r as Body };
  };
  const document1 = await create({
    title: 'Captain America',
    releaseYear: 1944,
    birthDay: '1975-06-12 14:12:55+02:00',
    actors: ['Chris Evans', 'Samuel Jackson'],
  });
  const document2 = await create({
    title: 'Spider-Man: Far From Home',
    releaseYear: 2019,
    birthDay: null,
    actors: ['Tom Holland', 'Zendaya Maree Stoermer', 'Samuel Jackson'],
    integers: [50, 60],
  });
  const document3 = await create({
    title: 'Spider-Man: Homecoming',
    releaseYear: 2017,
    birthDay: '1975-06-12 14:12:55 America/New_York',
    duration: 65,
    actors: ['Tom Holland', 'Zendaya Maree Stoermer'],
    integers: [50],
  });
  const document4 = await create({ releaseYear: 2020, birthDay: null });

  const d1 = document1.body;
  expect(document1.status).toBe(201);
  expect(d1.$tableId).toBe(moviesId);
  expect(d1).not.toHaveProperty('$collection');
  expect(d1.$databaseId).toBe(databaseId);
  expect(d1.title).toBe('Captain America');
  expect(d1.releaseYear).toBe(1944);
  expect(Array.isArray(d1.$permissions)).toBe(true);
  expect(d1.$permissions).toHaveLength(3);
  expect(d1.actors).toHaveLength(2);
  expect((d1.actors as string[])[0]).toBe('Chris Evans');
  expect((d1.actors as string[])[1]).toBe('Samuel Jackson');
  expect(d1.birthDay).toBe('1975-06-12T12:12:55.000+00:00');
  expect(d1).toHaveProperty('$sequence');
  expect(typeof d1.$sequence).toBe('string');

  const d2 = document2.body;
  expect(document2.status).toBe(201);
  expect(d2.$tableId).toBe(moviesId);
  expect(d2).not.toHaveProperty('$collection');
  expect(d2.$databaseId).toBe(databaseId);
  expect(d2.title).toBe('Spider-Man: Far From Home');
  expect(d2.releaseYear).toBe(2019);
  expect(d2.duration).toBe(null);
  expect(Array.isArray(d2.$permissions)).toBe(true);
  expect(d2.$permissions).toHaveLength(3);
  expect(d2.actors).toHaveLength(3);
  expect((d2.actors as string[])[0]).toBe('Tom Holland');
  expect((d2.actors as string[])[1]).toBe('Zendaya Maree Stoermer');
  expect((d2.actors as string[])[2]).toBe('Samuel Jackson');
  expect(d2.birthDay).toBe(null);
  expect((d2.integers as number[])[0]).toBe(50);
  expect((d2.integers as number[])[1]).toBe(60);
  expect(d2).toHaveProperty('$sequence');

  const d3 = document3.body;
  expect(document3.status).toBe(201);
  expect(d3.$tableId).toBe(moviesId);
  expect(d3).not.toHaveProperty('$collection');
  expect(d3.$databaseId).toBe(databaseId);
  expect(d3.title).toBe('Spider-Man: Homecoming');
  expect(d3.releaseYear).toBe(2017);
  expect(d3.duration).toBe(65);
  expect(Array.isArray(d3.$permissions)).toBe(true);
  expect(d3.$permissions).toHaveLength(3);
  expect(d3.actors).toHaveLength(2);
  expect((d3.actors as string[])[0]).toBe('Tom Holland');
  expect((d3.actors as string[])[1]).toBe('Zendaya Maree Stoermer');
  expect(d3.birthDay).toBe('1975-06-12T18:12:55.000+00:00');
  expect(d3).toHaveProperty('$sequence');

  expect(document4.status).toBe(400);
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

/** `DateTime::formatTz` of a UTC wall-clock time: Appwrite's rendering. */
const formatTz = (wall: string) =>
  new Date(`${wall.replace(' ', 'T')}Z`).toISOString().replace('Z', '+00:00');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

upstream(`${DB_BASE}:6097`, 'testPersistentCreatedAt (server side: an API key sets the dates)', async () => {
  const { databaseId, moviesId } = await movies();
  const base = { databaseId, tableId: moviesId };
  let document = await k.tables.createRow({
    ...base,
    rowId: ID.unique(),
    data: { title: 'Creation Date Test', releaseYear: 2000 },
  });
  expect(document.title).toBe('Creation Date Test');
  const rowId = document.$id;
  const { $createdAt: createdAt, $updatedAt: updatedAt } = document;
  await pause(20);
  document = await k.tables.updateRow({ ...base, rowId, data: { title: 'Updated Date Test' } });
  expect(document.title).toBe('Updated Date Test');
  expect(document.$createdAt).toBe(createdAt);
  expect(document.$updatedAt).not.toBe(updatedAt);
  await pause(20);
  document = await k.tables.updateRow({
    ...base,
    rowId,
    data: {
      title: 'Again Updated Date Test',
      $createdAt: '2022-08-01 13:09:23.040',
      $updatedAt: '2022-08-01 13:09:23.050',
    },
  });
  expect(document.title).toBe('Again Updated Date Test');
  expect(document.$createdAt).toBe(formatTz('2022-08-01 13:09:23.040'));
  expect(document.$updatedAt).toBe(formatTz('2022-08-01 13:09:23.050'));
});

upstream(`${DB_BASE}:11616`, 'testInvalidDate', async () => {
  const { databaseId, moviesId } = await movies();
  const base = { databaseId, tableId: moviesId };
  const invalidDatetime = '1dfs:12:55+sdf:00';
  const validUpdatedAt = '2024-01-01T00:00:00Z';
  const payload = { title: 'Captain America', releaseYear: 1944, actors: ['Chris Evans', 'Samuel Jackson'] };
  failure(
    await k.attempt(
      k.tables.createRow({
        ...base,
        rowId: ID.unique(),
        data: { ...payload, $updatedAt: invalidDatetime },
        permissions: userPermissions(),
      }),
    ),
  );
  expect(k.status()).toBe(400);
  const document = await k.tables.createRow({
    ...base,
    rowId: ID.unique(),
    data: payload,
    permissions: userPermissions(),
  });
  expect(k.status()).toBe(201);
  expect(document.$id).toBeTruthy();
  failure(
    await k.attempt(
      k.tables.updateRow({ ...base, rowId: document.$id, data: { $updatedAt: invalidDatetime } }),
    ),
  );
  expect(k.status()).toBe(400);
  await k.tables.updateRow({ ...base, rowId: document.$id, data: { $updatedAt: validUpdatedAt } });
  expect(k.status()).toBe(200);
  await k.tables.getRow({ ...base, rowId: document.$id });
  expect(k.status()).toBe(200);
});

let documentsData: Promise<{ databaseId: string; moviesId: string; documentIds: string[] }> | undefined;
/** Upstream's setupDocuments (DatabasesBase.php:381): the three movies, on a movies table of their own. */
function setupDocuments() {
  documentsData ??= (async () => {
    const { databaseId, moviesId } = await movies('documents');
    const base = { databaseId, tableId: moviesId };
    const documentIds: string[] = [];
    for (const data of [
      {
        title: 'Captain America',
        releaseYear: 1944,
        birthDay: '1975-06-12 14:12:55+02:00',
        actors: ['Chris Evans', 'Samuel Jackson'],
      },
      {
        title: 'Spider-Man: Far From Home',
        releaseYear: 2019,
        birthDay: null,
        actors: ['Tom Holland', 'Zendaya Maree Stoermer', 'Samuel Jackson'],
        integers: [50, 60],
      },
      {
        title: 'Spider-Man: Homecoming',
        releaseYear: 2017,
        birthDay: '1975-06-12 14:12:55 America/New_York',
        duration: 65,
        actors: ['Tom Holland', 'Zendaya Maree Stoermer'],
        integers: [50],
      },
    ]) {
      documentIds.push(
        (await k.tables.createRow({ ...base, rowId: ID.unique(), data, permissions: userPermissions() })).$id,
      );
    }
    return { databaseId, moviesId, documentIds };
  })();
  return documentsData;
}

/** Upstream's getDocumentsList (DatabasesBase.php:742): the rows ordered by releaseYear, descending. */
async function getDocumentsList() {
  const { databaseId, moviesId } = await setupDocuments();
  const list = await k.tables.listRows({
    databaseId,
    tableId: moviesId,
    queries: [Query.orderDesc('releaseYear')],
  });
  return { rows: list.rows as unknown as Body[], databaseId, moviesId };
}

upstream(`${DB_BASE}:3226`, 'testListDocuments', async () => {
  const { databaseId, moviesId, documentIds } = await setupDocuments();
  const base = { databaseId, tableId: moviesId };
  let documents = await k.tables.listRows({
    ...base,
    queries: [Query.equal('$id', documentIds), Query.orderAsc('releaseYear')],
  });
  const rows = documents.rows as unknown as Body[];
  expect(k.status()).toBe(200);
  expect(rows[0]?.releaseYear).toBe(1944);
  expect(rows[1]?.releaseYear).toBe(2017);
  expect(rows[2]?.releaseYear).toBe(2019);
  expect(rows[0]).toHaveProperty('$sequence');
  expect(rows[1]).toHaveProperty('$sequence');
  expect(rows[2]).toHaveProperty('$sequence');
  expect(rows).toHaveLength(3);
  for (const document of rows) {
    expect(document.$tableId).toBe(moviesId);
    expect(document).not.toHaveProperty('$collection');
    expect(document.$databaseId).toBe(databaseId);
  }
  documents = await k.tables.listRows({
    ...base,
    queries: [Query.equal('$id', documentIds), Query.orderDesc('releaseYear')],
  });
  expect(k.status()).toBe(200);
  expect(documents.rows[2]?.releaseYear).toBe(1944);
  expect(documents.rows[1]?.releaseYear).toBe(2017);
  expect(documents.rows[0]?.releaseYear).toBe(2019);
  expect(documents.rows).toHaveLength(3);
  await k.tables.updateStringColumn({
    ...base,
    key: 'description',
    required: false,
    xdefault: null as unknown as string,
  });
  const document1 = await k.tables.createRow({
    ...base,
    rowId: ID.unique(),
    data: { title: 'Dummy', releaseYear: 1944, birthDay: '1975-06-12 14:12:55+02:00', actors: ['Dummy'] },
  });
  expect(k.status()).toBe(201);
  failure(
    await k.attempt(
      k.tables.listRows({ ...base, queries: [Query.orderAsc('dummy'), Query.cursorAfter(document1.$id)] }),
    ),
  );
  expect(k.status()).toBe(400);
  await k.tables.deleteRow({ ...base, rowId: document1.$id });
});

upstream(`${DB_BASE}:3672`, 'testGetDocument', async () => {
  const { rows, databaseId } = await getDocumentsList();
  for (const document of rows) {
    const response = (await k.tables.getRow({
      databaseId,
      tableId: document.$tableId as string,
      rowId: document.$id as string,
    })) as unknown as Body;
    expect(k.status()).toBe(200);
    expect(response.$id).toBe(document.$id);
    expect(document.$tableId).toBe(response.$tableId);
    expect(response).not.toHaveProperty('$collection');
    expect(document.$databaseId).toBe(response.$databaseId);
    expect(response.title).toBe(document.title);
    expect(response.releaseYear).toBe(document.releaseYear);
    expect(response.$permissions).toEqual(document.$permissions);
    expect(response.birthDay).toBe(document.birthDay);
    expect(response).toHaveProperty('$sequence');
    expect(response).not.toHaveProperty('$tenant');
  }
});

upstream(`${DB_BASE}:3696`, 'testGetDocumentWithQueries', async () => {
  const { rows, databaseId, moviesId } = await getDocumentsList();
  const document = rows[0] as Body;
  let response = (await k.tables.getRow({
    databaseId,
    tableId: moviesId,
    rowId: document.$id as string,
    queries: [],
  })) as unknown as Body;
  expect(k.status()).toBe(200);
  expect(response.title).toBe(document.title);
  expect(response.releaseYear).toBe(document.releaseYear);
  expect(response).toHaveProperty('birthDay');
  expect(response).toHaveProperty('$sequence');
  response = (await k.tables.getRow({
    databaseId,
    tableId: moviesId,
    rowId: document.$id as string,
    queries: [Query.select(['title', 'releaseYear', '$id', '$sequence'])],
  })) as unknown as Body;
  expect(k.status()).toBe(200);
});

upstream(`${DB_BASE}:3729`, 'testQueryBySequenceType', async () => {
  const { databaseId, moviesId, documentIds } = await setupDocuments();
  const base = { databaseId, tableId: moviesId };
  const documents = await k.tables.listRows({ ...base, queries: [Query.equal('$id', documentIds)] });
  expect(k.status()).toBe(200);
  expect(documents.rows.length).toBeGreaterThan(0);
  const sequence = documents.rows[0]?.$sequence as unknown as string;
  expect(typeof sequence).toBe('string');
  let response = await k.tables.listRows({ ...base, queries: [Query.equal('$sequence', [sequence])] });
  expect(k.status()).toBe(200);
  expect(response.rows).toHaveLength(1);
  expect(typeof response.rows[0]?.$sequence).toBe('string');
  expect(response.rows[0]?.$sequence).toBe(sequence);
  response = await k.tables.listRows({ ...base, queries: [Query.equal('$sequence', [Number(sequence)])] });
  expect(k.status()).toBe(200);
  expect(response.rows).toHaveLength(1);
  expect(typeof response.rows[0]?.$sequence).toBe('string');
});

upstream(`${DB_BASE}:3785`, 'testListDocumentsAfterPagination', async () => {
  const { databaseId, moviesId, documentIds } = await setupDocuments();
  const list = async (queries: string[]) =>
    (await k.tables.listRows({ databaseId, tableId: moviesId, queries })).rows as unknown as Body[];
  const ids = Query.equal('$id', documentIds);
  let base = await list([ids]);
  expect(k.status()).toBe(200);
  expect(base[0]?.title).toBe('Captain America');
  expect(base[1]?.title).toBe('Spider-Man: Far From Home');
  expect(base[2]?.title).toBe('Spider-Man: Homecoming');
  expect(base).toHaveLength(3);
  let documents = await list([ids, Query.cursorAfter(base[0]?.$id as string)]);
  expect(k.status()).toBe(200);
  expect(documents[0]?.$id).toBe(base[1]?.$id);
  expect(documents[1]?.$id).toBe(base[2]?.$id);
  expect(documents).toHaveLength(2);
  documents = await list([ids, Query.cursorAfter(base[2]?.$id as string)]);
  expect(k.status()).toBe(200);
  expect(documents).toEqual([]);

  base = await list([ids, Query.orderAsc('releaseYear')]);
  expect(k.status()).toBe(200);
  expect(base[0]?.releaseYear).toBe(1944);
  expect(base[1]?.releaseYear).toBe(2017);
  expect(base[2]?.releaseYear).toBe(2019);
  expect(base).toHaveLength(3);
  documents = await list([ids, Query.cursorAfter(base[1]?.$id as string), Query.orderAsc('releaseYear')]);
  expect(k.status()).toBe(200);
  expect(documents[0]?.$id).toBe(base[2]?.$id);
  expect(documents).toHaveLength(1);

  base = await list([ids, Query.orderDesc('releaseYear')]);
  expect(k.status()).toBe(200);
  expect(base[2]?.releaseYear).toBe(1944);
  expect(base[1]?.releaseYear).toBe(2017);
  expect(base[0]?.releaseYear).toBe(2019);
  expect(base).toHaveLength(3);
  documents = await list([ids, Query.cursorAfter(base[1]?.$id as string), Query.orderDesc('releaseYear')]);
  expect(k.status()).toBe(200);
  expect(documents[0]?.$id).toBe(base[2]?.$id);
  expect(documents).toHaveLength(1);

  failure(await k.attempt(list([Query.cursorAfter('unknown')])));
  expect(k.status()).toBe(400);
  failure(await k.attempt(list(['{"method":"cursorAfter","values":[null]}'])));
  expect(k.status()).toBe(400);
});

upstream(`${DB_BASE}:3934`, 'testListDocumentsBeforePagination', async () => {
  const { databaseId, moviesId, documentIds } = await setupDocuments();
  const list = async (queries: string[]) =>
    (await k.tables.listRows({ databaseId, tableId: moviesId, queries })).rows as unknown as Body[];
  const ids = Query.equal('$id', documentIds);
  let base = await list([ids]);
  expect(k.status()).toBe(200);
  expect(base[0]?.title).toBe('Captain America');
  expect(base[1]?.title).toBe('Spider-Man: Far From Home');
  expect(base[2]?.title).toBe('Spider-Man: Homecoming');
  expect(base).toHaveLength(3);
  let documents = await list([ids, Query.cursorBefore(base[2]?.$id as string)]);
  expect(k.status()).toBe(200);
  expect(documents[0]?.$id).toBe(base[0]?.$id);
  expect(documents[1]?.$id).toBe(base[1]?.$id);
  expect(documents).toHaveLength(2);
  documents = await list([ids, Query.cursorBefore(base[0]?.$id as string)]);
  expect(k.status()).toBe(200);
  expect(documents).toEqual([]);

  base = await list([ids, Query.orderAsc('releaseYear')]);
  expect(k.status()).toBe(200);
  expect(base[0]?.releaseYear).toBe(1944);
  expect(base[1]?.releaseYear).toBe(2017);
  expect(base[2]?.releaseYear).toBe(2019);
  expect(base).toHaveLength(3);
  documents = await list([ids, Query.cursorBefore(base[1]?.$id as string), Query.orderAsc('releaseYear')]);
  expect(k.status()).toBe(200);
  expect(documents[0]?.$id).toBe(base[0]?.$id);
  expect(documents).toHaveLength(1);

  base = await list([ids, Query.orderDesc('releaseYear')]);
  expect(k.status()).toBe(200);
  expect(base[2]?.releaseYear).toBe(1944);
  expect(base[1]?.releaseYear).toBe(2017);
  expect(base[0]?.releaseYear).toBe(2019);
  expect(base).toHaveLength(3);
  documents = await list([ids, Query.cursorBefore(base[1]?.$id as string), Query.orderDesc('releaseYear')]);
  expect(k.status()).toBe(200);
  expect(documents[0]?.$id).toBe(base[0]?.$id);
  expect(documents).toHaveLength(1);
});

upstream(`${DB_BASE}:4054`, 'testListDocumentsLimitAndOffset', async () => {
  const { databaseId, moviesId, documentIds } = await setupDocuments();
  const ids = Query.equal('$id', documentIds);
  let documents = await k.tables.listRows({
    databaseId,
    tableId: moviesId,
    queries: [ids, Query.orderAsc('releaseYear'), Query.limit(1)],
  });
  expect(k.status()).toBe(200);
  expect(documents.rows[0]?.releaseYear).toBe(1944);
  expect(documents.rows).toHaveLength(1);
  documents = await k.tables.listRows({
    databaseId,
    tableId: moviesId,
    queries: [ids, Query.orderAsc('releaseYear'), Query.limit(2), Query.offset(1)],
  });
  expect(k.status()).toBe(200);
  expect(documents.rows[0]?.releaseYear).toBe(2017);
  expect(documents.rows[1]?.releaseYear).toBe(2019);
  expect(documents.rows).toHaveLength(2);
});

upstream(`${DB_BASE}:4092`, 'testDocumentsListQueries', async () => {
  const { databaseId, moviesId } = await setupDocuments();
  const list = async (queries: string[]) =>
    await k.tables.listRows({ databaseId, tableId: moviesId, queries });
  let documents = await list([Query.search('title', 'Captain America')]);
  expect(k.status()).toBe(200);
  expect(documents.rows[0]?.releaseYear).toBe(1944);
  expect(documents.rows.length).toBeGreaterThanOrEqual(1);
  documents = await list([Query.equal('$id', [documents.rows[0]?.$id as string])]);
  expect(k.status()).toBe(200);
  expect(documents.rows[0]?.releaseYear).toBe(1944);
  expect(documents.rows).toHaveLength(1);
  documents = await list([Query.search('title', 'Homecoming')]);
  expect(k.status()).toBe(200);
  expect(documents.rows[0]?.releaseYear).toBe(2017);
  expect(documents.rows.length).toBeGreaterThanOrEqual(1);
  documents = await list([Query.search('title', 'spider')]);
  expect(k.status()).toBe(200);
  expect(documents.rows.length).toBeGreaterThanOrEqual(2);
  const releaseYears = documents.rows.map((r) => r.releaseYear);
  expect(releaseYears).toContain(2019);
  expect(releaseYears).toContain(2017);
  const syntax = failure(await k.attempt(list(['{"method":"contains","attribute":"title","values":[bad]}'])));
  expect(k.status()).toBe(400);
  expect(syntax.message).toBe('Invalid query: Syntax error');
  documents = await list([Query.contains('title', ['spi'])]);
  expect(k.status()).toBe(200);
  expect(documents.total).toBeGreaterThanOrEqual(2);
  documents = await list([Query.equal('releaseYear', [1944])]);
  expect(documents.rows.length).toBeGreaterThanOrEqual(1);
  expect(documents.rows[0]?.title).toBe('Captain America');
  documents = await list([Query.notEqual('releaseYear', 1944)]);
  expect(documents.rows.length).toBeGreaterThanOrEqual(2);
  documents = await list([Query.greaterThan('$createdAt', '1976-06-12')]);
  expect(documents.rows.length).toBeGreaterThanOrEqual(3);
  documents = await list([Query.lessThan('$createdAt', '1976-06-12')]);
  expect(documents.rows).toHaveLength(0);
  documents = await list([Query.contains('actors', ['Tom Holland', 'Samuel Jackson'])]);
  expect(k.status()).toBe(200);
  expect(documents.total).toBeGreaterThanOrEqual(3);
  documents = await list([Query.contains('actors', ['Tom'])]);
  expect(k.status()).toBe(200);
  expect(documents.total).toBe(0);
  const badDate = failure(await k.attempt(list([Query.greaterThan('birthDay', '16/01/2024 12:00:00AM')])));
  expect(k.status()).toBe(400);
  expect(badDate.message).toBe('Invalid query: Query value is invalid for attribute "birthDay"');
  documents = await list([Query.greaterThan('birthDay', '1960-01-01 10:10:10+02:30')]);
  expect(k.status()).toBe(200);
  expect(documents.rows.length).toBeGreaterThanOrEqual(2);
  const birthDays = documents.rows.map((r) => r.birthDay);
  expect(birthDays).toContain('1975-06-12T12:12:55.000+00:00');
  expect(birthDays).toContain('1975-06-12T18:12:55.000+00:00');
  documents = await list([Query.isNull('integers')]);
  expect(k.status()).toBe(200);
  expect(documents.total).toBeGreaterThanOrEqual(1);
  const conditions = Array.from({ length: 501 }, (_, i) => i);
  const tooMany = failure(await k.attempt(list([Query.equal('releaseYear', conditions)])));
  expect(k.status()).toBe(400);
  expect(tooMany.message).toBe('Invalid query: Query on attribute has greater than 500 values: releaseYear');
});

/** Appwrite's Datetime validator accepts what parseDate-compatible ISO strings the API renders. */
const validDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

upstream(`${DB_BASE}:4342`, 'testUpdateDocument', async () => {
  const { databaseId, moviesId } = await setupDocuments();
  const base = { databaseId, tableId: moviesId };
  let document = (await k.tables.createRow({
    ...base,
    rowId: ID.unique(),
    data: { title: 'Thor: Ragnaroc', releaseYear: 2017, birthDay: '1976-06-12 14:12:55', actors: [] },
    permissions: userPermissions(),
  })) as unknown as Body;
  const id = document.$id as string;
  expect(k.status()).toBe(201);
  expect(document.$tableId).toBe(moviesId);
  expect(document).not.toHaveProperty('$collection');
  expect(document.$databaseId).toBe(databaseId);
  expect(document.title).toBe('Thor: Ragnaroc');
  expect(document.releaseYear).toBe(2017);
  expect(validDate(document.$createdAt)).toBe(true);
  expect(validDate(document.birthDay)).toBe(true);
  expect(document.$permissions).toContain(Permission.read(Role.user(USER)));
  expect(document.$permissions).toContain(Permission.update(Role.user(USER)));
  expect(document.$permissions).toContain(Permission.delete(Role.user(USER)));

  document = (await k.tables.updateRow({
    ...base,
    rowId: id,
    data: { title: 'Thor: Ragnarok' },
    permissions: [
      Permission.read(Role.users()),
      Permission.update(Role.users()),
      Permission.delete(Role.users()),
    ],
  })) as unknown as Body;
  expect(k.status()).toBe(200);
  expect(document.$id).toBe(id);
  expect(document.$tableId).toBe(moviesId);
  expect(document).not.toHaveProperty('$collection');
  expect(document.$databaseId).toBe(databaseId);
  expect(document.title).toBe('Thor: Ragnarok');
  expect(document.releaseYear).toBe(2017);
  expect(document.$permissions).toContain(Permission.read(Role.users()));
  expect(document.$permissions).toContain(Permission.update(Role.users()));
  expect(document.$permissions).toContain(Permission.delete(Role.users()));

  document = (await k.tables.getRow({ ...base, rowId: id })) as unknown as Body;
  expect(k.status()).toBe(200);
  expect(document.$tableId).toBe(moviesId);
  expect(document).not.toHaveProperty('$collection');
  expect(document.$databaseId).toBe(databaseId);
  expect(document.title).toBe('Thor: Ragnarok');
  expect(document.releaseYear).toBe(2017);

  // Upstream sends X-Appwrite-Timestamp = now (taken per request) with these two updates.
  const stamped = () =>
    new TablesDB(
      new Client()
        .setEndpoint(k.server.endpoint)
        .setProject(k.server.projectId)
        .setKey(k.server.apiKey)
        .addHeader('X-Appwrite-Timestamp', new Date().toISOString()),
    );
  await stamped().updateRow({ ...base, rowId: id, data: { title: 'Thor: Ragnarok' } });
  expect(k.status()).toBe(200);
  const response = (await stamped().updateRow({
    ...base,
    rowId: id,
    data: {
      $id: 'newId',
      $sequence: 9999 as unknown as string,
      $tableId: 'newContainerId',
      $databaseId: 'newDatabaseId',
      $createdAt: '2024-01-01T00:00:00.000+00:00',
      $updatedAt: '2024-01-01T00:00:00.000+00:00',
      title: 'Thor: Ragnarok',
    },
  })) as unknown as Body;
  expect(k.status()).toBe(200);
  expect(response.$id).toBe(id);
  expect(response.$tableId).toBe(moviesId);
  expect(response.$databaseId).toBe(databaseId);
  expect(response.$createdAt).toBe('2024-01-01T00:00:00.000+00:00');
  expect(response.$updatedAt).toBe('2024-01-01T00:00:00.000+00:00');
});

upstream(`${DB_BASE}:4871`, 'testDeleteDocument', async () => {
  const { databaseId, moviesId } = await setupDocuments();
  const base = { databaseId, tableId: moviesId };
  const document = await k.tables.createRow({
    ...base,
    rowId: ID.unique(),
    data: { title: 'Thor: Ragnarok', releaseYear: 2017, birthDay: '1975-06-12 14:12:55', actors: [] },
    permissions: userPermissions(),
  });
  expect(k.status()).toBe(201);
  await k.tables.getRow({ ...base, rowId: document.$id });
  expect(k.status()).toBe(200);
  await k.tables.deleteRow({ ...base, rowId: document.$id });
  expect(k.status()).toBe(204);
  failure(await k.attempt(k.tables.getRow({ ...base, rowId: document.$id })));
  expect(k.status()).toBe(404);
});

upstream(`${DB_BASE}:759`, 'testCreateDatabase', async () => {
  const database = (await k.tables.create({
    databaseId: ID.unique(),
    name: 'Test Database',
  })) as unknown as Body;
  expect(database.$id).toBeTruthy();
  expect(k.status()).toBe(201);
  expect(database.name).toBe('Test Database');
  expect(database.type).toBe('tablesdb');
});

upstream(`${DB_BASE}:779`, 'testCreateCollection', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'Test Database' })).$id;
  const movies = (await k.tables.createTable({
    databaseId,
    tableId: ID.unique(),
    name: 'Movies',
    rowSecurity: true,
    permissions: [Permission.create(Role.user(USER))],
  })) as unknown as Body;
  expect(k.status()).toBe(201);
  expect(movies.name).toBe('Movies');
  expect(movies).toHaveProperty('bytesMax');
  expect(movies).toHaveProperty('bytesUsed');
  expect(Number.isInteger(movies.bytesMax)).toBe(true);
  expect(Number.isInteger(movies.bytesUsed)).toBe(true);
  expect(movies.bytesMax as number).toBeGreaterThanOrEqual(0);
  expect(movies.bytesUsed as number).toBeGreaterThanOrEqual(0);
  const actors = (await k.tables.createTable({
    databaseId,
    tableId: ID.unique(),
    name: 'Actors',
    rowSecurity: true,
    permissions: [Permission.create(Role.user(USER))],
  })) as unknown as Body;
  expect(k.status()).toBe(201);
  expect(actors.name).toBe('Actors');
});

upstream(`${DB_BASE}:1187`, 'testListAttributes', async () => {
  const { databaseId, moviesId } = await movies('schema');
  const response = await k.tables.listColumns({
    databaseId,
    tableId: moviesId,
    queries: [Query.equal('type', ['string']), Query.limit(2), Query.cursorAfter('title')],
  });
  expect(k.status()).toBe(200);
  expect(response.columns).toHaveLength(2);
  const bad = failure(
    await k.attempt(
      k.tables.listColumns({ databaseId, tableId: moviesId, queries: [Query.select(['key'])] }),
    ),
  );
  expect(bad.type).toBe('general_argument_invalid');
  expect(k.status()).toBe(400);
});

upstream(`${DB_BASE}:2476`, 'testListIndexes', async () => {
  const { databaseId, moviesId } = await movies('schema');
  const response = await k.tables.listIndexes({
    databaseId,
    tableId: moviesId,
    queries: [Query.equal('type', ['key']), Query.limit(2)],
  });
  expect(k.status()).toBe(200);
  expect(response.indexes).toHaveLength(2);
  const bad = failure(
    await k.attempt(
      k.tables.listIndexes({ databaseId, tableId: moviesId, queries: [Query.select(['key'])] }),
    ),
  );
  expect(bad.type).toBe('general_argument_invalid');
  expect(k.status()).toBe(400);
});

upstream(`${DB_BASE}:11532`, 'testDocumentWithEmptyPayload', async () => {
  const { databaseId, moviesId } = await movies('empty');
  failure(
    await k.attempt(
      k.tables.createRow({
        databaseId,
        tableId: moviesId,
        rowId: ID.unique(),
        data: {},
        permissions: userPermissions(),
      }),
    ),
  );
  expect(k.status()).toBe(400);
});

upstream(`${DB_BASE}:6270`, 'testAttributeBooleanDefault', async () => {
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'Test Database' })).$id;
  const tableId = (await k.tables.createTable({ databaseId, tableId: ID.unique(), name: 'Boolean' })).$id;
  expect(k.status()).toBe(201);
  await k.tables.createBooleanColumn({ databaseId, tableId, key: 'true', required: false, xdefault: true });
  expect(k.status()).toBe(202);
  await k.tables.createBooleanColumn({ databaseId, tableId, key: 'false', required: false, xdefault: false });
  expect(k.status()).toBe(202);
});
