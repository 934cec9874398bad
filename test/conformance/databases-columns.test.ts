/**
 * Conformance: columns (attributes) of `tests/e2e/Services/Databases/DatabasesBase.php` at Appwrite 1.9.5, in the
 * TablesDB variant (ApiTablesDB scope: `/tablesdb/{db}/tables/{t}/columns`), through node-appwrite against
 * appwrite-local. Each upstream `$this->assert…` is one `expect`; line numbers point at the upstream test.
 */
import { ID, Permission, Role, TablesDBIndexType } from 'node-appwrite';
import { afterAll, beforeAll, expect } from 'vitest';
import { DB_BASE, failure, type Kit, startKit } from './databases-kit.ts';
import { installAssertionCounter, upstream } from './harness.ts';

installAssertionCounter();

let k: Kit;
let databaseId: string;
type Body = Record<string, unknown>;

beforeAll(async () => {
  k = await startKit();
  databaseId = (await k.tables.create({ databaseId: ID.unique(), name: 'Test Database' })).$id;
});
afterAll(async () => {
  await k?.server.stop();
});

upstream(`${DB_BASE}:1346`, 'testAttributeResponseModels (without the relationship column)', async () => {
  const collection = (await k.tables.createTable({
    databaseId,
    tableId: ID.unique(),
    name: 'Response Models',
    rowSecurity: true,
  })) as unknown as Body;
  expect(k.status()).toBe(201);
  expect(collection.name).toBe('Response Models');
  const tableId = collection.$id as string;
  const base = { databaseId, tableId };
  const calls: [string, () => Promise<unknown>][] = [
    [
      'string',
      () =>
        k.tables.createStringColumn({
          ...base,
          key: 'string',
          size: 16,
          required: false,
          xdefault: 'default',
        }),
    ],
    [
      'email',
      () =>
        k.tables.createEmailColumn({
          ...base,
          key: 'email',
          required: false,
          xdefault: 'default@example.com',
        }),
    ],
    [
      'enum',
      () =>
        k.tables.createEnumColumn({
          ...base,
          key: 'enum',
          elements: ['yes', 'no', 'maybe'],
          required: false,
          xdefault: 'maybe',
        }),
    ],
    ['ip', () => k.tables.createIpColumn({ ...base, key: 'ip', required: false, xdefault: '192.0.2.0' })],
    [
      'url',
      () =>
        k.tables.createUrlColumn({ ...base, key: 'url', required: false, xdefault: 'http://example.com' }),
    ],
    [
      'integer',
      () =>
        k.tables.createIntegerColumn({
          ...base,
          key: 'integer',
          required: false,
          min: 1,
          max: 5,
          xdefault: 3,
        }),
    ],
    [
      'float',
      () =>
        k.tables.createFloatColumn({
          ...base,
          key: 'float',
          required: false,
          min: 1.5,
          max: 5.5,
          xdefault: 3.5,
        }),
    ],
    [
      'boolean',
      () => k.tables.createBooleanColumn({ ...base, key: 'boolean', required: false, xdefault: true }),
    ],
    [
      'datetime',
      () =>
        k.tables.createDatetimeColumn({
          ...base,
          key: 'datetime',
          required: false,
          xdefault: null as unknown as string,
        }),
    ],
    [
      'strings',
      () => k.tables.createStringColumn({ ...base, key: 'names', size: 512, required: false, array: true }),
    ],
    [
      'integers',
      () =>
        k.tables.createIntegerColumn({
          ...base,
          key: 'numbers',
          required: false,
          array: true,
          min: 1,
          max: 999,
        }),
    ],
  ];
  const created: Record<string, Body> = {};
  const createdStatus: Record<string, number> = {};
  for (const [name, call] of calls) {
    created[name] = (await call()) as Body;
    createdStatus[name] = k.status();
  }
  const {
    string,
    email,
    enum: en,
    ip,
    url,
    integer,
    float,
    boolean,
    datetime,
    strings,
    integers,
  } = created as Record<string, Body>;
  const s = (n: string) => createdStatus[n];

  expect(s('string')).toBe(202);
  expect(string?.key).toBe('string');
  expect(string?.type).toBe('string');
  expect(string?.required).toBe(false);
  expect(string?.array).toBe(false);
  expect(string?.size).toBe(16);
  expect(string?.default).toBe('default');

  expect(s('email')).toBe(202);
  expect(email?.key).toBe('email');
  expect(email?.type).toBe('string');
  expect(email?.required).toBe(false);
  expect(email?.array).toBe(false);
  expect(email?.format).toBe('email');
  expect(email?.default).toBe('default@example.com');

  expect(s('enum')).toBe(202);
  expect(en?.key).toBe('enum');
  expect(en?.type).toBe('string');
  expect(en?.required).toBe(false);
  expect(en?.array).toBe(false);
  expect(en?.format).toBe('enum');
  expect(en?.default).toBe('maybe');
  expect(Array.isArray(en?.elements)).toBe(true);
  expect(en?.elements).toEqual(['yes', 'no', 'maybe']);

  expect(s('ip')).toBe(202);
  expect(ip?.key).toBe('ip');
  expect(ip?.type).toBe('string');
  expect(ip?.required).toBe(false);
  expect(ip?.array).toBe(false);
  expect(ip?.format).toBe('ip');
  expect(ip?.default).toBe('192.0.2.0');

  expect(s('url')).toBe(202);
  expect(url?.key).toBe('url');
  expect(url?.type).toBe('string');
  expect(url?.required).toBe(false);
  expect(url?.array).toBe(false);
  expect(url?.format).toBe('url');
  expect(url?.default).toBe('http://example.com');

  expect(s('integer')).toBe(202);
  expect(integer?.key).toBe('integer');
  expect(integer?.type).toBe('integer');
  expect(integer?.required).toBe(false);
  expect(integer?.array).toBe(false);
  expect(integer?.min).toBe(1);
  expect(integer?.max).toBe(5);
  expect(integer?.default).toBe(3);

  expect(s('float')).toBe(202);
  expect(float?.key).toBe('float');
  expect(float?.type).toBe('double');
  expect(float?.required).toBe(false);
  expect(float?.array).toBe(false);
  expect(float?.min).toBe(1.5);
  expect(float?.max).toBe(5.5);
  expect(float?.default).toBe(3.5);

  expect(s('boolean')).toBe(202);
  expect(boolean?.key).toBe('boolean');
  expect(boolean?.type).toBe('boolean');
  expect(boolean?.required).toBe(false);
  expect(boolean?.array).toBe(false);
  expect(boolean?.default).toBe(true);

  expect(s('datetime')).toBe(202);
  expect(datetime?.key).toBe('datetime');
  expect(datetime?.type).toBe('datetime');
  expect(datetime?.required).toBe(false);
  expect(datetime?.array).toBe(false);
  expect(datetime?.default ?? null).toBe(null);

  expect(s('strings')).toBe(202);
  expect(strings?.key).toBe('names');
  expect(strings?.type).toBe('string');
  expect(strings?.required).toBe(false);
  expect(strings?.array).toBe(true);
  expect(strings?.default ?? null).toBe(null);

  expect(s('integers')).toBe(202);
  expect(integers?.key).toBe('numbers');
  expect(integers?.type).toBe('integer');
  expect(integers?.required).toBe(false);
  expect(integers?.array).toBe(true);
  expect(integers?.min).toBe(1);
  expect(integers?.max).toBe(999);
  expect(integers?.default ?? null).toBe(null);

  // GET each column (upstream 1608-1775).
  const fetched: Record<string, Body> = {};
  const fetchedStatus: Record<string, number> = {};
  for (const name of Object.keys(created)) {
    fetched[name] = (await k.tables.getColumn({
      ...base,
      key: created[name]?.key as string,
    })) as unknown as Body;
    fetchedStatus[name] = k.status();
  }
  const same = (name: string, fields: string[]) => {
    expect(fetchedStatus[name]).toBe(200);
    const c = created[name] as Body;
    const g = fetched[name] as Body;
    expect(c.key).toEqual(g.key);
    expect(c.type).toEqual(g.type);
    expect(g.status).toBe('available');
    expect(c.required).toEqual(g.required);
    expect(c.array).toEqual(g.array);
    for (const f of fields) {
      if (f === 'size') expect(g.size).toBe(16);
      else expect(c[f] ?? null).toEqual(g[f] ?? null);
    }
  };
  same('string', ['size', 'default']);
  same('email', ['format', 'default']);
  same('enum', ['format', 'default', 'elements']);
  same('ip', ['format', 'default']);
  same('url', ['format', 'default']);
  same('integer', ['min', 'max', 'default']);
  same('float', ['min', 'max', 'default']);
  same('boolean', ['default']);
  same('datetime', ['default']);

  const attributes = await k.tables.listColumns(base);
  expect(k.status()).toBe(200);
  // 11 without the relationship column (upstream: getSupportForRelationships() ? 12 : 11).
  expect(attributes.total).toBe(11);

  const withoutTotal = await k.tables.listColumns({ ...base, total: false });
  expect(k.status()).toBe(200);
  expect(typeof withoutTotal).toBe('object');
  expect(Array.isArray(withoutTotal.columns)).toBe(true);
  expect(Number.isInteger(withoutTotal.total)).toBe(true);
  expect(withoutTotal.total).toBe(0);
  expect(withoutTotal.columns.length).toBeGreaterThan(0);

  const listed = attributes.columns as unknown as Body[];
  expect(Array.isArray(listed)).toBe(true);
  const matches = (list: Body[], i: number, name: string, fields: string[]) => {
    const g = fetched[name] as Body;
    const a = list[i] as Body;
    for (const f of ['key', 'type', 'status', 'required', 'array', ...fields])
      expect(g[f] ?? null).toEqual(a[f] ?? null);
  };
  const checkAll = (list: Body[]) => {
    matches(list, 0, 'string', ['size', 'default']);
    matches(list, 1, 'email', ['default', 'format']);
    matches(list, 2, 'enum', ['default', 'format', 'elements']);
    matches(list, 3, 'ip', ['default', 'format']);
    matches(list, 4, 'url', ['default', 'format']);
    matches(list, 5, 'integer', ['default', 'min', 'max']);
    matches(list, 6, 'float', ['default', 'min', 'max']);
    matches(list, 7, 'boolean', ['default']);
    matches(list, 8, 'datetime', ['default']);
  };
  checkAll(listed);
  expect(listed).toHaveLength(11);

  const table = (await k.tables.getTable(base)) as unknown as Body;
  expect(k.status()).toBe(200);
  const columns = table.columns as Body[];
  expect(Array.isArray(columns)).toBe(true);
  checkAll(columns);
  // Upstream compares names/numbers through the GETs it never made for them: their created bodies stand in.
  fetched.strings = created.strings as Body;
  fetched.integers = created.integers as Body;
  for (const f of ['key', 'type']) expect(fetched.strings[f]).toEqual(columns[9]?.[f]);
  expect('available').toEqual(columns[9]?.status);
  for (const f of ['required', 'array', 'default'])
    expect(fetched.strings[f] ?? null).toEqual(columns[9]?.[f] ?? null);
  for (const f of ['key', 'type']) expect(fetched.integers[f]).toEqual(columns[10]?.[f]);
  expect('available').toEqual(columns[10]?.status);
  for (const f of ['required', 'array', 'default', 'min', 'max'])
    expect(fetched.integers[f] ?? null).toEqual(columns[10]?.[f] ?? null);
  expect(columns).toHaveLength(11);

  const badEnum = failure(
    await k.attempt(
      k.tables.createEnumColumn({
        ...base,
        key: 'enum',
        elements: ['yes', 'no', ''],
        required: false,
        xdefault: 'maybe',
      }),
    ),
  );
  expect(badEnum.code).toBe(400);
  expect(badEnum.message).toBe(
    'Invalid `elements` param: Value must a valid array no longer than 100 items and Value must be a valid string and at least 1 chars and no longer than 255 chars',
  );
});

