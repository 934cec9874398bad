/**
 * The lease half of the queue, what workers call: claim due jobs (one compare-and-set transaction for a
 * batch; the new version is the fencing token), heartbeat, settle outcomes (one transaction per batch, each
 * alone when a lease was lost), and the recovery sweep that takes over expired leases. A commit with an
 * unknown outcome is resolved by re-reading the rows ({@link reconcile}); nothing is assumed either way.
 */
import { errors, hasCode, type ResilienceError } from '../errors.ts';
import type { Condition } from '../ports/table-store.ts';
import { calculateDelay } from './backoff.ts';
import {
  appendHistory,
  DUE_STATUSES,
  errorMessage,
  type JobRow,
  type JobStatus,
  MAX_RESULT_CHARS,
  type StoredJob,
} from './job-row.ts';
import {
  casOps,
  claimable,
  isRaceError,
  type QueueContext,
  readJob,
  readJobs,
  reconcile,
  TABLE,
} from './queue-cas.ts';
import type {
  AttemptOutcome,
  ClaimOptions,
  JobQueue,
  Lease,
  RecoverySweep,
  SettleResult,
} from './queue-types.ts';

/**
 * Most jobs one claim, recovery or settle transaction takes: 2 operations each (update + bounded version
 * increment), so 50 jobs are exactly Appwrite's 100-operation transaction limit.
 */
export const MAX_CLAIM_BATCH = 50;

/** The worker-facing operations over the queue's context. */
export function createLease(
  ctx: QueueContext,
): Pick<
  JobQueue,
  'claim' | 'recoverExpired' | 'recoverSweep' | 'heartbeat' | 'settle' | 'complete' | 'fail'
> {
  const { store, clock, random } = ctx;

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
      return listed.rows;
    };
    const shard = o.shard;
    const sharded = shard !== undefined;
    let rows = sharded ? await listDue([{ field: 'shard', op: 'eq', value: shard }]) : await listDue([]);
    let inShard = sharded;
    if (sharded && rows.every((r) => reserved.has(r.$id))) {
      rows = await listDue([]);
      inShard = false;
    }
    const candidates = claimable(rows).filter((j) => !reserved.has(j.$id));
    // Within a shard take the head in order (other workers' lanes are mostly on other shards). Across the whole
    // queue, see pickSpread; with spread 1, the head of the queue in order.
    let chosen = inShard || spread <= 1 ? candidates.slice(0, limit) : pickSpread(candidates, limit);
    if (inShard && chosen.length < limit && rows.length < listLimit) {
      // The shard ran dry before the batch was full: fill it from the whole queue (one more list is cheaper
      // than a second claim and settle transaction, 3 requests each).
      const taken = new Set(chosen.map((j) => j.$id));
      const rest = claimable(await listDue([])).filter((j) => !reserved.has(j.$id) && !taken.has(j.$id));
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
        const taken: Lease[] = [];
        await tookAfterUnknown(chosen, patches, reserved, (job, patch) => {
          taken.push(toLease(job, patch, o.workerId));
        });
        // None taken: not "nothing due" (an empty answer would let a lane report idle) — the caller retries.
        if (!taken.length) throw error;
        return taken;
      }
      for (const job of chosen) reserved.delete(job.$id);
      throw error;
    }
    return chosen.map((job, k) => toLease(job, patches[k]!, o.workerId));
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
        await tookAfterUnknown(expired, patches, reserved, account);
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
            await tookAfterUnknown([job], [patch], reserved, account);
            return;
          }
          reserved.delete(job.$id);
          if (!isRaceError(error)) throw error; // someone else recovered it first
        }
      }),
    );
    return sweep;
  }

  /**
   * After a claim or recovery transaction whose outcome is unknown: re-reads the jobs and calls `took` for
   * exactly those the commit did take (version = seen + 1 and the row carries this patch: owner, start time,
   * attempt), releasing the others. Never assumes either result; if the re-read itself fails, nothing is held:
   * any job the commit did take is recovered once its lease expires (the attempt is counted, nothing runs twice).
   */
  async function tookAfterUnknown(
    jobs: readonly StoredJob[],
    patches: readonly Partial<JobRow>[],
    reserved: Set<string>,
    took: (job: StoredJob, patch: Partial<JobRow>) => void,
  ): Promise<void> {
    let rows: Map<string, StoredJob>;
    try {
      rows = await readJobs(
        store,
        jobs.map((j) => j.$id),
      );
    } catch (error) {
      for (const job of jobs) reserved.delete(job.$id);
      throw error;
    }
    jobs.forEach((job, k) => {
      const row = rows.get(job.$id);
      const patch = patches[k]!;
      if (row && row.version === job.version + 1 && reconcile(row, job.version, patch) === 'applied') {
        took(job, patch);
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
      const row = await readJob(store, lease.job.$id);
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
    const rows = await readJobs(
      store,
      items.map((i) => i.lease.job.$id),
    );
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

  return { claim, recoverExpired, recoverSweep, heartbeat, settle, complete, fail };
}
