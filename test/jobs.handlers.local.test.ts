import type { AppwriteLocal } from 'appwrite-local';
import { listAll } from 'resilience-core';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import {
  createJobQueue,
  createWorker,
  JOB_TABLES,
  productJobTypes,
  readExport,
  registerProductHandlers,
} from 'resilience-core/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobsServer, storeFor } from './jobs-local-helpers.ts';

const DAY = 86_400_000;
// The server stamps `$createdAt` from this clock, so the test can create "old" recognitions.
let offsetMs = 0;
const serverClock = { now: () => Date.now() + offsetMs };
let server: AppwriteLocal;

beforeAll(async () => {
  server = await startJobsServer(0, serverClock);
});
afterAll(async () => {
  await server?.stop();
});

async function recognition(id: string, orgId: string, message: string, ageDays: number) {
  offsetMs = -ageDays * DAY;
  try {
    await storeFor(server).create(RECOGNITIONS_TABLE, id, {
      orgId,
      giverId: 'u1',
      receiverId: 'u2',
      message,
      points: 1,
      tags: ['x'],
    });
  } finally {
    offsetMs = 0;
  }
}

describe('product handlers against the local Appwrite server', () => {
  it('cleanup-recognitions deletes only the org’s old rows; generate-export writes a chunked CSV that reads back', async () => {
    await recognition('old-a1', 'acme', 'old one', 120);
    await recognition('old-a2', 'acme', 'old two', 95);
    await recognition('new-a', 'acme', 'new, "quoted"', 3);
    await recognition('old-b', 'globex', 'other org', 200);
    for (let i = 0; i < 80; i++) await recognition(`bulk-${i}`, 'acme', 'y'.repeat(900), 1);

    const store = storeFor(server);
    const queue = createJobQueue({ store, types: productJobTypes });
    const cleanup = await queue.enqueue({
      orgId: 'acme',
      type: 'cleanup-recognitions',
      payload: { daysOld: 90 },
    });
    const worker = createWorker({ queue, lanes: 1, batchSize: 5 });
    registerProductHandlers(worker, {
      store,
      clock: queue.clock,
      sendNotification: async () => {
        throw new Error('not used here');
      },
    });
    expect((await worker.drain({ deadlineAt: Date.now() + 120_000 })).completed).toBe(1);
    expect(JSON.parse((await queue.get(cleanup.jobId))!.result!)).toMatchObject({ deleted: 2 });
    const left = (await listAll(store, RECOGNITIONS_TABLE)).map((r) => r.$id);
    expect(left).toContain('old-b');
    expect(left).toContain('new-a');
    expect(left).not.toContain('old-a1');
    expect(left).not.toContain('old-a2');

    const exp = await queue.enqueue({ orgId: 'acme', type: 'generate-export', payload: {} });
    expect((await worker.drain({ deadlineAt: Date.now() + 120_000 })).completed).toBe(1);
    const result = JSON.parse((await queue.get(exp.jobId))!.result!);
    expect(result).toMatchObject({ exportId: exp.jobId, rows: 81, chunks: 2 });
    const file = await readExport(store, exp.jobId, 'acme');
    expect(file.csv.split('\r\n').filter(Boolean)).toHaveLength(82);
    expect(file.csv).toContain('"new, ""quoted"""');
    expect(file.csv).not.toContain('other org');
    expect(
      await listAll(store, JOB_TABLES.exports, {
        where: [{ field: 'exportId', op: 'eq', value: exp.jobId }],
      }),
    ).toHaveLength(2);
    await expect(readExport(store, exp.jobId, 'globex')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);
});
