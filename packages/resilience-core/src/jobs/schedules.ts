import { Cron } from 'croner';
import { errorText } from '../error-classification.ts';
import { errors, hasCode } from '../errors.ts';
import { stableId } from '../ids.ts';
import { listAll, type TableStore } from '../ports/table-store.ts';
import type { JobQueue } from './queue.ts';
import { fieldIssues } from './queue-producer.ts';
import { type ScheduleRow, scheduleRowSchema } from './schedule-row.ts';
import { JOB_TABLES } from './tables.ts';

/**
 * Recurring jobs. A schedule is a row with a 5-field cron expression (croner, the same syntax Appwrite's own
 * function schedules use); every worker drain calls {@link tickSchedules}, which materialises each due time
 * slot as a job whose id is derived from (schedule, slot). Unique-id create makes that exactly once per slot
 * however many workers tick the same minute: the losers get CONFLICT and move on.
 *
 * Missed ticks (no worker ran for a while) are bounded: at most `maxCatchUp` of the most recent missed slots
 * are materialised; older ones are skipped and counted. Exactly-once relies on the slot's job row existing, so
 * finished jobs must be kept longer than `maxCatchUp` schedule intervals before any retention deletes them:
 * retention (`pruneFinishedJobs`) deletes a scheduled job only after {@link slotSettledAt}.
 */

/** Input of {@link createSchedule}. */
export interface CreateScheduleInput {
  orgId: string;
  name: string;
  cron: string;
  timezone?: string;
  type: string;
  payload: unknown;
  priority?: number;
  maxRetries?: number;
  maxCatchUp?: number;
}

/** What one tick did. */
export interface TickReport {
  schedules: number;
  /** Jobs this caller created. */
  materialised: number;
  /** Slots another worker had already materialised. */
  alreadyMaterialised: number;
  /** Missed slots dropped by the catch-up bound (at least this many). */
  skipped: number;
  /**
   * Schedules skipped because their row or payload no longer validates (e.g. a job type removed or its payload
   * schema changed since the schedule was created): fix or disable them. One bad schedule never stops the
   * others, nor the drain that follows the tick.
   */
  invalid: string[];
}

const TABLE = JOB_TABLES.schedules;

function parseCron(expression: string, timezone: string | null): Cron {
  return new Cron(expression, { paused: true, mode: '5-part', timezone: timezone ?? 'UTC' });
}

/** The deterministic job id of a schedule's time slot. */
export function slotJobId(scheduleId: string, slotAt: number): string {
  return stableId('sch', scheduleId, slotAt);
}

/**
 * The slots due at `now` that are after `lastSlotAt` (or the creation time), newest last: at most `maxCatchUp`
 * of them, plus how many older ones were dropped (1 when "at least one" is all that is known).
 */
export function dueSlots(
  schedule: Pick<ScheduleRow, 'cron' | 'timezone' | 'maxCatchUp' | 'lastSlotAt' | 'createdAtMs'>,
  now: number,
): { slots: number[]; skipped: number } {
  const after = schedule.lastSlotAt ?? schedule.createdAtMs - 1;
  const cron = parseCron(schedule.cron, schedule.timezone);
  // previousRuns excludes its reference time, so +1 ms includes a slot at exactly `now`.
  const recent = cron
    .previousRuns(schedule.maxCatchUp + 1, new Date(now + 1))
    .map((d) => d.getTime())
    .filter((t) => t > after)
    .sort((a, b) => a - b);
  const overflow = recent.length > schedule.maxCatchUp;
  return { slots: overflow ? recent.slice(1) : recent, skipped: overflow ? 1 : 0 };
}

/**
 * When a job this schedule materialised at `enqueuedAt` stops being re-materialisable, epoch ms. A tick only
 * considers the `maxCatchUp + 1` most recent slots before its `now` ({@link dueSlots}), so once that many cron
 * times have passed after the job's slot, no tick — however stale its copy of `lastSlotAt` — can create the
 * slot again, and the job row (whose id gives exactly-once) may be deleted. The slot is at or before
 * `enqueuedAt`, so counting from `enqueuedAt` is conservative. `null` when the cron has no such future times.
 */
export function slotSettledAt(
  schedule: Pick<ScheduleRow, 'cron' | 'timezone' | 'maxCatchUp'>,
  enqueuedAt: number,
): number | null {
  const runs = parseCron(schedule.cron, schedule.timezone).nextRuns(
    schedule.maxCatchUp + 1,
    new Date(enqueuedAt),
  );
  const last = runs[schedule.maxCatchUp];
  return last ? last.getTime() : null;
}

