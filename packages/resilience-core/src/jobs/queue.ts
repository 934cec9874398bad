import { errors, hasCode, type ResilienceError } from '../errors.ts';
import { newId, stableId } from '../ids.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { versionedUpdate } from '../ports/compare-and-set.ts';
import type { Condition, TableStore, WriteOp } from '../ports/table-store.ts';
import { formatTraceparent, parseTraceparent, type TraceContext } from '../tracing/trace-context.ts';
import { type BackoffPolicy, calculateDelay, DEFAULT_BACKOFF } from './backoff.ts';
import {
  appendHistory,
  DUE_STATUSES,
  errorMessage,
  FINAL_STATUSES,
  JOB_SHARDS,
  type JobRow,
  type JobStatus,
  MAX_PAYLOAD_CHARS,
  MAX_RESULT_CHARS,
  parseJobRow,
  REDRIVABLE_STATUSES,
  readHistory,
  type StoredJob,
} from './job-row.ts';
import type { JobTypeSpec } from './job-types.ts';
import { JOB_TABLES } from './tables.ts';

/** Lease length when neither the enqueue nor the type says, ms. */
export const DEFAULT_LEASE_MS = 30_000;
/** Retries when neither the enqueue nor the type says. */
export const DEFAULT_MAX_RETRIES = 3;
/**
 * Most jobs one claim, recovery or settle transaction takes: 2 operations each (update + bounded version
 * increment), so 50 jobs are exactly Appwrite's 100-operation transaction limit.
 */
export const MAX_CLAIM_BATCH = 50;

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

const TABLE = JOB_TABLES.queue;

/** True for the errors a compare-and-set transaction raises when someone else moved the row first. */
export function isRaceError(error: unknown): boolean {
  return hasCode(error, 'CONFLICT', 'BOUND_EXCEEDED', 'NOT_FOUND');
}

/**
 * The two operations that make a patch compare-and-set on `job`: the update, then the version bump bounded
 * at `seen + 1`, which fails the whole transaction if anyone else bumped it since `seen` was read.
 */
export function casOps(job: StoredJob, seen: number, patch: Partial<JobRow>): WriteOp[] {
  return versionedUpdate({ table: TABLE, id: job.$id, expected: seen }, patch);
}

/**
 * The job id an enqueue with this idempotency key gets (deterministic per organization), so a caller can look
 * the first job up with one `get` before doing anything a retry must not repeat (e.g. charging a quota).
 */
export function idempotentJobId(orgId: string, idempotencyKey: string): string {
  return stableId('jk', orgId, idempotencyKey);
}

/**
 * What a compare-and-set with an unknown commit outcome did to a job, from the job as re-read: `applied`
 * (the version moved past `seen` and the row carries the patch — every field, or for patches that append to
 * the history, this patch's history record), `not-applied` (the version is still `seen`: the transaction, all
 * or nothing, did not commit) or `moved` (someone else changed the job).
 */
export function reconcile(
  row: StoredJob,
  seen: number,
  patch: Partial<JobRow>,
): 'applied' | 'not-applied' | 'moved' {
  if (row.version === seen) return 'not-applied';
  if (row.version < seen) return 'moved';
  const { history, ...fields } = patch;
  if (row.version === seen + 1) {
    const same = Object.entries(fields).every(([k, v]) => row[k as keyof JobRow] === v);
    if (same && (history === undefined || row.history === history)) return 'applied';
  }
  // Moved on since: applied only if the row's history still shows this patch's record.
  if (history !== undefined) {
    const mine = readHistory({ history });
    const record = JSON.stringify(mine[mine.length - 1] ?? null);
    if (readHistory(row).some((r) => JSON.stringify(r) === record)) return 'applied';
  }
  return 'moved';
}

/** The stored form of an enqueue's `traceparent`: normalised when valid, else null. */
function storedTraceparent(header: string | undefined): string | null {
  const parsed = parseTraceparent(header);
  return parsed ? formatTraceparent(parsed) : null;
}

