/** Retention: bounded, idempotent deletion of old breaker, export and job rows (run daily by quota-reset). */
export * from '../ports/delete-where.ts';
export * from './run-retention.ts';
