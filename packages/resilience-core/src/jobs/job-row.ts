import { z } from 'zod';
import { redact } from '../ports/logger.ts';
import { lazySchema } from '../schema/lazy-schema.ts';

/**
 * The persisted shape of a job (`job-queue` rows) and its state machine.
 *
 * PENDING ─claim→ PROCESSING ─complete→ COMPLETED
 *                     │ fail (retries left) → RETRYING ─(runAt passes)─claim→ PROCESSING
 *                     │ fail (no retries left) → DEAD_LETTER ─redrive→ PENDING
 *                     │ fail (permanent error) → FAILED ─redrive→ PENDING
 *                     │ lease expires → claimed again by another worker (counts as an attempt), or
 *                     │                 DEAD_LETTER when no attempt is left
 * PENDING / RETRYING / PROCESSING ─cancel→ CANCELLED ─redrive→ PENDING
 *
 * Every transition is a version compare-and-set: a transaction of { update fields, increment `version` by 1
 * with max = the version seen + 1 }. `version` is therefore the fencing token: a worker holds a job only while
 * the version is the one its claim (or last heartbeat) produced, and any write it attempts after someone else
 * moved the job fails whole (`LEASE_LOST`).
 */

/** Every status a job can be in. */
export const JOB_STATUSES = [
  'PENDING',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'RETRYING',
  'DEAD_LETTER',
  'CANCELLED',
] as const;

/** A job status. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a worker may claim once `runAt` has passed. */
export const DUE_STATUSES: readonly JobStatus[] = ['PENDING', 'RETRYING'];
/** Statuses that never change again unless redriven. */
export const FINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'DEAD_LETTER', 'CANCELLED'];
/** Statuses {@link JobQueue.redrive} accepts. */
export const REDRIVABLE_STATUSES: readonly JobStatus[] = ['DEAD_LETTER', 'FAILED', 'CANCELLED'];

/** How one attempt ended, as kept in a job's history. */
export const ATTEMPT_OUTCOMES = ['COMPLETED', 'FAILED', 'LEASE_EXPIRED', 'CANCELLED', 'REDRIVEN'] as const;

/** One entry of a job's attempt history. */
export const attemptRecordSchema = lazySchema(() =>
  z.object({
    /** 1-based attempt number (0 for a redrive marker). */
    attempt: z.number().int().min(0),
    /** Worker id that held the lease (null for redrive/cancel markers). */
    owner: z.string().nullable(),
    /** When the attempt was claimed, epoch ms (null for markers). */
    startedAt: z.number().int().nullable(),
    /** When it ended (or was found expired), epoch ms. */
    endedAt: z.number().int(),
    outcome: z.enum(ATTEMPT_OUTCOMES),
    /** Error message, truncated to {@link MAX_ERROR_CHARS}. */
    error: z.string().nullable(),
  }),
);
/** One entry of a job's attempt history. */
export type AttemptRecord = z.infer<typeof attemptRecordSchema>;

/** Longest error message kept (characters); longer ones are truncated. */
export const MAX_ERROR_CHARS = 1000;
/** How many attempt records a job keeps (oldest dropped first). */
export const MAX_HISTORY = 20;
/** Number of claim shards jobs are spread over (see `shard`). */
export const JOB_SHARDS = 32;
/** Largest serialised payload accepted at enqueue (characters of JSON). */
export const MAX_PAYLOAD_CHARS = 16_384;
/** Largest serialised handler result kept (characters of JSON); larger results fail the attempt. */
export const MAX_RESULT_CHARS = 16_384;
/** Size of the `traceparent` column: `00-` + 32 + `-` + 16 + `-` + 2. */
export const TRACEPARENT_CHARS = 55;
/** Size of the `history` column (characters of JSON): MAX_HISTORY records with full errors fit. */
export const MAX_HISTORY_CHARS = 32_768;

/**
 * A `job-queue` row. Times are epoch milliseconds (integers) so they compare exactly in queries;
 * durations are milliseconds.
 */
