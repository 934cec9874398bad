import { listAll, type TableStore } from 'resilience-core';
import type { MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  CIRCUIT_BREAKER_BUCKETS_TABLE,
  CIRCUIT_BREAKER_PROBES_TABLE,
  circuitBreakerTables,
} from 'resilience-core/circuit-breaker';
import {
  createSchedule,
  JOB_TABLES,
  jobTables,
  readExport,
  slotJobId,
  slotSettledAt,
  tickSchedules,
} from 'resilience-core/jobs';
import { runRetention } from 'resilience-core/retention';
import { describe, expect, it } from 'vitest';
import {
  breakerRows,
  DAY,
  exportFile,
  HOUR,
  jobIn,
  memoryWorld,
  type RetentionWorld,
} from '../retention-helpers.ts';

const ids = async (store: TableStore, table: string) =>
  (await listAll(store, table)).map((r) => r.$id).sort();

describe('retention', () => {
  it('deletes old COMPLETED/CANCELLED jobs, keeps recent ones, DEAD_LETTER, FAILED and unfinished jobs', async () => {
    const w = memoryWorld();
    const oldDone = await jobIn(w, 'COMPLETED', 15 * DAY);
    const oldCancelled = await jobIn(w, 'CANCELLED', 20 * DAY);
    const recentDone = await jobIn(w, 'COMPLETED', 13 * DAY);
    const dead = await jobIn(w, 'DEAD_LETTER', 400 * DAY);
    const failed = await jobIn(w, 'FAILED', 400 * DAY);
    const pending = await jobIn(w, 'PENDING', null);
    const report = await runRetention({ store: w.store, clock: w.clock });
    expect(report).toMatchObject({ jobsDeleted: 2, incomplete: false });
    expect(await ids(w.store, JOB_TABLES.queue)).toEqual([recentDone, dead, failed, pending].sort());
    expect(await ids(w.store, JOB_TABLES.queue)).not.toContain(oldDone);
    expect(await ids(w.store, JOB_TABLES.queue)).not.toContain(oldCancelled);
  });

  it('prunes breaker buckets and ended probe leases older than 48 h, and export files older than 7 days', async () => {
    const w = memoryWorld();
    await breakerRows(w, 'old', 49 * HOUR);
    await breakerRows(w, 'new', 47 * HOUR);
    await exportFile(w, 'exp-old', 8 * DAY);
    await exportFile(w, 'exp-new', 6 * DAY);
    const report = await runRetention({ store: w.store, clock: w.clock });
    expect(report).toMatchObject({ breakerRowsDeleted: 2, exportRowsDeleted: 2, incomplete: false });
    expect(await ids(w.store, CIRCUIT_BREAKER_BUCKETS_TABLE)).toEqual(['b-new']);
    expect(await ids(w.store, CIRCUIT_BREAKER_PROBES_TABLE)).toEqual(['p-new']);
    await expect(readExport(w.store, 'exp-old', 'acme')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await readExport(w.store, 'exp-new', 'acme')).csv).toBe('a,b\n1,2\n');
  });

  it('is idempotent: a second run deletes nothing more', async () => {
    const w = memoryWorld();
    for (let i = 0; i < 5; i++) await jobIn(w, 'COMPLETED', 30 * DAY);
    await breakerRows(w, 'x', 72 * HOUR);
    await exportFile(w, 'exp', 30 * DAY);
    const first = await runRetention({ store: w.store, clock: w.clock });
    expect(first).toMatchObject({ jobsDeleted: 5, breakerRowsDeleted: 2, exportRowsDeleted: 2 });
    const before = {
      jobs: await ids(w.store, JOB_TABLES.queue),
      buckets: await ids(w.store, CIRCUIT_BREAKER_BUCKETS_TABLE),
    };
    const second = await runRetention({ store: w.store, clock: w.clock });
    expect(second).toEqual({
      incomplete: false,
      breakerRowsDeleted: 0,
      exportRowsDeleted: 0,
      jobsDeleted: 0,
      jobsKeptForSchedules: 0,
      jobsRaced: 0,
    });
    expect({
      jobs: await ids(w.store, JOB_TABLES.queue),
      buckets: await ids(w.store, CIRCUIT_BREAKER_BUCKETS_TABLE),
    }).toEqual(before);
  });

  it('is bounded per run (maxDeletes shared fairly between tables); later runs finish the work', async () => {
    const w = memoryWorld();
    for (let i = 0; i < 250; i++) await jobIn(w, 'COMPLETED', 30 * DAY);
    for (let i = 0; i < 60; i++) await breakerRows(w, String(i), 72 * HOUR); // 120 rows
    const first = await runRetention({ store: w.store, clock: w.clock, maxDeletes: 150 });
    // Breakers may take a third (50); jobs get what is left.
    expect(first).toMatchObject({ incomplete: true, breakerRowsDeleted: 50, jobsDeleted: 100 });
    let runs = 1;
    let last = first;
    while (last.incomplete) {
      last = await runRetention({ store: w.store, clock: w.clock, maxDeletes: 150 });
      runs++;
      expect(runs).toBeLessThan(10);
    }
    expect(await listAll(w.store, JOB_TABLES.queue)).toHaveLength(0);
    expect(await listAll(w.store, CIRCUIT_BREAKER_BUCKETS_TABLE)).toHaveLength(0);
  });

  it('starts no page after the deadline', async () => {
    const w = memoryWorld();
    await jobIn(w, 'COMPLETED', 30 * DAY);
    await breakerRows(w, 'x', 72 * HOUR);
    const report = await runRetention({ store: w.store, clock: w.clock, deadline: w.clock.now() });
    expect(report).toMatchObject({ incomplete: true, jobsDeleted: 0, breakerRowsDeleted: 0 });
    expect(await listAll(w.store, JOB_TABLES.queue)).toHaveLength(1);
  });

  it('leaves a job alone that changed between the read and the delete (e.g. redriven)', async () => {
    const w = memoryWorld();
    const id = await jobIn(w, 'CANCELLED', 30 * DAY);
    const memory = w.store as MemoryTableStore;
    const transaction = memory.transaction.bind(memory);
    let redriven = false;
    memory.transaction = async (ops) => {
      if (!redriven && ops.some((op) => op.action === 'delete' && op.id === id)) {
        redriven = true;
        await w.queue.redrive(id);
      }
      return transaction(ops);
    };
    const report = await runRetention({ store: w.store, clock: w.clock });
    expect(report).toMatchObject({ jobsDeleted: 0, jobsRaced: 1 });
    expect((await w.queue.get(id))?.status).toBe('PENDING');
  });

  it('refuses retention settings that would break invariants', async () => {
    const w = memoryWorld();
    await expect(
      runRetention({ store: w.store, clock: w.clock, breakerRetentionHours: 24 }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(runRetention({ store: w.store, clock: w.clock, jobRetentionDays: 0 })).rejects.toMatchObject(
      {
        code: 'INVALID_INPUT',
      },
    );
  });
});

describe('retention and schedules', () => {
  /** Marks job `id` COMPLETED now, as the worker that ran it would. */
  const complete = (w: RetentionWorld, id: string) =>
    w.store.update(JOB_TABLES.queue, id, { status: 'COMPLETED', finishedAt: w.clock.now() });
  /** A tick by a worker whose copy of schedule `id` is stale (lastSlotAt lost). */
  async function staleTick(w: RetentionWorld, id: string) {
    await w.store.update(JOB_TABLES.schedules, id, { lastSlotAt: null });
    return tickSchedules(w.queue);
  }
  /** An hourly cleanup schedule of org acme (catching up `maxCatchUp` missed slots when given). */
  const hourly = (w: RetentionWorld, extra: { maxCatchUp?: number } = {}) =>
    createSchedule(w.queue, {
      orgId: 'acme',
      name: 'hourly',
      cron: '0 * * * *',
      type: 'cleanup-recognitions',
      payload: { daysOld: 30 },
      ...extra,
    });

  it('keeps a scheduled job until its slot can never be materialised again, so each slot runs once', async () => {
    const w = memoryWorld();
    // Monthly on the 1st, catching up 3 missed months: a slot stays re-materialisable for 4 more months.
    const schedule = await createSchedule(w.queue, {
      orgId: 'acme',
      name: 'monthly-cleanup',
      cron: '0 0 1 * *',
      type: 'cleanup-recognitions',
      payload: { daysOld: 30 },
      maxCatchUp: 3,
    });
    w.clock.set('2026-04-01T00:01:00.000Z');
    expect((await tickSchedules(w.queue)).materialised).toBe(1);
    const april = slotJobId(schedule.$id, Date.parse('2026-04-01T00:00:00.000Z'));
    await complete(w, april);
    const settled = slotSettledAt(schedule, (await w.queue.get(april))!.enqueuedAt);
    expect(new Date(settled!).toISOString()).toBe('2026-08-01T00:00:00.000Z');

    // 20 days later the job is past the 14-day retention, but a tick with a stale lastSlotAt would still
    // consider the April slot: the row must stay, or the slot would run twice.
    await w.clock.advance(20 * DAY);
    expect(await runRetention({ store: w.store, clock: w.clock })).toMatchObject({
      jobsDeleted: 0,
      jobsKeptForSchedules: 1,
    });
    expect(await staleTick(w, schedule.$id)).toMatchObject({ materialised: 0, alreadyMaterialised: 1 });
    expect((await w.queue.get(april))?.status).toBe('COMPLETED');

    // Once four newer slots have passed (plus the margin), no tick can reach April again: it is deleted.
    w.clock.set(settled! + 2 * HOUR);
    expect(await runRetention({ store: w.store, clock: w.clock })).toMatchObject({ jobsDeleted: 1 });
    expect(await w.queue.get(april)).toBeNull();
    await staleTick(w, schedule.$id);
    expect(await w.queue.get(april)).toBeNull();
  });

  it('exactly-once holds after pruning: a tick with a stale lastSlotAt does not re-run a pruned slot', async () => {
    const w = memoryWorld();
    const schedule = await hourly(w, { maxCatchUp: 2 });
    await w.clock.advance(HOUR); // 13:00
    await tickSchedules(w.queue);
    const firstSlot = slotJobId(schedule.$id, Date.parse('2026-03-10T13:00:00.000Z'));
    await complete(w, firstSlot);
    await w.clock.advance(15 * DAY);
    await tickSchedules(w.queue);
    // Finish everything so retention may delete what is old enough.
    for (const job of await listAll(w.store, JOB_TABLES.queue)) {
      if (job.status !== 'COMPLETED') await complete(w, job.$id);
    }
    const report = await runRetention({ store: w.store, clock: w.clock });
    expect(report.jobsDeleted).toBe(1);
    expect(await w.queue.get(firstSlot)).toBeNull();
    // A worker whose copy of the schedule is stale (lastSlotAt lost) ticks: only recent slots come back.
    await staleTick(w, schedule.$id);
    expect(await w.queue.get(firstSlot)).toBeNull();
  });

  it('keeps the jobs of a schedule whose cron no longer parses, and still prunes the rest', async () => {
    const w = memoryWorld();
    const schedule = await hourly(w);
    await w.clock.advance(HOUR);
    expect((await tickSchedules(w.queue)).materialised).toBe(1);
    const slot = slotJobId(schedule.$id, w.clock.now());
    await complete(w, slot);
    const plain = await w.queue.enqueue({
      orgId: 'acme',
      type: 'cleanup-recognitions',
      payload: { daysOld: 1 },
    });
    await complete(w, plain.jobId);
    await w.store.update(JOB_TABLES.schedules, schedule.$id, { cron: '61 * * * *' }); // hand-edited
    await w.clock.advance(30 * DAY);
    expect(await runRetention({ store: w.store, clock: w.clock })).toMatchObject({
      incomplete: false,
      jobsDeleted: 1,
      jobsKeptForSchedules: 1,
    });
    expect(await w.queue.get(plain.jobId)).toBeNull();
    expect((await w.queue.get(slot))?.status).toBe('COMPLETED');
  });
});

describe('tables', () => {
  it('the breaker and job tables index the columns retention filters on', () => {
    const indexed = (tables: typeof jobTables, table: string, column: string) =>
      tables.find((t) => t.$id === table)?.indexes?.some((i) => i.columns[0] === column);
    expect(indexed(circuitBreakerTables, CIRCUIT_BREAKER_BUCKETS_TABLE, 'bucketStart')).toBe(true);
    expect(indexed(circuitBreakerTables, CIRCUIT_BREAKER_PROBES_TABLE, 'leaseUntil')).toBe(true);
    expect(indexed(jobTables, JOB_TABLES.exports, 'createdAtMs')).toBe(true);
    expect(indexed(jobTables, JOB_TABLES.queue, 'finishedAt')).toBe(true);
  });
});
