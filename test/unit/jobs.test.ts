import fc from 'fast-check';
import { errors, hasCode } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import {
  calculateDelay,
  collectJobMetrics,
  createJobQueue,
  createJobs,
  createSchedule,
  createWorker,
  csvCell,
  dueSlots,
  EXPORT_CHUNK_CHARS,
  JOB_TABLES,
  type JobQueue,
  type Lease,
  productJobTypes,
  readExport,
  readHistory,
  registerProductHandlers,
  tickSchedules,
  type WorkerEvent,
} from 'resilience-core/jobs';
import { ManualClock } from 'resilience-core/testing';
import { parseTraceparent } from 'resilience-core/tracing';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const ORG = 'org-a';
const OTHER = 'org-b';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

let clock: ManualClock;
let store: MemoryTableStore;
let queue: JobQueue;

function newQueue(random: () => number = () => 0.5): JobQueue {
  return createJobQueue({ store, clock, types: productJobTypes, random });
}

async function claimOne(q: JobQueue, workerId = 'w1'): Promise<Lease> {
  const [lease] = await q.claim({ workerId, limit: 1 });
  if (!lease) throw new Error('nothing claimed');
  return lease;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/**
 * Awaits `work` while moving the manual clock forward `stepMs` at a time (after letting pending I/O settle),
 * so code that sleeps on the clock (heartbeats, pauses, deadlines) runs without real waiting.
 */
async function driven<T>(work: Promise<T>, stepMs = 50): Promise<T> {
  let done = false;
  work.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; !done; i++) {
    await new Promise((r) => setImmediate(r));
    if (!done) await clock.advance(stepMs);
    if (i > 100_000) throw new Error('work did not finish within 100,000 clock steps');
  }
  return work;
}

beforeEach(() => {
  clock = new ManualClock(T0);
  store = new MemoryTableStore({ clock });
  queue = newQueue();
});

describe('calculateDelay', () => {
  it('doubles from the base and stops at the cap, with jitter between half and all of it', () => {
    const policy = { baseMs: 1000, maxMs: 60_000 };
    expect(calculateDelay(1, policy, () => 0)).toBe(500);
    expect(calculateDelay(1, policy, () => 0.999999)).toBe(999);
    expect(calculateDelay(3, policy, () => 0)).toBe(2000);
    expect(calculateDelay(30, policy, () => 0)).toBe(30_000);
    expect(calculateDelay(5000, policy, () => 0.5)).toBe(45_000);
  });

  it('is always within [nominal/2, nominal] and never above the cap (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (retry, baseMs, maxMs, r) => {
          const d = calculateDelay(retry, { baseMs, maxMs }, () => r);
          const nominal = Math.min(maxMs, baseMs * 2 ** (retry - 1));
          return Number.isInteger(d) && d >= Math.floor(nominal / 2) && d <= nominal && d <= maxMs;
        },
      ),
    );
  });
});

describe('enqueue', () => {
  it('writes one row in one round trip with the documented defaults', async () => {
    const before = store.stats.calls;
    const r = await queue.enqueue({ orgId: ORG, type: 'cleanup-recognitions', payload: { daysOld: 90 } });
    expect(store.stats.calls - before).toBe(1);
    expect(r.deduplicated).toBe(false);
    expect(r.job).toMatchObject({
      status: 'PENDING',
      orgId: ORG,
      priority: 10,
      maxRetries: 3,
      attempts: 0,
      version: 0,
      runAt: T0,
      payload: '{"daysOld":90}',
    });
  });

  it('returns the first job for a second enqueue with the same idempotency key', async () => {
    const a = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, idempotencyKey: 'k1' });
    const b = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, idempotencyKey: 'k1' });
    const c = await queue.enqueue({
      orgId: OTHER,
      type: 'generate-export',
      payload: {},
      idempotencyKey: 'k1',
    });
    expect(b.jobId).toBe(a.jobId);
    expect(b.deduplicated).toBe(true);
    expect(c.jobId).not.toBe(a.jobId);
    expect((await store.list(JOB_TABLES.queue)).rows).toHaveLength(2);
  });

  it('refuses a key reused for another type with CONFLICT', async () => {
    await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, idempotencyKey: 'k2' });
    const e = await rejection(
      queue.enqueue({
        orgId: ORG,
        type: 'cleanup-recognitions',
        payload: { daysOld: 1 },
        idempotencyKey: 'k2',
      }),
    );
    expect(hasCode(e, 'CONFLICT')).toBe(true);
  });

  it.each([
    ['unknown type', { type: 'mine-bitcoin', payload: {} }, 'type'],
    ['bad payload', { type: 'cleanup-recognitions', payload: { daysOld: -3 } }, 'payload.daysOld'],
    ['extra payload field', { type: 'generate-export', payload: { evil: true } }, 'payload'],
    ['bad priority', { type: 'generate-export', payload: {}, priority: 5000 }, 'priority'],
    ['bad maxRetries', { type: 'generate-export', payload: {}, maxRetries: 1.5 }, 'maxRetries'],
  ])('refuses %s with INVALID_INPUT and writes nothing', async (_name, input, path) => {
    const e = await rejection(queue.enqueue({ orgId: ORG, ...input }));
    expect(hasCode(e, 'INVALID_INPUT')).toBe(true);
    expect((e as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(path);
    expect(store.stats.byMethod.create ?? 0).toBe(0);
  });

  it('hides other organizations’ jobs behind NOT_FOUND', async () => {
    const { jobId } = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    expect((await queue.getForOrg(jobId, ORG)).orgId).toBe(ORG);
    expect(hasCode(await rejection(queue.getForOrg(jobId, OTHER)), 'NOT_FOUND')).toBe(true);
    expect(hasCode(await rejection(queue.getForOrg('nope', ORG)), 'NOT_FOUND')).toBe(true);
  });
});

