/**
 * The pieces shared by the two commands that drive a blue-green rollout from a terminal or CI:
 * `npm run rollout` (scripts/rollout.ts) and `npm run deploy` step 5 (scripts/deploy.ts). Both run the same
 * resilience-core `RolloutOrchestrator` in their own process against the Appwrite named by endpoint, project
 * and key, print its history entries live as they are written, and end with the same verdict.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  countingPlatform,
  errors,
  type FunctionsPlatform,
  type PlatformCallStats,
  type RolloutEvent,
  RolloutOrchestrator,
  type RolloutView,
} from 'resilience-core';
import { createAppwriteFunctionsPlatform, createAppwriteTableStore } from 'resilience-core/adapters/appwrite';

/** Where and as whom a rollout runs. */
export interface RolloutRunnerOptions {
  endpoint: string;
  projectId: string;
  /** API key (functions.read/write, execution.read/write, rows.read/write). Never printed. */
  key: string;
  /** Identity of this run in the lock row, e.g. `cli-<pid>`. */
  owner: string;
  /** Receives every history entry as it is written (must not throw). */
  onEvent: (event: RolloutEvent) => void;
}

/** An orchestrator over the Appwrite adapters, with its platform's call counters. */
export interface RolloutRunner {
  orchestrator: RolloutOrchestrator;
  /** The counted platform the orchestrator drives (`stats` = calls so far, per method). */
  platform: FunctionsPlatform & { stats: PlatformCallStats };
}

/** Builds the orchestrator both commands use: Appwrite Functions platform (counted) + Appwrite TablesDB store. */
export function createRolloutRunner(options: RolloutRunnerOptions): RolloutRunner {
  const connection = { endpoint: options.endpoint, projectId: options.projectId, key: options.key };
  const platform = countingPlatform(createAppwriteFunctionsPlatform(connection));
  const orchestrator = new RolloutOrchestrator({
    store: createAppwriteTableStore(connection),
    platform,
    owner: options.owner,
    onEvent: options.onEvent,
  });
  return { orchestrator, platform };
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
    throw errors.invalidInput(`cannot read the policy file ${file}: ${(error as Error).message}`, [
      { path: 'policy', message: 'unreadable file' },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw errors.invalidInput(`the policy file ${file} is not JSON: ${(error as Error).message}`, [
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
