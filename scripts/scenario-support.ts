/**
 * Small helpers the scenario steps share (scripts/scenario-*.ts): polling with a deadline, status checks that
 * quote the function's answer, and reading job rows. Nothing here changes state.
 */
import { Query, TablesDB } from 'node-appwrite';
import { DATABASE_ID } from 'resilience-core';
import { JOB_TABLES } from 'resilience-core/jobs';
import { check, type ExecuteResult, type ScenarioContext } from './scenario-context.ts';

/**
 * Calls `probe` every `intervalMs` until it returns something other than `undefined`, and returns that. Throws
 * `timed out after N s waiting for <what>` (plus the last `detail()`, when given) once `timeoutMs` has passed.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; detail?: () => string },
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) {
      const detail = options.detail?.();
      throw new Error(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${detail ? ` (${detail})` : ''}`,
      );
    }
    await sleep(options.intervalMs ?? 250);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Fails unless the function answered `status`, quoting what it said instead. */
export function expectStatus(result: ExecuteResult, status: number, what: string): void {
  check(
    result.statusCode === status,
    `${what}: expected ${status}, got ${result.statusCode} ${truncate(JSON.stringify(result.body))}${
      result.execution.errors ? ` — errors: ${truncate(result.execution.errors)}` : ''
    }`,
  );
}

/** `text` cut to `max` characters. */
export function truncate(text: string | undefined, max = 300): string {
  if (text === undefined) return '';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A job row as the scenario reads it straight from the `job-queue` table. */
export interface JobRowView {
  $id: string;
  type: string;
  status: string;
  attempts: number;
}

/** The jobs of `orgId` (optionally of one type), read with the API key through TablesDB. */
export async function listJobs(ctx: ScenarioContext, orgId: string, type?: string): Promise<JobRowView[]> {
  const tables = new TablesDB(ctx.client);
  const page = await tables.listRows({
    databaseId: DATABASE_ID,
    tableId: JOB_TABLES.queue,
    queries: [
      Query.equal('orgId', orgId),
      ...(type ? [Query.equal('type', type)] : []),
      Query.select(['$id', 'type', 'status', 'attempts']),
      Query.limit(100),
    ],
  });
  return page.rows.map((r) => {
    const row = r as unknown as JobRowView;
    return { $id: row.$id, type: row.type, status: row.status, attempts: row.attempts };
  });
}

/** `{ PENDING: 2, COMPLETED: 1 }` → `PENDING 2, COMPLETED 1`. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}
