/**
 * Helpers of the job system's tests against the local Appwrite server: a config provisioning the job and app
 * tables, a server, and store clients (one per worker, as separate executions would have).
 */
import type { AppwriteLocal } from 'appwrite-local';
import type { TableSpec } from 'resilience-core';
import { appTables } from 'resilience-core/app';
import { jobTables } from 'resilience-core/jobs';
import { startLocalWithTables, writeTablesConfig } from './appwrite-local-helpers.ts';

export { storeFor } from './appwrite-local-helpers.ts';

/** The tables a job-system server provisions: the app's and the job system's. */
const JOBS_SERVER_TABLES: readonly TableSpec[] = [...appTables, ...jobTables];

/** An appwrite.json provisioning `tables` (default: the job and app tables) in the one database. */
export function writeJobsConfig(tables: readonly TableSpec[] = JOBS_SERVER_TABLES): string {
  return writeTablesConfig(tables);
}

/** How the local server compares `$id`, unique indexes and equality (MariaDB's default, or byte-wise). */
export type Collation = 'utf8mb4_general_ci' | 'binary';

/**
 * Starts a local server with the job tables (optionally on a clock of the test's, for row timestamps, and with
 * a collation: appwrite-local's `collation` start option; a server without that option ignores it).
 */
export async function startJobsServer(
  latencyMs = 0,
  clock?: { now(): number },
  collation?: Collation,
): Promise<AppwriteLocal> {
  const extra = (collation ? { collation } : {}) as Record<string, never>;
  return (await startLocalWithTables(JOBS_SERVER_TABLES, { latencyMs, clock, ...extra })).server;
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
