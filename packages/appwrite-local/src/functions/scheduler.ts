/**
 * Time-based triggers, as Appwrite's scheduler runs them: once per minute (minute-aligned, UTC), every enabled
 * function whose cron `schedule` matches that minute gets one async execution on its active deployment
 * (`trigger: schedule`, `POST /`, empty body), and every `scheduled` execution (createExecution with
 * `scheduledAt`) that is due starts on the deployment active at that moment. A minute fires at most once per
 * function, however often `tick()` is called for it. No overlap protection, as on Appwrite.
 */
import { Cron } from 'croner';
import type { FunctionsDeps } from './deps.ts';
import {
  activeDeployment,
  type ExecutionInput,
  pendingInput,
  recordExecution,
  runInBackground,
} from './executor.ts';
import type { ExecutionRecord } from './records.ts';
import { ROOT } from './store.ts';

const MINUTE = 60_000;
/** How long finished executions are kept, ms (Appwrite's `_APP_MAINTENANCE_RETENTION_EXECUTION` default, 14 days). */
export const EXECUTION_RETENTION_MS = 14 * 24 * 60 * MINUTE;

/** Fires cron schedules and due delayed executions. */
export class Scheduler {
  private readonly crons = new Map<string, Cron>();
  private readonly lastFired = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: FunctionsDeps) {}

  /** Starts ticking at every minute boundary of the server clock (real timers). */
  start(): void {
    const arm = () => {
      const now = this.deps.ctx.clock.now();
      const delay = MINUTE - (now % MINUTE) + 5;
      this.timer = setTimeout(() => {
        this.tick(this.deps.ctx.clock.now());
        arm();
      }, delay);
      this.timer.unref();
    };
    arm();
  }

  /** Stops ticking. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Runs the minute containing `at` (epoch ms or Date): starts the matching cron executions and the due
   * scheduled ones, in the background. Returns the executions started.
   */
  tick(at: number | Date): ExecutionRecord[] {
    const minute = Math.floor(Number(at) / MINUTE) * MINUTE;
    const started: ExecutionRecord[] = [];
    this.pruneOldExecutions(minute);
    for (const fn of this.deps.store.functions.list(ROOT)) {
      if (
        fn.enabled &&
        fn.schedule &&
        this.matches(fn.schedule, minute) &&
        (this.lastFired.get(fn.$id) ?? -1) < minute
      ) {
        let deploymentId: string;
        try {
          deploymentId = activeDeployment(this.deps, fn);
        } catch {
          continue; // Nothing deployed: Appwrite skips the run.
        }
        this.lastFired.set(fn.$id, minute);
        const input: ExecutionInput = {
          trigger: 'schedule',
          method: 'POST',
          path: '/',
          headers: {},
          body: Buffer.alloc(0),
        };
        const record = recordExecution(this.deps, fn, input, { status: 'waiting', deploymentId });
        runInBackground(this.deps, record, input, deploymentId);
        started.push(record);
      }
      for (const pending of this.deps.store.executions.list(fn.$id)) {
        if (pending.status !== 'scheduled' || pending.scheduledAt === null || pending.scheduledAt > minute)
          continue;
        started.push(this.startScheduled(pending));
      }
    }
    return started;
  }

  private startScheduled(pending: ExecutionRecord): ExecutionRecord {
    const fn = this.deps.store.functions.get(ROOT, pending.functionId);
    const input: ExecutionInput = { ...pendingInput(pending), trigger: 'schedule' };
    let deploymentId = '';
    try {
      if (fn) deploymentId = activeDeployment(this.deps, fn);
    } catch {
      // Left empty: the run fails with "Deployment not found", recorded on the execution.
    }
    const waiting: ExecutionRecord = {
      ...pending,
      status: 'waiting',
      deploymentId,
      $updatedAt: this.deps.ctx.clock.now(),
    };
    this.deps.store.executions.put(pending.functionId, waiting);
    runInBackground(this.deps, waiting, input, deploymentId);
    return waiting;
  }

  /** Drops executions past the retention period, except ones still waiting to run. */
  private pruneOldExecutions(now: number): void {
    this.deps.store.executions.pruneCreatedBefore(now - EXECUTION_RETENTION_MS, [
      'scheduled',
      'waiting',
      'processing',
    ]);
  }

  private matches(schedule: string, minute: number): boolean {
    let cron = this.crons.get(schedule);
    if (!cron) {
      try {
        cron = new Cron(schedule, { paused: true, timezone: 'UTC' });
      } catch {
        return false;
      }
      this.crons.set(schedule, cron);
    }
    return cron.match(new Date(minute));
  }
}
