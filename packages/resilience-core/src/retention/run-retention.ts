import { pruneCircuitBreakerRowsWithin } from '../circuit-breaker/shared-circuit-store.ts';
import { errors } from '../errors.ts';
import { pruneExports, pruneFinishedJobs } from '../jobs/prune.ts';
import type { Clock } from '../ports/clock.ts';
import type { TableStore } from '../ports/table-store.ts';

/**
 * Retention: the daily deletion of rows nothing needs any more, run by the `quota-reset` cron (00:00 UTC) after
 * the quota steps — one daily maintenance function instead of a second cron, and not a job-queue schedule
 * (schedules belong to an organization; this is fleet-wide housekeeping).
 *
 * | rows | deleted when | default |
 * |---|---|---|
 * | `circuit-breaker-buckets`, `circuit-breaker-probes` | bucket start / lease end older than `breakerRetentionHours` | 48 h (min 25: the longest time window is 24 h + a bucket) |
 * | `exports` (CSV chunks) | written more than `exportRetentionDays` ago (the download is then 404) | 7 days |
 * | `job-queue` COMPLETED, CANCELLED | finished more than `jobRetentionDays` ago, and for scheduled jobs once their slot can never be materialised again | 14 days |
 * | `job-queue` DEAD_LETTER, FAILED | never by retention: kept until redriven (they then finish and age out) or purged by an operator | — |
 *
 * Bounded: at most `maxDeletes` rows per run (each step gets an equal share of what is left, so one flooded
 * table never starves the others) and no new page after `deadline`; what is left is deleted by the next run.
 * Idempotent: every step deletes by a time cut-off, so running twice (or concurrently) deletes nothing more.
 * Job deletes are compare-and-set on the job's version, so a job redriven meanwhile is never lost.
 */

/** Options of {@link runRetention}. */
export interface RetentionOptions {
  store: TableStore;
  clock: Clock;
  /** Days COMPLETED and CANCELLED jobs are kept after finishing. Default 14; at least 1. */
  jobRetentionDays?: number;
  /** Days export files are kept after they were written. Default 7; at least 1. */
  exportRetentionDays?: number;
  /** Hours circuit-breaker buckets and ended probe leases are kept. Default 48; at least 25. */
  breakerRetentionHours?: number;
  /** Most rows deleted per run, all tables together. Default 5,000. */
  maxDeletes?: number;
  /** Epoch ms (by `clock`) after which no new page starts. Default: none. */
  deadline?: number;
}

/** What one run did. */
export interface RetentionReport {
  /** True when `maxDeletes` or the deadline stopped it with rows left (the next run continues). */
  incomplete: boolean;
  breakerRowsDeleted: number;
  exportRowsDeleted: number;
  jobsDeleted: number;
  /** Old enough, but kept because their schedule slot could still be materialised again. */
  jobsKeptForSchedules: number;
  /** Left alone because they changed between the read and the delete (e.g. redriven). */
  jobsRaced: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function atLeast(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw errors.invalidInput(`${name} must be at least ${min}`, [{ path: name, message: `minimum ${min}` }]);
  }
  return value;
}

/** Runs every retention step once, within the limits. See the file header. */
export async function runRetention(options: RetentionOptions): Promise<RetentionReport> {
  const { store, clock } = options;
  const jobDays = atLeast('jobRetentionDays', options.jobRetentionDays ?? 14, 1);
  const exportDays = atLeast('exportRetentionDays', options.exportRetentionDays ?? 7, 1);
  const breakerHours = atLeast('breakerRetentionHours', options.breakerRetentionHours ?? 48, 25);
  const maxDeletes = atLeast('maxDeletes', options.maxDeletes ?? 5000, 1);
  const now = clock.now();
  const shouldStop = () => options.deadline !== undefined && clock.now() >= options.deadline;
  const report: RetentionReport = {
    incomplete: false,
    breakerRowsDeleted: 0,
    exportRowsDeleted: 0,
    jobsDeleted: 0,
    jobsKeptForSchedules: 0,
    jobsRaced: 0,
  };
  // Each step may use an equal share of what is left, so a flood of one kind never starves the others.
  const share = (steps: number) =>
    Math.ceil(
      (maxDeletes - report.breakerRowsDeleted - report.exportRowsDeleted - report.jobsDeleted) / steps,
    );

  const breakers = await pruneCircuitBreakerRowsWithin(store, now - breakerHours * HOUR, {
    maxDeletes: share(3),
    shouldStop,
  });
  report.breakerRowsDeleted = breakers.deleted;

  const exports = await pruneExports(store, now - exportDays * DAY, { maxDeletes: share(2), shouldStop });
  report.exportRowsDeleted = exports.deleted;

  const jobs = await pruneFinishedJobs(store, {
    before: now - jobDays * DAY,
    now,
    maxDeletes: share(1),
    shouldStop,
  });
  report.jobsDeleted = jobs.deleted;
  report.jobsKeptForSchedules = jobs.keptForSchedules;
  report.jobsRaced = jobs.raced;
  report.incomplete = !(breakers.complete && exports.complete && jobs.complete);
  return report;
}