upstream(`${DB_BASE}:4919`, 'testInvalidDocumentStructure', async () => {
  const database = await k.tables.create({ databaseId: ID.unique(), name: 'InvalidDocumentDatabase' });
  expect(k.status()).toBe(201);
  expect(database.name).toBe('InvalidDocumentDatabase');
  const collection = await k.tables.createTable({
    databaseId: database.$id,
    tableId: ID.unique(),
    name: 'invalidDocumentStructure',
    rowSecurity: true,
    permissions: [Permission.create(Role.any()), Permission.read(Role.any())],
  });
  expect(k.status()).toBe(201);
  expect(collection.name).toBe('invalidDocumentStructure');
  const base = { databaseId: database.$id, tableId: collection.$id };
  const status = async (call: Promise<unknown>) => {
    const r = await k.attempt(call);
    return { status: k.status(), message: (r as { message?: string }).message };
  };
  const email = await status(k.tables.createEmailColumn({ ...base, key: 'email', required: false }));
  const en = await status(
    k.tables.createEnumColumn({ ...base, key: 'enum', elements: ['yes', 'no', 'maybe'], required: false }),
  );
  const ip = await status(k.tables.createIpColumn({ ...base, key: 'ip', required: false }));
  const url = await status(k.tables.createUrlColumn({ ...base, key: 'url', required: false }));
  const range = await status(
    k.tables.createIntegerColumn({ ...base, key: 'range', required: false, min: 1, max: 10 }),
  );
  const floatRange = await status(
    k.tables.createFloatColumn({ ...base, key: 'floatRange', required: false, min: 1.1, max: 1.4 }),
  );
  const probability = await status(
    k.tables.createFloatColumn({ ...base, key: 'probability', required: false, xdefault: 0, min: 0, max: 1 }),
  );
  const upperBound = await status(
    k.tables.createIntegerColumn({ ...base, key: 'upperBound', required: false, max: 10 }),
  );
  const lowerBound = await status(
    k.tables.createIntegerColumn({ ...base, key: 'lowerBound', required: false, min: 5 }),
  );
  const invalidRange = await status(
    k.tables.createIntegerColumn({ ...base, key: 'invalidRange', required: false, min: 4, max: 3 }),
  );
  const defaultArray = await status(
    k.tables.createIntegerColumn({
      ...base,
      key: 'defaultArray',
      required: false,
      xdefault: 42,
      array: true,
    }),
  );
  const defaultRequired = await status(
    k.tables.createIntegerColumn({ ...base, key: 'defaultRequired', required: true, xdefault: 12 }),
  );
  const enumDefault = await status(
    k.tables.createEnumColumn({
      ...base,
      key: 'enumDefault',
      elements: ['north', 'west'],
      required: false,
      xdefault: 'south',
    }),
  );
  const enumDefaultStrict = await status(
    k.tables.createEnumColumn({
      ...base,
      key: 'enumDefault',
      elements: ['north', 'west'],
      required: false,
      xdefault: 'NORTH',
    }),
  );
  const goodDatetime = await status(
    k.tables.createDatetimeColumn({
      ...base,
      key: 'birthDay',
      required: false,
      xdefault: null as unknown as string,
    }),
  );
  const datetimeDefault = await status(
    k.tables.createDatetimeColumn({ ...base, key: 'badBirthDay', required: false, xdefault: 'bad' }),
  );
  expect(email.status).toBe(202);
  expect(ip.status).toBe(202);
  expect(url.status).toBe(202);
  expect(range.status).toBe(202);
  expect(floatRange.status).toBe(202);
  expect(probability.status).toBe(202);
  expect(upperBound.status).toBe(202);
  expect(lowerBound.status).toBe(202);
  expect(en.status).toBe(202);
  expect(goodDatetime.status).toBe(202);
  expect(invalidRange.status).toBe(400);
  expect(defaultArray.status).toBe(400);
  expect(defaultRequired.status).toBe(400);
  expect(enumDefault.status).toBe(400);
  expect(enumDefaultStrict.status).toBe(400);
  expect(invalidRange.message).toBe('Minimum value must be lesser than maximum value');
  expect(defaultArray.message).toBe('Cannot set default value for array columns');
  expect(datetimeDefault.status).toBe(400);
  const table = (await k.tables.getTable(base)) as unknown as Body;
  expect(table.columns).toHaveLength(10);

  const create = (data: Body) => status(k.tables.createRow({ ...base, rowId: ID.unique(), data }));
  const good = [
    { email: 'user@example.com' },
    { enum: 'yes' },
    { ip: '1.1.1.1' },
    { url: 'http://www.example.com' },
    { range: 3 },
    { floatRange: 1.4 },
    { probability: 0.99999 },
    { upperBound: 8 },
    { lowerBound: 8 },
  ];
  const goodResults = [];
  for (const data of good) goodResults.push(await create(data));
  for (const r of goodResults) expect(r.status).toBe(201);

  const bad = [
    { email: 'user@@example.com' },
    { enum: 'badEnum' },
    { ip: '1.1.1.1.1' },
    { url: 'example...com' },
    { range: 11 },
    { floatRange: 2.5 },
    { probability: 1.1 },
    { upperBound: 11 },
    { lowerBound: 3 },
    { birthDay: '2020-10-10 27:30:10+01:00' },
  ];
  const badResults = [];
  for (const data of bad) badResults.push(await create(data));
  for (const r of badResults) expect(r.status).toBe(400);
  const messages = badResults.map((r) => r.message);
  const structure = 'Invalid document structure: Attribute ';
  expect(messages[0]).toBe(`${structure}"email" has invalid format. Value must be a valid email address`);
  expect(messages[1]).toBe(`${structure}"enum" has invalid format. Value must be one of (yes, no, maybe)`);
  expect(messages[2]).toBe(`${structure}"ip" has invalid format. Value must be a valid IP address`);
  expect(messages[3]).toBe(`${structure}"url" has invalid format. Value must be a valid URL`);
  expect(messages[4]).toBe(
    `${structure}"range" has invalid format. Value must be a valid range between 1 and 10`,
  );
  expect(messages[5]).toBe(
    `${structure}"floatRange" has invalid format. Value must be a valid range between 1 and 1`,
  );
  expect(messages[6]).toBe(
    `${structure}"probability" has invalid format. Value must be a valid range between 0 and 1`,
  );
  expect(messages[7]).toBe(
    `${structure}"upperBound" has invalid format. Value must be a valid range between -9,223,372,036,854,775,808 and 10`,
  );
  expect(messages[8]).toBe(
    `${structure}"lowerBound" has invalid format. Value must be a valid range between 5 and 9,223,372,036,854,775,807`,
  );
});

