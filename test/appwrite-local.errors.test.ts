/**
 * appwrite-local under bad input and bad credentials: every failure is an Appwrite error
 * (`{message, code, type, version}`, status = code, type from the 1.9.5 catalogue), nothing is written, and
 * the server keeps serving. Also: static keys with scopes and dynamic (function execution) keys.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, type KeysService, type ServerModule } from 'appwrite-local';
import fc from 'fast-check';
import { Client, TablesDB } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTableT,
  expectAppwriteError,
  type LocalHarness,
  startHarness,
} from './appwrite-local-helpers.ts';
import { validateSchema } from './appwrite-local-openapi.ts';

let h: LocalHarness;
let keys: KeysService;
let offset = 0;
const ROWS = '/tablesdb/db/tables/t/rows';

beforeAll(async () => {
  const capture: ServerModule = {
    name: 'capture-keys',
    install(ctx) {
      keys = ctx.keys;
    },
  };
  h = await startHarness({
    maxBodyBytes: 64 * 1024,
    clock: { now: () => Date.now() + offset },
    keys: [{ secret: 'reader-key', scopes: ['rows.read'] }],
    modules: [capture],
  });
  await createTableT(h);
  await h.tables.createRow({ databaseId: 'db', tableId: 't', rowId: 'keep', data: { n: 1 } });
});

afterAll(async () => {
  await h?.server.stop();
});

function expectError(res: { status: number; json: unknown }, code: number, type: string) {
  expect(res.json).toEqual({ message: expect.any(String), code, type, version: '1.9.5' });
  expect(res.status).toBe(code);
}

describe('bad input', () => {
  it('answers malformed JSON with 400 general_argument_invalid', async () => {
    expectError(
      await h.raw('POST', ROWS, { body: '{"rowId": "x", "data": {' }),
      400,
      'general_argument_invalid',
    );
    expectError(await h.raw('POST', ROWS, { body: '[1,2]' }), 400, 'general_argument_invalid');
    expectError(await h.raw('POST', ROWS, { body: '"text"' }), 400, 'general_argument_invalid');
  });

  it('answers unknown routes with 404 general_route_not_found', async () => {
    expectError(await h.raw('GET', '/nothing/here'), 404, 'general_route_not_found');
    expectError(await h.raw('DELETE', '/tablesdb'), 404, 'general_route_not_found');
    const outside = await fetch(h.server.endpoint.replace('/v1', '/v2/tablesdb'));
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as { type: string }).type).toBe('general_route_not_found');
  });

  it('answers wrong parameter types with 400 and writes nothing', async () => {
    expectError(
      await h.raw('POST', ROWS, { body: JSON.stringify({ rowId: 'w1', data: 5 }) }),
      400,
      'general_argument_invalid',
    );
    expectError(
      await h.raw('POST', ROWS, { body: JSON.stringify({ rowId: 'w1' }) }),
      400,
      'general_argument_invalid',
    );
    expectError(
      await h.raw('POST', ROWS, { body: JSON.stringify({ rowId: 42, data: { n: 1 } }) }),
      400,
      'general_argument_invalid',
    );
    expectError(
      await h.raw('POST', ROWS, { body: JSON.stringify({ rowId: 'w1', data: { n: '1' } }) }),
      400,
      'row_invalid_structure',
    );
    expectError(
      await h.raw('POST', ROWS, {
        body: JSON.stringify({ rowId: 'w1', data: { n: 1 }, permissions: ['root'] }),
      }),
      400,
      'general_argument_invalid',
    );
    expectError(
      await h.raw('PATCH', `${ROWS}/keep/n/increment`, { body: JSON.stringify({ value: 'lots' }) }),
      400,
      'general_argument_invalid',
    );
    expectError(
      await h.raw('POST', '/tablesdb/db/tables/t/columns/integer', {
        body: JSON.stringify({ key: 'x', required: 'yes' }),
      }),
      400,
      'general_argument_invalid',
    );
    expectError(
      await h.raw('POST', '/tablesdb', { body: JSON.stringify({ databaseId: 'x', name: 7 }) }),
      400,
      'general_argument_invalid',
    );
    await expectAppwriteError(
      h.tables.getRow({ databaseId: 'db', tableId: 't', rowId: 'w1' }),
      404,
      'row_not_found',
    );
  });

  it('answers invalid queries with 400 general_query_invalid', async () => {
    expectError(await h.raw('GET', `${ROWS}?queries[0]=nope`), 400, 'general_query_invalid');
    expectError(
      await h.raw(
        'GET',
        `${ROWS}?queries[0]=${encodeURIComponent('{"method":"equal","attribute":"n","values":["x"]}')}`,
      ),
      400,
      'general_query_invalid',
    );
    expectError(
      await h.raw('GET', `${ROWS}?queries=${encodeURIComponent('{"method":"limit","values":[1.5]}')}`),
      400,
      'general_query_invalid',
    );
  });

  it('answers oversized bodies with 400 and keeps serving', async () => {
    const big = JSON.stringify({ rowId: 'big', data: { n: 1 }, pad: 'x'.repeat(100 * 1024) });
    expectError(await h.raw('POST', ROWS, { body: big }), 400, 'general_argument_invalid');
    await expectAppwriteError(
      h.tables.getRow({ databaseId: 'db', tableId: 't', rowId: 'big' }),
      404,
      'row_not_found',
    );
  });

  it('survives all of it with data intact', async () => {
    expect((await h.tables.getRow({ databaseId: 'db', tableId: 't', rowId: 'keep' })).n).toBe(1);
    expect((await h.raw('GET', '/health/version')).json).toEqual({ version: '1.9.5' });
  });
});

describe('authentication', () => {
  it('requires the project header: 404 for an unknown project, 403/401 when it is missing', async () => {
    expectError(
      await h.raw('GET', ROWS, { headers: { 'x-appwrite-project': 'other' } }),
      404,
      'project_not_found',
    );
    const noProject = await fetch(`${h.server.endpoint}${ROWS}`, {
      headers: { 'x-appwrite-key': 'test-key' },
    });
    expect(noProject.status).toBe(403);
    expect(((await noProject.json()) as { type: string }).type).toBe('project_id_missing');
    const nothing = await fetch(`${h.server.endpoint}${ROWS}`);
    expect(nothing.status).toBe(401);
  });

  it('requires a valid key with the route scope (401 general_unauthorized_scope)', async () => {
    expectError(
      await h.raw('GET', ROWS, { headers: { 'x-appwrite-key': '' } }),
      401,
      'general_unauthorized_scope',
    );
    expectError(
      await h.raw('GET', ROWS, { headers: { 'x-appwrite-key': 'wrong' } }),
      401,
      'general_unauthorized_scope',
    );
    const reader = new TablesDB(
      new Client().setEndpoint(h.server.endpoint).setProject('test').setKey('reader-key'),
    );
    expect((await reader.listRows({ databaseId: 'db', tableId: 't' })).total).toBe(1);
    await expectAppwriteError(
      reader.createRow({ databaseId: 'db', tableId: 't', rowId: 'r', data: { n: 1 } }),
      401,
      'general_unauthorized_scope',
    );
    await expectAppwriteError(reader.list({}), 401, 'general_unauthorized_scope');
  });

  it('accepts dynamic keys with their scopes until they expire, and rejects tampered ones', async () => {
    const key = keys.issueDynamicKey({
      functionId: 'fn',
      executionId: 'ex',
      scopes: ['rows.read'],
      ttlSeconds: 60,
    });
    expect(key.startsWith('ephemeral_')).toBe(true);
    expect(keys.verify(key)).toMatchObject({ kind: 'dynamic', functionId: 'fn', executionId: 'ex' });
    const dyn = new TablesDB(new Client().setEndpoint(h.server.endpoint).setProject('test').setKey(key));
    expect((await dyn.getRow({ databaseId: 'db', tableId: 't', rowId: 'keep' })).n).toBe(1);
    await expectAppwriteError(
      dyn.deleteRow({ databaseId: 'db', tableId: 't', rowId: 'keep' }),
      401,
      'general_unauthorized_scope',
    );
    const [head, payload, sig] = key.slice('ephemeral_'.length).split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { scopes: string[] };
    forged.scopes = ['rows.write'];
    const tampered = `ephemeral_${head}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
    expectError(
      await h.raw('DELETE', `${ROWS}/keep`, { headers: { 'x-appwrite-key': tampered } }),
      401,
      'general_unauthorized_scope',
    );
    offset += 61_000;
    await expectAppwriteError(
      dyn.getRow({ databaseId: 'db', tableId: 't', rowId: 'keep' }),
      401,
      'project_key_expired',
    );
    offset -= 61_000;
  });

  it('serves /health/version without credentials', async () => {
    const res = await fetch(`${h.server.endpoint}/health/version`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ version: '1.9.5' });
  });
});

describe('fuzzing', () => {
  const ROUTES: [string, string][] = [
    ['POST', '/tablesdb'],
    ['PUT', '/tablesdb/db'],
    ['POST', '/tablesdb/db/tables'],
    ['POST', '/tablesdb/db/tables/t/columns/string'],
    ['POST', '/tablesdb/db/tables/t/columns/integer'],
    ['POST', '/tablesdb/db/tables/t/columns/enum'],
    ['POST', '/tablesdb/db/tables/t/indexes'],
    ['POST', ROWS],
    ['PUT', ROWS],
    ['PATCH', ROWS],
    ['PATCH', `${ROWS}/keep`],
    ['PUT', `${ROWS}/fz`],
    ['PATCH', `${ROWS}/keep/n/increment`],
    ['PATCH', `${ROWS}/keep/n/decrement`],
    ['POST', '/tablesdb/transactions'],
    ['POST', '/tablesdb/transactions/nope/operations'],
    ['POST', '/teams'],
    ['POST', '/users'],
  ];
  const value = fc.letrec((tie) => ({
    any: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.constantFrom(
        'unique()',
        'keep',
        'n',
        'db',
        't',
        'string',
        'unique',
        'read("any")',
        '{"method":"limit","values":[1]}',
      ),
      fc.array(tie('any'), { maxLength: 4 }),
      fc.dictionary(
        fc.constantFrom(
          'rowId',
          'data',
          'n',
          'key',
          'size',
          'required',
          'value',
          'max',
          'min',
          'rows',
          'queries',
          'databaseId',
          'tableId',
          'name',
          'type',
          'columns',
          'elements',
          'operations',
          'ttl',
          'teamId',
          'userId',
          'email',
          '$id',
        ),
        tie('any'),
        { maxKeys: 6 },
      ),
    ),
  })).any;

  it('never answers random bodies on write routes with a 5xx, and always with Appwrite JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), value, async ([method, path], body) => {
        const res = await h.raw(method, path, { body: JSON.stringify(body) });
        expect(res.status, `${method} ${path} ${JSON.stringify(body)} -> ${res.text}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.json).toEqual({
            message: expect.any(String),
            code: res.status,
            type: expect.any(String),
            version: '1.9.5',
          });
        }
      }),
      { numRuns: 300 },
    );
    expect((await h.raw('GET', '/health/version')).status).toBe(200);
  }, 60_000);
});

describe('error catalogue', () => {
  it('every error the server sent has a catalogue type whose code equals the status', () => {
    const errors = h.trace.filter((e) => e.status >= 400);
    expect(errors.length).toBeGreaterThan(20);
    for (const e of errors) {
      const body = e.json as { type: string; code: number };
      expect(ERROR_CATALOGUE[body.type], body.type).toBeDefined();
      expect([body.code, e.status]).toEqual([
        ERROR_CATALOGUE[body.type]?.[0],
        ERROR_CATALOGUE[body.type]?.[0],
      ]);
    }
  });

  const tsv = new URL('../../shared/appwrite-spec/errors-1.9.5.tsv', import.meta.url);
  it.skipIf(!existsSync(tsv))('matches the 1.9.5 catalogue file (when present)', () => {
    const lines = readFileSync(tsv, 'utf8').split('\n').slice(1).filter(Boolean);
    for (const line of lines) {
      const [type, code] = line.split('\t');
      expect(ERROR_CATALOGUE[type as string]?.[0], type).toBe(Number(code));
    }
    expect(Object.keys(ERROR_CATALOGUE)).toHaveLength(lines.length);
  });
});

describe('the OpenAPI validator used by these tests', () => {
  it('reports missing required properties and wrong types', () => {
    expect(validateSchema({ total: 1, rows: [] }, { $ref: '#/components/schemas/rowList' })).toEqual([]);
    expect(validateSchema({ total: '1', rows: [{}] }, { $ref: '#/components/schemas/rowList' })).toEqual(
      expect.arrayContaining(['$.total: expected integer, got "1"', '$.rows[0]: missing required $id']),
    );
  });
});
