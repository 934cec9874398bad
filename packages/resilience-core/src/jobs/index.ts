/**
 * Background jobs: a persistent queue in Appwrite tables, leased claims with fencing tokens, retries with
 * backoff, a dead-letter queue, cron schedules, metrics, and the product's handlers.
 */
export * from './backoff.ts';
export * from './export-row.ts';
export * from './handlers/cleanup-recognitions.ts';
export * from './handlers/generate-export.ts';
export * from './handlers/send-notification.ts';
export * from './job-row.ts';
export * from './job-types.ts';
export * from './jobs.ts';
export * from './metrics.ts';
export * from './queue.ts';
export * from './schedule-row.ts';
export * from './schedules.ts';
export * from './tables.ts';
export * from './worker.ts';