export const jobRowSchema = lazySchema(() =>
  z.object({
    /** Owning organization (Appwrite team id). Only its members see the job. */
    orgId: z.string().min(1).max(36),
    /** Job type, e.g. `generate-export`; selects the payload schema and the handler. */
    type: z.string().min(1).max(64),
    /** The payload as JSON, validated by the type's schema at enqueue (≤ MAX_PAYLOAD_CHARS). */
    payload: z.string().max(MAX_PAYLOAD_CHARS),
    status: z.enum(JOB_STATUSES),
    /** Lower runs first. Default 0; range −1000..1000. Ties run in enqueue order (`$sequence`). */
    priority: z.number().int().min(-1000).max(1000),
    /**
     * Claim partition, 0..JOB_SHARDS−1, drawn at random at enqueue. Each worker lane claims from one shard at a
     * time (moving on after a lost race), so concurrent workers mostly claim disjoint batches. Default 0.
     */
    shard: z.number().int().min(0).max(255),
    /** Not claimed before this time, epoch ms (enqueue time unless delayed; the retry time when RETRYING). */
    runAt: z.number().int(),
    /** Attempts started (claims, including ones whose lease expired). Default 0. */
    attempts: z.number().int().min(0),
    /** Retries allowed after the first attempt: at most 1 + maxRetries attempts. Default 3. */
    maxRetries: z.number().int().min(0).max(25),
    /** Backoff before retry n is min(backoffMaxMs, backoffBaseMs × 2^(n−1)) with jitter, ms. Default 1000. */
    backoffBaseMs: z.number().int().min(0),
    /** Cap of any one backoff delay, ms. Default 3,600,000 (1 h). */
    backoffMaxMs: z.number().int().min(0),
    /**
     * Lease length per claim or heartbeat, ms. Default 30,000. A worker only claims a job whose lease fits
     * before its execution deadline, and heartbeats every leaseMs/3 while the handler runs.
     */
    leaseMs: z.number().int().min(1000).max(900_000),
    /** Fencing token: bumped by 1 on every transition (claim, heartbeat, completion…). Default 0. */
    version: z.number().int().min(0),
    /** Worker id holding the lease while PROCESSING, else null. */
    leaseOwner: z.string().nullable(),
    /** When the current lease ends, epoch ms; null unless PROCESSING. */
    leaseExpiresAt: z.number().int().nullable(),
    /** Caller-supplied deduplication key (≤ 200 chars): the job id is derived from it. Null when none. */
    idempotencyKey: z.string().max(200).nullable(),
    /** The schedule that materialised this job, else null. */
    scheduleId: z.string().max(36).nullable(),
    /** When the job was enqueued, epoch ms. */
    enqueuedAt: z.number().int(),
    /** When the current/last attempt was claimed, epoch ms; null before the first claim. */
    startedAt: z.number().int().nullable(),
    /** When the job reached a final status, epoch ms; null until then. */
    finishedAt: z.number().int().nullable(),
    /** The last attempt's error message (≤ MAX_ERROR_CHARS), kept through DEAD_LETTER. */
    lastError: z.string().max(MAX_ERROR_CHARS).nullable(),
    /** JSON array of {@link AttemptRecord}, newest last, at most MAX_HISTORY entries. */
    history: z.string().max(MAX_HISTORY_CHARS),
    /** The handler's result as JSON when COMPLETED (≤ MAX_RESULT_CHARS), else null. */
    result: z.string().max(MAX_RESULT_CHARS).nullable(),
    /**
     * The W3C `traceparent` of the request that enqueued the job (normalised, version 00), else null. The
     * worker runs each attempt in a child span of it. Rows written before the column existed read as null.
     */
    traceparent: z.string().max(TRACEPARENT_CHARS).nullable().default(null),
  }),
);
/** A `job-queue` row's columns. */
export type JobRow = z.infer<typeof jobRowSchema>;

/** A job as stored: columns plus the row metadata the queue relies on. */
export type StoredJob = JobRow & { $id: string; $sequence: number; $createdAt: string; $updatedAt: string };

/** Parses a stored row; a row that does not match is a bug (corrupt data), not bad input. */
export function parseJobRow(row: Record<string, unknown>): StoredJob {
  const parsed = jobRowSchema.safeParse(row);
  if (!parsed.success) {
    throw new Error(`Corrupt job-queue row ${String(row.$id)}: ${parsed.error.message}`);
  }
  return {
    ...parsed.data,
    $id: String(row.$id),
    $sequence: Number(row.$sequence),
    $createdAt: String(row.$createdAt),
    $updatedAt: String(row.$updatedAt),
  };
}

/** Reads a job's history column (an unreadable history reads as empty rather than failing the job). */
export function readHistory(job: Pick<JobRow, 'history'>): AttemptRecord[] {
  try {
    const parsed = z.array(attemptRecordSchema).safeParse(JSON.parse(job.history));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** Appends a record to a history, keeping the newest MAX_HISTORY entries, and serialises it. */
export function appendHistory(job: Pick<JobRow, 'history'>, record: AttemptRecord): string {
  return JSON.stringify([...readHistory(job), record].slice(-MAX_HISTORY));
}

/**
 * Turns anything thrown into a bounded message. It is stored as `lastError` and shown to the job's organization
 * (`GET /status/:jobId`), so keys, JWTs, webhook URLs and URL credentials are redacted first.
 */
export function errorMessage(error: unknown): string {
  const raw =
    error instanceof Error
      ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`
      : typeof error === 'string'
        ? error
        : (JSON.stringify(error) ?? String(error));
  const text = String(redact(raw));
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}