/** Creates a schedule (id derived from org and name; CONFLICT if that name exists). Validates cron and payload. */
export async function createSchedule(
  queue: JobQueue,
  input: CreateScheduleInput,
): Promise<ScheduleRow & { $id: string }> {
  const spec = queue.typeSpec(input.type);
  if (!spec)
    throw errors.invalidInput(`Unknown job type "${input.type}"`, [{ path: 'type', message: 'unknown' }]);
  try {
    parseCron(input.cron, input.timezone ?? null);
  } catch (error) {
    throw errors.invalidInput('Invalid cron expression', [{ path: 'cron', message: errorText(error) }]);
  }
  const parsed = spec.payload.safeParse(input.payload);
  if (!parsed.success) {
    throw errors.invalidInput(`Invalid ${input.type} payload`, fieldIssues(parsed.error.issues, ['payload']));
  }
  const row = scheduleRowSchema.safeParse({
    orgId: input.orgId,
    name: input.name,
    cron: input.cron,
    timezone: input.timezone ?? null,
    type: input.type,
    payload: JSON.stringify(parsed.data ?? null),
    priority: input.priority ?? spec.defaults?.priority ?? 0,
    maxRetries: input.maxRetries ?? spec.defaults?.maxRetries ?? 3,
    enabled: true,
    maxCatchUp: input.maxCatchUp ?? 1,
    lastSlotAt: null,
    createdAtMs: queue.clock.now(),
  });
  if (!row.success) {
    throw errors.invalidInput('Invalid schedule', fieldIssues(row.error.issues));
  }
  const id = stableId('sch', input.orgId, input.name);
  await queue.store.create(TABLE, id, row.data);
  return { ...row.data, $id: id };
}

/** Enables or disables a schedule. */
export async function setScheduleEnabled(
  store: TableStore,
  scheduleId: string,
  enabled: boolean,
): Promise<void> {
  await store.update(TABLE, scheduleId, { enabled });
}

/**
 * Materialises every due slot of every enabled schedule. Safe to call from any number of workers at once:
 * each (schedule, slot) becomes exactly one job.
 */
export async function tickSchedules(queue: JobQueue, now: number = queue.clock.now()): Promise<TickReport> {
  const rows = await listAll(queue.store, TABLE, { where: [{ field: 'enabled', op: 'eq', value: true }] });
  const report: TickReport = {
    schedules: rows.length,
    materialised: 0,
    alreadyMaterialised: 0,
    skipped: 0,
    invalid: [],
  };
  for (const raw of rows) {
    const parsed = scheduleRowSchema.safeParse(raw);
    const payload = parsed.success ? safeJson(parsed.data.payload) : undefined;
    if (!parsed.success || payload === undefined) {
      report.invalid.push(raw.$id);
      continue;
    }
    let due: ReturnType<typeof dueSlots>;
    try {
      due = dueSlots(parsed.data, now); // pure: throws only for a cron expression croner rejects
    } catch {
      report.invalid.push(raw.$id);
      continue;
    }
    const schedule = parsed.data;
    const { slots, skipped } = due;
    report.skipped += skipped;
    try {
      for (const slotAt of slots) {
        const result = await queue.enqueue({
          orgId: schedule.orgId,
          type: schedule.type,
          payload,
          priority: schedule.priority,
          maxRetries: schedule.maxRetries,
          runAt: slotAt,
          jobId: slotJobId(raw.$id, slotAt),
          scheduleId: raw.$id,
        });
        if (result.deduplicated) report.alreadyMaterialised++;
        else report.materialised++;
      }
    } catch (error) {
      // Type unknown or payload invalid: the same for every slot, so skip the schedule (lastSlotAt unchanged).
      if (!hasCode(error, 'INVALID_INPUT')) throw error;
      report.invalid.push(raw.$id);
      continue;
    }
    const newest = slots[slots.length - 1];
    if (newest !== undefined && newest > (schedule.lastSlotAt ?? Number.NEGATIVE_INFINITY)) {
      try {
        await queue.store.update(TABLE, raw.$id, { lastSlotAt: newest });
      } catch (error) {
        if (!hasCode(error, 'NOT_FOUND')) throw error; // deleted meanwhile
      }
    }
  }
  return report;
}

/** Parsed JSON, or undefined when the text is not JSON. */
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
