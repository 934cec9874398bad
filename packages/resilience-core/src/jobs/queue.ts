/**
 * The job queue: `createJobQueue` composes the three halves over one context, each in its own file —
 * - producer (queue-producer.ts): enqueue, validated by a zod schema, one create;
 * - admin (queue-admin.ts): get, getForOrg, listDeadLetters, cancel and redrive (compare-and-set transitions);
 * - lease (queue-lease.ts): claim, heartbeat, settle/complete/fail and the expired-lease recovery sweep;
 * and what they share (queue-cas.ts: the job compare-and-set, `reconcile`, the reads) and the public types
 * (queue-types.ts). Every state change is a version compare-and-set (see job-row.ts and
 * ports/compare-and-set.ts). This file is the queue's public surface: import from here.
 */
import { systemClock } from '../ports/clock.ts';
import { createAdmin } from './queue-admin.ts';
import { createLease } from './queue-lease.ts';
import { createProducer } from './queue-producer.ts';
import type { JobQueue, JobQueueOptions } from './queue-types.ts';

export { casOps, isRaceError, reconcile } from './queue-cas.ts';
export { MAX_CLAIM_BATCH } from './queue-lease.ts';
export { DEFAULT_LEASE_MS, DEFAULT_MAX_RETRIES, idempotentJobId } from './queue-producer.ts';
export type {
  AttemptOutcome,
  ClaimOptions,
  EnqueueInput,
  EnqueueResult,
  JobContext,
  JobHandler,
  JobQueue,
  JobQueueOptions,
  Lease,
  RecoverySweep,
  SettleResult,
} from './queue-types.ts';

/** Creates the queue over a TableStore. */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const types = new Map(options.types.map((t) => [t.type, t]));
  const ctx = { store, clock, random, types };
  return {
    store,
    clock,
    random,
    ...createProducer(ctx),
    ...createAdmin(ctx),
    ...createLease(ctx),
    typeSpec: (type) => types.get(type),
  };
}
