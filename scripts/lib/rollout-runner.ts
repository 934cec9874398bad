/**
 * The pieces shared by the two commands that drive a blue-green rollout from a terminal or CI:
 * `npm run rollout` (scripts/rollout.ts) and `npm run deploy` step 5 (scripts/deploy.ts). Both run the same
 * resilience-core `RolloutOrchestrator` in their own process against the Appwrite named by endpoint, project
 * and key, print its history entries live as they are written, and end with the same verdict. Both gate a
 * rollout on the function's SLOs (resilience-core `createSloGate` over the declared `FUNCTION_SLOS`): an
 * exhausted error budget refuses the start unless forced (`--force-slo`), and the watch fails a green that
 * burns the budget faster than 14.4×.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { errors, errorText, hasCode, systemClock } from 'resilience-core';
import {
  appwriteExecutionCounter,
  createAppwriteClient,
  createAppwriteFunctionsPlatform,
  createAppwriteTableStore,
} from 'resilience-core/adapters/appwrite';
import {
  countingPlatform,
  createSloGate,
  type FunctionsPlatform,
  type HolderGone,
  type LockRow,
  type PlatformCallStats,
  type ResumeOptions,
  type RolloutEvent,
  RolloutOrchestrator,
  type RolloutView,
} from 'resilience-core/deployment';
import { backoffDelay } from 'resilience-core/retry';
import { FUNCTION_SLOS, type SloSpec } from 'resilience-core/slo';

/** Where and as whom a rollout runs. */
export interface RolloutRunnerOptions {
  endpoint: string;
  projectId: string;
  /** API key (functions.read/write, execution.read/write, rows.read/write). Never printed. */
  key: string;
  /** Identity of this run in the lock row: {@link processOwner} (so another run can prove it gone). */
  owner: string;
  /** Receives every history entry as it is written (must not throw). */
  onEvent: (event: RolloutEvent) => void;
  /**
   * The SLO gate: the SLOs to gate on (default `FUNCTION_SLOS`, declared beside the functions) and the events
   * an SLO window must hold before an exhausted budget refuses (default per SLO: `minEventsFor`, see
   * resilience-core `deployment/slo-gate.ts`).
   */
  slo?: { slos?: readonly SloSpec[]; minEvents?: number };
}

/** An orchestrator over the Appwrite adapters, with its platform's call counters. */
export interface RolloutRunner {
  orchestrator: RolloutOrchestrator;
  /** The counted platform the orchestrator drives (`stats` = calls so far, per method). */
  platform: FunctionsPlatform & { stats: PlatformCallStats };
  /** Execution counts the SLO gate made so far (one `listExecutions` reading at most one row each). */
  sloStats: { counts: number };
}

/**
 * Builds the orchestrator both commands use: Appwrite Functions platform (counted) + Appwrite TablesDB store +
 * the SLO gate over Appwrite's execution records (counted in `sloStats`). A start of a function with SLOs costs
 * one SLO evaluation more (15 counts for create-recognition's two SLOs, issued at once; none without SLOs).
 */
export function createRolloutRunner(options: RolloutRunnerOptions): RolloutRunner {
  const connection = { endpoint: options.endpoint, projectId: options.projectId, key: options.key };
  const client = createAppwriteClient(connection);
  const platform = countingPlatform(createAppwriteFunctionsPlatform({ client }));
  const sloStats = { counts: 0 };
  const sloGate = createSloGate({
    slos: options.slo?.slos ?? FUNCTION_SLOS,
    counter: appwriteExecutionCounter(client, () => sloStats.counts++),
    clock: systemClock,
    ...(options.slo?.minEvents !== undefined ? { minEvents: options.slo.minEvents } : {}),
  });
  const orchestrator = new RolloutOrchestrator({
    store: createAppwriteTableStore(connection),
    platform,
    owner: options.owner,
    onEvent: options.onEvent,
    holderGone: holderGoneOnThisHost(options.owner),
    sloGate,
  });
  return { orchestrator, platform, sloStats };
}

/**
 * The lock owner of this process: `<kind>:<host>:<pid>:<nonce>` (at most 64 characters, the column's size). The
 * host and pid let a later run on the same host prove this process gone ({@link holderGoneOnThisHost}); the
 * nonce keeps two processes that share a pid (other hosts, pid reuse) apart.
 */
