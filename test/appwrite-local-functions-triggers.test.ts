/**
 * Triggers of the local server's functions: cron schedules (one execution per matching minute, however often
 * the minute ticks), delayed executions (`scheduledAt`), and events on row create delivered as Appwrite
 * delivers them (POST /, JSON payload, `x-appwrite-trigger: event`, `x-appwrite-event`).
 */
import { ID, Query, TablesDB } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFunction,
  deployFixture,
  specProblems,
  startServer,
  type TestServer,
  waitForExecution,
} from './appwrite-local-functions-helpers.ts';

let s: TestServer;

beforeAll(async () => {
  s = await startServer();
});

afterAll(async () => {
  await s.stop();
});

const at = (iso: string) => Date.parse(iso);

describe('cron schedules', () => {
  it('runs a scheduled function once per matching minute, on its active deployment', async () => {
    await createFunction(s, 'cron', { schedule: '*/5 * * * *' });
    const dep = await deployFixture(s, 'cron', 'basic');
    expect(s.module.tick(at('2026-03-01T10:05:00Z')).map((e) => e.functionId)).toEqual(['cron']);
    // The same minute again (e.g. a late timer) fires nothing; a non-matching minute neither.
    expect(s.module.tick(at('2026-03-01T10:05:40Z'))).toEqual([]);
    expect(s.module.tick(at('2026-03-01T10:06:00Z'))).toEqual([]);
    expect(s.module.tick(at('2026-03-01T10:10:00Z'))).toHaveLength(1);
    await s.module.settle();
    const runs = await s.functions.listExecutions({
      functionId: 'cron',
      queries: [Query.equal('trigger', ['schedule'])],
    });
    expect(runs.total).toBe(2);
    for (const e of runs.executions) {
      expect(e).toMatchObject({
        status: 'completed',
        requestMethod: 'POST',
        requestPath: '/',
        deploymentId: dep.$id,
      });
      expect(JSON.parse(e.logs)).toMatchObject({ trigger: 'schedule', event: '', body: '' });
    }
  });

  it('skips disabled functions and functions without a deployment', async () => {
    await createFunction(s, 'cron-off', { schedule: '* * * * *', enabled: false });
    await deployFixture(s, 'cron-off', 'basic');
    await createFunction(s, 'cron-empty', { schedule: '* * * * *' });
    const started = s.module.tick(at('2026-03-01T11:01:00Z')).map((e) => e.functionId);
    expect(started).not.toContain('cron-off');
    expect(started).not.toContain('cron-empty');
    await s.module.settle();
  });

  it('passes the schedule trigger to the function', async () => {
    await createFunction(s, 'cron-echo', { schedule: '0 * * * *' });
    await deployFixture(s, 'cron-echo', 'basic');
    const [started] = s.module.tick(at('2026-03-01T12:00:00Z')).filter((e) => e.functionId === 'cron-echo');
    const done = await waitForExecution(s, 'cron-echo', started!.$id);
    expect(done.trigger).toBe('schedule');
    expect(done.status).toBe('completed');
  });
});

describe('delayed executions', () => {
  it('keeps a scheduledAt execution scheduled until its minute ticks, then runs it', async () => {
    await createFunction(s, 'later');
    const dep = await deployFixture(s, 'later', 'basic');
    const when = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 2 * 60_000);
    const e = await s.functions.createExecution({
      functionId: 'later',
      async: true,
      xpath: '/echo',
      body: 'payload',
      scheduledAt: when.toISOString(),
    });
    expect(e.status).toBe('scheduled');
    expect(Date.parse(e.scheduledAt!)).toBe(when.getTime());
    expect(s.module.tick(when.getTime() - 60_000).some((x) => x.$id === e.$id)).toBe(false);
    expect((await s.functions.getExecution({ functionId: 'later', executionId: e.$id })).status).toBe(
      'scheduled',
    );
    expect(s.module.tick(when).some((x) => x.$id === e.$id)).toBe(true);
    const done = await waitForExecution(s, 'later', e.$id);
    expect(done).toMatchObject({
      status: 'completed',
      trigger: 'schedule',
      deploymentId: dep.$id,
      responseStatusCode: 200,
    });
    // Runs once: a later tick does not start it again.
    expect(s.module.tick(when.getTime() + 60_000).some((x) => x.$id === e.$id)).toBe(false);
  });
});

describe('event triggers', () => {
  it('runs functions whose events match a row create, with the row as JSON body', async () => {
    const tables = new TablesDB(s.client);
    await tables.create({ databaseId: 'db', name: 'db' });
    await tables.createTable({ databaseId: 'db', tableId: 'notes', name: 'notes' });
    await tables.createStringColumn({
      databaseId: 'db',
      tableId: 'notes',
      key: 'text',
      size: 100,
      required: false,
    });
    await createFunction(s, 'on-create', { events: ['databases.*.tables.*.rows.*.create'] });
    await deployFixture(s, 'on-create', 'basic');
    await createFunction(s, 'on-delete', { events: ['databases.db.tables.notes.rows.*.delete'] });
    await deployFixture(s, 'on-delete', 'basic');

    const row = await tables.createRow({
      databaseId: 'db',
      tableId: 'notes',
      rowId: ID.unique(),
      data: { text: 'hi' },
    });
    await s.module.settle();
    const created = await s.functions.listExecutions({ functionId: 'on-create' });
    expect(created.total).toBe(1);
    expect((await s.functions.listExecutions({ functionId: 'on-delete' })).total).toBe(0);
    const e = created.executions[0]!;
    expect(e).toMatchObject({
      trigger: 'event',
      status: 'completed',
      requestMethod: 'POST',
      requestPath: '/',
    });
    // The fixture logs what it received on non-http triggers.
    expect(JSON.parse(e.logs)).toEqual({
      trigger: 'event',
      event: `databases.db.tables.notes.rows.${row.$id}.create`,
      contentType: 'application/json',
      method: 'POST',
      path: '/',
      body: JSON.parse(JSON.stringify(row)),
    });
    await tables.deleteRow({ databaseId: 'db', tableId: 'notes', rowId: row.$id });
    await s.module.settle();
    expect((await s.functions.listExecutions({ functionId: 'on-delete' })).total).toBe(1);

    // Appwrite ids may contain dots; `*` still stands for the whole row id.
    await tables.createRow({
      databaseId: 'db',
      tableId: 'notes',
      rowId: 'jk.org-1.note',
      data: { text: 'x' },
    });
    await s.module.settle();
    expect((await s.functions.listExecutions({ functionId: 'on-create' })).total).toBe(2);
  });
});

it('answers in the shapes of the OpenAPI spec', () => {
  expect(specProblems(s)).toEqual([]);
});
