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
import type { QueueContext } from './queue-cas.ts';
import { createLease } from './queue-lease.ts';
import { createProducer } from './queue-producer.ts';
import type { JobClient, JobQueue, JobQueueOptions } from './queue-types.ts';

export { casOps, isRaceError, reconcile } from './queue-cas.ts';
export { MAX_CLAIM_BATCH } from './queue-lease.ts';
export { idempotentJobId } from './queue-producer.ts';
export type * from './queue-types.ts';

/** Creates the queue over a TableStore. */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const ctx = queueContext(options);
  return { ...clientOver(ctx), ...createLease(ctx) };
}

/** The producer and admin halves only (see {@link JobClient}): what a request path needs. */
export function createJobClient(options: JobQueueOptions): JobClient {
  return clientOver(queueContext(options));
}

function queueContext(options: JobQueueOptions): QueueContext {
  return {
    store: options.store,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    types: new Map(options.types.map((t) => [t.type, t])),
  };
}

function clientOver(ctx: QueueContext): JobClient {
  return {
    store: ctx.store,
    clock: ctx.clock,
    random: ctx.random,
    ...createProducer(ctx),
    ...createAdmin(ctx),
    typeSpec: (type) => ctx.types.get(type),
  };
}
