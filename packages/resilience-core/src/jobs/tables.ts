import type { ColumnSpec, TableSpec } from '../schema/table-spec.ts';
import { exportChunkRowSchema } from './export-row.ts';
import {
  JOB_STATUSES,
  jobRowSchema,
  MAX_ERROR_CHARS,
  MAX_HISTORY_CHARS,
  MAX_PAYLOAD_CHARS,
  MAX_RESULT_CHARS,
  TRACEPARENT_CHARS,
} from './job-row.ts';
import { scheduleRowSchema } from './schedule-row.ts';

/** Table ids of the job system. */
export const JOB_TABLES = {
  /** One row per job ({@link JobRow}). */
  queue: 'job-queue',
  /** One row per recurring schedule ({@link ScheduleRow}). */
  schedules: 'job-schedules',
  /** CSV exports, one row per chunk ({@link ExportChunkRow}). */
  exports: 'exports',
} as const;

const str = (key: string, size: number, required = false): ColumnSpec => ({
  key,
  type: 'string',
  size,
  required,
});
const int = (key: string, required = false, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  key,
  type: 'integer',
  required,
  ...extra,
});

/** `job-queue`: the persistent queue. Column keys equal {@link JobRow} field names. */
export const jobQueueTable: TableSpec = {
  $id: JOB_TABLES.queue,
  name: 'Job queue',
  columns: [
    str('orgId', 36, true),
    str('type', 64, true),
    str('payload', MAX_PAYLOAD_CHARS, true),
    { key: 'status', type: 'string', format: 'enum', elements: [...JOB_STATUSES], required: true },
    int('priority', false, { default: 0, min: -1000, max: 1000 }),
    int('shard', false, { default: 0, min: 0, max: 255 }),
    int('runAt', true),
    int('attempts', false, { default: 0, min: 0 }),
    int('maxRetries', false, { default: 3, min: 0, max: 25 }),
    int('backoffBaseMs', false, { default: 1000, min: 0 }),
    int('backoffMaxMs', false, { default: 3_600_000, min: 0 }),
    int('leaseMs', false, { default: 30_000, min: 1000, max: 900_000 }),
    int('version', false, { default: 0, min: 0, counter: true }),
    str('leaseOwner', 64),
    int('leaseExpiresAt'),
    str('idempotencyKey', 200),
    str('scheduleId', 36),
    int('enqueuedAt', true),
    int('startedAt'),
    int('finishedAt'),
    str('lastError', MAX_ERROR_CHARS),
    str('history', MAX_HISTORY_CHARS, true),
    str('result', MAX_RESULT_CHARS),
    str('traceparent', TRACEPARENT_CHARS),
  ],
  indexes: [
    // The claim query: status ∈ due, runAt ≤ now, ordered by priority then $sequence.
    { key: 'due', type: 'key', columns: ['status', 'runAt', 'priority'] },
    { key: 'due_shard', type: 'key', columns: ['shard', 'status', 'runAt', 'priority'] },
    // Expired-lease recovery: status = PROCESSING, leaseExpiresAt < now.
    { key: 'lease', type: 'key', columns: ['status', 'leaseExpiresAt'] },
    // Per-organization listings (dead letters, metrics).
    { key: 'org_status', type: 'key', columns: ['orgId', 'status'] },
    { key: 'finished', type: 'key', columns: ['finishedAt'] },
  ],
  rowSchema: jobRowSchema,
};

/** `job-schedules`: recurring jobs. Column keys equal {@link ScheduleRow} field names. */
export const jobSchedulesTable: TableSpec = {
  $id: JOB_TABLES.schedules,
  name: 'Job schedules',
  columns: [
    str('orgId', 36, true),
    str('name', 128, true),
    str('cron', 128, true),
    str('timezone', 64, false),
    str('type', 64, true),
    str('payload', MAX_PAYLOAD_CHARS, true),
    int('priority', false, { default: 0, min: -1000, max: 1000 }),
    int('maxRetries', false, { default: 3, min: 0, max: 25 }),
    { key: 'enabled', type: 'boolean', required: false, default: true },
    int('maxCatchUp', false, { default: 1, min: 0, max: 100 }),
    int('lastSlotAt'),
    int('createdAtMs', true),
  ],
  indexes: [{ key: 'enabled', type: 'key', columns: ['enabled'] }],
  rowSchema: scheduleRowSchema,
};

/** `exports`: generated CSV files, chunked into rows. Column keys equal {@link ExportChunkRow} field names. */
export const exportsTable: TableSpec = {
  $id: JOB_TABLES.exports,
  name: 'Exports',
  columns: [
    str('exportId', 36, true),
    str('orgId', 36, true),
    int('chunk', true, { min: 0 }),
    int('chunks', true, { min: 1 }),
    str('contentType', 64, true),
    str('data', 65_000, true),
    int('rowCount', false, { default: 0, min: 0 }),
    int('createdAtMs', true),
  ],
  indexes: [
    { key: 'export_chunk', type: 'unique', columns: ['exportId', 'chunk'] },
    // Retention deletes files by age (pruneExports).
    { key: 'age', type: 'key', columns: ['createdAtMs'] },
  ],
  rowSchema: exportChunkRowSchema,
};

/** Every table of the job system, for the `allTables` registry. */
export const jobTables: TableSpec[] = [jobQueueTable, jobSchedulesTable, exportsTable];
