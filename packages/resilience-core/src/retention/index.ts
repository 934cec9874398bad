/** Retention: bounded, idempotent deletion of old breaker, export and job rows (run daily by quota-reset). */

export { type RetentionOptions, type RetentionReport, runRetention } from './run-retention.ts';