describe('claim', () => {
  it('takes lower priority first, then enqueue order, and skips jobs not yet due', async () => {
    const ids: Record<string, string> = {};
    for (const [name, priority, delayMs] of [
      ['late', -5, 60_000],
      ['p5-a', 5, 0],
      ['p1', 1, 0],
      ['p5-b', 5, 0],
      ['p0', 0, 0],
    ] as const) {
      ids[name] = (
        await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, priority, delayMs })
      ).jobId;
    }
    const leases = await queue.claim({ workerId: 'w', limit: 10 });
    expect(leases.map((l) => l.job.$id)).toEqual([ids.p0, ids.p1, ids['p5-a'], ids['p5-b']]);
    expect(leases.every((l) => l.job.status === 'PROCESSING' && l.job.attempts === 1 && l.token === 1)).toBe(
      true,
    );
    await clock.advance(60_000);
    expect((await claimOne(queue)).job.$id).toBe(ids.late);
  });

  it('never gives one job to two of 12 concurrent workers (separate queues, one store)', async () => {
    for (let i = 0; i < 300; i++) await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    const holders = new Map<string, string>();
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        const q = createJobQueue({ store, clock, types: productJobTypes });
        for (;;) {
          try {
            const leases = await q.claim({ workerId: `w${w}`, limit: 7, spread: 2 });
            if (!leases.length) return;
            for (const l of leases) {
              expect(holders.has(l.job.$id)).toBe(false);
              holders.set(l.job.$id, `w${w}`);
            }
          } catch (error) {
            if (!hasCode(error, 'BOUND_EXCEEDED', 'CONFLICT')) throw error;
            conflicts++;
          }
          await new Promise((r) => setImmediate(r));
        }
      }),
    );
    expect(holders.size).toBe(300);
    const rows = (await store.list(JOB_TABLES.queue, { limit: 1000 })).rows;
    expect(
      rows.every((r) => r.status === 'PROCESSING' && r.attempts === 1 && holders.get(r.$id) === r.leaseOwner),
    ).toBe(true);
    // The workers really raced (claims lost to a concurrent claim), so the exclusivity above was tested.
    expect(conflicts).toBeGreaterThan(0);
  });

  it('skips a corrupt row instead of letting it stop the queue', async () => {
    const good = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, priority: 1 });
    await store.create(JOB_TABLES.queue, 'corrupt', { status: 'PENDING', runAt: 0, priority: 0, shard: 0 });
    const leases = await queue.claim({ workerId: 'w', limit: 5 });
    expect(leases.map((l) => l.job.$id)).toEqual([good.jobId]);
    expect((await store.get(JOB_TABLES.queue, 'corrupt'))?.status).toBe('PENDING');
  });

  it('fails a whole batch when one job was taken meanwhile, writing nothing', async () => {
    for (let i = 0; i < 3; i++) await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    // A claim that reads, then loses one row to another worker before its transaction lands.
    const slow = createJobQueue({
      store: {
        ...store,
        list: store.list.bind(store),
        transaction: async (ops) => {
          await queue.claim({ workerId: 'fast', limit: 1 });
          return store.transaction(ops);
        },
      } as MemoryTableStore,
      clock,
      types: productJobTypes,
    });
    const e = await rejection(slow.claim({ workerId: 'slow', limit: 3 }));
    expect(hasCode(e, 'BOUND_EXCEEDED')).toBe(true);
    const rows = (await store.list(JOB_TABLES.queue)).rows;
    expect(rows.filter((r) => r.status === 'PROCESSING').map((r) => r.leaseOwner)).toEqual(['fast']);
  });
});

