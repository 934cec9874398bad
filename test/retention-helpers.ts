/** Fixtures of the retention tests: a world (clock, store, queue) and rows of every kind retention prunes. */
import type { TableStore } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { CIRCUIT_BREAKER_BUCKETS_TABLE, CIRCUIT_BREAKER_PROBES_TABLE } from 'resilience-core/circuit-breaker';
import {
  createJobQueue,
  exportChunkId,
  JOB_TABLES,
  type JobQueue,
  type JobRow,
  productJobTypes,
} from 'resilience-core/jobs';
import { ManualClock } from 'resilience-core/testing';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const START = '2026-03-10T12:00:00.000Z';

/** What a retention test works on. */
export interface RetentionWorld {
  clock: ManualClock;
  store: TableStore;
  queue: JobQueue;
}

/** A world over `store` (default: a memory store) with a manual clock at {@link START}. */
export function memoryWorld(store?: TableStore, clock = new ManualClock(START)): RetentionWorld {
  const s = store ?? new MemoryTableStore({ clock });
  return { clock, store: s, queue: createJobQueue({ store: s, clock, types: productJobTypes }) };
}

/** A job enqueued now and moved to `status` (finished `finishedAgoMs` ago for final statuses). */
export async function jobIn(
  w: RetentionWorld,
  status: JobRow['status'],
  finishedAgoMs: number | null,
  extra: { jobId?: string; scheduleId?: string } = {},
): Promise<string> {
  const { jobId } = await w.queue.enqueue({
    orgId: 'acme',
    type: 'cleanup-recognitions',
    payload: { daysOld: 30 },
    ...(extra.jobId ? { jobId: extra.jobId } : {}),
    ...(extra.scheduleId ? { scheduleId: extra.scheduleId } : {}),
  });
  await w.store.update(JOB_TABLES.queue, jobId, {
    status,
    finishedAt: finishedAgoMs === null ? null : w.clock.now() - finishedAgoMs,
  });
  return jobId;
}

/** One bucket row and one probe row `ageMs` old. */
export async function breakerRows(w: RetentionWorld, id: string, ageMs: number): Promise<void> {
  const at = w.clock.now() - ageMs;
  await w.store.create(CIRCUIT_BREAKER_BUCKETS_TABLE, `b-${id}`, {
    breakerKey: 'k',
    version: 1,
    bucketStart: at,
    kind: 'fail',
    count: 1,
  });
  await w.store.create(CIRCUIT_BREAKER_PROBES_TABLE, `p-${id}`, {
    breakerKey: 'k',
    version: 1,
    slot: 0,
    holder: 'h',
    leaseUntil: at,
    generation: 0,
    outcome: 'pending',
  });
}

/** A two-chunk export written `ageMs` ago. */
export async function exportFile(w: RetentionWorld, exportId: string, ageMs: number): Promise<void> {
  for (const chunk of [0, 1]) {
    await w.store.create(JOB_TABLES.exports, exportChunkId(exportId, chunk), {
      exportId,
      orgId: 'acme',
      chunk,
      chunks: 2,
      contentType: 'text/csv',
      data: chunk === 0 ? 'a,b\n' : '1,2\n',
      rowCount: 1,
      createdAtMs: w.clock.now() - ageMs,
    });
  }
}
