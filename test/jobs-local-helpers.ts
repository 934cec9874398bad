/**
 * Helpers of the job system's tests against the local Appwrite server: a config provisioning the job and app
 * tables, a server, and store clients (one per worker, as separate executions would have).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { appTables, DATABASE_ID, jobTables, type TableSpec } from 'resilience-core';
import { type AppwriteTableStore, createAppwriteTableStore } from 'resilience-core/adapters/appwrite';

/** An appwrite.json provisioning `tables` in the one database. */
export function writeJobsConfig(tables: readonly TableSpec[] = [...appTables, ...jobTables]): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobs-local-'));
  const file = join(dir, 'appwrite.json');
  const config = {
    projectId: 'test',
    tablesDB: [{ $id: DATABASE_ID, name: DATABASE_ID, enabled: true }],
    tables: tables.map(({ rowSchema: _r, ...spec }) => ({
      ...spec,
      databaseId: DATABASE_ID,
      enabled: true,
      rowSecurity: spec.rowSecurity ?? false,
      $permissions: spec.$permissions ?? [],
    })),
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Starts a local server with the job tables (optionally on a clock of the test's, for row timestamps). */
export function startJobsServer(latencyMs = 0, clock?: { now(): number }): Promise<AppwriteLocal> {
  return startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'test',
    apiKey: 'key',
    config: writeJobsConfig(),
    latencyMs,
    ...(clock ? { clock } : {}),
  });
}

/** A separate store client (its own SDK client and counters), as one worker execution would have. */
export function storeFor(server: AppwriteLocal): AppwriteTableStore {
  return createAppwriteTableStore({
    endpoint: server.endpoint,
    projectId: server.projectId,
    key: server.apiKey,
  });
}

/** Runs `fn` over `items` with at most `concurrency` at a time. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
) {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
