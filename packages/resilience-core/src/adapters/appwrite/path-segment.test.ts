import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode, isResilienceError } from '../../errors.ts';
import { createAppwriteTableStore } from './appwrite-table-store.ts';
import { createFunctionsApi } from './functions-platform.ts';
import { createTablesDbApi, createTeamsApi } from './lean-services.ts';
import { pathSegment } from './path-segment.ts';
import { createTeamsOrgDirectory } from './teams-org-directory.ts';

/**
 * Ids that are path segments: `.` and `..` (and anything outside Appwrite's id alphabet) must be refused by
 * every Appwrite adapter before any request, never encoded — `…/rows/.` is the list endpoint and `…/rows/..`
 * the table. A real HTTP server counts what reaches it: nothing may.
 */
const HOSTILE = ['.', '..', '', 'a/b', '../tables', '%2e%2e', '_x', '-x', 'x'.repeat(37), 'é', 'a b', 'a?b'];

/** Runs `f` as a promise, so a synchronous refusal reads as a rejection. */
const later = (f: () => unknown) => Promise.resolve().then(f);

async function refused(promise: Promise<unknown>, path: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isResilienceError(error), `${String(error)}`).toBe(true);
  expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
  expect((error as { issues?: { path: string }[] }).issues?.[0]?.path).toBe(path);
}

describe('Appwrite adapters refuse ids that are not Appwrite ids', () => {
  let server: Server;
  let client: Client;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ rows: [], memberships: [], $id: 'x', $sequence: '1' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = new Client().setEndpoint(`http://127.0.0.1:${port}/v1`).setProject('p').setKey('k');
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('pathSegment accepts exactly the id alphabet', () => {
    for (const ok of ['a', 'A.b-c_d', 'x'.repeat(36), '0']) expect(pathSegment(ok)).toBe(ok);
    for (const bad of [...HOSTILE, 1, null, undefined]) expect(() => pathSegment(bad, 'rowId')).toThrow();
  });

  it.each(HOSTILE)('the table store refuses row id %j for every method, sending nothing', async (id) => {
    const store = createAppwriteTableStore({ client });
    const before = requests;
    await refused(store.get('t', id), 'id');
    await refused(store.create('t', id, { a: 1 }), 'id');
    await refused(store.update('t', id, { a: 1 }), 'id');
    await refused(store.upsert('t', id, { a: 1 }), 'id');
    await refused(store.delete('t', id), 'id');
    await refused(store.increment('t', id, 'n', 1), 'id');
    await refused(store.list('t', { cursor: id }), 'cursor');
    await refused(store.transaction([{ action: 'delete', table: 't', id }]), 'id');
    await refused(store.get(id, 'row1'), 'table');
    await refused(store.list(id), 'table');
    await refused(store.increment('t', 'row1', id, 1), 'column');
    expect(requests - before).toBe(0);
  });

  it('the lean services refuse a hostile segment before any request', async () => {
    const tables = createTablesDbApi(client);
    const teams = createTeamsApi(client);
    const before = requests;
    for (const id of HOSTILE) {
      await expect(later(() => tables.getRow({ databaseId: 'db', tableId: 't', rowId: id }))).rejects.toThrow(
        /rowId/,
      );
      await expect(later(() => tables.listRows({ databaseId: 'db', tableId: id }))).rejects.toThrow(
        /tableId/,
      );
      await expect(
        later(() => tables.updateTransaction({ transactionId: id, commit: true })),
      ).rejects.toThrow(/transactionId/);
      await expect(later(() => teams.listMemberships({ teamId: id }))).rejects.toThrow(/teamId/);
    }
    expect(requests - before).toBe(0);
    // A valid id still goes out, unencoded and on the row path.
    await tables.getRow({ databaseId: 'db', tableId: 't', rowId: 'Row.1' });
    expect(requests - before).toBe(1);
  });

  it('the teams directory refuses a hostile org id (never "not a member" by a list call)', async () => {
    const before = requests;
    const orgs = createTeamsOrgDirectory({ client });
    for (const id of HOSTILE) await refused(orgs.rolesOf(id, 'u1'), 'orgId');
    expect(requests - before).toBe(0);
  });

  it('the functions API refuses hostile function and deployment ids', async () => {
    const functions = createFunctionsApi(client);
    const before = requests;
    for (const id of HOSTILE) {
      await expect(later(() => functions.get({ functionId: id }))).rejects.toThrow(/Not an Appwrite id/);
      await expect(
        later(() => functions.getDeployment({ functionId: 'f', deploymentId: id })),
      ).rejects.toThrow(/Not an Appwrite id/);
    }
    expect(requests - before).toBe(0);
  });
});
