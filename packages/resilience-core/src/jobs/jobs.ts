import type { Clock } from '../ports/clock.ts';
import type { TableStore } from '../ports/table-store.ts';
import {
  cleanupRecognitionsType,
  createCleanupRecognitionsHandler,
} from './handlers/cleanup-recognitions.ts';
import { createGenerateExportHandler, generateExportType } from './handlers/generate-export.ts';
import {
  createSendNotificationHandler,
  type SendNotification,
  sendNotificationType,
} from './handlers/send-notification.ts';
import type { JobStatus } from './job-row.ts';
import type { JobTypeSpec } from './job-types.ts';
import { createJobQueue, type EnqueueInput, type JobHandler, type JobQueue } from './queue.ts';
import { type TickReport, tickSchedules } from './schedules.ts';
import { createWorker, type DrainReport, type Worker, type WorkerOptions } from './worker.ts';

/** The job types of the product (what `enqueue` accepts in create-recognition and job-worker). */
export const productJobTypes: JobTypeSpec[] = [
  generateExportType,
  cleanupRecognitionsType,
  sendNotificationType,
];

/** The status route of a job, as returned in 202 answers. */
export function statusPath(jobId: string): string {
  return `/status/${encodeURIComponent(jobId)}`;
}

/** Options of {@link createJobs}. */
export interface JobsOptions extends Omit<WorkerOptions, 'queue'> {
  store: TableStore;
  clock?: Clock;
  /** Job types accepted. Default {@link productJobTypes}. */
  types?: readonly JobTypeSpec[];
  random?: () => number;
}

/** The seed API over the queue and a worker. */
export interface Jobs {
  readonly queue: JobQueue;
  readonly worker: Worker;
  /**
   * Seed: `enqueueJob(type, payload, { priority, maxRetries })` → `{ jobId, … }`. `orgId` is required (every
   * job belongs to an organization); the other EnqueueInput options (runAt, delayMs, idempotencyKey, …) apply.
   */
  enqueueJob(
    type: string,
    payload: unknown,
    options: Omit<EnqueueInput, 'type' | 'payload'>,
  ): Promise<{ jobId: string; status: JobStatus; deduplicated: boolean; checkStatusAt: string }>;
  /** Seed: `queue.registerHandler(type, async (payload) => result)`. */
  registerHandler<P = unknown>(type: string, handler: JobHandler<P>): void;
  /**
   * Seed: `startWorker(intervalMs)`. Here a drain that ends before `deadlineAt`: tick schedules, drain due
   * jobs, and when the queue is empty wait `intervalMs` and look again — until the deadline or the signal.
   */
  startWorker(
    intervalMs: number,
    options: { deadlineAt: number; signal?: AbortSignal; marginMs?: number },
  ): Promise<{ drains: DrainReport[]; ticks: TickReport[] }>;
}

/** Creates the seed-API facade: a queue, a worker, and the three entry points teams know. */
export function createJobs(options: JobsOptions): Jobs {
  const queue = createJobQueue({
    store: options.store,
    types: options.types ?? productJobTypes,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const { store: _s, clock: _c, types: _t, random: _r, ...workerOptions } = options;
  const worker = createWorker({ ...workerOptions, queue });
  return {
    queue,
    worker,
    async enqueueJob(type, payload, opts) {
      const r = await queue.enqueue({ ...opts, type, payload });
      return {
        jobId: r.jobId,
        status: r.status,
        deduplicated: r.deduplicated,
        checkStatusAt: statusPath(r.jobId),
      };
    },
    registerHandler(type, handler) {
      worker.registerHandler(type, handler);
    },
    async startWorker(intervalMs, o) {
      const drains: DrainReport[] = [];
      const ticks: TickReport[] = [];
      const margin = o.marginMs ?? 3000;
      while (!o.signal?.aborted && o.deadlineAt - margin - queue.clock.now() > intervalMs) {
        ticks.push(await tickSchedules(queue));
        drains.push(
          await worker.drain({
            deadlineAt: o.deadlineAt,
            marginMs: margin,
            exitWhenIdle: true,
            ...(o.signal ? { signal: o.signal } : {}),
          }),
        );
        await queue.clock.sleep(intervalMs, o.signal).catch(() => {});
      }
      return { drains, ticks };
    },
  };
}

/** Dependencies of the product handlers. */
export interface ProductHandlerDeps {
  store: TableStore;
  clock: Clock;
  /** Sends a deferred notification (the notifier behind its breaker). */
  sendNotification: SendNotification;
}

/** Registers the handlers of {@link productJobTypes} on a worker. */
export function registerProductHandlers(
  worker: Pick<Worker, 'registerHandler'>,
  deps: ProductHandlerDeps,
): void {
  worker.registerHandler(generateExportType.type, createGenerateExportHandler(deps));
  worker.registerHandler(cleanupRecognitionsType.type, createCleanupRecognitionsHandler(deps));
  worker.registerHandler(sendNotificationType.type, createSendNotificationHandler(deps.sendNotification));
}

/** Options of {@link runWorkerExecution}. */
export interface WorkerExecutionOptions {
  queue: JobQueue;
  worker: Worker;
  /** When the execution started, epoch ms. */
  startedAt: number;
  /** The function's timeout, ms (the execution is killed at startedAt + timeoutMs). */
  timeoutMs: number;
  /** Stop claiming this long before the timeout, ms. Default 5,000. */
  marginMs?: number;
  /** Materialise due schedule slots first. Default true. */
  tick?: boolean;
}

/**
 * One job-worker execution (cron every minute, or a job-created event): materialise due schedule slots,
 * then drain due jobs until idle or `marginMs` before the timeout. Safe to run many at once.
 */
export async function runWorkerExecution(
  options: WorkerExecutionOptions,
): Promise<{ tick: TickReport | null; drain: DrainReport }> {
  const tick = options.tick === false ? null : await tickSchedules(options.queue);
  const drain = await options.worker.drain({
    deadlineAt: options.startedAt + options.timeoutMs,
    marginMs: options.marginMs ?? 5000,
    exitWhenIdle: true,
  });
  return { tick, drain };
}
