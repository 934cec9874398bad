import { lazySchema } from 'resilience-core';
import {
  collectJobMetrics,
  createJobQueue,
  createSchedule,
  createWorker,
  type DrainReport,
  JOB_TABLES,
  type JobQueue,
  productJobTypes,
  registerProductHandlers,
  runWorkerExecution,
  type Worker,
  writeJobMetrics,
} from 'resilience-core/jobs';
import { PROMETHEUS_CONTENT_TYPE, PrometheusWriter, prefersPrometheusText } from 'resilience-core/metrics';
import { webhookVariablesSchema } from 'resilience-core/notify';
import {
  cursorSchema,
  defineFunction,
  type RouteResult,
  routesFor,
  type SetupContext,
  sealedPage,
  type TriggerInput,
} from 'resilience-core/runtime';
import { z } from 'zod';
import { flushNotifications, notificationSender } from './notify.ts';

/** Function variables of job-worker. */
const envSchema = lazySchema(() =>
  z
    .object({
      /** The function's timeout in appwrite.json, seconds: drains stop claiming 5 s before it. Default 300. */
      JOB_WORKER_TIMEOUT_SECONDS: z.coerce.number().int().min(10).max(900).default(300),
      /** Claim-run-settle lanes per execution (storage requests in flight). Default 2. */
      JOB_WORKER_LANES: z.coerce.number().int().min(1).max(16).default(2),
      /** Jobs per claim (and settle) transaction, run concurrently per lane. Default 50 (Appwrite's 100 ops). */
      JOB_WORKER_BATCH: z.coerce.number().int().min(1).max(50).default(50),
    })
    .extend(webhookVariablesSchema.shape),
);

type Env = z.output<typeof envSchema>;

/** What one execution uses. */
interface WorkerDeps {
  setup: SetupContext<Env>;
  queue: JobQueue;
  worker: Worker;
}

function depsOf(setup: SetupContext<Env>): WorkerDeps {
  const store = setup.store();
  const queue = createJobQueue({ store, clock: setup.clock, types: productJobTypes });
  const worker = createWorker({
    queue,
    lanes: setup.env.JOB_WORKER_LANES,
    batchSize: setup.env.JOB_WORKER_BATCH,
    onEvent: (e) => {
      if (e.kind === 'lease-lost' || e.kind === 'store-error')
        setup.log.warn(`job-worker ${e.kind}`, { ...e });
      // One line per attempt, in the trace of the request that enqueued the job, with the attempt's own span.
      else if (e.kind === 'settled')
        setup.log.child({ traceId: e.traceId, spanId: e.spanId }).info('job ran', e);
    },
  });
  registerProductHandlers(worker, {
    store,
    clock: setup.clock,
    sendNotification: notificationSender(setup),
  });
  return { setup, queue, worker };
}

/**
 * How many drains run in this warm process, and whether an event arrived while one ran. Event-triggered
 * executions that find one running return at once (no storage request) and leave a mark; the running drain
 * drains once more after it went idle when marked, so a job created after its last claim is not left to the
 * next cron tick. (A burst of N job-created events thus costs one drain per warm process, not N.)
 */
const inProcess: { running: number; again: boolean } = { running: 0, again: false };

async function drainOnEvent(deps: WorkerDeps, startedAt: number): Promise<RouteResult> {
  if (inProcess.running > 0) {
    inProcess.again = true;
    return { body: { ok: true, skipped: 'a drain is already running in this process' } };
  }
  return drain(deps, startedAt, false);
}

async function drain(deps: WorkerDeps, startedAt: number, tickSchedules = true): Promise<RouteResult> {
  inProcess.running++;
  try {
    return await drainOnce(deps, startedAt, tickSchedules);
  } finally {
    inProcess.running--;
  }
}

async function drainOnce(deps: WorkerDeps, startedAt: number, tick0: boolean): Promise<RouteResult> {
  const timeoutMs = deps.setup.env.JOB_WORKER_TIMEOUT_SECONDS * 1000;
  const first = await runWorkerExecution({
    queue: deps.queue,
    worker: deps.worker,
    startedAt,
    timeoutMs,
    // Schedules are minute-granular: the cron execution ticks them; event drains skip that list request.
    tick: tick0,
  });
  const { tick } = first;
  let report = first.drain;
  for (;;) {
    // Events that arrived meanwhile may have created jobs after the last claim: drain again while marked.
    while (inProcess.again && report.stoppedBy === 'idle') {
      inProcess.again = false;
      const next = await runWorkerExecution({
        queue: deps.queue,
        worker: deps.worker,
        startedAt,
        timeoutMs,
        tick: false,
      });
      report = mergeReports(report, next.drain);
    }
    // Breaker outcomes of the notifications sent reach the shared table before the execution ends.
    await flushNotifications(deps.setup);
    // An event during the flush marked us too; past this check nothing awaits before `running` drops.
    if (!(inProcess.again && report.stoppedBy === 'idle')) break;
  }
  if (tick?.invalid.length) {
    deps.setup.log.warn('job-worker skipped invalid schedules (fix or disable them)', {
      scheduleIds: tick.invalid,
    });
  }
  deps.setup.log.info('job-worker drained', { ...report, materialised: tick?.materialised ?? 0 });
  return { body: { ok: true, tick, drain: report } };
}

