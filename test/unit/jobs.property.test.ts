import fc from 'fast-check';
import { hasCode } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { createJobQueue, JOB_TABLES, type JobQueue, type Lease, productJobTypes } from 'resilience-core/jobs';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';

/** One step of a random history of queue operations by several workers. */
type Step =
  | { op: 'enqueue' }
  | { op: 'claim'; worker: number; limit: number }
  | { op: 'recover'; worker: number }
  | { op: 'complete'; lease: number }
  | { op: 'fail'; lease: number }
  | { op: 'heartbeat'; lease: number }
  | { op: 'cancel'; job: number }
  | { op: 'redrive'; job: number }
  | { op: 'advance'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ op: 'enqueue' }),
  fc.record({ op: fc.constant('claim' as const), worker: fc.nat(3), limit: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('recover' as const), worker: fc.nat(3) }),
  fc.record({ op: fc.constant('complete' as const), lease: fc.nat(40) }),
  fc.record({ op: fc.constant('fail' as const), lease: fc.nat(40) }),
  fc.record({ op: fc.constant('heartbeat' as const), lease: fc.nat(40) }),
  fc.record({ op: fc.constant('cancel' as const), job: fc.nat(10) }),
  fc.record({ op: fc.constant('redrive' as const), job: fc.nat(10) }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 4000 }) }),
);

describe('job state machine (property)', () => {
  it('a write through a lease succeeds exactly when its token is the job’s version; a job has at most one live lease; finished jobs stay finished', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        const clock = new ManualClock();
        const store = new MemoryTableStore({ clock });
        const queues: JobQueue[] = Array.from({ length: 4 }, () =>
          createJobQueue({ store, clock, types: productJobTypes, random: () => 0.5 }),
        );
        const q = queues[0]!;
        const jobs: string[] = [];
        const leases: Lease[] = [];
        for (const s of steps) {
          switch (s.op) {
            case 'enqueue':
              jobs.push(
                (
                  await q.enqueue({
                    orgId: 'o',
                    type: 'generate-export',
                    payload: {},
                    leaseMs: 2000,
                    maxRetries: 2,
                    backoff: { baseMs: 100, maxMs: 1000 },
                  })
                ).jobId,
              );
              break;
            case 'claim':
            case 'recover': {
              const queue = queues[s.worker]!;
              const got =
                s.op === 'claim'
                  ? await queue.claim({ workerId: `w${s.worker}`, limit: s.limit })
                  : await queue.recoverExpired({ workerId: `w${s.worker}`, limit: 4 });
              for (const lease of got) {
                const row = await q.get(lease.job.$id);
                expect(row?.status).toBe('PROCESSING');
                expect(row?.version).toBe(lease.token);
              }
              leases.push(...got);
              break;
            }
            case 'complete':
            case 'fail':
            case 'heartbeat': {
              const lease = leases[s.lease];
              if (!lease) break;
              const before = await q.get(lease.job.$id);
              const live = before?.version === lease.token;
              const attempt =
                s.op === 'complete'
                  ? q.complete(lease, 1)
                  : s.op === 'fail'
                    ? q.fail(lease, 'x')
                    : q.heartbeat({ ...lease, job: { ...lease.job } });
              const error = await attempt.then(
                () => null,
                (e: unknown) => e,
              );
              expect(error === null).toBe(live);
              if (error) expect(hasCode(error, 'LEASE_LOST')).toBe(true);
              const after = await q.get(lease.job.$id);
              if (!live) expect(after).toEqual(before); // a refused write changes nothing
              break;
            }
            case 'cancel':
            case 'redrive': {
              const id = jobs[s.job];
              if (!id) break;
              await (s.op === 'cancel' ? q.cancel(id) : q.redrive(id)).catch((e: unknown) => {
                expect(hasCode(e, 'CONFLICT')).toBe(true);
              });
              break;
            }
            case 'advance':
              await clock.advance(s.ms);
              break;
          }
          // Invariant: per job, at most one lease carries the current version, and only while PROCESSING.
          const rows = (await store.list(JOB_TABLES.queue, { limit: 1000 })).rows;
          for (const row of rows) {
            const liveLeases = leases.filter((l) => l.job.$id === row.$id && l.token === row.version);
            expect(liveLeases.length).toBeLessThanOrEqual(1);
            if (liveLeases.length) expect(row.status).toBe('PROCESSING');
            expect(row.attempts as number).toBeLessThanOrEqual((row.maxRetries as number) + 1);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
