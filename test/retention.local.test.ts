import quotaReset from 'fn-quota-reset/src/main.ts';
import { allTables, listAll } from 'resilience-core';
import { CIRCUIT_BREAKER_BUCKETS_TABLE, CIRCUIT_BREAKER_PROBES_TABLE } from 'resilience-core/circuit-breaker';
import { JOB_TABLES, readExport } from 'resilience-core/jobs';
import { runRetention } from 'resilience-core/retention';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTables, startLocalWithTables } from './appwrite-local-helpers.ts';
import {
  breakerRows,
  DAY,
  exportFile,
  HOUR,
  jobIn,
  memoryWorld,
  type RetentionWorld,
} from './retention-helpers.ts';

let local: LocalTables;

beforeAll(async () => {
  local = await startLocalWithTables(allTables);
});
afterAll(() => local?.stop());

async function seed(w: RetentionWorld) {
  const oldJobs = [await jobIn(w, 'COMPLETED', 15 * DAY), await jobIn(w, 'CANCELLED', 30 * DAY)];
  const keptJobs = [
    await jobIn(w, 'COMPLETED', 2 * DAY),
    await jobIn(w, 'DEAD_LETTER', 90 * DAY),
    await jobIn(w, 'FAILED', 90 * DAY),
  ];
  await breakerRows(w, 'old', 50 * HOUR);
  await breakerRows(w, 'new', 1 * HOUR);
  await exportFile(w, 'exp-old', 10 * DAY);
  await exportFile(w, 'exp-new', 1 * DAY);
  return { oldJobs, keptJobs };
}

describe('retention against the local server (Appwrite adapter)', () => {
  it('prunes old rows with compare-and-set job deletes, bounded, and a second run deletes nothing', async () => {
    const w = memoryWorld(local.store());
    const { keptJobs } = await seed(w);
    const first = await runRetention({ store: w.store, clock: w.clock });
    expect(first).toEqual({
      incomplete: false,
      breakerRowsDeleted: 2,
      exportRowsDeleted: 2,
      jobsDeleted: 2,
      jobsKeptForSchedules: 0,
      jobsRaced: 0,
    });
    const jobs = (await listAll(w.store, JOB_TABLES.queue)).map((r) => r.$id).sort();
    expect(jobs).toEqual([...keptJobs].sort());
    expect((await listAll(w.store, CIRCUIT_BREAKER_BUCKETS_TABLE)).map((r) => r.$id)).toEqual(['b-new']);
    expect((await listAll(w.store, CIRCUIT_BREAKER_PROBES_TABLE)).map((r) => r.$id)).toEqual(['p-new']);
    await expect(readExport(w.store, 'exp-old', 'acme')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await readExport(w.store, 'exp-new', 'acme')).rowCount).toBe(1);

    const second = await runRetention({ store: w.store, clock: w.clock });
    expect(second).toMatchObject({
      incomplete: false,
      breakerRowsDeleted: 0,
      exportRowsDeleted: 0,
      jobsDeleted: 0,
    });
  });

  it('the quota-reset cron runs retention after the quota steps, within its run budget', async () => {
    const store = local.store();
    const w = memoryWorld(store);
    for (let i = 0; i < 3; i++) await jobIn(w, 'COMPLETED', 20 * DAY);
    const fn = quotaReset.with({
      store,
      clock: w.clock,
      env: { RETENTION_JOB_DAYS: '10', RETENTION_MAX_DELETES: '2' },
    });
    const cron = await invoke(fn, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    expect(cron.status).toBe(200);
    // Two deletes per run: the first run stops with one job left, the second finishes, a third does nothing.
    expect(cron.body).toMatchObject({ ok: true, retention: { jobsDeleted: 2, incomplete: true } });
    const again = await invoke(fn, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    expect(again.body).toMatchObject({ retention: { jobsDeleted: 1, incomplete: false } });
    const third = await invoke(fn, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    expect(third.body).toMatchObject({ retention: { jobsDeleted: 0, incomplete: false } });
    const finished = await listAll(store, JOB_TABLES.queue, {
      where: [{ field: 'status', op: 'eq', value: 'COMPLETED' }],
    });
    expect(finished.filter((j) => Number(j.finishedAt) < w.clock.now() - 10 * DAY)).toHaveLength(0);
  });

  it('refuses a bad retention variable before doing anything', async () => {
    const fn = quotaReset.with({ store: local.store(), env: { RETENTION_BREAKER_HOURS: '12' } });
    const res = await invoke(fn, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    expect(res.status).toBeGreaterThanOrEqual(500);
  });
});