upstream(`${DB_BASE}:935`, 'testCreateAttributes (without the relationship column)', async () => {
  const user = 'conformance-user';
  const movies = await k.tables.createTable({
    databaseId,
    tableId: ID.unique(),
    name: 'AttribTestMovies',
    rowSecurity: true,
    permissions: [Permission.create(Role.user(user))],
  });
  expect(k.status()).toBe(201);
  await k.tables.createTable({
    databaseId,
    tableId: ID.unique(),
    name: 'AttribTestActors',
    rowSecurity: true,
    permissions: [Permission.create(Role.user(user))],
  });
  expect(k.status()).toBe(201);
  const base = { databaseId, tableId: movies.$id };
  const made: Record<string, { body: Body; status: number }> = {};
  const make = async (name: string, call: Promise<unknown>) => {
    const body = (await call) as Body;
    made[name] = { body, status: k.status() };
    return made[name] as { body: Body; status: number };
  };
  const title = await make(
    'title',
    k.tables.createStringColumn({ ...base, key: 'title', size: 256, required: true }),
  );
  const description = await make(
    'description',
    k.tables.createStringColumn({ ...base, key: 'description', size: 500, required: false, xdefault: '' }),
  );
  const tagline = await make(
    'tagline',
    k.tables.createStringColumn({ ...base, key: 'tagline', size: 600, required: false, xdefault: '' }),
  );
  const releaseYear = await make(
    'releaseYear',
    k.tables.createIntegerColumn({ ...base, key: 'releaseYear', required: true, min: 1900, max: 2200 }),
  );
  const duration = await make(
    'duration',
    k.tables.createIntegerColumn({ ...base, key: 'duration', required: false, min: 60 }),
  );
  const actorsAttr = await make(
    'actors',
    k.tables.createStringColumn({ ...base, key: 'actors', size: 256, required: false, array: true }),
  );
  const datetime = await make(
    'birthDay',
    k.tables.createDatetimeColumn({ ...base, key: 'birthDay', required: false }),
  );
  const integers = await make(
    'integers',
    k.tables.createIntegerColumn({
      ...base,
      key: 'integers',
      required: false,
      array: true,
      min: 10,
      max: 99,
    }),
  );

  expect(title.status).toBe(202);
  expect(title.body.key).toBe('title');
  expect(title.body.type).toBe('string');
  expect(title.body.size).toBe(256);
  expect(title.body.required).toBe(true);
  expect(title.body.encrypt).toBe(false);
  expect(description.status).toBe(202);
  expect(description.body.key).toBe('description');
  expect(description.body.type).toBe('string');
  expect(description.body.required).toBe(false);
  expect(description.body.default).toBe('');
  expect(tagline.status).toBe(202);
  expect(tagline.body.key).toBe('tagline');
  expect(tagline.body.type).toBe('string');
  expect(tagline.body.required).toBe(false);
  expect(tagline.body.default).toBe('');
  expect(releaseYear.status).toBe(202);
  expect(releaseYear.body.key).toBe('releaseYear');
  expect(releaseYear.body.type).toBe('integer');
  expect(releaseYear.body.required).toBe(true);
  expect(duration.status).toBe(202);
  expect(duration.body.key).toBe('duration');
  expect(duration.body.type).toBe('integer');
  expect(duration.body.required).toBe(false);
  expect(actorsAttr.status).toBe(202);
  expect(actorsAttr.body.key).toBe('actors');
  expect(actorsAttr.body.type).toBe('string');
  expect(actorsAttr.body.size).toBe(256);
  expect(actorsAttr.body.required).toBe(false);
  expect(actorsAttr.body.array).toBe(true);
  expect(datetime.status).toBe(202);
  expect(datetime.body.key).toBe('birthDay');
  expect(datetime.body.type).toBe('datetime');
  expect(datetime.body.required).toBe(false);

  const integers2 = await make(
    'integers2',
    k.tables.createIntegerColumn({
      ...base,
      key: 'integers2',
      required: false,
      array: true,
      min: 10,
      max: 99,
    }),
  );
  expect(description.body.size).toBe(500);
  expect(tagline.body.size).toBe(600);
  expect(integers.status).toBe(202);
  expect(integers.body.key).toBe('integers');
  expect(integers.body.type).toBe('integer');
  expect(integers.body).not.toHaveProperty('size');
  expect(integers.body.required).toBe(false);
  expect(integers.body.array).toBe(true);
  expect(integers2.status).toBe(202);
  expect(integers2.body.key).toBe('integers2');
  expect(integers2.body.type).toBe('integer');
  expect(integers2.body).not.toHaveProperty('size');
  expect(integers2.body.required).toBe(false);
  expect(integers2.body.array).toBe(true);

  const table = (await k.tables.getTable(base)) as unknown as Body;
  const columns = table.columns as Body[];
  expect(Array.isArray(columns)).toBe(true);
  expect(columns).toHaveLength(9);
  expect(table).toHaveProperty('bytesMax');
  expect(table).toHaveProperty('bytesUsed');
  expect(table.bytesUsed as number).toBeGreaterThanOrEqual(0);
  const keys = [
    'title',
    'description',
    'tagline',
    'releaseYear',
    'duration',
    'actors',
    'birthDay',
    'integers',
    'integers2',
  ];
  keys.forEach((key, i) => {
    expect(columns[i]?.key).toBe(made[key]?.body.key);
  });
});

