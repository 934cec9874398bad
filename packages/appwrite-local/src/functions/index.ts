/**
 * The functions module of appwrite-local: functions, variables, deployments (upload, build, activate),
 * executions on warm Node child processes (open-runtimes contract), cron schedules, delayed executions and
 * event triggers. One instance per server: create it with createFunctionsModule().
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ListeningInfo, ServerContext, ServerModule } from '../server-context.ts';
import type { FunctionsDeps } from './deps.ts';
import { onPlatformEvent } from './event-triggers.ts';
import { provisionFunctions } from './provision.ts';
import type { ExecutionRecord } from './records.ts';
import { recoverInterrupted } from './recovery.ts';
import { registerDeploymentRoutes } from './routes-deployments.ts';
import { registerExecutionRoutes } from './routes-executions.ts';
import { registerFunctionRoutes } from './routes-functions.ts';
import { registerProxyRoutes } from './routes-proxy.ts';
import { registerVariableRoutes } from './routes-variables.ts';
import { RuntimePool } from './runtime/runtime-pool.ts';
import { Scheduler } from './scheduler.ts';
import { openFunctionsStore } from './store.ts';
import type { PartialUploads } from './upload.ts';

/** Options of the functions module. */
export interface FunctionsModuleOptions {
  /**
   * Run the minute scheduler on real timers (default true). Tests that need determinism pass false and call
   * `tick(date)` themselves.
   */
  autoTick?: boolean | undefined;
  /** Synchronous execution limit before 408 `function_synchronous_timeout`, seconds (default 30, as Appwrite). */
  syncTimeoutSeconds?: number | undefined;
}

/** The functions module plus the hooks tests and scripts use. */
export interface FunctionsModule extends ServerModule {
  /**
   * Fires the scheduler for the minute containing `at` (epoch ms or Date; default: the server clock): cron
   * schedules that match it and due `scheduledAt` executions. Returns the executions started (they run in
   * the background; see `settle()`).
   */
  tick(at?: number | Date): ExecutionRecord[];
  /** Resolves once every build and background execution started so far has finished. */
  settle(): Promise<void>;
  /** Cold starts of function processes so far (warm reuse means this stays flat). */
  readonly coldStarts: number;
  /**
   * Executions running now. Synchronous ones are stored only when they end, so tests that must act while
   * they run (an activation mid-flight) wait on this instead of listing `processing` executions.
   */
  readonly runningExecutions: number;
}

/** Creates a functions module for one server. */
export function createFunctionsModule(options: FunctionsModuleOptions = {}): FunctionsModule {
  let deps: FunctionsDeps | undefined;
  let scheduler: Scheduler | undefined;
  let tempRoot: string | undefined;
  let unsubscribe: (() => void) | undefined;
  const pool = new RuntimePool();
  const partials: PartialUploads = new Map();
  const need = (): FunctionsDeps => {
    if (!deps) throw new Error('functions module is not installed');
    return deps;
  };

  return {
    name: 'functions',

    install(ctx: ServerContext) {
      let codeRoot: string;
      if (ctx.options.dataDir && !ctx.options.memory) {
        codeRoot = join(ctx.options.dataDir, 'functions');
        mkdirSync(codeRoot, { recursive: true });
      } else {
        tempRoot = mkdtempSync(join(tmpdir(), 'appwrite-local-functions-'));
        codeRoot = tempRoot;
      }
      deps = {
        ctx,
        store: openFunctionsStore(ctx.db),
        pool,
        codeRoot,
        endpoint: '',
        background: new Set(),
        stopping: false,
        running: 0,
        runtimeSecret: randomBytes(24).toString('hex'),
      };
      registerFunctionRoutes(deps, ctx.router);
      registerDeploymentRoutes(deps, ctx.router, partials);
      registerExecutionRoutes(deps, ctx.router, { syncTimeoutSeconds: options.syncTimeoutSeconds ?? 30 });
      registerVariableRoutes(deps, ctx.router);
      registerProxyRoutes(ctx.router);
      if (ctx.config) provisionFunctions(deps, ctx.config.functions);
      scheduler = new Scheduler(deps);
      const d = deps;
      unsubscribe = ctx.events.subscribe((event) => void onPlatformEvent(d, event));
    },

    start(info: ListeningInfo) {
      const d = need();
      d.endpoint = info.endpoint;
      recoverInterrupted(d);
      if (options.autoTick !== false) scheduler?.start();
    },

    async stop() {
      const d = need();
      d.stopping = true;
      scheduler?.stop();
      unsubscribe?.();
      // Kill processes first so in-flight executions resolve (as failed) and background work drains quickly.
      await pool.stopAll();
      await Promise.allSettled([...d.background]);
      if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
    },

    tick(at?: number | Date) {
      const d = need();
      if (!scheduler) throw new Error('functions module is not installed');
      return scheduler.tick(at ?? d.ctx.clock.now());
    },

    async settle() {
      const d = need();
      while (d.background.size > 0) await Promise.allSettled([...d.background]);
    },

    get coldStarts() {
      return pool.coldStarts;
    },

    get runningExecutions() {
      return deps?.running ?? 0;
    },
  };
}