describe('leases and fencing', () => {
  it('recovers an expired lease as a new attempt and refuses the old holder’s completion', async () => {
    const { jobId } = await queue.enqueue({
      orgId: ORG,
      type: 'generate-export',
      payload: {},
      leaseMs: 5000,
    });
    const old = await claimOne(queue, 'dead-worker');
    expect(await queue.recoverExpired({ workerId: 'w2', limit: 5 })).toEqual([]);
    await clock.advance(5001);
    const [fresh] = await queue.recoverExpired({ workerId: 'w2', limit: 5 });
    expect(fresh?.job).toMatchObject({ attempts: 2, leaseOwner: 'w2', status: 'PROCESSING' });
    const late = await rejection(queue.complete(old, { late: true }));
    expect(hasCode(late, 'LEASE_LOST')).toBe(true);
    expect(hasCode(await rejection(queue.fail(old, new Error('x'))), 'LEASE_LOST')).toBe(true);
    await queue.complete(fresh!, { ok: 1 });
    const job = await queue.get(jobId);
    expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2, result: '{"ok":1}' });
    expect(readHistory(job!).map((h) => [h.attempt, h.outcome, h.owner])).toEqual([
      [1, 'LEASE_EXPIRED', 'dead-worker'],
      [2, 'COMPLETED', 'w2'],
    ]);
  });

  it('dead-letters an expired lease that was the last attempt', async () => {
    const { jobId } = await queue.enqueue({
      orgId: ORG,
      type: 'generate-export',
      payload: {},
      leaseMs: 1000,
      maxRetries: 0,
    });
    await claimOne(queue);
    await clock.advance(1001);
    expect(await queue.recoverExpired({ workerId: 'w2', limit: 5 })).toEqual([]);
    expect(await queue.get(jobId)).toMatchObject({
      status: 'DEAD_LETTER',
      lastError: expect.stringMatching(/lease/),
    });
  });

  it('extends a lease on heartbeat and bumps the fencing token; a stale heartbeat is LEASE_LOST', async () => {
    await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, leaseMs: 3000 });
    const lease = await claimOne(queue);
    const stale = { ...lease, job: { ...lease.job } };
    await clock.advance(2000);
    await queue.heartbeat(lease);
    expect(lease.token).toBe(2);
    expect(lease.expiresAt).toBe(T0 + 5000);
    await clock.advance(2000); // past the first lease, inside the extended one
    expect(await queue.recoverExpired({ workerId: 'w2', limit: 5 })).toEqual([]);
    expect(hasCode(await rejection(queue.heartbeat(stale)), 'LEASE_LOST')).toBe(true);
    await queue.complete(lease, null);
  });
});

describe('failures, dead letters, redrive and cancel', () => {
  it('retries with backoff, dead-letters after maxRetries keeping the last error and history, and redrives', async () => {
    const { jobId } = await queue.enqueue({
      orgId: ORG,
      type: 'generate-export',
      payload: {},
      maxRetries: 2,
      backoff: { baseMs: 1000, maxMs: 10_000 },
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const lease = await claimOne(queue);
      expect(lease.job.attempts).toBe(attempt);
      const status = await queue.fail(lease, new Error(`boom ${attempt}`));
      const job = (await queue.get(jobId))!;
      if (attempt < 3) {
        expect(status).toBe('RETRYING');
        delays.push(job.runAt - clock.now());
        expect(await queue.claim({ workerId: 'w', limit: 1 })).toEqual([]); // not before runAt
        await clock.advance(job.runAt - clock.now());
      } else {
        expect(status).toBe('DEAD_LETTER');
      }
    }
    expect(delays).toEqual([750, 1500]); // random() = 0.5: 3/4 of 1000, then of 2000
    const dead = (await queue.get(jobId))!;
    expect(dead.lastError).toBe('boom 3');
    expect(readHistory(dead).map((h) => h.error)).toEqual(['boom 1', 'boom 2', 'boom 3']);
    expect((await queue.listDeadLetters({ orgId: ORG })).jobs.map((j) => j.$id)).toEqual([jobId]);
    expect(hasCode(await rejection(queue.redrive(jobId, { orgId: OTHER })), 'NOT_FOUND')).toBe(true);
    const redriven = await queue.redrive(jobId, { orgId: ORG });
    expect(redriven).toMatchObject({ status: 'PENDING', attempts: 0 });
    await queue.complete(await claimOne(queue), 'done');
    expect(await queue.get(jobId)).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    expect(readHistory((await queue.get(jobId))!).map((h) => h.outcome)).toEqual([
      'FAILED',
      'FAILED',
      'FAILED',
      'REDRIVEN',
      'COMPLETED',
    ]);
  });

  it('marks a permanent failure FAILED without retrying', async () => {
    const { jobId } = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    expect(await queue.fail(await claimOne(queue), new Error('nope'), { permanent: true })).toBe('FAILED');
    expect(await queue.get(jobId)).toMatchObject({ status: 'FAILED', attempts: 1 });
  });

  it('cancels pending and running jobs (the running attempt’s outcome is refused) but not finished ones', async () => {
    const a = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, priority: 1 });
    const b = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, priority: 2 });
    expect((await queue.cancel(a.jobId)).status).toBe('CANCELLED');
    const running = await claimOne(queue);
    expect(running.job.$id).toBe(b.jobId);
    await queue.cancel(b.jobId, { orgId: ORG });
    expect(hasCode(await rejection(queue.complete(running, 1)), 'LEASE_LOST')).toBe(true);
    expect(await queue.get(b.jobId)).toMatchObject({ status: 'CANCELLED', result: null });
    expect(hasCode(await rejection(queue.cancel(b.jobId)), 'CONFLICT')).toBe(true);
  });
});

