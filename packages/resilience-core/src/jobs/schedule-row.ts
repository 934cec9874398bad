import { z } from 'zod';
import { lazySchema } from '../schema/lazy-schema.ts';
import { MAX_PAYLOAD_CHARS } from './job-row.ts';

/** A `job-schedules` row. Times are epoch ms. */
export const scheduleRowSchema = lazySchema(() =>
  z.object({
    /** Owning organization (team id). */
    orgId: z.string().min(1).max(36),
    /** Unique per organization; the schedule id is derived from (orgId, name). */
    name: z.string().min(1).max(128),
    /** 5-field cron expression (minute precision), evaluated in `timezone`. */
    cron: z.string().min(1).max(128),
    /** IANA time zone; null means UTC. */
    timezone: z.string().max(64).nullable(),
    /** Job type of every run. */
    type: z.string().min(1).max(64),
    /** Payload of every run, JSON, validated against the type's schema at creation. */
    payload: z.string().max(MAX_PAYLOAD_CHARS),
    /** Priority of every run (lower first). Default 0. */
    priority: z.number().int().min(-1000).max(1000),
    /** Retries of every run. Default 3. */
    maxRetries: z.number().int().min(0).max(25),
    /** Disabled schedules are skipped. Default true. */
    enabled: z.boolean(),
    /** Most missed slots materialised on one tick (newest first kept). Default 1; 0 skips all missed. */
    maxCatchUp: z.number().int().min(0).max(100),
    /** The newest slot materialised so far, epoch ms; null before the first. Advisory (ids give exactly-once). */
    lastSlotAt: z.number().int().nullable(),
    /** When the schedule was created, epoch ms: no slot before it is ever run. */
    createdAtMs: z.number().int(),
  }),
);
/** A `job-schedules` row. */
export type ScheduleRow = z.infer<typeof scheduleRowSchema>;
