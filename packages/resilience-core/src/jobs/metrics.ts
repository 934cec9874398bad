import type { Clock } from '../ports/clock.ts';
import type { Condition, ListResult, TableStore } from '../ports/table-store.ts';
import { JOB_STATUSES, type JobStatus, parseJobRow, type StoredJob } from './job-row.ts';
import { JOB_TABLES } from './tables.ts';

/** Percentiles of a set of durations, ms (null when the set is empty). */
export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /** Sum of the durations, ms (0 when the set is empty). */
  sum: number;
}

/** A snapshot of the queue, computed from the `job-queue` table. */
export interface JobMetrics {
  /** When the snapshot was taken, epoch ms. */
  at: number;
  /** Length of the window for throughput, failure rate and latencies, ms. */
  windowMs: number;
  /** Jobs not finished (PENDING, RETRYING, PROCESSING) and dead letters, by status. */
  depth: Record<JobStatus, number>;
  /** The same, by type then status. */
  depthByType: Record<string, Partial<Record<JobStatus, number>>>;
  /** Jobs due now (runAt ≤ at) and not yet claimed. */
  due: number;
  /** Age of the oldest due job: at − its runAt, ms; null when none is due. */
  oldestDueAgeMs: number | null;
  /** Jobs that reached a final status within the window, by status. */
  finishedInWindow: Record<JobStatus, number>;
  /** Completed jobs per minute over the window. */
  throughputPerMinute: number;
  /** (FAILED + DEAD_LETTER) / all finished within the window; null when none finished. */
  failureRate: number | null;
  /** Of jobs completed within the window: enqueue → completion, ms. */
  totalLatencyMs: Percentiles;
  /** Of jobs completed within the window: claim of the last attempt → completion, ms. */
  runLatencyMs: Percentiles;
  /** Of jobs completed within the window: due (runAt) → claim of the last attempt, ms. */
  waitLatencyMs: Percentiles;
  /** Rows read; `truncated` when the scan stopped at `maxRows` (the figures then cover that many rows). */
  scanned: number;
  truncated: boolean;
}

/** Options of {@link collectJobMetrics}. */
export interface JobMetricsOptions {
  store: TableStore;
  clock: Clock;
  /** Window for throughput, failure rate and latencies, ms. Default 3,600,000 (1 h). */
  windowMs?: number;
  /** Only this organization's jobs. */
  orgId?: string;
  /** Most rows read per scan. Default 10,000. */
  maxRows?: number;
}

const ACTIVE: JobStatus[] = ['PENDING', 'RETRYING', 'PROCESSING', 'DEAD_LETTER'];
const COLUMNS = ['orgId', 'type', 'status', 'runAt', 'enqueuedAt', 'startedAt', 'finishedAt', 'priority'];

/** The p-th percentile (nearest rank) of sorted values. */
function rank(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}

/** Percentiles of durations (ms). */
export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: rank(s, 50),
    p95: rank(s, 95),
    p99: rank(s, 99),
    max: s[s.length - 1] ?? null,
    sum: s.reduce((a, b) => a + b, 0),
  };
}

function zero(): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
}

/**
 * Computes queue metrics by scanning the unfinished jobs and the jobs finished within the window (bounded by
 * `maxRows` per scan). Costs one list per 1,000 rows; meant for a metrics endpoint, not a hot path.
 */
export async function collectJobMetrics(options: JobMetricsOptions): Promise<JobMetrics> {
  const { store } = options;
  const at = options.clock.now();
  const windowMs = options.windowMs ?? 3_600_000;
  const maxRows = options.maxRows ?? 10_000;
  const org: Condition[] = options.orgId ? [{ field: 'orgId', op: 'eq', value: options.orgId }] : [];
  let truncated = false;
  let scanned = 0;

  async function scan(where: Condition[]): Promise<StoredJob[]> {
    const out: StoredJob[] = [];
    let cursor: string | null = null;
    do {
      const page: ListResult = await store.list(JOB_TABLES.queue, {
        where: [...where, ...org],
        select: COLUMNS,
        limit: Math.min(1000, maxRows - out.length),
        ...(cursor ? { cursor } : {}),
      });
      // `select` returns only some columns: fill the rest so the row schema accepts it.
      for (const row of page.rows) out.push(parseJobRow({ ...row, ...FILLER }));
      cursor = page.nextCursor;
      if (cursor && out.length >= maxRows) {
        truncated = true;
        break;
      }
    } while (cursor);
    scanned += out.length;
    return out;
  }

  const active = await scan([{ field: 'status', op: 'eq', value: ACTIVE }]);
  const finished = await scan([{ field: 'finishedAt', op: 'gte', value: at - windowMs }]);

  const depth = zero();
  const depthByType: Record<string, Partial<Record<JobStatus, number>>> = {};
  let due = 0;
  let oldestRunAt: number | null = null;
  for (const job of active) {
    depth[job.status]++;
    const t = depthByType[job.type] ?? {};
    t[job.status] = (t[job.status] ?? 0) + 1;
    depthByType[job.type] = t;
    if ((job.status === 'PENDING' || job.status === 'RETRYING') && job.runAt <= at) {
      due++;
      if (oldestRunAt === null || job.runAt < oldestRunAt) oldestRunAt = job.runAt;
    }
  }

  const finishedInWindow = zero();
  const total: number[] = [];
  const run: number[] = [];
  const wait: number[] = [];
  for (const job of finished) {
    finishedInWindow[job.status]++;
    if (job.status !== 'COMPLETED' || job.finishedAt === null) continue;
    total.push(job.finishedAt - job.enqueuedAt);
    if (job.startedAt !== null) {
      run.push(job.finishedAt - job.startedAt);
      wait.push(Math.max(0, job.startedAt - job.runAt));
    }
  }
  const ended =
    finishedInWindow.COMPLETED +
    finishedInWindow.FAILED +
    finishedInWindow.DEAD_LETTER +
    finishedInWindow.CANCELLED;
  return {
    at,
    windowMs,
    depth,
    depthByType,
    due,
    oldestDueAgeMs: oldestRunAt === null ? null : at - oldestRunAt,
    finishedInWindow,
    throughputPerMinute: finishedInWindow.COMPLETED / (windowMs / 60_000),
    failureRate: ended ? (finishedInWindow.FAILED + finishedInWindow.DEAD_LETTER) / ended : null,
    totalLatencyMs: percentiles(total),
    runLatencyMs: percentiles(run),
    waitLatencyMs: percentiles(wait),
    scanned,
    truncated,
  };
}

/** Values for the columns a metrics scan does not select. */
const FILLER = {
  payload: '',
  shard: 0,
  attempts: 0,
  maxRetries: 0,
  backoffBaseMs: 0,
  backoffMaxMs: 0,
  leaseMs: 1000,
  version: 0,
  leaseOwner: null,
  leaseExpiresAt: null,
  idempotencyKey: null,
  scheduleId: null,
  lastError: null,
  history: '[]',
  result: null,
};
