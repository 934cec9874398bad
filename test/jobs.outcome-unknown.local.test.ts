/**
 * Commits whose outcome is unknown (issue 10.8): the Appwrite adapter raises OUTCOME_UNKNOWN when a commit is
 * answered 400 `transaction_failed`, 5xx, or not at all. Every transaction of the job queue (claim, recovery,
 * heartbeat, settle, cancel/redrive) must re-read the rows and act on what really happened, never assume.
 *
 * A TableStore wrapper over the local server injects both cases on chosen transactions:
 * - `committed`: the transaction is really committed, then OUTCOME_UNKNOWN is thrown (a lost response);
 * - `lost`: OUTCOME_UNKNOWN is thrown without committing anything (a commit that failed).
 */
import type { AppwriteLocal } from 'appwrite-local';
import { errors, listAll, type TableStore, type WriteOp } from 'resilience-core';
import {
  createJobQueue,
  createWorker,
  JOB_TABLES,
  type JobQueue,
  productJobTypes,
  readHistory,
} from 'resilience-core/jobs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../scripts/scenario-support.ts';
import { mapLimit, startJobsServer, storeFor } from './jobs-local-helpers.ts';

type Mode = 'committed' | 'lost';

/** A store whose next `times` transactions (that `match`) end in OUTCOME_UNKNOWN, committed or not. */
class UnknownOutcomeStore {
  private plan: { mode: Mode; times: number; match: (ops: readonly WriteOp[]) => boolean } | null = null;
  fired = 0;
  readonly store: TableStore;