describe('worker drain', () => {
  it('runs every due job exactly once across 4 concurrent workers and settles in batches', async () => {
    const real = new MemoryTableStore({ clock });
    const runs = new Map<string, number>();
    const workers = Array.from({ length: 4 }, (_, i) => {
      const q = createJobQueue({ store: real, clock, types: productJobTypes });
      const w = createWorker({ queue: q, workerId: `w${i}`, lanes: 2, batchSize: 8 });
      w.registerHandler('generate-export', async (_p, ctx) => {
        runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
        await new Promise((r) => setImmediate(r)); // yield, as a handler awaiting I/O would
        return { by: `w${i}` };
      });
      return { q, w };
    });
    const q0 = workers[0]!.q;
    for (let i = 0; i < 400; i++) await q0.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    const before = real.stats.byMethod.transaction ?? 0;
    const reports = await driven(
      Promise.all(workers.map(({ w }) => w.drain({ deadlineAt: clock.now() + 120_000 }))),
    );
    expect(reports.reduce((n, r) => n + r.completed, 0)).toBe(400);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(runs.size).toBe(400);
    const rows = (await real.list(JOB_TABLES.queue, { limit: 1000 })).rows;
    expect(rows.every((r) => r.status === 'COMPLETED' && r.attempts === 1)).toBe(true);
    // Claims and completions are batched: far fewer transactions than 2 per job.
    expect((real.stats.byMethod.transaction ?? 0) - before).toBeLessThan(400);
  });

  it('rejects when the store fails outright, after the other lanes stop claiming', async () => {
    const real = new MemoryTableStore({ clock });
    const q0 = createJobQueue({ store: real, clock, types: productJobTypes });
    for (let i = 0; i < 5; i++)
      await q0.enqueue({ orgId: ORG, type: 'send-notification', payload: { channel: 'c', text: 't' } });
    let lists = 0;
    const broken = Object.create(real) as MemoryTableStore;
    broken.list = async (...args: Parameters<MemoryTableStore['list']>) => {
      if (++lists > 2) throw new Error('disk on fire');
      return real.list(...args);
    };
    const w = createWorker({
      queue: createJobQueue({ store: broken, clock, types: productJobTypes }),
      lanes: 3,
      batchSize: 1,
    });
    w.registerHandler('send-notification', () => 'ok');
    await expect(driven(w.drain({ deadlineAt: clock.now() + 120_000 }))).rejects.toThrow('disk on fire');
    const rows = (await real.list(JOB_TABLES.queue)).rows;
    expect(rows.filter((r) => r.status === 'PROCESSING')).toEqual([]);
  });

  it('retries a failing handler and dead-letters it when attempts run out', async () => {
    const real = new MemoryTableStore({ clock });
    const q = createJobQueue({ store: real, clock, types: productJobTypes });
    const w = createWorker({ queue: q });
    let calls = 0;
    w.registerHandler('generate-export', () => {
      calls++;
      throw new Error('always');
    });
    const { jobId } = await q.enqueue({
      orgId: ORG,
      type: 'generate-export',
      payload: {},
      maxRetries: 2,
      backoff: { baseMs: 0, maxMs: 0 },
    });
    for (let i = 0; i < 3; i++) await driven(w.drain({ deadlineAt: clock.now() + 120_000 }));
    expect(calls).toBe(3);
    expect(await q.get(jobId)).toMatchObject({ status: 'DEAD_LETTER', attempts: 3, lastError: 'always' });
  });

  it('does not claim jobs whose lease does not fit before the deadline, and stops for the deadline', async () => {
    const real = new MemoryTableStore({ clock });
    const q = createJobQueue({ store: real, clock, types: productJobTypes });
    const w = createWorker({ queue: q });
    w.registerHandler('generate-export', () => 'ok');
    const long = await q.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, leaseMs: 600_000 });
    const short = await q.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, leaseMs: 5_000 });
    const report = await driven(w.drain({ deadlineAt: clock.now() + 120_000, marginMs: 3000 }));
    expect(report.completed).toBe(1);
    expect((await q.get(long.jobId))?.status).toBe('PENDING');
    expect((await q.get(short.jobId))?.status).toBe('COMPLETED');
    const late = await driven(w.drain({ deadlineAt: clock.now() + 3500, marginMs: 3000 }));
    expect(late).toMatchObject({ claimed: 0, stoppedBy: 'deadline' });
  });

  it('aborts a handler still running at the deadline and fails the attempt (to be retried)', async () => {
    const real = new MemoryTableStore({ clock });
    const q = createJobQueue({ store: real, clock, types: productJobTypes });
    const w = createWorker({ queue: q });
    let sawAbort = false;
    w.registerHandler('generate-export', async (_p, ctx) => {
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          sawAbort = true;
          resolve();
        }),
      );
      return 'too late';
    });
    const { jobId } = await q.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, leaseMs: 1000 });
    const report = await driven(w.drain({ deadlineAt: clock.now() + 1300, marginMs: 100 }));
    expect(sawAbort).toBe(true);
    expect(report).toMatchObject({ claimed: 1, retried: 1, completed: 0 });
    expect(await q.get(jobId)).toMatchObject({
      status: 'RETRYING',
      lastError: expect.stringMatching(/deadline/),
    });
  });

  it('heartbeats a job that runs longer than its lease so nobody else takes it', async () => {
    const real = new MemoryTableStore({ clock });
    const q = createJobQueue({ store: real, clock, types: productJobTypes });
    const w = createWorker({ queue: q });
    const other = createJobQueue({ store: real, clock, types: productJobTypes });
    let stolen = -1;
    w.registerHandler('generate-export', async () => {
      await clock.sleep(2600);
      stolen = (await other.recoverExpired({ workerId: 'thief', limit: 5 })).length;
      return 'ok';
    });
    const { jobId } = await q.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, leaseMs: 1500 });
    const report = await driven(w.drain({ deadlineAt: clock.now() + 30_000 }));
    expect(stolen).toBe(0);
    expect(report.completed).toBe(1);
    expect((await q.get(jobId))?.version).toBeGreaterThanOrEqual(3); // claim + ≥1 heartbeat + completion
  });
});

