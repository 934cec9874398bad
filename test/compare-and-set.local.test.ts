/**
 * The version compare-and-set builders (ports/compare-and-set.ts) against the local server under real
 * concurrent HTTP requests: of many writers, each its own SDK client, that read the same version, exactly one
 * commits; every other transaction fails BOUND_EXCEEDED (CONFLICT when the server detects the concurrent commit
 * on the row first; NOT_FOUND once the row is deleted) and writes nothing — not even the other rows of its
 * transaction.
 */
import { hasCode } from 'resilience-core';
import { createJobQueue, JOB_TABLES, jobTables, productJobTypes } from 'resilience-core/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionedDelete, versionedUpdate } from '../packages/resilience-core/src/ports/compare-and-set.ts';
import { type LocalTables, startLocalWithTables } from './appwrite-local-helpers.ts';

const WRITERS = 12;
const Q = JOB_TABLES.queue;
let local: LocalTables;

beforeAll(async () => {
  local = await startLocalWithTables(jobTables);
});

afterAll(async () => {
  await local?.stop();
});

async function newJob(): Promise<string> {
  const queue = createJobQueue({ store: local.store(), types: productJobTypes });
  const { jobId } = await queue.enqueue({ orgId: 'org-cas', type: 'generate-export', payload: {} });
  return jobId;
}

function outcome(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return 'won';
  for (const code of ['BOUND_EXCEEDED', 'NOT_FOUND', 'CONFLICT'] as const) {
    if (hasCode(result.reason, code)) return code;
  }
  throw result.reason;
}

describe('version compare-and-set on the local server', () => {
  it('lets exactly one of concurrent writers that read the same version commit; the others write nothing', async () => {
    const jobId = await newJob();
    const stores = Array.from({ length: WRITERS }, () => local.store());
    const results = await Promise.allSettled(
      stores.map((store, i) =>
        store.transaction([
          ...versionedUpdate({ table: Q, id: jobId, expected: 0 }, { leaseOwner: `writer-${i}` }),
          // A second row in the same transaction: visible only for the winner.
          {
            action: 'create',
            table: JOB_TABLES.exports,
            id: `cas-${jobId.slice(0, 20)}-${i}`,
            data: exportRow(i),
          },
        ]),
      ),
    );
    const outcomes = results.map(outcome);
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'won').every((o) => o === 'BOUND_EXCEEDED' || o === 'CONFLICT')).toBe(
      true,
    );
    const winner = outcomes.indexOf('won');
    const row = await local.store().get(Q, jobId);
    expect(row).toMatchObject({ version: 1, leaseOwner: `writer-${winner}` });
    const written = await Promise.all(
      stores.map((_, i) => local.store().get(JOB_TABLES.exports, `cas-${jobId.slice(0, 20)}-${i}`)),
    );
    expect(written.map((r) => r !== null)).toEqual(stores.map((_, i) => i === winner));
  });

  it('deletes once under concurrent deletes; a stale version never deletes', async () => {
    const jobId = await newJob();
    const store = local.store();
    await store.transaction(versionedUpdate({ table: Q, id: jobId, expected: 0 }, { priority: 1 }));
    const [stale] = await Promise.allSettled([
      store.transaction(versionedDelete({ table: Q, id: jobId, expected: 0 })),
    ]);
    expect(outcome(stale!)).toBe('BOUND_EXCEEDED');
    expect(await store.get(Q, jobId)).toMatchObject({ version: 1, priority: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: WRITERS }, () =>
        local.store().transaction(versionedDelete({ table: Q, id: jobId, expected: 1 })),
      ),
    );
    const outcomes = results.map(outcome);
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(
      outcomes.filter((o) => o !== 'won').every((o) => o === 'BOUND_EXCEEDED' || o === 'NOT_FOUND'),
    ).toBe(true);
    expect(await store.get(Q, jobId)).toBeNull();
  });
});

/** A valid `exports` row, one per writer (the unique index is (exportId, chunk)). */
function exportRow(i: number): Record<string, unknown> {
  return {
    exportId: `cas-export-${i}`,
    orgId: 'org-cas',
    chunk: 0,
    chunks: 1,
    contentType: 'text/csv',
    data: `writer ${i}`,
    createdAtMs: 0,
  };
}
