/**
 * The producer half of the queue: enqueue. The input is checked by a zod schema (the settings as resolved
 * with the type's defaults) and the type's payload schema, every issue reported at once as INVALID_INPUT
 * (400 with field issues) before anything is written; then one create. An idempotency key (or a schedule's
 * deterministic id) makes a second enqueue return the first job.
 */
import { z } from 'zod';
import { errors, type FieldIssue, hasCode } from '../errors.ts';
import { ID_PATTERN, newId, stableId } from '../ids.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { formatTraceparent, parseTraceparent } from '../tracing/trace-context.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { JOB_SHARDS, type JobRow, MAX_PAYLOAD_CHARS, parseJobRow } from './job-row.ts';
import { type QueueContext, readJob, TABLE } from './queue-cas.ts';
import type { EnqueueInput, EnqueueResult, JobQueue } from './queue-types.ts';

/** Lease length when neither the enqueue nor the type says, ms. */
export const DEFAULT_LEASE_MS = 30_000;
/** Retries when neither the enqueue nor the type says. */
export const DEFAULT_MAX_RETRIES = 3;

/**
 * The job id an enqueue with this idempotency key gets (deterministic per organization), so a caller can look
 * the first job up with one `get` before doing anything a retry must not repeat (e.g. charging a quota).
 */
export function idempotentJobId(orgId: string, idempotencyKey: string): string {
  return stableId('jk', orgId, idempotencyKey);
}

/** The stored form of an enqueue's `traceparent`: normalised when valid, else null. */
function storedTraceparent(header: string | undefined): string | null {
  const parsed = parseTraceparent(header);
  return parsed ? formatTraceparent(parsed) : null;
}

/** An integer in min..max; anything else (another type, NaN, a fraction) gets the one message. */
function intIn(min: number, max: number) {
  const message = `must be an integer in ${min}..${max}`;
  return z
    .number({ error: message })
    .refine((v) => Number.isInteger(v) && v >= min && v <= max, { error: message });
}

const ORG_ID_MESSAGE = 'must be an Appwrite id (1-36 chars [a-zA-Z0-9._-])';
const KEY_MESSAGE = 'must be a non-empty string';

/**
 * An enqueue's settings after the type's defaults are applied (so a bad default is refused too), in the
 * order issues are reported. The payload is checked by its type's schema, between `orgId` and the rest.
 */
const enqueueSettingsSchema = lazySchema(() =>
  z.object({
    orgId: z.string({ error: ORG_ID_MESSAGE }).regex(ID_PATTERN, { error: ORG_ID_MESSAGE }),
    priority: intIn(-1000, 1000),
    maxRetries: intIn(0, 25),
    leaseMs: intIn(1000, 900_000),
    backoff: z.object({ baseMs: intIn(0, 86_400_000), maxMs: intIn(0, 86_400_000 * 7) }),
    delayMs: intIn(0, 86_400_000 * 366).optional(),
    runAt: z
      .number({ error: 'must be epoch milliseconds' })
      .refine(Number.isSafeInteger, { error: 'must be epoch milliseconds' })
      .optional(),
    idempotencyKey: z
      .string({ error: KEY_MESSAGE })
      .min(1, { error: KEY_MESSAGE })
      .max(200, { error: 'must be at most 200 characters' })
      .optional(),
  }),
);

/** A zod failure's issues as field issues (`a.b.0`), under `prefix` (e.g. `payload`). */
export function fieldIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly string[] = [],
): FieldIssue[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** The enqueue operation over the queue's context. */
export function createProducer(ctx: QueueContext): Pick<JobQueue, 'enqueue'> {
  const { store, clock, random, types } = ctx;

  function validate(input: EnqueueInput): { row: JobRow; id: string } {
    const spec = types.get(input.type);
    if (!spec) {
      throw errors.invalidInput(`Unknown job type "${input.type}"`, [
        { path: 'type', message: `must be one of: ${[...types.keys()].join(', ')}` },
      ]);
    }
    const d = spec.defaults ?? {};
    const priority = input.priority ?? d.priority ?? 0;
    const maxRetries = input.maxRetries ?? d.maxRetries ?? DEFAULT_MAX_RETRIES;
    const leaseMs = input.leaseMs ?? d.leaseMs ?? DEFAULT_LEASE_MS;
    const backoff = { ...DEFAULT_BACKOFF, ...d.backoff, ...input.backoff };
    const settings = enqueueSettingsSchema.safeParse({
      orgId: input.orgId,
      priority,
      maxRetries,
      leaseMs,
      backoff,
      delayMs: input.delayMs,
      runAt: input.runAt,
      idempotencyKey: input.idempotencyKey,
    });
    const parsed = spec.payload.safeParse(input.payload);
    const settingIssues = settings.success ? [] : fieldIssues(settings.error.issues);
    const orgIssues = settingIssues.filter((issue) => issue.path === 'orgId');
    const issues = [
      ...orgIssues,
      ...(parsed.success ? [] : fieldIssues(parsed.error.issues, ['payload'])),
      ...settingIssues.filter((issue) => issue.path !== 'orgId'),
    ];
    const payload = parsed.success ? JSON.stringify(parsed.data ?? null) : '';
    if (payload.length > MAX_PAYLOAD_CHARS) {
      issues.push({ path: 'payload', message: `must serialise to at most ${MAX_PAYLOAD_CHARS} characters` });
    }
    if (issues.length) throw errors.invalidInput(`Invalid ${input.type} job`, issues);

    const now = clock.now();
    const runAt = input.runAt ?? now + (input.delayMs ?? 0);
    const id =
      input.jobId ??
      (input.idempotencyKey !== undefined ? idempotentJobId(input.orgId, input.idempotencyKey) : newId());
    const row: JobRow = {
      orgId: input.orgId,
      type: input.type,
      payload,
      status: 'PENDING',
      priority,
      shard: Math.floor(random() * JOB_SHARDS) % JOB_SHARDS,
      runAt,
      attempts: 0,
      maxRetries,
      backoffBaseMs: backoff.baseMs,
      backoffMaxMs: backoff.maxMs,
      leaseMs,
      version: 0,
      leaseOwner: null,
      leaseExpiresAt: null,
      idempotencyKey: input.idempotencyKey ?? null,
      scheduleId: input.scheduleId ?? null,
      enqueuedAt: now,
      startedAt: null,
      finishedAt: null,
      lastError: null,
      history: '[]',
      result: null,
      traceparent: storedTraceparent(input.traceparent),
    };
    return { row, id };
  }

  async function enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const { row, id } = validate(input);
    for (let tries = 0; tries < 3; tries++) {
      try {
        const created = parseJobRow(await store.create<Record<string, unknown>>(TABLE, id, row));
        return { jobId: id, status: created.status, deduplicated: false, job: created };
      } catch (error) {
        if (!hasCode(error, 'CONFLICT')) throw error;
        const existing = await readJob(store, id);
        if (!existing) continue; // deleted between our create and get: try again
        // The id is derived from (orgId, key) collation-safely (stableId), but a row is only "the same job"
        // when org, type and the key itself match exactly.
        if (
          existing.orgId !== row.orgId ||
          existing.type !== row.type ||
          (input.jobId === undefined && existing.idempotencyKey !== row.idempotencyKey)
        ) {
          throw errors.conflict('This idempotency key was already used for a different job', {
            jobId: id,
          });
        }
        return { jobId: id, status: existing.status, deduplicated: true, job: existing };
      }
    }
    throw errors.conflict(`Job ${id} keeps being replaced; try again`, { jobId: id });
  }

  return { enqueue };
}