describe('heartbeats', () => {
  it('a heartbeat that fails transiently is followed by the next one, so a long job keeps its lease', async () => {
    const real = new MemoryTableStore({ clock });
    let failed = 0;
    const flaky = new Proxy(real, {
      get(target, prop) {
        if (prop === 'transaction') {
          return async (ops: Parameters<MemoryTableStore['transaction']>[0]) => {
            const first = ops[0] as { data?: Record<string, unknown> };
            const isHeartbeat = ops.length === 2 && Object.keys(first.data ?? {}).join() === 'leaseExpiresAt';
            if (isHeartbeat && failed < 1) {
              failed++;
              throw errors.retryable('store briefly unreachable');
            }
            return target.transaction(ops);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const q = createJobQueue({ store: flaky, clock, types: productJobTypes });
    const thief = createJobQueue({ store: real, clock, types: productJobTypes });
    const w = createWorker({ queue: q });
    let stolen = -1;
    w.registerHandler('generate-export', async () => {
      await clock.sleep(2600); // heartbeats every 500 ms; the first fails
      stolen = (await thief.recoverExpired({ workerId: 'thief', limit: 5 })).length;
      return 'ok';
    });
    const { jobId } = await q.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, leaseMs: 1500 });
    const report = await driven(w.drain({ deadlineAt: clock.now() + 30_000 }));
    expect(failed).toBe(1);
    expect(stolen).toBe(0);
    expect(report).toMatchObject({ completed: 1, leaseLost: 0 });
    expect(await q.get(jobId)).toMatchObject({ status: 'COMPLETED', attempts: 1 });
  });
});

describe('schedules', () => {
  it('materialises one job per slot when five workers tick the same minute', async () => {
    await createSchedule(queue, {
      orgId: ORG,
      name: 'nightly-cleanup',
      cron: '* * * * *',
      type: 'cleanup-recognitions',
      payload: { daysOld: 90 },
    });
    await clock.advance(60_000);
    const queues = Array.from({ length: 5 }, () => newQueue());
    const reports = await Promise.all(queues.map((q) => tickSchedules(q)));
    expect(reports.reduce((n, r) => n + r.materialised, 0)).toBe(1);
    const jobs = (await store.list(JOB_TABLES.queue)).rows;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ type: 'cleanup-recognitions', runAt: T0 + 60_000 });
  });

  it('catches up at most maxCatchUp missed slots', async () => {
    await createSchedule(queue, {
      orgId: ORG,
      name: 'every-5',
      cron: '*/5 * * * *',
      type: 'cleanup-recognitions',
      payload: { daysOld: 1 },
      maxCatchUp: 2,
    });
    await clock.advance(60 * 60_000); // 12 slots missed
    const r = await tickSchedules(queue);
    expect(r).toMatchObject({ materialised: 2, skipped: 1 });
    const runAts = (await store.list(JOB_TABLES.queue)).rows.map((j) => j.runAt).sort();
    expect(runAts).toEqual([T0 + 55 * 60_000, T0 + 60 * 60_000]);
    expect((await tickSchedules(queue)).materialised).toBe(0);
  });

  it('refuses a bad cron expression or payload', async () => {
    const bad = await rejection(
      createSchedule(queue, {
        orgId: ORG,
        name: 'x',
        cron: '61 * * * *',
        type: 'generate-export',
        payload: {},
      }),
    );
    expect(hasCode(bad, 'INVALID_INPUT')).toBe(true);
    const badPayload = await rejection(
      createSchedule(queue, {
        orgId: ORG,
        name: 'y',
        cron: '* * * * *',
        type: 'cleanup-recognitions',
        payload: {},
      }),
    );
    expect(hasCode(badPayload, 'INVALID_INPUT')).toBe(true);
  });

  it('skips a schedule that no longer validates, and still materialises the others', async () => {
    const spec = { cron: '* * * * *', type: 'cleanup-recognitions' as const, payload: { daysOld: 7 } };
    const good = await createSchedule(queue, { ...spec, orgId: ORG, name: 'good' });
    const stale = await createSchedule(queue, { ...spec, orgId: ORG, name: 'stale-payload' });
    const badCron = await createSchedule(queue, { ...spec, orgId: ORG, name: 'bad-cron' });
    // Rows changed since creation (a payload schema that moved on, a hand-edited cron).
    await store.update(JOB_TABLES.schedules, stale.$id, { payload: JSON.stringify({ daysOld: 0 }) });
    await store.update(JOB_TABLES.schedules, badCron.$id, { cron: '61 * * * *' });
    await clock.advance(60_000);
    const r = await tickSchedules(queue);
    expect(r).toMatchObject({ schedules: 3, materialised: 1 });
    expect([...r.invalid].sort()).toEqual([stale.$id, badCron.$id].sort());
    const jobs = (await store.list(JOB_TABLES.queue)).rows;
    expect(jobs.map((j) => j.scheduleId)).toEqual([good.$id]);
    expect((await store.get(JOB_TABLES.schedules, stale.$id))?.lastSlotAt).toBeNull();
  });

  it('computes due slots without any before the schedule existed', () => {
    const s = { cron: '0 * * * *', timezone: null, maxCatchUp: 5, lastSlotAt: null, createdAtMs: T0 + 1 };
    expect(dueSlots(s, T0 + 3 * 3_600_000).slots).toEqual([
      T0 + 3_600_000,
      T0 + 2 * 3_600_000,
      T0 + 3 * 3_600_000,
    ]);
  });
});

describe('product handlers', () => {
  async function recognition(id: string, orgId: string, message: string, ageDays: number) {
    const saved = clock.now();
    clock.set(saved - ageDays * 86_400_000);
    await store.create(RECOGNITIONS_TABLE, id, {
      orgId,
      giverId: 'u1',
      receiverId: 'u2',
      message,
      points: 5,
      tags: ['a', 'b'],
    });
    clock.set(saved);
  }

  async function runAll(sent: unknown[] = []) {
    const w = createWorker({ queue });
    registerProductHandlers(w, {
      store,
      clock,
      sendNotification: async (p) => {
        sent.push(p);
        return { id: 'msg-1' };
      },
    });
    return w.drain({ deadlineAt: clock.now() + 120_000 });
  }

  it('generate-export writes the organization’s recognitions as CSV rows that read back whole', async () => {
    await recognition('r1', ORG, 'Thanks, "Bob"', 1);
    await recognition('r2', ORG, '=HYPERLINK("x")', 2);
    await recognition('r3', OTHER, 'not mine', 1);
    const { jobId } = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    expect((await runAll()).completed).toBe(1);
    const job = (await queue.get(jobId))!;
    expect(JSON.parse(job.result!)).toMatchObject({ exportId: jobId, rows: 2, chunks: 1 });
    const { csv } = await readExport(store, jobId, ORG);
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('$id,$createdAt,giverId,receiverId,message,points,tags');
    expect(lines[1]).toContain('"Thanks, ""Bob"""');
    expect(lines[2]).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).not.toContain('not mine');
    expect(hasCode(await rejection(readExport(store, jobId, OTHER)), 'NOT_FOUND')).toBe(true);
  });

  it('generate-export splits a large file into chunks', async () => {
    const long = 'x'.repeat(900);
    for (let i = 0; i < 150; i++) await recognition(`r${i}`, ORG, long, 1);
    const { jobId } = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    await runAll();
    const result = JSON.parse((await queue.get(jobId))!.result!);
    expect(result.chunks).toBe(Math.ceil(result.bytes / EXPORT_CHUNK_CHARS));
    expect(result.chunks).toBeGreaterThan(1);
    expect((await readExport(store, jobId, ORG)).csv.split('\r\n').length).toBe(152);
  });

  it('cleanup-recognitions deletes only the organization’s rows older than daysOld', async () => {
    await recognition('old-a', ORG, 'old', 100);
    await recognition('new-a', ORG, 'new', 10);
    await recognition('old-b', OTHER, 'old', 100);
    const { jobId } = await queue.enqueue({
      orgId: ORG,
      type: 'cleanup-recognitions',
      payload: { daysOld: 90 },
    });
    await runAll();
    expect(JSON.parse((await queue.get(jobId))!.result!)).toMatchObject({ deleted: 1 });
    expect((await store.list(RECOGNITIONS_TABLE)).rows.map((r) => r.$id).sort()).toEqual(['new-a', 'old-b']);
  });

  it('send-notification passes the payload to the sender', async () => {
    const sent: unknown[] = [];
    await queue.enqueue({ orgId: ORG, type: 'send-notification', payload: { channel: 'slack', text: 'hi' } });
    await runAll(sent);
    expect(sent).toEqual([{ channel: 'slack', text: 'hi' }]);
  });

  it('csvCell quotes and neutralises formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell(['x', 'y'])).toBe('x;y');
    expect(csvCell(null)).toBe('');
  });
});

