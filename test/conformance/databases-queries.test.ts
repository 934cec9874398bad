/**
 * Conformance: the negated query methods of `tests/e2e/Services/Databases/DatabasesBase.php` at Appwrite 1.9.5
 * (TablesDB variant, API key), through node-appwrite against appwrite-local. Each upstream `$this->assert…` is one
 * `expect`; line numbers point at the upstream test.
 */
import { ID, Permission, Query, Role, TablesDBIndexType } from 'node-appwrite';
import { afterAll, beforeAll, expect } from 'vitest';
import { DB_BASE, type Kit, startKit } from './databases-kit.ts';
import { installAssertionCounter, upstream } from './harness.ts';

installAssertionCounter();

let k: Kit;
const USER = 'conformance-user';

beforeAll(async () => {
  k = await startKit();
});
afterAll(async () => {
  await k?.server.stop();
});

type Column = { key: string; kind: 'string' | 'float' };

/**
 * The shared shape of these upstream tests: a database (3 asserts), a table (2), required columns (1 each),
 * three rows (1 each), then one list whose result the caller checks.
 */
async function scenario(
  dbName: string,
  tableName: string,
  columns: Column[],
  rows: Record<string, unknown>[],
  queries: string[] | undefined,
  /** Upstream sleeps 500 ms between the rows of the time-query tests; a few ms separate their timestamps here. */
  pauseMs = 0,
) {
  const database = await k.tables.create({ databaseId: ID.unique(), name: dbName });
  expect(database.$id).toBeTruthy();
  expect(k.status()).toBe(201);
  expect(database.name).toBe(dbName);
  const table = await k.tables.createTable({
    databaseId: database.$id,
    tableId: ID.unique(),
    name: tableName,
    rowSecurity: true,
    permissions: [Permission.create(Role.user(USER))],
  });
  expect(k.status()).toBe(201);
  expect(table.name).toBe(tableName);
  const base = { databaseId: database.$id, tableId: table.$id };
  for (const c of columns) {
    if (c.kind === 'string')
      await k.tables.createStringColumn({ ...base, key: c.key, size: 256, required: true });
    else await k.tables.createFloatColumn({ ...base, key: c.key, required: true });
    expect(k.status()).toBe(202);
  }
  const created: Record<string, unknown>[] = [];
  for (const data of rows) {
    if (pauseMs && created.length) await new Promise((r) => setTimeout(r, pauseMs));
    created.push(
      (await k.tables.createRow({
        ...base,
        rowId: ID.unique(),
        data,
        permissions: [Permission.read(Role.user(USER))],
      })) as unknown as Record<string, unknown>,
    );
    expect(k.status()).toBe(201);
  }
  const list = async (q: string[]) => {
    const page = await k.tables.listRows({ ...base, queries: q });
    return { status: k.status(), rows: page.rows as unknown as Record<string, unknown>[] };
  };
  return { ...(queries ? await list(queries) : { status: 0, rows: [] }), created, list };
}

upstream(`${DB_BASE}:9988`, 'testNotContains', async () => {
  const r = await scenario(
    'NotContains test',
    'Movies',
    [
      { key: 'title', kind: 'string' },
      { key: 'genre', kind: 'string' },
    ],
    [
      { title: 'Spider-Man: Homecoming', genre: 'Action' },
      { title: 'The Avengers', genre: 'Action' },
      { title: 'Romantic Comedy', genre: 'Romance' },
    ],
    [
      Query.select(['title', 'genre']),
      Query.notContains('title', ['Spider']),
      Query.limit(999),
      Query.offset(0),
    ],
  );
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(2);
  expect(r.rows[0]?.title).toBe('The Avengers');
  expect(r.rows[1]?.title).toBe('Romantic Comedy');
});

upstream(`${DB_BASE}:10149`, 'testNotBetween', async () => {
  const r = await scenario(
    'NotBetween test',
    'Products',
    [
      { key: 'name', kind: 'string' },
      { key: 'price', kind: 'float' },
    ],
    [
      { name: 'Cheap Product', price: 5.99 },
      { name: 'Mid Product', price: 25.0 },
      { name: 'Expensive Product', price: 150.0 },
    ],
    [Query.notBetween('price', 10, 50)],
  );
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(2);
  expect(r.rows[0]?.name).toBe('Cheap Product');
  expect(r.rows[1]?.name).toBe('Expensive Product');
});

upstream(`${DB_BASE}:10274`, 'testNotStartsWith', async () => {
  const r = await scenario(
    'NotStartsWith test',
    'Employees',
    [
      { key: 'name', kind: 'string' },
      { key: 'department', kind: 'string' },
    ],
    [
      { name: 'John Smith', department: 'Engineering' },
      { name: 'Jane Doe', department: 'Marketing' },
      { name: 'Bob Johnson', department: 'Sales' },
    ],
    [Query.notStartsWith('name', 'John')],
  );
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(2);
  expect(r.rows[0]?.name).toBe('Jane Doe');
  expect(r.rows[1]?.name).toBe('Bob Johnson');
});

