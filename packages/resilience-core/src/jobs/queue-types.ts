/**
 * The job queue's public types: what a caller enqueues, what a worker holds (a {@link Lease}) and reports, and
 * the {@link JobQueue} interface that `createJobQueue` (queue.ts) assembles from the producer, admin and lease
 * halves. Types only: every file of the queue imports them, none of them imports a queue file.
 */
import type { ResilienceError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { TableStore } from '../ports/table-store.ts';
import type { TraceContext } from '../tracing/trace-context.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { JobStatus, StoredJob } from './job-row.ts';
import type { JobTypeSpec } from './job-types.ts';

/** What a caller asks for when enqueueing. */
export interface EnqueueInput {
  /** Owning organization (team id). */
  orgId: string;
  type: string;
  /** Validated by the type's zod schema; stored as JSON. */
  payload: unknown;
  /** Lower runs first; −1000..1000. Default: the type's, else 0. */
  priority?: number;
  /** Retries after the first attempt, 0..25. Default: the type's, else 3. */
  maxRetries?: number;
  /** Earliest run time, epoch ms. Default now. */
  runAt?: number;
  /** Shorthand for `runAt = now + delayMs`. */
  delayMs?: number;
  /** Lease and time limit per attempt, 1,000..900,000 ms. Default: the type's, else 30,000. */
  leaseMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** A second enqueue with the same key (per organization) returns the first job instead of a new one. */
  idempotencyKey?: string;
  /** Internal: a deterministic id (schedules use one per time slot). Wins over `idempotencyKey`. */
  jobId?: string;
  /** Internal: the schedule that materialised the job. */
  scheduleId?: string;
  /**
   * The W3C `traceparent` of the request that enqueues the job: stored (normalised) in the row, so the worker
   * runs the job in the same trace (a child span). An invalid value is dropped (the worker starts a new
   * trace), as the trace-context spec requires of a receiver; it never fails the enqueue.
   */
  traceparent?: string;
}

/** The answer to an enqueue. */
export interface EnqueueResult {
  jobId: string;
  status: JobStatus;
  /** True when an existing job was returned (same idempotency key or deterministic id). */
  deduplicated: boolean;
  job: StoredJob;
}

/** A claimed job: the worker may run it and write its outcome while `token` is still the job's version. */
export interface Lease {
  job: StoredJob;
  /** The fencing token: the job's `version` after the claim (or the last heartbeat). */
  token: number;
  workerId: string;
  /** When the lease ends, epoch ms. */
  expiresAt: number;
}

/** How an attempt ended, as a worker reports it. */
export type AttemptOutcome =
  | { ok: true; result: unknown }
  /** `permanent` skips the remaining retries (status FAILED instead of RETRYING/DEAD_LETTER). */
  | { ok: false; error: unknown; permanent?: boolean };

/** The outcome of settling one lease: accepted, or refused because the lease was lost. */
export type SettleResult = { ok: true; status: JobStatus } | { ok: false; error: ResilienceError };

/** Options of {@link JobQueue.claim}. */
export interface ClaimOptions {
  workerId: string;
  /** Most jobs to claim (one transaction). 1..MAX_CLAIM_BATCH. */
  limit: number;
  /** Only these types (the ones the worker has handlers for). */
  types?: readonly string[];
  /** Only jobs whose lease fits in this many ms (so they can finish before the execution deadline). */
  maxLeaseMs?: number;
  /**
   * Candidates listed per job claimed (≥ 1) when claiming across the whole queue. With 1 the claim takes the
   * head of the queue in order; larger values list more and pick among them (one random shard's jobs first,
   * then a random sample, best priority first), so concurrent workers collide less. Default 1.
   */
  spread?: number;
  /**
   * Claim only from this shard (0..JOB_SHARDS−1) when it has due jobs; when it has none, fall back to the
   * whole queue. Priority order is then strict within the shard and approximate across shards.
   */
  shard?: number;
  /**
   * Job ids held or being claimed by sibling lanes of the same worker: skipped, and the ids this claim picks
   * are added before its transaction is sent (removed again if it fails), so lanes never race each other.
   * The caller removes an id once its outcome is settled.
   */
  reserved?: Set<string>;
}

/** What one expired-lease sweep did. */
export interface RecoverySweep {
  /** Jobs taken over (new attempts, held by the caller). */
  leases: Lease[];
  /** Jobs out of attempts that were moved to DEAD_LETTER. */
  deadLettered: number;
  /** Expired leases the sweep listed (before races): 0 means none of the caller's kind was left. */
  found: number;
  /** True when the list was full (`limit` rows), so more expired leases may remain. */
  more: boolean;
}

/** Options of {@link createJobQueue}. */
export interface JobQueueOptions {
  store: TableStore;
  /** The job types enqueue accepts. */
  types: readonly JobTypeSpec[];
  clock?: Clock;
  /** Randomness in [0, 1) for backoff jitter and candidate sampling. Default Math.random. */
  random?: () => number;
}

/** A handler: runs one attempt. Throwing fails the attempt; the return value (JSON) is the job's result. */
export type JobHandler<P = unknown> = (payload: P, context: JobContext) => Promise<unknown> | unknown;

/** What a handler gets besides its payload. */
export interface JobContext {
  jobId: string;
  orgId: string;
  type: string;
  /** 1-based attempt number. */
  attempt: number;
  /** Aborted when the lease can no longer be extended (execution deadline) or was lost. */
  signal: AbortSignal;
  /** The full job row as claimed. */
  job: StoredJob;
  /**
   * The attempt's trace: a child span of the job's stored `traceparent` (same trace id as the request that
   * enqueued it), else a new trace. Pass it on (e.g. `formatTraceparent(trace)` on an outgoing call).
   */
  trace: TraceContext;
}

/**
 * The queue as a request path uses it: enqueue, read and administer jobs, but never lease them. A function that
 * only produces (create-recognition, the notifier's deferral) builds this with `createJobClient`, so its bundle
 * carries no claim, settle or recovery code.
 */
export type JobClient = Pick<
  JobQueue,
  | 'store'
  | 'clock'
  | 'random'
  | 'enqueue'
  | 'get'
  | 'getForOrg'
  | 'cancel'
  | 'redrive'
  | 'listDeadLetters'
  | 'typeSpec'
>;

/** The queue's operations. Every state change is a version compare-and-set (see job-row.ts). */
export interface JobQueue {
  readonly store: TableStore;
  readonly clock: Clock;
  /** Randomness in [0, 1) (the queue's `random` option): workers draw shards and pauses from it too. */
  readonly random: () => number;
  /** Enqueue in one round trip (one create); validates type and payload first. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult>;
  /** A job by id, or null. */
  get(jobId: string): Promise<StoredJob | null>;
  /** A job by id as seen by an organization: NOT_FOUND when missing or owned by another organization. */
  getForOrg(jobId: string, orgId: string): Promise<StoredJob>;
  /** Cancels a job that has not finished (a running attempt's outcome will be refused as LEASE_LOST). */
  cancel(jobId: string, options?: { orgId?: string }): Promise<StoredJob>;
  /** Puts a DEAD_LETTER, FAILED or CANCELLED job back to PENDING with a fresh attempt budget. */
  redrive(jobId: string, options?: { orgId?: string; runAt?: number }): Promise<StoredJob>;
  /** Dead-lettered jobs, oldest first, optionally of one organization. */
  listDeadLetters(options?: { orgId?: string; limit?: number; cursor?: string }): Promise<{
    jobs: StoredJob[];
    nextCursor: string | null;
  }>;
  /**
   * Claims up to `limit` due jobs in one transaction; `[]` when none is due. Throws CONFLICT on a race, and
   * OUTCOME_UNKNOWN when the commit's outcome was unknown and the re-read shows it took nothing.
   */
  claim(options: ClaimOptions): Promise<Lease[]>;
  /** Takes over jobs whose lease expired (counts as an attempt) or dead-letters those out of attempts. */
  recoverExpired(options: Omit<ClaimOptions, 'spread'>): Promise<Lease[]>;
  /** {@link JobQueue.recoverExpired} with the whole account of one sweep (see {@link RecoverySweep}). */
  recoverSweep(options: Omit<ClaimOptions, 'spread'>): Promise<RecoverySweep>;
  /** Extends a lease by the job's `leaseMs`; LEASE_LOST when the job moved on. Updates `lease` in place. */
  heartbeat(lease: Lease): Promise<void>;
  /** Writes the outcomes of several leases in one transaction (falling back to one each on a conflict). */
  settle(items: readonly { lease: Lease; outcome: AttemptOutcome }[]): Promise<SettleResult[]>;
  /** Settles one lease; throws LEASE_LOST when it was lost. */
  complete(lease: Lease, result: unknown): Promise<void>;
  /** Fails one attempt (retry, dead letter or FAILED); throws LEASE_LOST when the lease was lost. */
  fail(lease: Lease, error: unknown, options?: { permanent?: boolean }): Promise<JobStatus>;
  /** The spec of a type, or undefined. */
  typeSpec(type: string): JobTypeSpec | undefined;
}
