/**
 * Counter columns and NULL (issue 10.10, platform notes §F2): Appwrite leaves NULL in a column added to a
 * table that has rows, and an increment of NULL writes nothing. The schema provisioner backfills every counter
 * column's NULL rows with its start value before the code that increments it is deployed, and refuses a counter
 * declared so that new rows could hold NULL.
 */
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, TablesDB } from 'node-appwrite';
import { DATABASE_ID, hasCode, type TableSpec } from 'resilience-core';
import { type ProvisionEvent, provisionSchema } from 'resilience-core/adapters/appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let server: AppwriteLocal;
let client: Client;
let db: TablesDB;

beforeAll(async () => {
  server = await startAppwriteLocal({ port: 0, memory: true, projectId: 'counters', apiKey: 'counters-key' });
  client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  db = new TablesDB(client);
});
afterAll(async () => {
  await server?.stop();
});

const table = (id: string, hits?: TableSpec['columns'][number]): TableSpec => ({
  $id: id,
  name: id,
  columns: [{ key: 'name', type: 'string', size: 50, required: true }, ...(hits ? [hits] : [])],
  indexes: [],
});
const counter = { key: 'hits', type: 'integer', required: false, default: 0, min: 0, counter: true } as const;

async function seed(tableId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await db.createRow({ databaseId: DATABASE_ID, tableId, rowId: `r${i}`, data: { name: `row ${i}` } });
}

async function hitsOf(tableId: string): Promise<unknown[]> {
  const { rows } = await db.listRows({ databaseId: DATABASE_ID, tableId });
  return rows.map((r) => (r as unknown as { hits: unknown }).hits);
}

describe('counter columns never hold NULL', () => {
  it('NULL rows of a counter are backfilled with its start value, and increments then count', async () => {
    // A column declared without a default: rows created without it hold NULL.
    await provisionSchema({
      client,
      tables: [table('t-null', { key: 'hits', type: 'integer', required: false, min: 0 })],
      pollIntervalMs: 20,
    });
    await seed('t-null', 3);
    expect(await hitsOf('t-null')).toEqual([null, null, null]);

    const events: ProvisionEvent[] = [];
    const report = await provisionSchema({
      client,
      tables: [table('t-null', counter)],
      pollIntervalMs: 20,
      onProgress: (e) => events.push(e),
    });
    expect(report.updated).toEqual(['t-null.hits']); // default null → 0
    expect(report.backfilled).toEqual({ 't-null.hits': 3 });
    expect(events.find((e) => e.status === 'backfilled')).toMatchObject({
      id: 't-null.hits',
      detail: expect.stringMatching(/3 row\(s\) held NULL .*set to 0/),
    });
    expect(await hitsOf('t-null')).toEqual([0, 0, 0]);
    const after = await db.incrementRowColumn({
      databaseId: DATABASE_ID,
      tableId: 't-null',
      rowId: 'r1',
      column: 'hits',
      value: 2,
    });
    expect((after as unknown as { hits: number }).hits).toBe(2);
    expect(await hitsOf('t-null')).toEqual([0, 2, 0]);

    // Re-run: nothing left to backfill.
    expect((await provisionSchema({ client, tables: [table('t-null', counter)] })).backfilled).toEqual({});
  });

  it('a counter added to a populated table starts at its start value in every row', async () => {
    await provisionSchema({ client, tables: [table('t-added')], pollIntervalMs: 20 });
    await seed('t-added', 4);
    const report = await provisionSchema({ client, tables: [table('t-added', counter)], pollIntervalMs: 20 });
    expect(report.created).toEqual(['t-added.hits']);
    // (Appwrite leaves the new column NULL in the 4 rows and the backfill sets them; a server that fills the
    // default itself leaves nothing to backfill. Either way:)
    expect(await hitsOf('t-added')).toEqual([0, 0, 0, 0]);
    const after = await db.incrementRowColumn({
      databaseId: DATABASE_ID,
      tableId: 't-added',
      rowId: 'r0',
      column: 'hits',
      value: 1,
    });
    expect((after as unknown as { hits: number }).hits).toBe(1);
  });

  it('refuses a counter that new rows could leave NULL, with the reason, before writing anything', async () => {
    const before = server.stats.requests;
    const error = await provisionSchema({
      client,
      tables: [table('t-bad', { key: 'hits', type: 'integer', required: false, counter: true })],
    }).catch((e: unknown) => e);
    expect(hasCode(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toMatch(
      /t-bad\.hits: a counter that is not required needs a numeric default .*increments of NULL write nothing/,
    );
    expect(server.stats.requests - before).toBe(2); // the database and the table were read; nothing written
  });
});