upstream(`${DB_BASE}:10400`, 'testNotEndsWith', async () => {
  const r = await scenario(
    'NotEndsWith test',
    'Files',
    [
      { key: 'filename', kind: 'string' },
      { key: 'type', kind: 'string' },
    ],
    [
      { filename: 'row.pdf', type: 'PDF' },
      { filename: 'image.jpg', type: 'Image' },
      { filename: 'presentation.pptx', type: 'Presentation' },
    ],
    [Query.notEndsWith('filename', '.pdf')],
  );
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(2);
  expect(r.rows[0]?.filename).toBe('image.jpg');
  expect(r.rows[1]?.filename).toBe('presentation.pptx');
});

const posts = [
  { title: 'Old Post', content: 'This is an old post content' },
  { title: 'Recent Post', content: 'This is a recent post content' },
  { title: 'Newest Post', content: 'This is the newest post content' },
];
const textColumns = (a: string, b: string): Column[] => [
  { key: a, kind: 'string' },
  { key: b, kind: 'string' },
];

upstream(`${DB_BASE}:10526`, 'testCreatedBefore', async () => {
  const s = await scenario(
    'CreatedBefore test',
    'Posts',
    textColumns('title', 'content'),
    posts,
    undefined,
    5,
  );
  const r = await s.list([Query.createdBefore(s.created[1]?.$createdAt as string)]);
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(1);
  expect(r.rows[0]?.title).toBe('Old Post');
});

upstream(`${DB_BASE}:10659`, 'testCreatedAfter', async () => {
  const s = await scenario(
    'CreatedAfter test',
    'Events',
    textColumns('name', 'description'),
    [
      { name: 'Early Event', description: 'This is an early event' },
      { name: 'Middle Event', description: 'This is a middle event' },
      { name: 'Latest Event', description: 'This is the latest event' },
    ],
    undefined,
    5,
  );
  const r = await s.list([Query.createdAfter(s.created[1]?.$createdAt as string)]);
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(1);
  expect(r.rows[0]?.name).toBe('Latest Event');
});

upstream(`${DB_BASE}:10792`, 'testCreatedBetween', async () => {
  const s = await scenario(
    'CreatedBetween test',
    'Articles',
    textColumns('title', 'content'),
    ['First', 'Second', 'Third', 'Fourth'].map((n) => ({
      title: `${n} Article`,
      content: `This is the ${n.toLowerCase()} article content`,
    })),
    undefined,
    5,
  );
  const at = (i: number) => s.created[i]?.$createdAt as string;
  let r = await s.list([Query.createdBetween(at(0), at(2))]);
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(3);
  const titles = r.rows.map((row) => row.title);
  expect(titles).toContain('First Article');
  expect(titles).toContain('Second Article');
  expect(titles).toContain('Third Article');
  expect(titles).not.toContain('Fourth Article');
  r = await s.list([Query.createdBetween(at(1), at(1))]);
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(1);
  expect(r.rows[0]?.title).toBe('Second Article');
});

/** Updates `rows[i]` with `patches[i]` in order, a few ms apart (upstream sleeps 500 ms); returns the answers. */
async function updateInTurn(s: Awaited<ReturnType<typeof scenario>>, patches: Record<string, unknown>[]) {
  const answers: Record<string, unknown>[] = [];
  for (const [i, data] of patches.entries()) {
    await new Promise((r) => setTimeout(r, 5));
    const row = s.created[i] as Record<string, unknown>;
    answers.push(
      (await k.tables.updateRow({
        databaseId: row.$databaseId as string,
        tableId: row.$tableId as string,
        rowId: row.$id as string,
        data,
      })) as unknown as Record<string, unknown>,
    );
  }
  return answers;
}

upstream(`${DB_BASE}:10970`, 'testUpdatedBefore', async () => {
  const s = await scenario(
    'UpdatedBefore test',
    'Tasks',
    textColumns('title', 'status'),
    ['One', 'Two', 'Three'].map((n) => ({ title: `Task ${n}`, status: 'pending' })),
    undefined,
  );
  const answers = await updateInTurn(s, [
    { status: 'completed' },
    { status: 'in_progress' },
    { status: 'review' },
  ]);
  const r = await s.list([Query.updatedBefore(answers[1]?.$updatedAt as string)]);
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(1);
  expect(r.rows[0]?.title).toBe('Task One');
  expect(r.rows[0]?.status).toBe('completed');
});

