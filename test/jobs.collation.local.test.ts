/**
 * Ids built from caller-supplied parts (issue 10.9): Appwrite on MariaDB compares `$id` (and unique indexes and
 * equality) under `utf8mb4_general_ci` — case-, accent- and trailing-space-insensitive — so two idempotency keys
 * or schedule names differing only that way must never map to one row. The job system derives every such id
 * with `stableId` (lower case; parts with upper case or characters outside the id alphabet are hashed), which
 * keeps them apart under either collation. Run against the local server in both modes (its `collation` start
 * option; a server build without it compares byte-wise, and the binary run is then the same as the other).
 */
import type { AppwriteLocal } from 'appwrite-local';
import { listAll, stableId } from 'resilience-core';
import {
  createJobQueue,
  createSchedule,
  idempotentJobId,
  JOB_TABLES,
  productJobTypes,
  slotJobId,
} from 'resilience-core/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collation, startJobsServer, storeFor } from './jobs-local-helpers.ts';

/** Keys equal to each other under utf8mb4_general_ci, distinct byte-wise. */
const LOOKALIKES = ['Order-1', 'order-1', 'ORDER-1', 'Ördér-1', 'order-1 '];

/** Folds as utf8mb4_general_ci does for these inputs: case, accents, trailing spaces. */
const fold = (id: string) => id.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/ +$/, '');

describe('stableId-derived job ids', () => {
  it('differ after case/accent folding for keys that fold to one', () => {
    const ids = LOOKALIKES.map((k) => idempotentJobId('acme', k));
    expect(new Set(ids.map(fold)).size).toBe(LOOKALIKES.length);
    for (const id of ids) expect(id).toBe(id.toLowerCase());
    const schedules = ['Nightly', 'nightly', 'NÏGHTLY'].map((n) => stableId('sch', 'acme', n));
    expect(new Set(schedules.map(fold)).size).toBe(3);
    expect(new Set(schedules.map((s) => fold(slotJobId(s, 0)))).size).toBe(3);
  });
});

describe.each<Collation>(['utf8mb4_general_ci', 'binary'])('under collation %s', (collation) => {
  let server: AppwriteLocal;
  beforeAll(async () => {
    server = await startJobsServer(0, undefined, collation);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('idempotency keys differing only in case, accents or a trailing space are distinct jobs', async () => {
    const queue = createJobQueue({ store: storeFor(server), types: productJobTypes });
    const first = await Promise.all(
      LOOKALIKES.map((key) =>
        queue.enqueue({
          orgId: 'acme',
          type: 'send-notification',
          payload: { channel: 'slack', text: `for ${key}` },
          idempotencyKey: key,
        }),
      ),
    );
    expect(first.map((r) => r.deduplicated)).toEqual(LOOKALIKES.map(() => false));
    expect(new Set(first.map((r) => r.jobId)).size).toBe(LOOKALIKES.length);
    // A retry with the exact key returns its own job, never a look-alike's.
    for (const [k, key] of LOOKALIKES.entries()) {
      const again = await queue.enqueue({
        orgId: 'acme',
        type: 'send-notification',
        payload: { channel: 'slack', text: 'retry' },
        idempotencyKey: key,
      });
      expect(again).toMatchObject({ deduplicated: true, jobId: first[k]!.jobId });
      expect(JSON.parse(again.job.payload).text).toBe(`for ${key}`);
      expect(again.job.idempotencyKey).toBe(key);
    }
    const rows = await listAll(storeFor(server), JOB_TABLES.queue, {
      where: [{ field: 'orgId', op: 'eq', value: 'acme' }],
    });
    expect(rows).toHaveLength(LOOKALIKES.length);
  });

  it('schedule names differing only in case or accents are distinct schedules with distinct slot jobs', async () => {
    const queue = createJobQueue({ store: storeFor(server), types: productJobTypes });
    const names = ['Nightly', 'nightly', 'NÏGHTLY'];
    const created = [];
    for (const name of names) {
      created.push(
        await createSchedule(queue, {
          orgId: 'acme',
          name,
          cron: '0 3 * * *',
          type: 'cleanup-recognitions',
          payload: { daysOld: 30 },
        }),
      );
    }
    expect(created.map((s) => s.name)).toEqual(names);
    expect(new Set(created.map((s) => s.$id)).size).toBe(3);
    // A second schedule with an exact name is refused (409), not merged.
    await expect(
      createSchedule(queue, {
        orgId: 'acme',
        name: 'Nightly',
        cron: '0 4 * * *',
        type: 'cleanup-recognitions',
        payload: { daysOld: 1 },
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    const slot = Date.UTC(2026, 0, 1, 3);
    const jobs = await Promise.all(
      created.map((s) =>
        queue.enqueue({
          orgId: 'acme',
          type: 'cleanup-recognitions',
          payload: { daysOld: 30 },
          jobId: slotJobId(s.$id, slot),
          scheduleId: s.$id,
        }),
      ),
    );
    expect(jobs.map((j) => j.deduplicated)).toEqual([false, false, false]);
  });
});
