import { errors, ID_PATTERN, lazySchema, ORG_ADMIN_ROLES } from 'resilience-core';
import {
  cleanupRecognitionsPayload,
  createJobClient,
  idempotentJobId,
  type JobClient,
  productJobTypes,
  readExport,
  readHistory,
  type StoredJob,
  statusPath,
} from 'resilience-core/jobs';
import { rateLimitHeaders } from 'resilience-core/quota';
import type { Caller } from 'resilience-core/runtime';
import { formatTraceparent, parseTraceparent, type TraceContext } from 'resilience-core/tracing';
import { z } from 'zod';
import { type AppDeps, route } from '../deps.ts';
import { executionQuotaService } from './quota.ts';

/**
 * Background-job routes of the app API ("202 + status URL" pattern).
 *
 * | route | who | what |
 * |---|---|---|
 * | `POST /exports` | member | `{ orgId, since?, until?, idempotencyKey? }` → 202 `{ jobId, checkStatusAt }` (consumes `exports_per_day`, RateLimit-* headers; a retry with the same key gets the first job's 202 and is not charged) |
 * | `GET /exports/:exportId?orgId=` | member | the finished CSV `{ exportId, contentType, rowCount, csv }` |
 * | `POST /cleanups` | admin | `{ orgId, daysOld, idempotencyKey? }` → 202 (deletes recognitions older than daysOld days) |
 * | `GET /status/:jobId` | member of the job's org, or a key | status, attempts, result, last error, times |
 * | `POST /jobs/:jobId/cancel` | admin of the job's org, or a key | cancel a job that has not finished |
 * | `POST /jobs/:jobId/redrive` | admin of the job's org, or a key | re-queue a DEAD_LETTER / FAILED / CANCELLED job |
 *
 * A job of another organization reads as 404 (its existence is not revealed). Bodies are validated by zod
 * before anything is written: bad input is 400 and changes nothing.
 */

/** The queue of one execution. */
export function jobQueueFor(deps: Pick<AppDeps, 'store' | 'clock'>): JobClient {
  return createJobClient({ store: deps.store, clock: deps.clock, types: productJobTypes });
}

const idempotencyKey = lazySchema(() => z.string().min(1).max(200).optional());

const exportBody = lazySchema(() =>
  z
    .object({
      orgId: z.string().min(1).max(36),
      since: z.iso.datetime({ offset: true }).optional(),
      until: z.iso.datetime({ offset: true }).optional(),
      idempotencyKey,
    })
    .strict(),
);

const cleanupBody = lazySchema(() =>
  cleanupRecognitionsPayload.extend({ orgId: z.string().min(1).max(36), idempotencyKey }).strict(),
);

/** The public view of a job (payload and attempt history included; never other organizations' data). */
export function jobView(job: StoredJob) {
  return {
    jobId: job.$id,
    orgId: job.orgId,
    type: job.type,
    status: job.status,
    attempts: job.attempts,
    maxRetries: job.maxRetries,
    priority: job.priority,
    result: job.result === null ? null : JSON.parse(job.result),
    lastError: job.lastError,
    enqueuedAt: new Date(job.enqueuedAt).toISOString(),
    runAt: new Date(job.runAt).toISOString(),
    startedAt: job.startedAt === null ? null : new Date(job.startedAt).toISOString(),
    finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
    history: readHistory(job),
    /** The trace of the request that enqueued the job (the worker logs each attempt under it), else null. */
    traceId: parseTraceparent(job.traceparent)?.traceId ?? null,
    checkStatusAt: statusPath(job.$id),
  };
}

/** 202 Accepted for an enqueued job. */
function accepted(job: { jobId: string; status: string; deduplicated: boolean }) {
  return {
    status: 202,
    body: {
      jobId: job.jobId,
      status: job.status,
      deduplicated: job.deduplicated,
      checkStatusAt: statusPath(job.jobId),
    },
    headers: { location: statusPath(job.jobId) },
  };
}

/**
 * The job `jobId` if `caller` may see it: a server call sees every job, a user only jobs of organizations they
 * belong to (admin role when `admin`). Anything else is NOT_FOUND, so ids of other tenants cannot be probed.
 */
async function visibleJob(deps: AppDeps, caller: Caller, jobId: string, admin = false): Promise<StoredJob> {
  // Not an Appwrite id (too long, odd characters): no such job, and no storage round trip to find out.
  if (!ID_PATTERN.test(jobId)) throw errors.notFound('Job not found');
  const job = await jobQueueFor(deps).get(jobId);
  const hidden = errors.notFound(`Job ${jobId} not found`, { jobId });
  if (!job) throw hidden;
  if (caller.orgId && caller.orgId !== job.orgId) throw hidden;
  if (caller.kind === 'server') return job;
  const roles = caller.userId ? await deps.orgs.rolesOf(job.orgId, caller.userId) : null;
  if (roles === null) throw hidden;
  if (admin && !roles.some((r) => ORG_ADMIN_ROLES.includes(r))) {
    throw errors.forbidden('This action needs the owner or admin role in the organization');
  }
  return job;
}

