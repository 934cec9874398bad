/**
 * The admin half of the queue: reads (a job by id, for an organization, the dead-letter list) and the
 * operator transitions — cancel and redrive — each a compare-and-set on the job's version, re-read and
 * retried a few times on a race or an unknown commit outcome. The metrics reads are metrics.ts.
 */
import { errors, hasCode } from '../errors.ts';
import type { Condition } from '../ports/table-store.ts';
import {
  appendHistory,
  FINAL_STATUSES,
  type JobRow,
  parseJobRow,
  REDRIVABLE_STATUSES,
  type StoredJob,
} from './job-row.ts';
import { casOps, isRaceError, type QueueContext, readJob, reconcile, TABLE } from './queue-cas.ts';
import type { JobQueue } from './queue-types.ts';

/** The reads and operator transitions over the queue's context. */
export function createAdmin(
  ctx: QueueContext,
): Pick<JobQueue, 'get' | 'getForOrg' | 'cancel' | 'redrive' | 'listDeadLetters'> {
  const { store, clock } = ctx;

  async function get(jobId: string): Promise<StoredJob | null> {
    return readJob(store, jobId);
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

  return { get, getForOrg, cancel, redrive, listDeadLetters };
}