/** Two drains of one execution as one report (counts added, the later stop reason, durations summed). */
function mergeReports(a: DrainReport, b: DrainReport): DrainReport {
  return {
    workerId: a.workerId,
    claimed: a.claimed + b.claimed,
    completed: a.completed + b.completed,
    retried: a.retried + b.retried,
    failed: a.failed + b.failed,
    deadLettered: a.deadLettered + b.deadLettered,
    leaseLost: a.leaseLost + b.leaseLost,
    claimConflicts: a.claimConflicts + b.claimConflicts,
    recovered: a.recovered + b.recovered,
    stoppedBy: b.stoppedBy,
    durationMs: a.durationMs + b.durationMs,
  };
}

const route = routesFor<WorkerDeps>();

/**
 * job-worker: drains the job queue. Triggered every minute by cron (the backstop) and by every job-queue row
 * create event (low latency); each execution materialises due schedule slots, then claims and runs due jobs
 * in batches until the queue is idle or 5 s before the function timeout. Many executions may run at once;
 * leases and fencing tokens keep every job with one worker. API-key routes: `POST /` drains by hand,
 * `POST /schedules` creates a recurring job, `GET /dead-letters` lists the dead-letter queue, `GET /metrics`
 * reports queue metrics (JSON, or the Prometheus text format with `?format=prometheus` / `accept: text/plain`).
 */
export default defineFunction({
  name: 'job-worker',
  version: process.env.BUILD_VERSION ?? '0.0.0-dev',
  env: envSchema,
  setup: depsOf,
  routes: [
    route({
      method: 'POST',
      path: '/',
      auth: 'key',
      body: lazySchema(() => z.object({}).strict()),
      summary: 'Drain the queue now (operators)',
      handler: ({ deps, clock }) => drain(deps, clock.now()),
    }),
    route({
      method: 'POST',
      path: '/schedules',
      auth: 'key',
      body: lazySchema(() =>
        z
          .object({
            orgId: z.string().min(1).max(36),
            name: z.string().min(1).max(128),
            cron: z.string().min(1).max(128),
            timezone: z.string().min(1).max(64).optional(),
            type: z.string().min(1).max(64),
            payload: z.unknown(),
            priority: z.number().int().min(-1000).max(1000).optional(),
            maxRetries: z.number().int().min(0).max(25).optional(),
            maxCatchUp: z.number().int().min(0).max(100).optional(),
          })
          .strict(),
      ),
      summary: 'Create a recurring job (operators); 409 if the name exists in the organization',
      handler: async ({ deps, body }) => {
        const { timezone, priority, maxRetries, maxCatchUp, ...rest } = body;
        const schedule = await createSchedule(deps.queue, {
          ...rest,
          ...(timezone === undefined ? {} : { timezone }),
          ...(priority === undefined ? {} : { priority }),
          ...(maxRetries === undefined ? {} : { maxRetries }),
          ...(maxCatchUp === undefined ? {} : { maxCatchUp }),
        });
        return { status: 201, body: schedule };
      },
    }),
    route({
      method: 'GET',
      path: '/dead-letters',
      auth: 'key',
      query: lazySchema(() =>
        z.object({
          orgId: z.string().min(1).max(36).optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
          cursor: cursorSchema.optional(),
        }),
      ),
      summary:
        'Dead-lettered jobs, oldest first (redrive them with create-recognition POST /jobs/:id/redrive)',
      handler: async ({ deps, query }) => {
        const scope = { table: JOB_TABLES.queue, match: { status: 'DEAD_LETTER', orgId: query.orgId } };
        const page = await sealedPage(deps.setup.store(), query.cursor, scope, (cursor) =>
          deps.queue.listDeadLetters({
            ...(query.orgId ? { orgId: query.orgId } : {}),
            ...(query.limit ? { limit: query.limit } : {}),
            ...(cursor ? { cursor } : {}),
          }),
        );
        return { body: page };
      },
    }),
    route({
      method: 'GET',
      path: '/metrics',
      auth: 'key',
      query: lazySchema(() =>
        z.object({
          orgId: z.string().min(1).max(36).optional(),
          windowMinutes: z.coerce.number().int().min(1).max(10_080).optional(),
          /** `prometheus`: text format 0.0.4; `json`; absent: `accept` decides (JSON unless text/plain wins). */
          format: z.enum(['json', 'prometheus']).optional(),
        }),
      ),
      summary:
        'Queue depth, oldest due job, throughput, failure rate, latency percentiles (JSON, or Prometheus text ' +
        'with ?format=prometheus or accept: text/plain); 2 list round trips below 1,000 rows per scan',
      handler: async ({ deps, query, req }): Promise<RouteResult> => {
        const metrics = await collectJobMetrics({
          store: deps.queue.store,
          clock: deps.queue.clock,
          ...(query.orgId ? { orgId: query.orgId } : {}),
          ...(query.windowMinutes ? { windowMs: query.windowMinutes * 60_000 } : {}),
        });
        const prometheus =
          query.format === 'prometheus' ||
          (query.format === undefined && prefersPrometheusText(req.headers?.accept));
        if (!prometheus) return { body: metrics, headers: { vary: 'accept' } };
        const text = writeJobMetrics(new PrometheusWriter(), metrics, {
          types: productJobTypes.map((t) => t.type),
        }).toString();
        return { text, headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, vary: 'accept' } };
      },
    }),
  ],
  health: {
    queue: (deps) => deps.queue.store.list(JOB_TABLES.queue, { limit: 1, select: ['status'] }),
  },
  onSchedule: ({ deps, startedAt }: TriggerInput<WorkerDeps>) => drain(deps, startedAt),
  onEvent: ({ deps, startedAt }) => drainOnEvent(deps, startedAt),
});