/** The request's trace as an enqueue option: the job then runs in the request's trace (a child span of it). */
function traceOf(trace: TraceContext): { traceparent: string } {
  return { traceparent: formatTraceparent(trace) };
}

/** The job routes, spread into create-recognition's `routes`. */
export const jobRoutes = [
  route({
    method: 'POST',
    path: '/exports',
    auth: 'member',
    body: exportBody,
    summary: 'Queue a CSV export of the organization’s recognitions',
    handler: async ({ body, deps, trace }) => {
      const { orgId, idempotencyKey: key, ...payload } = body;
      const queue = jobQueueFor(deps);
      // A retry of an export already queued gets the same 202 — even when the day's quota is spent since:
      // one get by the key's deterministic id, before anything is charged.
      if (key !== undefined) {
        const existing = await queue.get(idempotentJobId(orgId, key));
        if (existing) {
          // The id is derived from (orgId, key), but never trust that alone with another tenant's job.
          if (existing.type !== 'generate-export' || existing.orgId !== orgId) {
            throw errors.conflict('This idempotency key was already used for a different job', {
              jobId: existing.$id,
            });
          }
          return accepted({ jobId: existing.$id, status: existing.status, deduplicated: true });
        }
      }
      // Charge the export quota first (atomic; 429 when spent), and give it back if no new job came of it.
      // The execution's shared service: its 80 % / 100 % alerts go to the real notifier (a service without
      // one would record them as sent and deliver nothing).
      const quota = executionQuotaService(deps.setup);
      const decision = await quota.enforce(orgId, 'exports_per_day');
      const refund = async () => {
        if (decision.ticket) await quota.refund(decision.ticket).catch(() => false);
      };
      try {
        const job = await queue.enqueue({
          orgId,
          type: 'generate-export',
          payload,
          ...(key === undefined ? {} : { idempotencyKey: key }),
          ...traceOf(trace),
        });
        // Lost a race with a concurrent retry of the same key: that request's job stands, this charge goes back.
        if (job.deduplicated) {
          await refund();
          return accepted(job);
        }
        const response = accepted(job);
        return { ...response, headers: { ...response.headers, ...rateLimitHeaders(decision) } };
      } catch (error) {
        await refund();
        throw error;
      }
    },
  }),
  route({
    method: 'GET',
    path: '/exports/:exportId',
    auth: 'member',
    summary: 'Download a finished export',
    handler: async ({ params, caller, deps }) => {
      const job = await visibleJob(deps, caller, params.exportId ?? '');
      const file = await readExport(deps.store, job.$id, job.orgId);
      return {
        body: { exportId: job.$id, contentType: file.contentType, rowCount: file.rowCount, csv: file.csv },
      };
    },
  }),
  route({
    method: 'POST',
    path: '/cleanups',
    auth: 'admin',
    body: cleanupBody,
    summary: 'Queue deletion of recognitions older than daysOld days',
    handler: async ({ body, deps, trace }) => {
      const { orgId, idempotencyKey: key, ...payload } = body;
      const job = await jobQueueFor(deps).enqueue({
        orgId,
        type: 'cleanup-recognitions',
        payload,
        ...(key === undefined ? {} : { idempotencyKey: key }),
        ...traceOf(trace),
      });
      return accepted(job);
    },
  }),
  route({
    method: 'GET',
    path: '/status/:jobId',
    auth: 'any',
    summary: 'A job’s status, attempts and result (its organization only)',
    handler: async ({ params, caller, deps }) => ({
      body: jobView(await visibleJob(deps, caller, params.jobId ?? '')),
    }),
  }),
  route({
    method: 'POST',
    path: '/jobs/:jobId/cancel',
    auth: 'any',
    body: lazySchema(() => z.object({}).strict()),
    summary: 'Cancel a job that has not finished',
    handler: async ({ params, caller, deps }) => {
      const job = await visibleJob(deps, caller, params.jobId ?? '', true);
      return { body: jobView(await jobQueueFor(deps).cancel(job.$id, { orgId: job.orgId })) };
    },
  }),
  route({
    method: 'POST',
    path: '/jobs/:jobId/redrive',
    auth: 'any',
    body: lazySchema(() => z.object({}).strict()),
    summary: 'Re-queue a dead-lettered, failed or cancelled job',
    handler: async ({ params, caller, deps }) => {
      const job = await visibleJob(deps, caller, params.jobId ?? '', true);
      return { body: jobView(await jobQueueFor(deps).redrive(job.$id, { orgId: job.orgId })) };
    },
  }),
];