upstream(`${DB_BASE}:1218`, 'testPatchAttribute', async () => {
  const collection = await k.tables.createTable({
    databaseId,
    tableId: ID.unique(),
    name: 'patch',
    rowSecurity: true,
    permissions: [Permission.create(Role.user('conformance-user'))],
  });
  expect(k.status()).toBe(201);
  expect(collection.name).toBe('patch');
  const base = { databaseId, tableId: collection.$id };
  const attribute = await k.tables.createStringColumn({ ...base, key: 'title', required: true, size: 100 });
  expect(k.status()).toBe(202);
  expect(attribute.size).toBe(100);
  await k.tables.createIndex({ ...base, key: 'titleIndex', type: TablesDBIndexType.Key, columns: ['title'] });
  expect(k.status()).toBe(202);
  const patched = failure(
    await k.attempt(
      k.tables.updateStringColumn({
        ...base,
        key: 'title',
        required: true,
        xdefault: null as unknown as string,
        size: 2000,
      }),
    ),
  );
  expect(k.status()).toBe(400);
  expect(patched.message).toContain('Index length is longer than the maximum:');
});

upstream(`${DB_BASE}:1286`, 'testUpdateAttributeEnum', async () => {
  const database = await k.tables.create({ databaseId: ID.unique(), name: 'Test Database 2' });
  const players = await k.tables.createTable({
    databaseId: database.$id,
    tableId: ID.unique(),
    name: 'Players',
    rowSecurity: true,
    permissions: [Permission.create(Role.user('conformance-user'))],
  });
  const base = { databaseId: database.$id, tableId: players.$id };
  let attribute = await k.tables.createEnumColumn({
    ...base,
    key: 'position',
    elements: ['goalkeeper', 'defender', 'midfielder', 'forward'],
    required: true,
    array: false,
  });
  expect(k.status()).toBe(202);
  expect(attribute.key).toBe('position');
  expect(attribute.elements).toEqual(['goalkeeper', 'defender', 'midfielder', 'forward']);
  attribute = await k.tables.updateEnumColumn({
    ...base,
    key: 'position',
    elements: ['goalkeeper', 'defender', 'midfielder', 'forward', 'coach'],
    required: true,
    xdefault: null as unknown as string,
  });
  expect(k.status()).toBe(200);
  expect(attribute.elements).toEqual(['goalkeeper', 'defender', 'midfielder', 'forward', 'coach']);
});
