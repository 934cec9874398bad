import { errors, hasCode } from '../errors.ts';
import { newId } from '../ids.ts';
import { backoffDelay } from '../retry/backoff.ts';
import type { TraceContext } from '../tracing/trace-context.ts';
import { continueTrace } from '../tracing/trace-context.ts';
import { JOB_SHARDS, type JobStatus } from './job-row.ts';
import {
  type AttemptOutcome,
  isRaceError,
  type JobContext,
  type JobHandler,
  type JobQueue,
  type Lease,
  MAX_CLAIM_BATCH,
  type SettleResult,
} from './queue.ts';

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  queue: JobQueue;
  /** Identifies this worker's leases. Default a new unique id. */
  workerId?: string;
  /**
   * Claim-run-settle loops running side by side: the worker's concurrency in storage requests (each lane has
   * at most one request in flight). Default 2.
   */
  lanes?: number;
  /**
   * Most jobs one lane claims per transaction (and runs concurrently, and settles in one transaction).
   * 1..50, default 50 (2 operations per job: Appwrite's 100-operation transaction limit).
   */
  batchSize?: number;
  /** Candidates listed per job claimed across the whole queue (see ClaimOptions.spread). Default 4. */
  spread?: number;
  /**
   * How often a lane looks for expired leases of other workers while due jobs keep it busy, ms. Default 5,000.
   * A sweep that finds expired leases is followed by another at once until none is left, and a lane that
   * finds nothing due always sweeps before it reports idle.
   */
  recoverEveryMs?: number;
  /** Observer for logs and metrics (never receives payloads or results). */
  onEvent?: (event: WorkerEvent) => void;
}

/** What the worker reports to `onEvent`. */
export type WorkerEvent =
  | { kind: 'claimed'; jobIds: string[]; lane: number }
  | {
      kind: 'settled';
      jobId: string;
      type: string;
      status: JobStatus;
      attempt: number;
      runMs: number;
      /** The attempt's trace (the enqueuing request's trace id) and its own span. */
      traceId: string;
      spanId: string;
    }
  | { kind: 'lease-lost'; jobId: string; type: string }
  | { kind: 'claim-conflict'; lane: number; batch: number }
  | { kind: 'store-error'; lane: number; message: string };

/** Options of one {@link Worker.drain}. */
export interface DrainOptions {
  /** When the execution must have ended, epoch ms (e.g. start + function timeout). Required. */
  deadlineAt: number;
  /**
   * Stop claiming this long before the deadline, ms, leaving room to settle what runs. Default 3,000. Jobs
   * are claimed only if their lease fits in what is left, and handlers still running at
   * `deadlineAt - marginMs` are aborted and their attempt failed (retried), so nothing is left half-done.
   */
  marginMs?: number;
  /** Return once no job is due (true, default: the cron/event drain), or keep polling until the deadline. */
  exitWhenIdle?: boolean;
  /** Pause between polls of an empty queue when `exitWhenIdle` is false, ms. Default 1,000. */
  idlePollMs?: number;
  /** Stops claiming when aborted (running jobs are still settled). */
  signal?: AbortSignal;
}

/** What one drain did. */
export interface DrainReport {
  workerId: string;
  claimed: number;
  completed: number;
  retried: number;
  failed: number;
  deadLettered: number;
  /** Outcomes refused because the lease had been lost (another worker or a cancel moved the job). */
  leaseLost: number;
  /** Claim transactions that lost a race (and were retried with a smaller batch). */
  claimConflicts: number;
  /** Expired leases of other workers taken over. */
  recovered: number;
  /** Why the drain ended. */
  stoppedBy: 'idle' | 'deadline' | 'aborted';
  durationMs: number;
}

/** Runs registered handlers over the queue. */
export interface Worker {
  readonly workerId: string;
  /** Registers the handler of a job type (the type must be one the queue knows). */
  registerHandler<P = unknown>(type: string, handler: JobHandler<P>): void;
  /**
   * Claims and runs due jobs until idle or shortly before the deadline; see {@link DrainOptions}. Rejects with
   * the store's error when it stays unreachable (after every lane settled what it held).
   */
  drain(options: DrainOptions): Promise<DrainReport>;
}