describe('metrics', () => {
  it('reports depth by status and type, oldest due age, failure rate and latency percentiles', async () => {
    const a = await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    await clock.advance(10_000);
    await queue.enqueue({ orgId: ORG, type: 'cleanup-recognitions', payload: { daysOld: 5 } });
    await queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, delayMs: 60_000 });
    const lease = await claimOne(queue);
    expect(lease.job.$id).toBe(a.jobId);
    await clock.advance(2000);
    await queue.complete(lease, null);
    await queue.enqueue({
      orgId: ORG,
      type: 'send-notification',
      payload: { channel: 'x', text: 'y' },
      maxRetries: 0,
    });
    const failing = (await queue.claim({ workerId: 'w', limit: 5 })).find(
      (l) => l.job.type === 'send-notification',
    )!;
    await queue.fail(failing, 'down');
    const m = await collectJobMetrics({ store, clock, orgId: ORG });
    expect(m.depth).toMatchObject({ PENDING: 1, PROCESSING: 1, DEAD_LETTER: 1 });
    expect(m.depthByType['generate-export']).toEqual({ PENDING: 1 });
    expect(m.due).toBe(0);
    expect(m.finishedInWindow).toMatchObject({ COMPLETED: 1, DEAD_LETTER: 1 });
    expect(m.failureRate).toBe(0.5);
    expect(m.totalLatencyMs).toMatchObject({ count: 1, p50: 12_000 });
    expect(m.runLatencyMs.p99).toBe(2000);
    await clock.advance(120_000);
    expect((await collectJobMetrics({ store, clock })).oldestDueAgeMs).toBe(62_000);
  });
});