  constructor(inner: TableStore) {
    this.store = new Proxy(inner, {
      get: (target, prop, receiver) => {
        if (prop !== 'transaction') {
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (ops: readonly WriteOp[]) => {
          const plan = this.plan;
          if (!plan || plan.times <= 0 || !plan.match(ops)) return target.transaction(ops);
          plan.times--;
          this.fired++;
          if (plan.mode === 'committed') await target.transaction(ops);
          throw errors.outcomeUnknown('commit outcome unknown (injected)', undefined, {
            transactionId: 'tx',
          });
        };
      },
    });
  }

  next(mode: Mode, times = 1, match: (ops: readonly WriteOp[]) => boolean = () => true): void {
    this.plan = { mode, times, match };
  }
}

const ORG = 'org-unknown';
let server: AppwriteLocal;
let faulty: UnknownOutcomeStore;
let queue: JobQueue;
/** A queue on a plain client: reads the truth. */
let truth: JobQueue;

beforeAll(async () => {
  server = await startJobsServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  // Each case starts from an empty queue.
  const plain = storeFor(server);
  for (const row of await listAll(plain, JOB_TABLES.queue)) await plain.delete(JOB_TABLES.queue, row.$id);
  faulty = new UnknownOutcomeStore(storeFor(server));
  queue = createJobQueue({ store: faulty.store, types: productJobTypes });
  truth = createJobQueue({ store: plain, types: productJobTypes });
});

async function enqueue(n: number, extra: { leaseMs?: number } = {}): Promise<string[]> {
  return mapLimit(
    Array.from({ length: n }, (_, i) => i),
    8,
    async (i) =>
      (
        await queue.enqueue({
          orgId: ORG,
          type: 'send-notification',
          payload: { channel: 'slack', text: `m${i}` },
          ...extra,
        })
      ).jobId,
  );
}

describe.each<Mode>(['committed', 'lost'])('OUTCOME_UNKNOWN on commit (%s)', (mode) => {
  it('claim: re-reads and holds exactly the jobs the commit took', async () => {
    const ids = await enqueue(5);
    faulty.next(mode);
    const reserved = new Set<string>();
    const leases = await queue.claim({ workerId: 'w1', limit: 5, reserved }).catch((e: unknown) => e);
    expect(faulty.fired).toBe(1);
    const rows = await Promise.all(ids.map((id) => truth.get(id)));
    if (mode === 'committed') {
      if (!Array.isArray(leases)) throw leases;
      expect(leases.map((l) => l.job.$id).sort()).toEqual([...ids].sort());
      expect(rows.map((r) => [r?.status, r?.leaseOwner, r?.version])).toEqual(
        ids.map(() => ['PROCESSING', 'w1', 1]),
      );
      expect([...reserved].sort()).toEqual([...ids].sort());
      // The leases are real: their tokens settle.
      await queue.settle(leases.map((lease) => ({ lease, outcome: { ok: true, result: 'ok' } })));
      expect((await truth.get(ids[0]!))?.status).toBe('COMPLETED');
    } else {
      // Nothing taken is not "nothing due": the claim rejects so a lane retries instead of reporting idle.
      expect(leases).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
      expect(rows.map((r) => [r?.status, r?.version])).toEqual(ids.map(() => ['PENDING', 0]));
      expect(reserved.size).toBe(0);
      // Nothing is held: the next claim takes them.
      expect(await queue.claim({ workerId: 'w2', limit: 5 })).toHaveLength(5);
    }
  });

  it('settle: accepts an outcome that was written, writes one that was not, never twice', async () => {
    const ids = await enqueue(3);
    const leases = await queue.claim({ workerId: 'w1', limit: 3 });
    faulty.next(mode);
    const results = await queue.settle(
      leases.map((lease) => ({ lease, outcome: { ok: true, result: lease.job.$id } })),
    );
    expect(results).toEqual(ids.map(() => ({ ok: true, status: 'COMPLETED' })));
    for (const lease of leases) {
      const row = await truth.get(lease.job.$id);
      expect(row).toMatchObject({ status: 'COMPLETED', result: JSON.stringify(lease.job.$id) });
      expect(row?.version).toBe(lease.token + 1);
      expect(readHistory(row!).map((h) => h.outcome)).toEqual(['COMPLETED']);
    }
  });

  it('settle of a lease lost meanwhile: LEASE_LOST, the other job settled', async () => {
    const [a, b] = await enqueue(2);
    const leases = await queue.claim({ workerId: 'w1', limit: 2 });
    await truth.cancel(a!);
    faulty.next(mode);
    const results = await queue.settle(leases.map((lease) => ({ lease, outcome: { ok: true, result: 1 } })));
    const byId = new Map(leases.map((l, k) => [l.job.$id, results[k]]));
    // The batch (with a's stale token) fails whole on the server either way; re-read, each alone.
    expect(byId.get(a!)).toMatchObject({ ok: false, error: { code: 'LEASE_LOST' } });
    expect(byId.get(b!)).toEqual({ ok: true, status: 'COMPLETED' });
    expect((await truth.get(a!))?.status).toBe('CANCELLED');
  });

  it('heartbeat: extended when committed (new token), the old lease stands when not', async () => {
    const [id] = await enqueue(1);
    const [lease] = await queue.claim({ workerId: 'w1', limit: 1 });
    const token = lease!.token;
    faulty.next(mode);
    const error = await queue.heartbeat(lease!).catch((e: unknown) => e);
    const row = await truth.get(id!);
    if (mode === 'committed') {
      expect(error).toBeUndefined();
      expect(lease!.token).toBe(token + 1);
      expect(row?.version).toBe(token + 1);
    } else {
      expect(error).toMatchObject({ code: 'RETRYABLE' });
      expect(lease!.token).toBe(token);
      expect(row?.version).toBe(token);
    }
    await queue.complete(lease!, 'done'); // the lease is valid in both cases
    expect((await truth.get(id!))?.status).toBe('COMPLETED');
  });

  it('recovery: takes over exactly the expired leases the commit took', async () => {
    const ids = await enqueue(4, { leaseMs: 1000 });
    await queue.claim({ workerId: 'dead', limit: 4 });
    await waitFor(
      "the dead worker's leases, as stored, to end",
      async () => {
        const held = await Promise.all(ids.map((id) => truth.get(id)));
        return held.every((r) => r !== null && Date.now() > Number(r.leaseExpiresAt)) ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 25 },
    );
    faulty.next(mode);
    const sweep = await queue.recoverSweep({ workerId: 'w2', limit: 10 });
    const rows = await Promise.all(ids.map((id) => truth.get(id)));
    if (mode === 'committed') {
      expect(sweep.leases).toHaveLength(4);
      expect(rows.map((r) => [r?.status, r?.leaseOwner, r?.attempts])).toEqual(
        ids.map(() => ['PROCESSING', 'w2', 2]),
      );
    } else {
      expect(sweep.leases).toEqual([]);
      expect(rows.map((r) => [r?.leaseOwner, r?.attempts])).toEqual(ids.map(() => ['dead', 1]));
      expect(await queue.recoverExpired({ workerId: 'w3', limit: 10 })).toHaveLength(4);
    }
  });

  it('cancel and redrive: applied once, answered with the job as it is', async () => {
    const [id] = await enqueue(1);
    faulty.next(mode);
    const cancelled = await queue.cancel(id!);
    expect(cancelled.status).toBe('CANCELLED');
    const row = await truth.get(id!);
    expect(row?.status).toBe('CANCELLED');
    expect(readHistory(row!).map((h) => h.outcome)).toEqual(['CANCELLED']);
    faulty.next(mode);
    const redriven = await queue.redrive(id!);
    expect(redriven.status).toBe('PENDING');
    expect(readHistory((await truth.get(id!))!).map((h) => h.outcome)).toEqual(['CANCELLED', 'REDRIVEN']);
  });

  it('a drain whose every third transaction ends unknown completes each job exactly once', async () => {
    const ids = await enqueue(60);
    const worker = createWorker({ queue, workerId: 'wd', lanes: 2, batchSize: 10 });
    const ran = new Map<string, number>();
    worker.registerHandler('send-notification', async (_p, ctx) => {
      ran.set(ctx.jobId, (ran.get(ctx.jobId) ?? 0) + 1);
      return null;
    });
    let n = 0;
    faulty.next(mode, 1000, () => ++n % 3 === 0);
    const report = await worker.drain({ deadlineAt: Date.now() + 60_000 });
    expect(faulty.fired).toBeGreaterThanOrEqual(2);
    expect(report.completed).toBe(60);
    expect([...ran.values()].every((k) => k === 1)).toBe(true);
    expect(ran.size).toBe(60);
    const rows = await Promise.all(ids.map((id) => truth.get(id)));
    expect(rows.every((r) => r?.status === 'COMPLETED' && r.attempts === 1)).toBe(true);
  });
});

describe('a heartbeat whose outcome is unknown inside a drain', () => {
  it('does not abort the handler; the job completes once', async () => {
    const [id] = await enqueue(1, { leaseMs: 1500 });
    const worker = createWorker({ queue, workerId: 'hb', lanes: 1 });
    worker.registerHandler('send-notification', async () => {
      // Runs until a heartbeat (every 500 ms) was lost and a later one still moved the stored lease.
      const claimed = Number((await truth.get(id!))?.leaseExpiresAt);
      await waitFor(
        'a heartbeat after the lost one to move the lease',
        async () =>
          faulty.fired === 1 && Number((await truth.get(id!))?.leaseExpiresAt) > claimed ? true : undefined,
        { timeoutMs: 10_000, intervalMs: 25 },
      );
      return 'slow';
    });
    // Heartbeats are the transactions of 2 operations that patch leaseExpiresAt only.
    faulty.next(
      'lost',
      1,
      (ops) =>
        ops.length === 2 && Object.keys((ops[0] as { data?: object }).data ?? {}).join() === 'leaseExpiresAt',
    );
    const report = await worker.drain({ deadlineAt: Date.now() + 30_000 });
    expect(faulty.fired).toBe(1);
    expect(report.completed).toBe(1);
    expect(await truth.get(id!)).toMatchObject({ status: 'COMPLETED', attempts: 1 });
  });
});
