/**
 * Background jobs on Appwrite's primitives only (unique-id create, bounded increments, transactions).
 *
 * - Storage: one `job-queue` row per job (job-row.ts: every field with its unit and default), `job-schedules`
 *   for cron schedules, `exports` for generated CSV files (rows, chunked — the local server has no Storage).
 * - Enqueue: one create. The payload is validated by the type's zod schema first; an idempotency key makes the
 *   row id deterministic (`stableId('jk', orgId, key)`), so a second enqueue hits CONFLICT and returns the first.
 * - Claim: list due jobs (priority, then `$sequence`), then ONE transaction that, per job, updates it to
 *   PROCESSING with a lease and bumps `version` by 1 bounded at the version read (compare-and-set). The new
 *   version is the fencing token. A transaction fails whole if any job was taken meanwhile; the lane then
 *   retries with half the batch on another shard (jobs carry a random `shard`, lanes stick to one while they
 *   win, so concurrent workers mostly claim disjoint batches).
 * - Settle: the outcomes of a lane's batch go in one transaction of the same compare-and-set pairs; a lost
 *   lease (stale token) fails it, and each outcome is then settled alone so only the stale one is refused
 *   (LEASE_LOST). Heartbeats extend a lease the same way. Expired leases are taken over by any worker as a new
 *   attempt (or dead-lettered when none is left), in batches, until none is left. A commit with an unknown
 *   outcome (OUTCOME_UNKNOWN) is resolved by re-reading the rows (`reconcile`).
 * - Round trips per job: 1 (enqueue) + (1–2 lists + 3 claim + 3 settle) / batch — ≈ 1.15 at batch 50 (the
 *   default: 2 operations per job, Appwrite's 100-operation limit) when transactions cost 3 requests (create,
 *   stage, commit); 1.19 measured. Details, the crash-recovery bound and how to add a type: README.md here.
 * - Failures retry with exponential backoff and equal jitter (backoff.ts) up to maxRetries, then DEAD_LETTER
 *   with the last error and the attempt history; redrive and cancel are compare-and-set transitions too.
 * - Schedules (schedules.ts): one job per (schedule, slot) by deterministic id; bounded catch-up.
 * - Execution: `runWorkerExecution` (cron every minute + job-created events) ticks schedules, then drains
 *   until idle or shortly before the function timeout; it claims only jobs whose lease fits before it stops and
 *   aborts (fails, to retry) handlers still running then, so nothing is left half-done.
 * - Retention (prune.ts, run daily by quota-reset): COMPLETED/CANCELLED jobs and export files age out;
 *   DEAD_LETTER and FAILED jobs stay until redriven or purged; scheduled jobs stay until their slot settled.
 * - Delivery is at least once: a handler whose worker dies after side effects but before settling runs again
 *   after its lease expires. Handlers should be idempotent (the product handlers are).
 */

export { type BackoffPolicy, calculateDelay } from './backoff.ts';
export { type CleanupResult, cleanupRecognitionsPayload } from './handlers/cleanup-recognitions.ts';
export {
  csvCell,
  EXPORT_CHUNK_CHARS,
  type ExportResult,
  exportChunkId,
  readExport,
} from './handlers/generate-export.ts';
export {
  createSendNotificationHandler,
  enqueueNotification,
  type NotificationPayload,
  type SendNotification,
} from './handlers/send-notification.ts';
export {
  type AttemptRecord,
  DUE_STATUSES,
  type JobRow,
  type JobStatus,
  parseJobRow,
  readHistory,
  type StoredJob,
} from './job-row.ts';
export { defineJobType, type JobTypeDefaults, type JobTypeSpec } from './job-types.ts';
export {
  createJobs,
  type Jobs,
  type JobsOptions,
  type ProductHandlerDeps,
  productJobTypes,
  registerProductHandlers,
  runWorkerExecution,
  statusPath,
  type WorkerExecutionOptions,
} from './jobs.ts';
export { collectJobMetrics, type JobMetrics, type JobMetricsOptions, type Percentiles } from './metrics.ts';
export { type JobPrometheusOptions, writeJobMetrics } from './prometheus.ts';
export {
  casOps,
  createJobClient,
  createJobQueue,
  idempotentJobId,
  MAX_CLAIM_BATCH,
  reconcile,
} from './queue.ts';
export type * from './queue-types.ts';
export {
  type CreateScheduleInput,
  createSchedule,
  dueSlots,
  slotJobId,
  slotSettledAt,
  type TickReport,
  tickSchedules,
} from './schedules.ts';
export { JOB_TABLES, jobTables } from './tables.ts';
export {
  createWorker,
  type DrainOptions,
  type DrainReport,
  type Worker,
  type WorkerEvent,
  type WorkerOptions,
} from './worker.ts';