/** Creates the queue over a TableStore. */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const types = new Map(options.types.map((t) => [t.type, t]));

  function typeSpec(type: string): JobTypeSpec | undefined {
    return types.get(type);
  }

  function validate(input: EnqueueInput): { row: JobRow; id: string } {
    const issues: { path: string; message: string }[] = [];
    const spec = types.get(input.type);
    if (!spec) {
      throw errors.invalidInput(`Unknown job type "${input.type}"`, [
        { path: 'type', message: `must be one of: ${[...types.keys()].join(', ')}` },
      ]);
    }
    if (typeof input.orgId !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/.test(input.orgId)) {
      issues.push({ path: 'orgId', message: 'must be an Appwrite id (1-36 chars [a-zA-Z0-9._-])' });
    }
    const parsed = spec.payload.safeParse(input.payload);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({ path: ['payload', ...issue.path.map(String)].join('.'), message: issue.message });
      }
    }
    const d = spec.defaults ?? {};
    const priority = input.priority ?? d.priority ?? 0;
    const maxRetries = input.maxRetries ?? d.maxRetries ?? DEFAULT_MAX_RETRIES;
    const leaseMs = input.leaseMs ?? d.leaseMs ?? DEFAULT_LEASE_MS;
    const backoff = { ...DEFAULT_BACKOFF, ...d.backoff, ...input.backoff };
    const intIn = (path: string, v: number, min: number, max: number) => {
      if (!Number.isInteger(v) || v < min || v > max) {
        issues.push({ path, message: `must be an integer in ${min}..${max}` });
      }
    };
    intIn('priority', priority, -1000, 1000);
    intIn('maxRetries', maxRetries, 0, 25);
    intIn('leaseMs', leaseMs, 1000, 900_000);
    intIn('backoff.baseMs', backoff.baseMs, 0, 86_400_000);
    intIn('backoff.maxMs', backoff.maxMs, 0, 86_400_000 * 7);
    if (input.delayMs !== undefined) intIn('delayMs', input.delayMs, 0, 86_400_000 * 366);
    if (input.runAt !== undefined && !Number.isSafeInteger(input.runAt)) {
      issues.push({ path: 'runAt', message: 'must be epoch milliseconds' });
    }
    if (input.idempotencyKey !== undefined) {
      if (typeof input.idempotencyKey !== 'string' || input.idempotencyKey.length < 1) {
        issues.push({ path: 'idempotencyKey', message: 'must be a non-empty string' });
      } else if (input.idempotencyKey.length > 200) {
        issues.push({ path: 'idempotencyKey', message: 'must be at most 200 characters' });
      }
    }
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
        const existing = await get(id);
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

  async function get(jobId: string): Promise<StoredJob | null> {
    const row = await store.get(TABLE, jobId);
    return row ? parseJobRow(row) : null;
  }

  async function getForOrg(jobId: string, orgId: string): Promise<StoredJob> {
    const job = await get(jobId);
    // Another organization's job reads as missing, so ids of other tenants cannot be probed.
    if (!job || job.orgId !== orgId) throw errors.notFound(`Job ${jobId} not found`, { jobId });
    return job;
  }

  /** Applies `change` to the job by compare-and-set, re-reading and retrying a few times on a race. */
  async function transition(
    jobId: string,
    orgId: string | undefined,
    change: (job: StoredJob) => Partial<JobRow>,
  ): Promise<StoredJob> {
    for (let tries = 0; ; tries++) {
      const job = orgId === undefined ? await get(jobId) : await getForOrg(jobId, orgId);
      if (!job) throw errors.notFound(`Job ${jobId} not found`, { jobId });
      const patch = change(job);
      try {
        await store.transaction(casOps(job, job.version, patch));
        return { ...job, ...patch, version: job.version + 1 };
      } catch (error) {
        if (hasCode(error, 'OUTCOME_UNKNOWN')) {
          // Re-read: applied (return it), untouched or moved on (re-evaluate `change` on the row as it is).
          const now = await get(jobId);
          if (now && reconcile(now, job.version, patch) === 'applied') return now;
          if (tries >= 4) throw error;
          continue;
        }
        if (!isRaceError(error) || tries >= 4) throw error;
      }
    }
  }

  async function cancel(jobId: string, opts: { orgId?: string } = {}): Promise<StoredJob> {
    return transition(jobId, opts.orgId, (job) => {
      if (FINAL_STATUSES.includes(job.status)) {
        throw errors.conflict(`Job ${jobId} is already ${job.status}`, { jobId, status: job.status });
      }
      const now = clock.now();
      return {
        status: 'CANCELLED',
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        lastError: 'cancelled',
        history: appendHistory(job, {
          attempt: job.status === 'PROCESSING' ? job.attempts : 0,
          owner: job.leaseOwner,
          startedAt: job.status === 'PROCESSING' ? job.startedAt : null,
          endedAt: now,
          outcome: 'CANCELLED',
          error: null,
        }),
      };
    });
  }

  async function redrive(jobId: string, opts: { orgId?: string; runAt?: number } = {}): Promise<StoredJob> {
    return transition(jobId, opts.orgId, (job) => {
      if (!REDRIVABLE_STATUSES.includes(job.status)) {
        throw errors.conflict(`Only ${REDRIVABLE_STATUSES.join(', ')} jobs can be redriven (${job.status})`, {
          jobId,
          status: job.status,
        });
      }
      const now = clock.now();
      return {
        status: 'PENDING',
        attempts: 0,
        runAt: opts.runAt ?? now,
        finishedAt: null,
        result: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        history: appendHistory(job, {
          attempt: 0,
          owner: null,
          startedAt: null,
          endedAt: now,
          outcome: 'REDRIVEN',
          error: job.lastError,
        }),
      };
    });
  }

  async function listDeadLetters(opts: { orgId?: string; limit?: number; cursor?: string } = {}) {
    const where: Condition[] = [{ field: 'status', op: 'eq', value: 'DEAD_LETTER' }];
    if (opts.orgId !== undefined) where.push({ field: 'orgId', op: 'eq', value: opts.orgId });
    const page = await store.list(TABLE, {
      where,
      limit: opts.limit ?? 100,
      ...(opts.cursor ? { cursor: opts.cursor } : {}),
    });
    return { jobs: page.rows.map(parseJobRow), nextCursor: page.nextCursor };
  }

  function baseFilters(o: { types?: readonly string[]; maxLeaseMs?: number }): Condition[] {
    const where: Condition[] = [];
    if (o.types) where.push({ field: 'type', op: 'eq', value: o.types });
    if (o.maxLeaseMs !== undefined) where.push({ field: 'leaseMs', op: 'lte', value: o.maxLeaseMs });
    return where;
  }

  /**
   * Up to `limit` candidates (sorted by priority) for a claim across the whole queue, best priority first:
   * within each priority, first the jobs of one shard drawn at random among theirs (in order), then a random
   * sample of the rest — so workers that all fell back here mostly take different jobs, and batches stay full.
   */
  function pickSpread(candidates: StoredJob[], limit: number): StoredJob[] {
    const out: StoredJob[] = [];
    let i = 0;
    while (out.length < limit && i < candidates.length) {
      const priority = candidates[i]?.priority;
      const group: StoredJob[] = [];
      while (i < candidates.length && candidates[i]?.priority === priority) group.push(candidates[i++]!);
      const shards = [...new Set(group.map((j) => j.shard))];
      const shard = shards[Math.floor(random() * shards.length)];
      const rest = group.filter((j) => j.shard !== shard);
      for (const job of group) if (job.shard === shard && out.length < limit) out.push(job);
      // Partial Fisher–Yates: a uniform sample of the rest, as many as still needed.
      for (let k = 0; k < rest.length && out.length < limit; k++) {
        const j = k + Math.floor(random() * (rest.length - k));
        [rest[k], rest[j]] = [rest[j]!, rest[k]!];
        out.push(rest[k]!);
      }
    }
    return out;
  }

  /** Parses listed rows for claiming, skipping corrupt ones so one bad row cannot stop the whole queue. */
  function claimable(rows: readonly Record<string, unknown>[]): StoredJob[] {
    const out: StoredJob[] = [];
    for (const row of rows) {
      try {
        out.push(parseJobRow(row));
      } catch {
        // Left in place for an operator (get() still reports it as corrupt); never claimed.
      }
    }
    return out;
  }

  function claimPatch(job: StoredJob, workerId: string, now: number, history?: string): Partial<JobRow> {
    return {
      status: 'PROCESSING',
      attempts: job.attempts + 1,
      leaseOwner: workerId,
      leaseExpiresAt: now + job.leaseMs,
      startedAt: now,
      ...(history === undefined ? {} : { history }),
    };
  }

  function toLease(job: StoredJob, patch: Partial<JobRow>, workerId: string): Lease {
    const claimed = { ...job, ...patch, version: job.version + 1 };
    return { job: claimed, token: claimed.version, workerId, expiresAt: claimed.leaseExpiresAt ?? 0 };
  }

  async function claim(o: ClaimOptions): Promise<Lease[]> {
    const limit = Math.max(1, Math.min(MAX_CLAIM_BATCH, Math.floor(o.limit)));
    const spread = Math.max(1, o.spread ?? 1);
    const now = clock.now();
    const reserved = o.reserved ?? new Set<string>();
    const listLimit = Math.min(1000, Math.ceil(limit * spread) + reserved.size);
    const listDue = async (extra: Condition[]) => {
      const listed = await store.list(TABLE, {
        where: [
          { field: 'status', op: 'eq', value: DUE_STATUSES },
          { field: 'runAt', op: 'lte', value: now },
          ...baseFilters(o),
          ...extra,
        ],
        orderBy: [{ field: 'priority', direction: 'asc' }],
        limit: listLimit,
      });
      return { rows: listed.rows, limit: listLimit };
    };
    const shard = o.shard;
    const sharded = shard !== undefined;
    let page = sharded ? await listDue([{ field: 'shard', op: 'eq', value: shard }]) : await listDue([]);
    let inShard = sharded;
    if (sharded && page.rows.every((r) => reserved.has(r.$id))) {
      page = await listDue([]);
      inShard = false;
    }
    const candidates = claimable(page.rows).filter((j) => !reserved.has(j.$id));
    // Within a shard take the head in order (other workers' lanes are mostly on other shards). Across the whole
    // queue, see pickSpread; with spread 1, the head of the queue in order.
    let chosen = inShard || spread <= 1 ? candidates.slice(0, limit) : pickSpread(candidates, limit);
    if (inShard && chosen.length < limit && page.rows.length < page.limit) {
      // The shard ran dry before the batch was full: fill it from the whole queue (one more list is cheaper
      // than a second claim and settle transaction, 3 requests each).
      const taken = new Set(chosen.map((j) => j.$id));
      const rest = claimable((await listDue([])).rows).filter(
        (j) => !reserved.has(j.$id) && !taken.has(j.$id),
      );
      const more = spread <= 1 ? rest : pickSpread(rest, limit - chosen.length);
      chosen = [...chosen, ...more.slice(0, limit - chosen.length)];
    }
    if (!chosen.length) return [];
    for (const job of chosen) reserved.add(job.$id);
    const patches = chosen.map((job) => claimPatch(job, o.workerId, now));
    try {
      await store.transaction(chosen.flatMap((job, k) => casOps(job, job.version, patches[k]!)));
    } catch (error) {
      if (hasCode(error, 'OUTCOME_UNKNOWN')) {
        const taken = await claimedAfterUnknown(chosen, patches, o, reserved);
        // None taken: not "nothing due" (an empty answer would let a lane report idle) — the caller retries.
        if (!taken.length) throw error;
        return taken;
      }
      for (const job of chosen) reserved.delete(job.$id);
      throw error;
    }
    return chosen.map((job, k) => toLease(job, patches[k]!, o.workerId));
  }

  /**
   * After a claim (or recovery) transaction whose outcome is unknown: re-reads the jobs and returns leases on
   * exactly those the claim did take (version = seen + 1 with this claim's owner, start time and attempt),
   * releasing the others. Never assumes either result; if the re-read itself fails, nothing is held: any job
   * the commit did take is recovered once its lease expires (the attempt is counted, nothing runs twice).
   */
  async function claimedAfterUnknown(
    chosen: readonly StoredJob[],
    patches: readonly Partial<JobRow>[],
    o: { workerId: string },
    reserved: Set<string>,
  ): Promise<Lease[]> {
    let rows: Map<string, StoredJob>;
    try {
      rows = await readJobs(chosen.map((j) => j.$id));
    } catch (error) {
      for (const job of chosen) reserved.delete(job.$id);
      throw error;
    }
    const leases: Lease[] = [];
    chosen.forEach((job, k) => {
      const row = rows.get(job.$id) ?? null;
      if (row && reconcile(row, job.version, patches[k]!) === 'applied' && row.version === job.version + 1) {
        leases.push(toLease(job, patches[k]!, o.workerId));
      } else reserved.delete(job.$id);
    });
    return leases;
  }

  /** The current rows of some jobs, by id (missing ones absent), in one list request. */
  async function readJobs(ids: readonly string[]): Promise<Map<string, StoredJob>> {
    const page = await store.list(TABLE, {
      where: [{ field: '$id', op: 'eq', value: ids }],
      limit: Math.max(1, ids.length),
    });
    return new Map(claimable(page.rows).map((j) => [j.$id, j]));
  }

  async function recoverExpired(o: Omit<ClaimOptions, 'spread'>): Promise<Lease[]> {
    return (await recoverSweep(o)).leases;
  }

  /**
   * One sweep for expired leases: lists up to `limit` of them (best priority first) and takes them all over in
   * ONE transaction (2 operations each; dead-lettering those out of attempts), falling back to one
   * transaction per job when the batch loses a race, so one racer cannot make the whole sweep recover nothing.
   */
  async function recoverSweep(o: Omit<ClaimOptions, 'spread'>): Promise<RecoverySweep> {
    const now = clock.now();
    const reserved = o.reserved ?? new Set<string>();
    const limit = Math.max(1, Math.min(MAX_CLAIM_BATCH, Math.floor(o.limit)));
    const page = await store.list(TABLE, {
      where: [
        { field: 'status', op: 'eq', value: 'PROCESSING' },
        { field: 'leaseExpiresAt', op: 'lt', value: now },
        ...baseFilters(o),
      ],
      orderBy: [{ field: 'priority', direction: 'asc' }],
      limit: limit + reserved.size,
    });
    const expired = claimable(page.rows)
      .filter((j) => !reserved.has(j.$id))
      .slice(0, limit);
    const sweep: RecoverySweep = {
      leases: [],
      deadLettered: 0,
      found: expired.length,
      more: page.rows.length >= limit + reserved.size,
    };
    if (!expired.length) return sweep;
    const patches = expired.map((job) => recoveryPatch(job, o.workerId, now));
    const account = (job: StoredJob, patch: Partial<JobRow>) => {
      if (patch.status === 'DEAD_LETTER') {
        reserved.delete(job.$id);
        sweep.deadLettered++;
      } else sweep.leases.push(toLease(job, patch, o.workerId));
    };
    for (const job of expired) reserved.add(job.$id);
    try {
      await store.transaction(expired.flatMap((job, k) => casOps(job, job.version, patches[k]!)));
      expired.forEach((job, k) => {
        account(job, patches[k]!);
      });
      return sweep;
    } catch (error) {
      if (hasCode(error, 'OUTCOME_UNKNOWN')) {
        await settleUnknownRecovery(expired, patches, reserved, account);
        return sweep;
      }
      if (!isRaceError(error) || expired.length === 1) {
        for (const job of expired) reserved.delete(job.$id);
        if (isRaceError(error)) return sweep; // someone else recovered it first
        throw error;
      }
    }
    // The batch lost a race on at least one job: take the others one transaction each.
    await Promise.all(
      expired.map(async (job, k) => {
        const patch = patches[k]!;
        try {
          await store.transaction(casOps(job, job.version, patch));
          account(job, patch);
        } catch (error) {
          if (hasCode(error, 'OUTCOME_UNKNOWN')) {
            await settleUnknownRecovery([job], [patch], reserved, account);
            return;
          }
          reserved.delete(job.$id);
          if (!isRaceError(error)) throw error; // someone else recovered it first
        }
      }),
    );
    return sweep;
  }

  /** After a recovery transaction with an unknown outcome: re-reads the jobs and accounts for those it took. */
  async function settleUnknownRecovery(
    jobs: readonly StoredJob[],
    patches: readonly Partial<JobRow>[],
    reserved: Set<string>,
    account: (job: StoredJob, patch: Partial<JobRow>) => void,
  ): Promise<void> {
    let rows: Map<string, StoredJob>;
    try {
      rows = await readJobs(jobs.map((j) => j.$id));
    } catch (error) {
      for (const job of jobs) reserved.delete(job.$id);
      throw error;
    }
    jobs.forEach((job, k) => {
      const row = rows.get(job.$id);
      const patch = patches[k]!;
      if (row && row.version === job.version + 1 && reconcile(row, job.version, patch) === 'applied') {
        account(job, patch);
      } else reserved.delete(job.$id);
    });
  }

  /** The take-over of an expired lease: a new attempt for `workerId`, or DEAD_LETTER when none is left. */
  function recoveryPatch(job: StoredJob, workerId: string, now: number): Partial<JobRow> {
    const history = appendHistory(job, {
      attempt: job.attempts,
      owner: job.leaseOwner,
      startedAt: job.startedAt,
      endedAt: now,
      outcome: 'LEASE_EXPIRED',
      error: 'lease expired before the attempt reported an outcome',
    });
    if (job.attempts >= job.maxRetries + 1) {
      return {
        status: 'DEAD_LETTER',
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        lastError: 'lease expired before the attempt reported an outcome',
        history,
      };
    }
    return claimPatch(job, workerId, now, history);
  }

  async function heartbeat(lease: Lease): Promise<void> {
    const now = clock.now();
    const patch: Partial<JobRow> = { leaseExpiresAt: now + lease.job.leaseMs };
    try {
      await store.transaction(casOps(lease.job, lease.token, patch));
    } catch (error) {
      if (isRaceError(error)) throw lost(lease);
      if (!hasCode(error, 'OUTCOME_UNKNOWN')) throw error;
      // Re-read: extended (carry on with the new token), untouched (the lease stands as it was: report the
      // failure as retryable, the next heartbeat may succeed) or moved on (lost).
      const row = await get(lease.job.$id);
      const state = row ? reconcile(row, lease.token, patch) : 'moved';
      if (state === 'moved' || (state === 'applied' && row?.version !== lease.token + 1)) throw lost(lease);
      if (state === 'not-applied') throw errors.retryable('heartbeat outcome unknown and not applied', error);
    }
    lease.token += 1;
    lease.job = { ...lease.job, ...patch, version: lease.token };
    lease.expiresAt = now + lease.job.leaseMs;
  }

  function lost(lease: Lease): ResilienceError {
    return errors.leaseLost(`Lease on job ${lease.job.$id} was lost (token ${lease.token} is stale)`, {
      jobId: lease.job.$id,
      token: lease.token,
    });
  }

  function outcomePatch(lease: Lease, outcome: AttemptOutcome, now: number): Partial<JobRow> {
    const job = lease.job;
    const base = { leaseOwner: null, leaseExpiresAt: null };
    if (outcome.ok) {
      const result = JSON.stringify(outcome.result ?? null);
      if (result.length > MAX_RESULT_CHARS) {
        return outcomePatch(
          lease,
          { ok: false, error: `result exceeds ${MAX_RESULT_CHARS} characters`, permanent: true },
          now,
        );
      }
      return {
        ...base,
        status: 'COMPLETED',
        result,
        finishedAt: now,
        history: appendHistory(job, {
          attempt: job.attempts,
          owner: lease.workerId,
          startedAt: job.startedAt,
          endedAt: now,
          outcome: 'COMPLETED',
          error: null,
        }),
      };
    }
    const message = errorMessage(outcome.error);
    const history = appendHistory(job, {
      attempt: job.attempts,
      owner: lease.workerId,
      startedAt: job.startedAt,
      endedAt: now,
      outcome: 'FAILED',
      error: message,
    });
    if (outcome.permanent) return { ...base, status: 'FAILED', finishedAt: now, lastError: message, history };
    if (job.attempts >= job.maxRetries + 1) {
      return { ...base, status: 'DEAD_LETTER', finishedAt: now, lastError: message, history };
    }
    const delay = calculateDelay(
      job.attempts,
      { baseMs: job.backoffBaseMs, maxMs: job.backoffMaxMs },
      random,
    );
    return { ...base, status: 'RETRYING', runAt: now + delay, lastError: message, history };
  }

  async function settle(
    items: readonly { lease: Lease; outcome: AttemptOutcome }[],
  ): Promise<SettleResult[]> {
    if (!items.length) return [];
    const now = clock.now();
    const patches = items.map(({ lease, outcome }) => outcomePatch(lease, outcome, now));
    try {
      await store.transaction(items.flatMap(({ lease }, k) => casOps(lease.job, lease.token, patches[k]!)));
      return patches.map((p) => ({ ok: true, status: p.status as JobStatus }));
    } catch (error) {
      if (hasCode(error, 'OUTCOME_UNKNOWN')) return settledAfterUnknown(items, patches, error);
      if (!isRaceError(error)) throw error;
      if (items.length === 1) return [{ ok: false, error: lost(items[0]!.lease) }];
    }
    // The batch failed whole because at least one lease was lost: settle each alone to find which.
    return Promise.all(items.map(async (item) => (await settle([item]))[0]!));
  }

  /**
   * After a settle whose commit outcome is unknown: re-reads the jobs. An outcome that was written (the row
   * holds this attempt's history record) is accepted; a lease that moved on is LEASE_LOST; a job untouched
   * (version still the token) is settled again — the lease still holds, and the patch is the same.
   */
  async function settledAfterUnknown(
    items: readonly { lease: Lease; outcome: AttemptOutcome }[],
    patches: readonly Partial<JobRow>[],
    error: unknown,
  ): Promise<SettleResult[]> {
    const rows = await readJobs(items.map((i) => i.lease.job.$id));
    const again: number[] = [];
    const results: (SettleResult | null)[] = items.map(({ lease }, k) => {
      const row = rows.get(lease.job.$id);
      const state = row ? reconcile(row, lease.token, patches[k]!) : 'moved';
      if (state === 'applied') return { ok: true, status: patches[k]!.status as JobStatus };
      if (state === 'moved') return { ok: false, error: lost(lease) };
      again.push(k);
      return null;
    });
    if (again.length) {
      // Settled once more in one transaction with the same patches (a second unknown outcome propagates:
      // the caller gives up and the lease expires into a recovery, which counts the attempt).
      const retryItems = again.map((k) => items[k]!);
      const retryPatches = again.map((k) => patches[k]!);
      try {
        await store.transaction(
          retryItems.flatMap(({ lease }, j) => casOps(lease.job, lease.token, retryPatches[j]!)),
        );
        again.forEach((k) => {
          results[k] = { ok: true, status: patches[k]!.status as JobStatus };
        });
      } catch (retryError) {
        if (!isRaceError(retryError)) throw hasCode(retryError, 'OUTCOME_UNKNOWN') ? retryError : error;
        const each = await Promise.all(retryItems.map(async (item) => (await settle([item]))[0]!));
        again.forEach((k, j) => {
          results[k] = each[j]!;
        });
      }
    }
    return results as SettleResult[];
  }

  async function complete(lease: Lease, result: unknown): Promise<void> {
    const [r] = await settle([{ lease, outcome: { ok: true, result } }]);
    if (r && !r.ok) throw r.error;
  }

  async function fail(lease: Lease, error: unknown, opts: { permanent?: boolean } = {}): Promise<JobStatus> {
    const outcome: AttemptOutcome = { ok: false, error, ...(opts.permanent ? { permanent: true } : {}) };
    const [r] = await settle([{ lease, outcome }]);
    if (!r) throw errors.internal('settle returned nothing');
    if (!r.ok) throw r.error;
    return r.status;
  }

  return {
    store,
    clock,
    random,
    enqueue,
    get,
    getForOrg,
    cancel,
    redrive,
    listDeadLetters,
    claim,
    recoverExpired,
    recoverSweep,
    heartbeat,
    settle,
    complete,
    fail,
    typeSpec,
  };
}
