/**
 * appwrite-local as signed-in users reach it: `users.createJWT` and `X-Appwrite-JWT` through the real
 * node-appwrite SDK (`new Client().setJWT(jwt)`): issue, verify, expiry, forgery, blocked and deleted users;
 * function executions checked against `execute` roles with `x-appwrite-user-id`/`-jwt` passed to the function;
 * users reading only their own executions; and the table/row permission subset enforced for users.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AppwriteLocal,
  deployFunction,
  type KeysService,
  type ServerModule,
  startAppwriteLocal,
  type TraceEntry,
} from 'appwrite-local';
import { Client, Functions, Permission, Role, TablesDB, Teams, Users } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAppwriteError } from './appwrite-local-helpers.ts';
import { checkAgainstSpec, validateSchema } from './appwrite-local-openapi.ts';

let server: AppwriteLocal;
let keys: KeysService;
let offsetMs = 0;
const traced: TraceEntry[] = [];
let admin: Client;
let users: Users;
let functions: Functions;
let tables: TablesDB;

/** A client acting as the user the JWT was issued to. */
function asJwt(jwt: string): Client {
  return new Client().setEndpoint(server.endpoint).setProject(server.projectId).setJWT(jwt);
}
/** A fresh JWT for `userId` (default duration), and a client using it. */
async function asUser(userId: string): Promise<{ jwt: string; client: Client }> {
  const { jwt } = await users.createJWT({ userId });
  return { jwt, client: asJwt(jwt) };
}
function payloadOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
async function raw(path: string, headers: Record<string, string>, init: RequestInit = {}) {
  const res = await fetch(`${server.endpoint}${path}`, {
    ...init,
    headers: { 'x-appwrite-project': server.projectId, 'content-type': 'application/json', ...headers },
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as Record<string, unknown> };
}

/** Execute lists of the role-matrix functions (each runs the basic fixture). */
const matrix: Record<string, string[]> = {
  'x-any': ['any'],
  'x-guests': ['guests'],
  'x-users': ['users'],
  'x-keys': [],
  'x-ben': ['user:ben'],
  'x-team': ['team:acme'],
  'x-team-admin': ['team:acme/admin'],
  'x-vip': ['label:vip'],
};
beforeAll(async () => {
  const capture: ServerModule = {
    name: 'capture-keys',
    install(ctx) {
      keys = ctx.keys;
    },
  };
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'jwt',
    apiKey: 'jwt-key',
    clock: { now: () => Date.now() + offsetMs },
    functions: { autoTick: false },
    modules: [capture],
    trace: (e) => traced.push(e),
  });
  admin = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  users = new Users(admin);
  functions = new Functions(admin);
  tables = new TablesDB(admin);
  const teams = new Teams(admin);
  for (const id of ['ann', 'ben', 'bob', 'gone'])
    await users.create({ userId: id, email: `${id}@example.com`, name: id });
  await users.updateLabels({ userId: 'ben', labels: ['vip'] });
  await teams.create({ teamId: 'acme', name: 'Acme' });
  await teams.createMembership({ teamId: 'acme', roles: ['admin'], userId: 'ann' });
  await teams.createMembership({ teamId: 'acme', roles: [], userId: 'ben' });

  // `echo` runs the basic fixture and is executable by any signed-in user.
  await functions.create({
    functionId: 'echo',
    name: 'echo',
    runtime: 'node-22' as never,
    entrypoint: 'main.js',
    timeout: 10,
    execute: ['users'],
  });
  await deployFunction({
    endpoint: server.endpoint,
    projectId: server.projectId,
    apiKey: server.apiKey,
    functionId: 'echo',
    dir: join(import.meta.dirname, 'fixtures', 'functions', 'basic'),
  });
  // Role matrix: functions running the basic fixture. Appwrite checks the deployment before the execute
  // permission (Create.php), so each has one: an admitted caller's execution runs (201), a refused one is
  // 401 user_unauthorized and records nothing.

  for (const [functionId, execute] of Object.entries(matrix)) {
    await functions.create({
      functionId,
      name: functionId,
      runtime: 'node-22' as never,
      entrypoint: 'main.js',
      execute,
    });
    await deployFunction({
      endpoint: server.endpoint,
      projectId: server.projectId,
      apiKey: server.apiKey,
      functionId,
      dir: join(import.meta.dirname, 'fixtures', 'functions', 'basic'),
    });
  }
  await functions.create({
    functionId: 'x-off',
    name: 'x-off',
    runtime: 'node-22' as never,
    execute: ['users'],
    enabled: false,
  });

  await tables.create({ databaseId: 'db', name: 'db' });
  const columns = [{ key: 'n', type: 'integer', required: false }] as never;
  // `open`: users read and create; no update/delete at table level, no row security.
  await tables.createTable({
    databaseId: 'db',
    tableId: 'open',
    name: 'open',
    columns,
    permissions: [Permission.read(Role.users()), Permission.create(Role.users())],
  });
  // `private`: no permissions at all (API keys only).
  await tables.createTable({ databaseId: 'db', tableId: 'private', name: 'private', columns });
  // `own`: users create; each row is governed by its own permissions (row security).
  await tables.createTable({
    databaseId: 'db',
    tableId: 'own',
    name: 'own',
    columns,
    rowSecurity: true,
    permissions: [Permission.create(Role.users())],
  });
  await tables.createRow({ databaseId: 'db', tableId: 'private', rowId: 'p1', data: { n: 1 } });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('users.createJWT', () => {
  it('issues an HS256 JWT for the user that expires after 900 s by default, or `duration` seconds', async () => {
    const before = Math.floor((Date.now() + offsetMs) / 1000);
    const { jwt } = await users.createJWT({ userId: 'ann' });
    expect(jwt.split('.')).toHaveLength(3);
    const claims = payloadOf(jwt);
    expect(claims).toMatchObject({ userId: 'ann', sessionId: '' });
    expect(claims.exp as number).toBeGreaterThanOrEqual(before + 900);
    expect(claims.exp as number).toBeLessThanOrEqual(before + 901);
    const short = await users.createJWT({ userId: 'ann', duration: 60 });
    expect(payloadOf(short.jwt).exp as number).toBeLessThanOrEqual(before + 61);
    // Appwrite's own `sessionId: 'recent'` is accepted (there are no sessions here: the claim stays '').
    expect(payloadOf((await users.createJWT({ userId: 'ann', sessionId: 'recent' })).jwt).sessionId).toBe('');
  });

  it('refuses a bad duration (400), an unknown user (404) and a caller without users.write (401)', async () => {
    await expectAppwriteError(
      users.createJWT({ userId: 'ann', duration: 3601 }),
      400,
      'general_argument_invalid',
    );
    await expectAppwriteError(
      users.createJWT({ userId: 'ann', duration: -1 }),
      400,
      'general_argument_invalid',
    );
    await expectAppwriteError(users.createJWT({ userId: 'nobody' }), 404, 'user_not_found');
    const { client } = await asUser('ann');
    await expectAppwriteError(
      new Users(client).createJWT({ userId: 'ben' }),
      401,
      'general_unauthorized_scope',
    );
  });

  it('answers with the OpenAPI `jwt` model', () => {
    const report = checkAgainstSpec(traced.filter((e) => e.path.endsWith('/jwts')));
    expect(report.checked).toBeGreaterThan(0);
    expect(report.problems).toEqual([]);
  });
});

describe('X-Appwrite-JWT across restarts', () => {
  it('keeps a JWT valid across a restart of a data directory, and not across in-memory servers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jwt-data-'));
    const options = { port: 0, projectId: 'jwt', apiKey: 'jwt-key', functions: { autoTick: false } };
    try {
      const first = await startAppwriteLocal({ ...options, dataDir });
      const key = new Client().setEndpoint(first.endpoint).setProject('jwt').setKey('jwt-key');
      await new Users(key).create({ userId: 'ann' });
      const { jwt } = await new Users(key).createJWT({ userId: 'ann' });
      await first.stop();
      const second = await startAppwriteLocal({ ...options, dataDir });
      try {
        const asAnn = new Client().setEndpoint(second.endpoint).setProject('jwt').setJWT(jwt);
        // The JWT verifies (a forged one would be 401 user_jwt_invalid); the user lacks the scope to list functions.
        await expectAppwriteError(new Functions(asAnn).list({}), 401, 'general_unauthorized_scope');
        const other = await startAppwriteLocal({ ...options, memory: true });
        try {
          const elsewhere = new Client().setEndpoint(other.endpoint).setProject('jwt').setJWT(jwt);
          await expectAppwriteError(new Functions(elsewhere).list({}), 401, 'user_jwt_invalid');
        } finally {
          await other.stop();
        }
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('X-Appwrite-JWT authentication', () => {
  it('acts as the user: rows readable by `users` are served, schema routes are not', async () => {
    const { client } = await asUser('ben');
    const rows = await new TablesDB(client).listRows({ databaseId: 'db', tableId: 'open' });
    expect(rows.total).toBeGreaterThanOrEqual(0);
    await expectAppwriteError(
      new TablesDB(client).createTable({ databaseId: 'db', tableId: 'mine', name: 'mine' }),
      401,
      'general_unauthorized_scope',
    );
    await expectAppwriteError(new Functions(client).list({}), 401, 'general_unauthorized_scope');
  });

  it('refuses forged, malformed and expired tokens with 401 user_jwt_invalid', async () => {
    const { jwt } = await users.createJWT({ userId: 'ben' });
    const [head, , sig] = jwt.split('.') as [string, string, string];
    const forgedBody = Buffer.from(JSON.stringify({ ...payloadOf(jwt), userId: 'ann' })).toString(
      'base64url',
    );
    const forged = `${head}.${forgedBody}.${sig}`;
    for (const bad of [forged, 'not-a-jwt', `${jwt}x`]) {
      await expectAppwriteError(
        new TablesDB(asJwt(bad)).listRows({ databaseId: 'db', tableId: 'open' }),
        401,
        'user_jwt_invalid',
      );
    }
    // A dynamic function key is not a JWT, and a JWT is not a key.
    const dynamic = keys.issueDynamicKey({
      functionId: 'echo',
      executionId: 'e',
      scopes: ['rows.read'],
      ttlSeconds: 60,
    });
    expect((await raw('/tablesdb/db/tables/open/rows', { 'x-appwrite-jwt': dynamic })).json.type).toBe(
      'user_jwt_invalid',
    );
    expect((await raw('/tablesdb/db/tables/open/rows', { 'x-appwrite-key': jwt })).json.type).toBe(
      'general_unauthorized_scope',
    );

    const short = await users.createJWT({ userId: 'ben', duration: 60 });
    const reader = new TablesDB(asJwt(short.jwt));
    await reader.listRows({ databaseId: 'db', tableId: 'open' });
    offsetMs += 61_000;
    try {
      const e = await expectAppwriteError(
        reader.listRows({ databaseId: 'db', tableId: 'open' }),
        401,
        'user_jwt_invalid',
      );
      expect(e.message).toContain('Expired');
      // The default 900 s token issued before is still good.
      await new TablesDB(asJwt(jwt)).listRows({ databaseId: 'db', tableId: 'open' });
    } finally {
      offsetMs -= 61_000;
    }
  });

  it('refuses a key and a JWT together (403 user_api_key_and_session_set)', async () => {
    const { jwt } = await users.createJWT({ userId: 'ben' });
    const out = await raw('/tablesdb/db/tables/open/rows', {
      'x-appwrite-jwt': jwt,
      'x-appwrite-key': 'jwt-key',
    });
    expect(out.status).toBe(403);
    expect(out.json.type).toBe('user_api_key_and_session_set');
  });

  it('refuses a blocked user (403 user_blocked) until unblocked; a deleted user is a guest', async () => {
    const { client } = await asUser('bob');
    const bobTables = new TablesDB(client);
    await bobTables.listRows({ databaseId: 'db', tableId: 'open' });
    await users.updateStatus({ userId: 'bob', status: false });
    await expectAppwriteError(bobTables.listRows({ databaseId: 'db', tableId: 'open' }), 403, 'user_blocked');
    await expectAppwriteError(
      new Functions(client).createExecution({ functionId: 'echo', xpath: '/user' }),
      403,
      'user_blocked',
    );
    await users.updateStatus({ userId: 'bob', status: true });
    await bobTables.listRows({ databaseId: 'db', tableId: 'open' });

    const gone = await asUser('gone');
    await users.delete({ userId: 'gone' });
    const e = await expectAppwriteError(
      new TablesDB(gone.client).listRows({ databaseId: 'db', tableId: 'open' }),
      401,
      'general_unauthorized_scope',
    );
    expect(e.message).toContain('role: guests');
  });
});

describe('executions as a user', () => {
  it('passes x-appwrite-user-id and a working x-appwrite-user-jwt to the function; empty for API keys', async () => {
    const { client } = await asUser('ann');
    // An upper-case X-Appwrite-* header passes validation but cannot spoof the caller.
    const e = await new Functions(client).createExecution({
      functionId: 'echo',
      xpath: '/user',
      headers: { 'X-Appwrite-User-Id': 'ben' },
    });
    expect(e.status).toBe('completed');
    const seen = JSON.parse(e.responseBody) as { userId: string; jwt: string; trigger: string };
    expect(seen).toMatchObject({ userId: 'ann', trigger: 'http' });
    expect(payloadOf(seen.jwt)).toMatchObject({ userId: 'ann' });
    // The function can act as the caller with that JWT (e.g. read the caller's own executions).
    const mine = await new Functions(asJwt(seen.jwt)).getExecution({
      functionId: 'echo',
      executionId: e.$id,
    });
    expect(mine.$id).toBe(e.$id);
    expect(e.$permissions).toEqual(['read("user:ann")']);

    const byKey = await functions.createExecution({
      functionId: 'echo',
      xpath: '/user',
      headers: { 'X-Appwrite-User-Id': 'ben' },
    });
    expect(JSON.parse(byKey.responseBody)).toMatchObject({ userId: '', jwt: '' });
    expect(byKey.$permissions).toEqual([]);
  });

  it('keeps the user on async executions run later', async () => {
    const { client } = await asUser('ben');
    const queued = await new Functions(client).createExecution({
      functionId: 'echo',
      xpath: '/user',
      async: true,
    });
    expect(queued.status).toBe('waiting');
    await server.functions.settle();
    const done = await functions.getExecution({ functionId: 'echo', executionId: queued.$id });
    expect(done.status).toBe('completed');
    expect(done.logs).toContain('"userId":"ben"');
    expect(done.logs).toContain('"hasJwt":true');
  });

  it('admits a caller only when one of its roles is in `execute` (else 401 user_unauthorized)', async () => {
    const ann = new Functions((await asUser('ann')).client); // team acme admin
    const ben = new Functions((await asUser('ben')).client); // team acme member, label vip
    const guest = new Functions(new Client().setEndpoint(server.endpoint).setProject(server.projectId));
    const expectations: [Functions, string, 'run' | 'refused'][] = [
      [ann, 'x-any', 'run'],
      [guest, 'x-any', 'run'],
      [guest, 'x-guests', 'run'],
      [ann, 'x-guests', 'refused'],
      [ann, 'x-users', 'run'],
      [guest, 'x-users', 'refused'],
      [ann, 'x-keys', 'refused'],
      [ben, 'x-ben', 'run'],
      [ann, 'x-ben', 'refused'],
      [ann, 'x-team', 'run'],
      [ben, 'x-team', 'run'],
      [guest, 'x-team', 'refused'],
      [ann, 'x-team-admin', 'run'],
      [ben, 'x-team-admin', 'refused'],
      [ben, 'x-vip', 'run'],
      [ann, 'x-vip', 'refused'],
    ];
    for (const [who, functionId, outcome] of expectations) {
      if (outcome === 'run') expect((await who.createExecution({ functionId })).status).toBe('completed');
      else await expectAppwriteError(who.createExecution({ functionId }), 401, 'user_unauthorized');
    }
    // API keys ignore `execute` (x-keys has none).
    expect((await functions.createExecution({ functionId: 'x-keys' })).status).toBe('completed');
    // A disabled function does not exist for users; a key still reaches it.
    await expectAppwriteError(ann.createExecution({ functionId: 'x-off' }), 404, 'function_not_found');
    await expectAppwriteError(
      functions.createExecution({ functionId: 'x-off' }),
      404,
      'deployment_not_found',
    );
    // Nothing was recorded for refused calls: each function holds exactly its admitted runs.
    for (const functionId of Object.keys(matrix)) {
      const admitted = expectations.filter(
        ([, id, outcome]) => id === functionId && outcome === 'run',
      ).length;
      const byKey = functionId === 'x-keys' ? 1 : 0;
      expect((await functions.listExecutions({ functionId })).total).toBe(admitted + byKey);
    }
  });

  it('lets users read only their own executions, without logs, and never delete them', async () => {
    const ann = new Functions((await asUser('ann')).client);
    const ben = new Functions((await asUser('ben')).client);
    const annRun = await ann.createExecution({ functionId: 'echo', xpath: '/log' });
    const all = await functions.listExecutions({ functionId: 'echo' });
    const annList = await ann.listExecutions({ functionId: 'echo' });
    expect(annList.executions.length).toBeGreaterThan(0);
    expect(annList.executions.every((e) => e.$permissions.includes('read("user:ann")'))).toBe(true);
    expect(annList.total).toBeLessThan(all.total);
    expect(annList.executions.every((e) => e.logs === '' && e.errors === '')).toBe(true);
    expect((await functions.getExecution({ functionId: 'echo', executionId: annRun.$id })).logs).toContain(
      'to log',
    );
    await expectAppwriteError(
      ben.getExecution({ functionId: 'echo', executionId: annRun.$id }),
      404,
      'execution_not_found',
    );
    expect((await ben.listExecutions({ functionId: 'echo' })).executions.map((e) => e.$id)).not.toContain(
      annRun.$id,
    );
    await expectAppwriteError(
      ann.deleteExecution({ functionId: 'echo', executionId: annRun.$id }),
      401,
      'user_unauthorized',
    );
    await expectAppwriteError(
      ben.deleteExecution({ functionId: 'echo', executionId: annRun.$id }),
      404,
      'execution_not_found',
    );
    await functions.getExecution({ functionId: 'echo', executionId: annRun.$id });
  });
});

describe('table and row permissions for users', () => {
  it('creates where the table grants create, with the user as default owner; refuses elsewhere, writing nothing', async () => {
    const ann = new TablesDB((await asUser('ann')).client);
    const row = await ann.createRow({ databaseId: 'db', tableId: 'open', rowId: 'a1', data: { n: 1 } });
    expect(row.$permissions.sort()).toEqual(['delete("user:ann")', 'read("user:ann")', 'update("user:ann")']);
    await expectAppwriteError(
      ann.createRow({ databaseId: 'db', tableId: 'private', rowId: 'a2', data: { n: 1 } }),
      401,
      'user_unauthorized',
    );
    expect((await tables.listRows({ databaseId: 'db', tableId: 'private' })).total).toBe(1);
    // Permissions a user sets must name roles the user holds.
    await expectAppwriteError(
      ann.createRow({
        databaseId: 'db',
        tableId: 'open',
        rowId: 'a3',
        data: { n: 1 },
        permissions: [Permission.read(Role.team('other'))],
      }),
      401,
      'user_unauthorized',
    );
    const shared = await ann.createRow({
      databaseId: 'db',
      tableId: 'open',
      rowId: 'a4',
      data: { n: 1 },
      permissions: [Permission.read(Role.team('acme'))],
    });
    expect(shared.$permissions).toEqual(['read("team:acme")']);
    await expectAppwriteError(
      tables.getRow({ databaseId: 'db', tableId: 'open', rowId: 'a3' }),
      404,
      'row_not_found',
    );
  });

  it('reads per table permission; without it, a table without row security is 401 (list) / 404 (get)', async () => {
    const ben = new TablesDB((await asUser('ben')).client);
    expect((await ben.getRow({ databaseId: 'db', tableId: 'open', rowId: 'a1' })).n).toBe(1);
    await expectAppwriteError(
      ben.listRows({ databaseId: 'db', tableId: 'private' }),
      401,
      'user_unauthorized',
    );
    await expectAppwriteError(
      ben.getRow({ databaseId: 'db', tableId: 'private', rowId: 'p1' }),
      404,
      'row_not_found',
    );
  });

  it('refuses updates, increments and deletes the table does not grant (row permissions need row security)', async () => {
    const ann = new TablesDB((await asUser('ann')).client);
    await expectAppwriteError(
      ann.updateRow({ databaseId: 'db', tableId: 'open', rowId: 'a1', data: { n: 5 } }),
      401,
      'user_unauthorized',
    );
    await expectAppwriteError(
      ann.incrementRowColumn({ databaseId: 'db', tableId: 'open', rowId: 'a1', column: 'n', value: 1 }),
      401,
      'user_unauthorized',
    );
    await expectAppwriteError(
      ann.deleteRow({ databaseId: 'db', tableId: 'open', rowId: 'a1' }),
      401,
      'user_unauthorized',
    );
    await expectAppwriteError(
      ann.upsertRow({ databaseId: 'db', tableId: 'open', rowId: 'a1', data: { n: 9 } }),
      401,
      'user_unauthorized',
    );
    expect((await tables.getRow({ databaseId: 'db', tableId: 'open', rowId: 'a1' })).n).toBe(1);
    await expectAppwriteError(
      ann.updateRow({ databaseId: 'db', tableId: 'open', rowId: 'zz', data: { n: 5 } }),
      404,
      'row_not_found',
    );
  });

  it('with row security, each user sees and changes only the rows their roles are granted', async () => {
    const ann = new TablesDB((await asUser('ann')).client);
    const ben = new TablesDB((await asUser('ben')).client);
    await ann.createRow({ databaseId: 'db', tableId: 'own', rowId: 'o-ann', data: { n: 1 } });
    await ben.createRow({ databaseId: 'db', tableId: 'own', rowId: 'o-ben', data: { n: 1 } });
    await ann.createRow({
      databaseId: 'db',
      tableId: 'own',
      rowId: 'o-team',
      data: { n: 1 },
      permissions: [Permission.read(Role.team('acme')), Permission.update(Role.team('acme', 'admin'))],
    });
    const annRows = await ann.listRows({ databaseId: 'db', tableId: 'own' });
    expect(annRows.rows.map((r) => r.$id).sort()).toEqual(['o-ann', 'o-team']);
    expect(annRows.total).toBe(2);
    const benRows = await ben.listRows({ databaseId: 'db', tableId: 'own' });
    expect(benRows.rows.map((r) => r.$id).sort()).toEqual(['o-ben', 'o-team']);
    await expectAppwriteError(
      ben.getRow({ databaseId: 'db', tableId: 'own', rowId: 'o-ann' }),
      404,
      'row_not_found',
    );
    await expectAppwriteError(
      ben.updateRow({ databaseId: 'db', tableId: 'own', rowId: 'o-team', data: { n: 2 } }),
      401,
      'user_unauthorized',
    );
    expect(
      (await ann.updateRow({ databaseId: 'db', tableId: 'own', rowId: 'o-team', data: { n: 2 } })).n,
    ).toBe(2);
    expect(
      (
        await ben.incrementRowColumn({
          databaseId: 'db',
          tableId: 'own',
          rowId: 'o-ben',
          column: 'n',
          value: 2,
        })
      ).n,
    ).toBe(3);
    await expectAppwriteError(
      ben.deleteRow({ databaseId: 'db', tableId: 'own', rowId: 'o-ann' }),
      401,
      'user_unauthorized',
    );
    await ann.deleteRow({ databaseId: 'db', tableId: 'own', rowId: 'o-ann' });
    expect((await tables.listRows({ databaseId: 'db', tableId: 'own' })).total).toBe(2);
  });

  it('keeps bulk operations and transactions to API keys (401 user_unauthorized)', async () => {
    const ann = new TablesDB((await asUser('ann')).client);
    await expectAppwriteError(
      ann.createRows({ databaseId: 'db', tableId: 'open', rows: [{ $id: 'b1', n: 1 }] }),
      401,
      'user_unauthorized',
    );
    await expectAppwriteError(
      ann.deleteRows({ databaseId: 'db', tableId: 'open' }),
      401,
      'user_unauthorized',
    );
    await expectAppwriteError(ann.createTransaction({}), 401, 'user_unauthorized');
    const tx = await tables.createTransaction({});
    await expectAppwriteError(
      ann.createRow({
        databaseId: 'db',
        tableId: 'open',
        rowId: 't1',
        data: { n: 1 },
        transactionId: tx.$id,
      }),
      401,
      'user_unauthorized',
    );
    expect(
      (await tables.listRows({ databaseId: 'db', tableId: 'open' })).rows.map((r) => r.$id),
    ).not.toContain('b1');
  });

  it('answered every successful exchange with the OpenAPI models', () => {
    // createExecution's 201 is declared as multipart in the spec: its body is checked against `execution`.
    const isCreateExecution = (e: TraceEntry) =>
      e.method === 'POST' && /^\/functions\/[^/]+\/executions$/.test(e.path);
    const ok = traced.filter((e) => e.status < 400);
    const report = checkAgainstSpec(ok.filter((e) => !isCreateExecution(e)));
    expect(report.checked).toBeGreaterThan(20);
    const problems = [
      ...report.problems,
      ...ok
        .filter(isCreateExecution)
        .flatMap((e) =>
          validateSchema(e.json, { $ref: '#/components/schemas/execution' }, 'createExecution'),
        ),
    ];
    expect(problems).toEqual([]);
  });
});