/** Creates a worker. Register handlers, then call `drain` once per execution. */
export function createWorker(options: WorkerOptions): Worker {
  const { queue } = options;
  const clock = queue.clock;
  const workerId = options.workerId ?? `w-${newId()}`;
  const lanes = Math.max(1, Math.floor(options.lanes ?? 2));
  const batchSize = Math.max(1, Math.min(MAX_CLAIM_BATCH, Math.floor(options.batchSize ?? MAX_CLAIM_BATCH)));
  const random = queue.random;
  const spread = Math.max(1, options.spread ?? 4);
  const recoverEveryMs = options.recoverEveryMs ?? 5000;
  const emit = options.onEvent ?? (() => {});
  const handlers = new Map<string, JobHandler>();

  function registerHandler<P>(type: string, handler: JobHandler<P>): void {
    if (!queue.typeSpec(type)) throw errors.invalidInput(`Unknown job type "${type}"`);
    handlers.set(type, handler as JobHandler);
  }

  async function drain(o: DrainOptions): Promise<DrainReport> {
    const started = clock.now();
    const marginMs = o.marginMs ?? 3000;
    const stopAt = o.deadlineAt - marginMs;
    const exitWhenIdle = o.exitWhenIdle ?? true;
    const reserved = new Set<string>();
    const types = [...handlers.keys()];
    const report: DrainReport = {
      workerId,
      claimed: 0,
      completed: 0,
      retried: 0,
      failed: 0,
      deadLettered: 0,
      leaseLost: 0,
      claimConflicts: 0,
      recovered: 0,
      stoppedBy: 'idle',
      durationMs: 0,
    };
    if (!types.length) return { ...report, durationMs: 0 };
    let lastRecovery = Number.NEGATIVE_INFINITY;
    let recovering = false;
    /**
     * One sweep for expired leases; true when it found any (taken over or not: the next sweep comes at once).
     * Lanes may sweep at the same time: the reservation set is updated in the same tick as each list answers,
     * so two sweeps of one drain never pick the same job.
     */
    async function sweep(maxLeaseMs: number): Promise<{ leases: Lease[]; found: boolean }> {
      const r = await queue.recoverSweep({ workerId, limit: batchSize, types, maxLeaseMs, reserved });
      report.recovered += r.leases.length;
      report.deadLettered += r.deadLettered;
      const found = r.found > 0 || r.more;
      if (!found) lastRecovery = clock.now();
      return { leases: r.leases, found };
    }
    // A lane that cannot reach the store stops every lane from claiming; the others still settle what they hold.
    let fatal: { error: unknown } | null = null;

    const stopReason = (): DrainReport['stoppedBy'] | null => {
      if (o.signal?.aborted || fatal) return 'aborted';
      // A job is claimable only if at least the shortest lease (1 s) fits before we stop.
      if (stopAt - clock.now() < 1000) return 'deadline';
      return null;
    };

    async function runLane(lane: number): Promise<void> {
      let size = batchSize;
      // Lanes stick to a shard while their claims succeed and hop to a random one after a lost race, so the
      // lanes of all workers spread over the shards and mostly stop colliding.
      let shard = Math.floor(random() * JOB_SHARDS);
      let storeFailures = 0;
      for (;;) {
        const reason = stopReason();
        if (reason) {
          report.stoppedBy = reason;
          return;
        }
        const maxLeaseMs = stopAt - clock.now();
        let leases: Lease[] = [];
        let expiredLeft = false;
        try {
          // Expired leases come first: every recoverEveryMs one lane sweeps while due jobs keep the lanes busy,
          // and a sweep that found any is repeated at once (lastRecovery stays put) until none is left.
          if (!recovering && clock.now() - lastRecovery >= recoverEveryMs) {
            recovering = true;
            try {
              ({ leases, found: expiredLeft } = await sweep(maxLeaseMs));
            } finally {
              recovering = false;
            }
          }
          if (!leases.length) {
            leases = await queue.claim({ workerId, limit: size, types, maxLeaseMs, spread, reserved, shard });
          }
          // Nothing due: a lane reports idle only after a sweep of its own found no expired lease left.
          if (!leases.length && !expiredLeft) ({ leases, found: expiredLeft } = await sweep(maxLeaseMs));
          storeFailures = 0;
        } catch (error) {
          if (isRaceError(error)) {
            // Another worker took some of the batch: nothing was claimed. Retry smaller, after a short
            // random pause so the racers fall out of step.
            report.claimConflicts++;
            emit({ kind: 'claim-conflict', lane, batch: size });
            size = Math.max(1, Math.floor(size / 2));
            shard = Math.floor(random() * JOB_SHARDS);
            await clock.sleep(Math.floor(random() * 20));
            continue;
          }
          if (hasCode(error, 'RETRYABLE', 'OUTCOME_UNKNOWN') && ++storeFailures <= 3) {
            emit({ kind: 'store-error', lane, message: error.message });
            await clock.sleep(backoffDelay(storeFailures + 1, { baseMs: 200, maxMs: 1_600, jitter: 'none' }));
            continue;
          }
          throw error;
        }
        if (!leases.length) {
          if (expiredLeft) continue; // raced for every expired lease it found: look again
          if (exitWhenIdle) return;
          await clock.sleep(o.idlePollMs ?? 1000);
          continue;
        }
        // Follow the shard the claim came from (a fallback claim picks one); when it ran dry, move on.
        if (leases.length < size) shard = Math.floor(random() * JOB_SHARDS);
        else shard = leases[0]?.job.shard ?? shard;
        size = Math.min(batchSize, size * 2);
        report.claimed += leases.length;
        emit({ kind: 'claimed', jobIds: leases.map((l) => l.job.$id), lane });
        const runs = await Promise.all(leases.map((lease) => runOne(lease, stopAt)));
        const results = await settleWithRetry(runs.map((r) => ({ lease: r.lease, outcome: r.outcome })));
        results.forEach((result, k) => {
          const { lease, runMs, trace } = runs[k]!;
          reserved.delete(lease.job.$id);
          record(result, lease, runMs, trace);
        });
      }
    }

    function record(result: SettleResult | null, lease: Lease, runMs: number, trace: TraceContext): void {
      const job = lease.job;
      if (!result) return; // store unreachable: the lease will expire and another drain retries the job
      if (!result.ok) {
        report.leaseLost++;
        emit({ kind: 'lease-lost', jobId: job.$id, type: job.type });
        return;
      }
      if (result.status === 'COMPLETED') report.completed++;
      else if (result.status === 'RETRYING') report.retried++;
      else if (result.status === 'DEAD_LETTER') report.deadLettered++;
      else report.failed++;
      emit({
        kind: 'settled',
        jobId: job.$id,
        type: job.type,
        status: result.status,
        attempt: job.attempts,
        runMs,
        traceId: trace.traceId,
        spanId: trace.spanId,
      });
    }

    async function settleWithRetry(
      items: { lease: Lease; outcome: AttemptOutcome }[],
    ): Promise<(SettleResult | null)[]> {
      for (let tries = 1; ; tries++) {
        try {
          return await queue.settle(items);
        } catch (error) {
          if (!hasCode(error, 'RETRYABLE') || tries >= 3) return items.map(() => null);
          await clock.sleep(backoffDelay(tries + 1, { baseMs: 100, maxMs: 400, jitter: 'none' }));
        }
      }
    }

    await Promise.all(
      Array.from({ length: lanes }, (_, lane) =>
        runLane(lane).catch((error: unknown) => {
          fatal ??= { error };
        }),
      ),
    );
    report.durationMs = clock.now() - started;
    if (fatal) throw (fatal as { error: unknown }).error;
    return report;
  }

  /** Runs one attempt: parses the payload, runs the handler with heartbeats, and turns the end into an outcome. */
  async function runOne(
    lease: Lease,
    stopAt: number,
  ): Promise<{ lease: Lease; outcome: AttemptOutcome; runMs: number; trace: TraceContext }> {
    const started = clock.now();
    const job = lease.job;
    // The enqueuing request's trace, in a span of this attempt's own (a new trace when none was stored).
    const trace = continueTrace(job.traceparent);
    const handler = handlers.get(job.type);
    const spec = queue.typeSpec(job.type);
    if (!handler || !spec) {
      return {
        lease,
        runMs: 0,
        trace,
        outcome: { ok: false, error: `No handler for job type "${job.type}"`, permanent: true },
      };
    }
    const parsed = spec.payload.safeParse(safeJson(job.payload));
    if (!parsed.success) {
      return {
        lease,
        runMs: 0,
        trace,
        outcome: { ok: false, error: `Invalid payload: ${parsed.error.message}`, permanent: true },
      };
    }
    const abort = new AbortController();
    const stopTimers = new AbortController();
    let heartbeatChain: Promise<void> = Promise.resolve();
    const context: JobContext = {
      jobId: job.$id,
      orgId: job.orgId,
      type: job.type,
      attempt: job.attempts,
      signal: abort.signal,
      job,
      trace,
    };

    // Heartbeat every leaseMs/3 while the handler runs (a lease reaching past stopAt is harmless: the attempt
    // is settled at stopAt at the latest, or, if the execution dies, recovered once the lease expires); abort
    // the handler when the lease is lost or the stop time comes.
    const beat = (async () => {
      for (;;) {
        const waitMs = Math.min(Math.floor(job.leaseMs / 3), Math.max(0, stopAt - clock.now()));
        try {
          await clock.sleep(waitMs, stopTimers.signal);
        } catch {
          return; // the handler ended
        }
        if (clock.now() >= stopAt) {
          abort.abort(errors.internal('execution deadline reached'));
          return;
        }
        try {
          heartbeatChain = queue.heartbeat(lease);
          await heartbeatChain;
        } catch (error) {
          if (stopTimers.signal.aborted) return;
          // A missed heartbeat is not fatal: the next one (leaseMs/3 later) may succeed before the lease ends.
          if (hasCode(error, 'RETRYABLE')) continue;
          abort.abort(error); // LEASE_LOST, or anything else: stop the handler
          return;
        }
      }
    })();

    const aborted = new Promise<never>((_, reject) => {
      abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
    });
    aborted.catch(() => {}); // may reject after the race is decided; nobody else awaits it
    let outcome: AttemptOutcome;
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => handler(parsed.data, context)),
        aborted,
      ]);
      outcome = { ok: true, result };
    } catch (error) {
      outcome = { ok: false, error, permanent: isPermanent(error) };
    } finally {
      stopTimers.abort();
      await beat;
      await heartbeatChain.catch(() => {});
    }
    return { lease, outcome, runMs: clock.now() - started, trace };
  }

  return { workerId, registerHandler, drain };
}

/** Errors that will not go away by retrying: bad input, missing or forbidden resources. */
function isPermanent(error: unknown): boolean {
  return (
    hasCode(error, 'INVALID_INPUT', 'NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED') ||
    (typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true)
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