describe('seed API', () => {
  it('enqueueJob answers with the status path; registerHandler + startWorker drain until the deadline', async () => {
    const real = new MemoryTableStore({ clock });
    const jobs = createJobs({ store: real, clock });
    const r = await jobs.enqueueJob(
      'cleanup-recognitions',
      { daysOld: 90 },
      { orgId: ORG, priority: 1, maxRetries: 2, leaseMs: 1000 },
    );
    expect(r.checkStatusAt).toBe(`/status/${r.jobId}`);
    jobs.registerHandler('cleanup-recognitions', async (p: { daysOld: number }) => ({ days: p.daysOld }));
    const { drains } = await driven(jobs.startWorker(50, { deadlineAt: clock.now() + 4200, marginMs: 3000 }));
    expect(drains.reduce((n, d) => n + d.completed, 0)).toBe(1);
    expect(await jobs.queue.get(r.jobId)).toMatchObject({ status: 'COMPLETED', result: '{"days":90}' });
  });
});

describe('crash recovery in one drain', () => {
  /** Enqueues `n` jobs and leaves them PROCESSING under a dead worker's leases, expired by `clock`. */
  async function expiredLeases(n: number, extra: { maxRetries?: number } = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        (
          await queue.enqueue({
            orgId: ORG,
            type: 'send-notification',
            payload: { channel: 'slack', text: `n${i}` },
            leaseMs: 1000,
            ...extra,
          })
        ).jobId,
      );
    }
    for (let held = 0; held < n; ) held += (await queue.claim({ workerId: 'dead', limit: 50 })).length;
    await clock.advance(1001);
    return ids;
  }

  it('a fresh drain takes over every expired lease (3 sweeps of 50) and runs each job once', async () => {
    const ids = await expiredLeases(130);
    const ran = new Map<string, number>();
    const w = createWorker({ queue: newQueue(), workerId: 'rescuer' });
    w.registerHandler('send-notification', (_p, ctx) => {
      ran.set(ctx.jobId, (ran.get(ctx.jobId) ?? 0) + 1);
      return null;
    });
    const report = await driven(w.drain({ deadlineAt: clock.now() + 60_000 }));
    expect(report).toMatchObject({ recovered: 130, completed: 130, stoppedBy: 'idle' });
    expect(ran.size).toBe(130);
    expect([...ran.values()].every((k) => k === 1)).toBe(true);
    for (const id of ids) expect(await queue.get(id)).toMatchObject({ status: 'COMPLETED', attempts: 2 });
  });

  it('never reports idle while expired leases remain, even with no due job and a long recoverEveryMs', async () => {
    await expiredLeases(60);
    const w = createWorker({
      queue: newQueue(),
      workerId: 'r',
      lanes: 1,
      batchSize: 20,
      recoverEveryMs: 3_600_000,
    });
    w.registerHandler('send-notification', () => null);
    const report = await driven(w.drain({ deadlineAt: clock.now() + 60_000 }));
    expect(report).toMatchObject({ recovered: 60, completed: 60, stoppedBy: 'idle' });
    expect(await queue.recoverExpired({ workerId: 'x', limit: 50 })).toEqual([]);
  });

  it('dead-letters expired jobs out of attempts in the same sweeps, and counts them', async () => {
    const ids = await expiredLeases(12, { maxRetries: 0 });
    const w = createWorker({ queue: newQueue(), workerId: 'r' });
    w.registerHandler('send-notification', () => null);
    const report = await driven(w.drain({ deadlineAt: clock.now() + 60_000 }));
    expect(report).toMatchObject({ recovered: 0, deadLettered: 12, stoppedBy: 'idle' });
    for (const id of ids) expect((await queue.get(id))?.status).toBe('DEAD_LETTER');
  });

  it('two drains recovering at once take each expired job exactly once', async () => {
    await expiredLeases(100);
    const ran = new Map<string, number>();
    const workers = ['a', 'b'].map((id) => {
      const w = createWorker({ queue: newQueue(Math.random), workerId: id, batchSize: 20 });
      w.registerHandler('send-notification', async (_p, ctx) => {
        ran.set(ctx.jobId, (ran.get(ctx.jobId) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
        return null;
      });
      return w;
    });
    const reports = await driven(
      Promise.all(workers.map((w) => w.drain({ deadlineAt: clock.now() + 60_000 }))),
    );
    expect(reports.reduce((n, r) => n + r.recovered, 0)).toBe(100);
    expect(reports.reduce((n, r) => n + r.completed, 0)).toBe(100);
    expect(ran.size).toBe(100);
    expect([...ran.values()].every((k) => k === 1)).toBe(true);
  });
});