export function processOwner(kind: 'cli' | 'deploy'): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '')
      .slice(0, 32) || 'host';
  return `${kind}:${host}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** The host and pid a {@link processOwner} names, or null for any other owner (e.g. a function execution's). */
export function parseProcessOwner(owner: string): { host: string; pid: number } | null {
  const m = /^(?:cli|deploy):([A-Za-z0-9.-]+):(\d+):[0-9a-f]+$/.exec(owner);
  return m ? { host: m[1]!, pid: Number(m[2]) } : null;
}

/**
 * Proof that a lock holder is gone, for a run whose own owner is `self`: the holder is `self` (an earlier
 * attempt of this very process, which drives one rollout at a time), or a {@link processOwner} of this host
 * whose process no longer exists (`kill(pid, 0)` answers ESRCH). Anything else (another host, a function
 * execution, a live or reused pid) proves nothing: its lease is waited out.
 */
export function holderGoneOnThisHost(self: string, isAlive: (pid: number) => boolean = pidAlive): HolderGone {
  const host = parseProcessOwner(self)?.host ?? hostname();
  return (holder: LockRow) => {
    if (holder.owner === self) return true;
    const named = parseProcessOwner(holder.owner);
    return named !== null && named.host === host && named.pid !== process.pid && !isAlive(named.pid);
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, not ours to signal
  }
}

/** Options of {@link retryTransient}. */
export interface RetryTransientOptions {
  /** Give up (rethrow) once this much time has been spent waiting, ms. */
  maxWaitMs: number;
  /** Prints what failed and the countdown (a line per second of the wait). */
  out: (line: string) => void;
  /** First delay and cap of the backoff, ms. Default 1000 / 15000. */
  initialMs?: number;
  maxMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** True for the failures a retry can fix: Appwrite unreachable / 5xx / 429, or a write whose outcome is unknown. */
export function isTransientFailure(error: unknown): boolean {
  return hasCode(error, 'RETRYABLE', 'OUTCOME_UNKNOWN');
}

/**
 * Runs `attempt(n)` (n = 0, 1, …) until it returns, retrying transient failures ({@link isTransientFailure})
 * with exponential backoff and a visible countdown, for at most `maxWaitMs` of waiting in total; any other
 * failure, or a transient one past the budget, is thrown. `attempt` gets the attempt number so a retry can
 * resume what the first attempt started.
 */
export async function retryTransient<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryTransientOptions,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const initial = options.initialMs ?? 1_000;
  const cap = options.maxMs ?? 15_000;
  let waited = 0;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!isTransientFailure(error)) throw error;
      const delay = Math.min(
        backoffDelay(n + 1, { baseMs: initial, maxMs: cap, jitter: 'none' }),
        options.maxWaitMs - waited,
      );
      const message = errorText(error);
      if (delay <= 0) {
        options.out(`✗ still failing after ${Math.round(waited / 1000)} s of retries: ${message}`);
        throw error;
      }
      options.out(
        `! transient failure (attempt ${n + 1}): ${message} — retrying with backoff (giving up after ` +
          `${Math.round(options.maxWaitMs / 1000)} s of retries)`,
      );
      for (let left = delay; left > 0; left -= 1_000) {
        options.out(`  retrying in ${Math.ceil(left / 1000)} s…`);
        await sleep(Math.min(1_000, left));
      }
      waited += delay;
    }
  }
}

/**
 * Starts a rollout of `functionId` through {@link retryTransient}: the first attempt runs `start()`; a retry
 * continues the rollout this process started when it was recorded (the newest rollout of the function is the one
 * `drivenRolloutId()` names, or began at or after this call: resumed, or returned when it has already finished),
 * and starts again when it was not. The rollout's lock is this process's own, so the resume takes it back at once.
 */
export function startWithRetries(args: {
  orchestrator: RolloutOrchestrator;
  functionId: string;
  start: () => Promise<RolloutView>;
  resume: ResumeOptions;
  retry: RetryTransientOptions;
  /** The rollout this process's history entries named first (null before any). */
  drivenRolloutId: () => string | null;
}): Promise<RolloutView> {
  const startedAt = Date.now();
  return retryTransient(async (n) => {
    if (n === 0) return args.start();
    const current = await args.orchestrator.current(args.functionId);
    const ours =
      current !== null &&
      (current.rolloutId === args.drivenRolloutId() || Date.parse(current.startedAt) >= startedAt - 5_000);
    if (!ours) return args.start();
    if (current.done) return current;
    return args.orchestrator.resume(args.functionId, args.resume);
  }, args.retry);
}

/** Sleeps until `untilMs` (epoch ms), printing a countdown like {@link retryTransient}. */
export async function waitUntil(
  untilMs: number,
  what: string,
  out: (line: string) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise<void>((r) => setTimeout(r, ms)),
): Promise<void> {
  const total = Math.max(0, untilMs - Date.now());
  out(`… ${what}: waiting ${Math.ceil(total / 1000)} s (until ${new Date(untilMs).toISOString()})`);
  for (let left = total; left > 0; left -= 1_000) await sleep(Math.min(1_000, left));
}

/** A stopwatch started now: returns the seconds elapsed, right-aligned (`"   1.2s"`), for progress lines. */
export function stopwatch(): () => string {
  const started = performance.now();
  return () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
}

/** One live progress line for a history entry: `[  1.2s] · building     message`. */
export function formatRolloutEvent(event: RolloutEvent, elapsed: string): string {
  const mark = event.level === 'error' ? '✗' : event.level === 'warn' ? '!' : '·';
  return `[${elapsed}] ${mark} ${event.status.padEnd(12)} ${event.message}`;
}

/**
 * The final verdict of a rollout, as lines: `VERDICT: …` first, then the notes and figures (switch and
 * rollback API calls and wall time, the watch summary, the platform API calls of this process).
 * `resumeCommand` is what to tell the operator when the rollout is still in progress.
 */
export function rolloutVerdictLines(
  view: RolloutView,
  calls: PlatformCallStats,
  wallTime: string,
  resumeCommand = `npm run rollout -- resume ${view.functionId}`,
): string[] {
  const lines: string[] = [];
  const sw = view.figures.switch;
  const rb = view.figures.rollback;
  if (view.status === 'succeeded')
    lines.push(`VERDICT: SUCCEEDED — green ${view.green.deploymentId} is active on ${view.functionId}`);
  else if (view.status === 'rolled_back')
    lines.push(`VERDICT: ROLLED BACK — blue ${view.blue.deploymentId} is active again (${view.reason})`);
  else if (view.status === 'failed')
    lines.push(
      `VERDICT: FAILED — ${view.reason}` +
        (view.green.active
          ? ` (green ${view.green.deploymentId} IS active)`
          : ` (blue ${view.blue.deploymentId ?? '-'} still active)`),
    );
  else lines.push(`VERDICT: IN PROGRESS (${view.status}) — run \`${resumeCommand}\``);
  if (view.skipHealthCheck) lines.push('note: pre-switch validation was SKIPPED (skipHealthCheck)');
  lines.push(`rollout ${view.rolloutId}; wall time ${wallTime.trim()}`);
  if (sw) lines.push(`switch:   ${sw.calls} API call (updateFunctionDeployment), ${sw.ms} ms`);
  if (rb) lines.push(`rollback: ${rb.calls} API call (updateFunctionDeployment), ${rb.ms} ms`);
  if (view.watch) {
    const w = view.watch;
    lines.push(
      `watch:    ${w.samples} samples (${w.probes} probes), ${w.errors} errors (${(w.errorRate * 100).toFixed(1)}%), p95 ${Math.round(w.p95LatencyMs)} ms`,
    );
  }
  lines.push(
    `platform API calls: ${calls.calls} (${Object.entries(calls.byMethod)
      .map(([m, n]) => `${m} ${n}`)
      .join(', ')})`,
  );
  return lines;
}

/** Exit code of a finished run: 0 succeeded, 1 rolled back or failed, 3 still in progress (resumable). */
export function rolloutExitCode(view: RolloutView): 0 | 1 | 3 {
  if (view.status === 'succeeded') return 0;
  if (!view.done) return 3;
  return 1;
}

/**
 * Reads a rollout policy file (a JSON object of `RolloutPolicyInput` fields). The fields are validated by
 * `parseRolloutPolicy` (or by the orchestrator at start); this only refuses a missing file or non-object JSON,
 * with `INVALID_INPUT` naming the file.
 */
export function readPolicyFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw errors.invalidInput(`cannot read the policy file ${file}: ${errorText(error)}`, [
      { path: 'policy', message: 'unreadable file' },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw errors.invalidInput(`the policy file ${file} is not JSON: ${errorText(error)}`, [
      { path: 'policy', message: 'not JSON' },
    ]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw errors.invalidInput(`the policy file ${file} must hold a JSON object`, [
      { path: 'policy', message: 'not an object' },
    ]);
  }
  return parsed as Record<string, unknown>;
}
