/**
 * `npm run deploy` against the local Appwrite (same node-appwrite calls as a real one): creates everything on
 * an empty project, produces functions that answer /health, is a no-op when re-run, refuses data-losing schema
 * changes before writing anything, and applies compatible ones in place.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Functions, TablesDB } from 'node-appwrite';
import { allTables, DATABASE_ID, hasCode, type TableSpec } from 'resilience-core';
import { planTable, provisionSchema } from 'resilience-core/adapters/appwrite';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions as declared } from '../scripts/appwrite-config.ts';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';
import { type DeployReport, deploy } from '../scripts/deploy.ts';

const root = path.resolve(import.meta.dirname, '..');
let server: AppwriteLocal;
let client: Client;
const lines: string[] = [];

beforeAll(async () => {
  for (const fn of declared) {
    if (!existsSync(path.join(root, fn.path, 'dist', 'main.js')))
      await buildFunction(path.join(root, fn.path));
  }
  server = await startAppwriteLocal({ port: 0, memory: true, projectId: 'deploy', apiKey: 'deploy-key' });
  client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
});
afterAll(async () => {
  await server?.stop();
});

const run = (extra: { redeploy?: boolean } = {}): Promise<DeployReport> =>
  deploy({
    endpoint: server.endpoint,
    projectId: server.projectId,
    key: server.apiKey,
    build: false,
    out: (line) => lines.push(line),
    pollMs: 50,
    schemaPollMs: 20,
    buildTimeoutMs: 60_000,
    ...extra,
  });

describe('deploy to an empty project', () => {
  let first: DeployReport;

  beforeAll(async () => {
    first = await run();
  }, 120_000);

  it('creates the database, every table with its columns available, and every index', async () => {
    const db = new TablesDB(client);
    expect((await db.get({ databaseId: DATABASE_ID })).$id).toBe(DATABASE_ID);
    for (const spec of allTables) {
      const table = await db.getTable({ databaseId: DATABASE_ID, tableId: spec.$id });
      const columns = table.columns as unknown as { key: string; status: string }[];
      expect(columns.map((c) => c.key).sort(), spec.$id).toEqual(spec.columns.map((c) => c.key).sort());
      expect(columns.every((c) => c.status === 'available')).toBe(true);
      expect(table.indexes.map((i) => i.key).sort()).toEqual(spec.indexes.map((i) => i.key).sort());
    }
    expect(first.schema.created).toContain(RECOGNITIONS_TABLE);
  });

  it('creates every function with its declared settings and an active deployment', async () => {
    const api = new Functions(client);
    for (const fn of declared) {
      const remote = await api.get({ functionId: fn.$id });
      expect(remote.runtime).toBe('node-22');
      expect(remote.schedule ?? '').toBe(fn.schedule);
      expect([...remote.execute].sort()).toEqual([...fn.execute].sort());
      expect(remote.deploymentId, fn.$id).toBe(first.functions[fn.$id]?.deploymentId);
      expect(first.functions[fn.$id]).toMatchObject({ settings: 'created', code: 'deployed' });
    }
  });

  it('deploys working code: create-recognition answers /health through an execution', async () => {
    const execution = await new Functions(client).createExecution({
      functionId: 'create-recognition',
      xpath: '/health',
      method: 'GET' as never,
      async: false,
    });
    expect(execution.responseStatusCode, execution.errors).toBe(200);
    expect(JSON.parse(execution.responseBody)).toMatchObject({
      name: 'create-recognition',
      deploymentId: first.functions['create-recognition']?.deploymentId,
      status: 'ok',
    });
  });

  it('prints progress for each step and never the key', () => {
    const text = lines.join('\n');
    for (const step of ['▸ build', '▸ schema', '▸ functions', '▸ variables', '▸ code', '✓ deployed']) {
      expect(text).toContain(step);
    }
    expect(text).not.toContain(server.apiKey);
  });

  it('changes nothing when re-run', async () => {
    const before = server.stats.requests;
    const again = await run();
    expect(again.schema.created).toEqual([]);
    expect(again.schema.updated).toEqual([]);
    for (const fn of declared) {
      expect(again.functions[fn.$id]).toMatchObject({
        settings: 'unchanged',
        code: 'unchanged',
        deploymentId: first.functions[fn.$id]?.deploymentId,
      });
    }
    expect(server.stats.requests - before).toBeLessThan(150);
  }, 60_000);

  it('puts drifted function settings back', async () => {
    const api = new Functions(client);
    await api.update({ functionId: 'quota-reset', name: 'quota-reset', timeout: 5, schedule: '' });
    const report = await run();
    expect(report.functions['quota-reset']?.settings).toBe('updated');
    const remote = await api.get({ functionId: 'quota-reset' });
    expect(remote.timeout).toBe(300);
    expect(remote.schedule).toBe('0 0 * * *');
  }, 60_000);
});

describe('schema changes on a deployed project', () => {
  const recognitions = allTables.find((t) => t.$id === RECOGNITIONS_TABLE)!;
  const withColumn = (key: string, change: object): TableSpec => ({
    ...recognitions,
    columns: recognitions.columns.map((c) => (c.key === key ? { ...c, ...change } : c)),
  });

  it('refuses a data-losing change (type, shrink) before writing anything, listing each', async () => {
    const before = server.stats.requests;
    const error = await provisionSchema({
      client,
      tables: [withColumn('message', { size: 10 }), withColumn('points', { type: 'double' })],
    }).catch((e: unknown) => e);
    expect(hasCode(error, 'CONFLICT')).toBe(true);
    expect(String((error as Error).message)).toMatch(/message: size 1000 → 10/);
    expect(String((error as Error).message)).toMatch(/points: type integer → double/);
    // Only reads happened: the database and each table were fetched, nothing was written.
    expect(server.stats.requests - before).toBe(3);
    const table = await new TablesDB(client).getTable({
      databaseId: DATABASE_ID,
      tableId: RECOGNITIONS_TABLE,
    });
    const message = (table.columns as unknown as { key: string; size?: number }[]).find(
      (c) => c.key === 'message',
    );
    expect(message?.size).toBe(1000);
  });

  it('applies a compatible change in place (a string grows) and adds a new column', async () => {
    const grown: TableSpec = {
      ...withColumn('message', { size: 2000 }),
      columns: [
        ...withColumn('message', { size: 2000 }).columns,
        { key: 'extraNote', type: 'string', size: 50, required: false },
      ],
    };
    const report = await provisionSchema({ client, tables: [grown], pollIntervalMs: 20 });
    expect(report.updated).toEqual([`${RECOGNITIONS_TABLE}.message`]);
    expect(report.created).toEqual([`${RECOGNITIONS_TABLE}.extraNote`]);
    const table = await new TablesDB(client).getTable({
      databaseId: DATABASE_ID,
      tableId: RECOGNITIONS_TABLE,
    });
    const columns = table.columns as unknown as { key: string; size?: number; status: string }[];
    expect(columns.find((c) => c.key === 'message')?.size).toBe(2000);
    expect(columns.find((c) => c.key === 'extraNote')?.status).toBe('available');
    // The code's declaration no longer has extraNote: a later deploy reports it and leaves it alone.
    expect(planTable(recognitions, { ...table, columns } as never).extra).toEqual([
      `${RECOGNITIONS_TABLE}.extraNote`,
    ]);
  });
});