describe('trace context', () => {
  const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('stores the enqueuing request’s traceparent; the handler runs in a child span of it, logged per attempt', async () => {
    const { jobId, job } = await queue.enqueue({
      orgId: ORG,
      type: 'send-notification',
      payload: { channel: 'slack', text: 't' },
      traceparent: PARENT.toUpperCase(),
    });
    expect(job.traceparent).toBe(PARENT);
    const events: WorkerEvent[] = [];
    const w = createWorker({ queue, onEvent: (e) => events.push(e) });
    let seen: { traceId: string; spanId: string; parentSpanId?: string } | undefined;
    w.registerHandler('send-notification', (_p, ctx) => {
      seen = ctx.trace;
      return null;
    });
    await driven(w.drain({ deadlineAt: clock.now() + 60_000 }));
    expect(seen).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
    });
    expect(seen?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(seen?.spanId).not.toBe('00f067aa0ba902b7');
    expect(events.find((e) => e.kind === 'settled')).toMatchObject({
      jobId,
      traceId: seen?.traceId,
      spanId: seen?.spanId,
    });
  });

  it('drops an invalid traceparent (the job gets a new trace) and never fails the enqueue', async () => {
    const { job } = await queue.enqueue({
      orgId: ORG,
      type: 'send-notification',
      payload: { channel: 'slack', text: 't' },
      traceparent: 'not-a-trace',
    });
    expect(job.traceparent).toBeNull();
    const w = createWorker({ queue });
    let trace: { traceId: string; parentSpanId?: string } | undefined;
    w.registerHandler('send-notification', (_p, ctx) => {
      trace = ctx.trace;
      return null;
    });
    await driven(w.drain({ deadlineAt: clock.now() + 60_000 }));
    expect(trace?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trace?.parentSpanId).toBeUndefined();
    expect(parseTraceparent(PARENT)?.traceId).not.toBe(trace?.traceId);
  });
});

describe('worker randomness', () => {
  it('draws shards and pauses from the queue’s random, never Math.random', async () => {
    let draws = 0;
    const q = newQueue(() => {
      draws++;
      return 0.25;
    });
    for (let i = 0; i < 5; i++) await q.enqueue({ orgId: ORG, type: 'generate-export', payload: {} });
    const spy = vi.spyOn(Math, 'random');
    try {
      const w = createWorker({ queue: q, lanes: 2 });
      w.registerHandler('generate-export', () => 'ok');
      const before = draws;
      const report = await driven(w.drain({ deadlineAt: clock.now() + 900_000 }));
      expect(report, JSON.stringify(report)).toMatchObject({ completed: 5 });
      expect(draws).toBeGreaterThan(before);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('idempotency keys', () => {
  it('a row at the key’s id holding another key is refused (409), never returned as the same job', async () => {
    const id = (
      await queue.enqueue({
        orgId: ORG,
        type: 'generate-export',
        payload: {},
        idempotencyKey: 'k1',
      })
    ).jobId;
    // As if a case-insensitive store had matched a look-alike key's id: same id, different stored key.
    await store.update(JOB_TABLES.queue, id, { idempotencyKey: 'K1' });
    const error = await rejection(
      queue.enqueue({ orgId: ORG, type: 'generate-export', payload: {}, idempotencyKey: 'k1' }),
    );
    expect(hasCode(error, 'CONFLICT')).toBe(true);
  });
});
