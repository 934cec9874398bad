/**
 * Row events: every committed row write emits the concrete TablesDB and legacy event names with the row model
 * as payload (what the functions module matches triggers against); failed and staged writes emit nothing.
 */
import type { EventBus, PlatformEvent, ServerModule } from 'appwrite-local';
import { Query } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableT, type LocalHarness, startHarness } from './appwrite-local-helpers.ts';

let h: LocalHarness;
const events: PlatformEvent[] = [];
let bus: EventBus;

beforeAll(async () => {
  const listener: ServerModule = {
    name: 'event-recorder',
    install(ctx) {
      bus = ctx.events;
      ctx.events.subscribe((e) => events.push(e));
    },
  };
  h = await startHarness({ modules: [listener] });
  await createTableT(h);
});

afterAll(async () => {
  await h?.server.stop();
});

const take = () => events.splice(0, events.length);

describe('row events', () => {
  it('emits create, update and delete with TablesDB and legacy names and the row as payload', async () => {
    take();
    await h.tables.createRow({ databaseId: 'db', tableId: 't', rowId: 'r1', data: { n: 1 } });
    await h.tables.updateRow({ databaseId: 'db', tableId: 't', rowId: 'r1', data: { n: 2 } });
    await h.tables.incrementRowColumn({ databaseId: 'db', tableId: 't', rowId: 'r1', column: 'n', value: 1 });
    await h.tables.upsertRow({ databaseId: 'db', tableId: 't', rowId: 'r2', data: { n: 9 } });
    await h.tables.deleteRow({ databaseId: 'db', tableId: 't', rowId: 'r1' });
    const got = take();
    expect(got.map((e) => e.names)).toEqual([
      ['databases.db.tables.t.rows.r1.create', 'databases.db.collections.t.documents.r1.create'],
      ['databases.db.tables.t.rows.r1.update', 'databases.db.collections.t.documents.r1.update'],
      ['databases.db.tables.t.rows.r1.update', 'databases.db.collections.t.documents.r1.update'],
      ['databases.db.tables.t.rows.r2.create', 'databases.db.collections.t.documents.r2.create'],
      ['databases.db.tables.t.rows.r1.delete', 'databases.db.collections.t.documents.r1.delete'],
    ]);
    expect(got[0]?.payload).toMatchObject({
      $id: 'r1',
      $tableId: 't',
      $databaseId: 'db',
      $sequence: '1',
      n: 1,
    });
    expect(got[2]?.payload).toMatchObject({ n: 3 });
    expect(got[4]?.payload).toMatchObject({ $id: 'r1', n: 3 });
  });

  it('emits nothing for failed writes and staged operations, and everything on commit', async () => {
    take();
    await h.tables
      .createRow({ databaseId: 'db', tableId: 't', rowId: 'r2', data: { n: 1 } })
      .catch(() => undefined);
    await h.tables
      .incrementRowColumn({ databaseId: 'db', tableId: 't', rowId: 'r2', column: 'n', value: 5, max: 10 })
      .catch(() => undefined);
    expect(take()).toEqual([]);
    const tx = await h.tables.createTransaction({});
    await h.tables.createRow({
      databaseId: 'db',
      tableId: 't',
      rowId: 'r3',
      data: { n: 1 },
      transactionId: tx.$id,
    });
    await h.tables.deleteRow({ databaseId: 'db', tableId: 't', rowId: 'r2', transactionId: tx.$id });
    expect(take()).toEqual([]);
    await h.tables.updateTransaction({ transactionId: tx.$id, commit: true });
    expect(take().map((e) => e.names[0])).toEqual([
      'databases.db.tables.t.rows.r3.create',
      'databases.db.tables.t.rows.r2.delete',
    ]);
  });

  it('on commit, an upsert fires update even for a new row, and bulk operations fire nothing (Update.php:397-445)', async () => {
    take();
    const tx = await h.tables.createTransaction({});
    await h.tables.createOperations({
      transactionId: tx.$id,
      operations: [
        { action: 'upsert', databaseId: 'db', tableId: 't', rowId: 'u1', data: { n: 1 } },
        { action: 'bulkCreate', databaseId: 'db', tableId: 't', data: [{ $id: 'b1', n: 1 }] },
        {
          action: 'bulkUpdate',
          databaseId: 'db',
          tableId: 't',
          data: { queries: [Query.equal('$id', ['b1']).toString()], data: { n: 2 } },
        },
      ],
    });
    await h.tables.updateTransaction({ transactionId: tx.$id, commit: true });
    expect(take().map((e) => e.names[0])).toEqual(['databases.db.tables.t.rows.u1.update']);
    expect((await h.tables.getRow({ databaseId: 'db', tableId: 't', rowId: 'b1' })).n).toBe(2);
  });

  it('isolates a throwing listener from the request and from other listeners', async () => {
    take();
    const unsubscribe = bus.subscribe(() => {
      throw new Error('listener bug');
    });
    const row = await h.tables.createRow({ databaseId: 'db', tableId: 't', rowId: 'r4', data: { n: 1 } });
    unsubscribe();
    expect(row.$id).toBe('r4');
    expect(take()).toHaveLength(1);
  });
});