upstream(`${DB_BASE}:11136`, 'testUpdatedAfter', async () => {
  const s = await scenario(
    'UpdatedAfter test',
    'Orders',
    textColumns('orderNumber', 'status'),
    ['ORD-001', 'ORD-002', 'ORD-003'].map((orderNumber) => ({ orderNumber, status: 'pending' })),
    undefined,
  );
  const answers = await updateInTurn(s, [
    { status: 'processing' },
    { status: 'shipped' },
    { status: 'delivered' },
  ]);
  const r = await s.list([Query.updatedAfter(answers[1]?.$updatedAt as string)]);
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(1);
  expect(r.rows[0]?.orderNumber).toBe('ORD-003');
  expect(r.rows[0]?.status).toBe('delivered');
});

upstream(`${DB_BASE}:7128`, 'testOrQueries', async () => {
  const r = await scenario(
    'Or queries',
    'USA Presidents',
    textColumns('first_name', 'last_name'),
    [
      { first_name: 'Donald', last_name: 'Trump' },
      { first_name: 'George', last_name: 'Bush' },
      { first_name: 'Joe', last_name: 'Biden' },
    ],
    [
      Query.select(['first_name', 'last_name']),
      Query.or([Query.equal('first_name', ['Donald']), Query.equal('last_name', ['Bush'])]),
      Query.limit(999),
      Query.offset(0),
    ],
  );
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(2);
});

upstream(`${DB_BASE}:10117`, 'testNotSearch', async () => {
  // setupAttributes' books table (DatabasesBase.php:262-282), setupIndexes' fts_description (:355) and
  // setupFulltextSearchDocuments' three books (:676-737); their asserts are set-up, not counted.
  const databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'Test Database' })).$id;
  const booksId = (
    await k.tables.createTable({
      databaseId,
      tableId: ID.unique(),
      name: 'Books',
      rowSecurity: true,
      permissions: [Permission.create(Role.user(USER))],
    })
  ).$id;
  const base = { databaseId, tableId: booksId };
  await k.tables.createStringColumn({ ...base, key: 'title', size: 256, required: true });
  await k.tables.createStringColumn({ ...base, key: 'description', size: 2048, required: true });
  await k.tables.createIndex({
    ...base,
    key: 'fts_description',
    type: TablesDBIndexType.Fulltext,
    columns: ['description'],
  });
  for (const data of [
    { title: 'Science Fiction Adventures', description: 'A thrilling journey through space and time' },
    { title: 'Romance Novel', description: 'A love story set in modern times' },
    { title: 'Mystery Thriller', description: 'A detective solves complex crimes' },
  ]) {
    await k.tables.createRow({
      ...base,
      rowId: ID.unique(),
      data,
      permissions: [Permission.read(Role.user(USER))],
    });
  }
  const rows = await k.tables.listRows({ ...base, queries: [Query.notSearch('description', 'space')] });
  expect(k.status()).toBe(200);
  expect(rows.rows).toHaveLength(2);
  expect(rows.rows[0]?.title).toBe('Romance Novel');
  expect(rows.rows[1]?.title).toBe('Mystery Thriller');
});

upstream(`${DB_BASE}:11302`, 'testUpdatedBetween', async () => {
  const s = await scenario(
    'UpdatedBetween test',
    'Products',
    [
      { key: 'name', kind: 'string' },
      { key: 'price', kind: 'float' },
    ],
    [
      { name: 'Product A', price: 99.99 },
      { name: 'Product B', price: 149.99 },
      { name: 'Product C', price: 199.99 },
      { name: 'Product D', price: 249.99 },
    ],
    undefined,
    5,
  );
  const updatedAt: string[] = [];
  for (const [i, price] of [89.99, 139.99, 189.99, 239.99].entries()) {
    await new Promise((r) => setTimeout(r, 5));
    const row = s.created[i] as Record<string, unknown>;
    const answer = await k.tables.updateRow({
      databaseId: row.$databaseId as string,
      tableId: row.$tableId as string,
      rowId: row.$id as string,
      data: { price },
    });
    expect(k.status()).toBe(200);
    updatedAt.push(answer.$updatedAt);
  }
  let r = await s.list([Query.updatedBetween(updatedAt[0] as string, updatedAt[2] as string)]);
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(3);
  const names = r.rows.map((row) => row.name);
  expect(names).toContain('Product A');
  expect(names).toContain('Product B');
  expect(names).toContain('Product C');
  expect(names).not.toContain('Product D');
  r = await s.list([Query.updatedBetween(updatedAt[1] as string, updatedAt[1] as string)]);
  expect(r.status).toBe(200);
  expect(r.rows).toHaveLength(1);
  expect(r.rows[0]?.name).toBe('Product B');
  expect(r.rows[0]?.price).toBe(139.99);
});
