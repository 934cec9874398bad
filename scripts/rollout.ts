/**
 * `npm run rollout -- <command> <functionId> [options]`: drives a blue-green rollout of an Appwrite function
 * from a terminal or CI, with live progress and a clear final verdict. It runs the same orchestrator as the
 * deploy-orchestrator function (resilience-core `RolloutOrchestrator`) in this process, against the Appwrite
 * named by the environment. `npm run deploy` rolls changed code out the same way (shared pieces:
 * scripts/lib/rollout-runner.ts).
 *
 * Commands:
 *   start <fn>     upload code (or take --deployment) and roll it out: build → validate on <fn>-standby →
 *                  switch → watch → succeed, or roll back / fail. Twins exist for create-recognition,
 *                  job-worker and quota-reset (no schedule, no events: a cron function's schedule stays on
 *                  blue until the switch); deploy-orchestrator has none (--skip-health-check, or deploy it)
 *   resume <fn>    continue <fn>'s unfinished rollout (its previous run died or ran out of time)
 *   rollback <fn>  roll back (or abort) <fn>'s latest rollout
 *   status <fn>    the latest rollout with its events
 *   history <fn>   the rollouts of <fn>, newest first
 *
 * Connection: APPWRITE_ENDPOINT, APPWRITE_PROJECT_ID, APPWRITE_API_KEY (or --endpoint/--project/--key). The key
 * needs functions.read/write, execution.read/write, rows.read/write; it is never printed.
 * Code: --dir DIR (default functions/<fn> with --files dist), --files a,b (paths inside DIR to pack, default
 * everything), --entrypoint (default dist/main.js), --commands (default ""), or --deployment ID.
 * Policy: --policy FILE.json and/or --watch-ms, --interval-ms, --min-samples, --max-error-rate, --max-p95-ms,
 * --build-timeout-ms, --build-poll-max-ms, --lock-ttl-ms, --health-path, --resume-policy resume|rollback; --skip-health-check;
 * --no-auto-rollback; --max-run-ms N (stop after N ms, resumable).
 * SLOs (resilience-core `FUNCTION_SLOS`): `start` evaluates the function's SLOs first (15 execution counts for
 * create-recognition) and refuses (exit 2) when an error budget is exhausted over a window holding enough events
 * (⌈1 / (1 − objective)⌉, 2,000 for 99.95 %; --slo-min-events N overrides); --force-slo starts anyway and the
 * rollout's first history entry records it. With fewer events the start goes through with a low-traffic note.
 * Flaky server: a transient failure (Appwrite unreachable, 5xx, 429, a write whose outcome is unknown) does not
 * end the command: it retries with backoff and a countdown for up to --retry-for-ms (default 300000), resuming
 * the rollout it started (this process's own lock is taken back at once). `resume` takes over the lock of a run
 * that is provably gone (a `npm run rollout`/`deploy` process of this host that no longer exists) without
 * waiting for its lease; otherwise it says exactly when the lease ends, and with --wait waits for it.
 *
 * Exit codes: 0 succeeded (or a read command), 1 rolled back / failed, 2 refused (bad input, busy), 3 still in
 * progress (budget spent: run `resume`), 4 an unexpected error.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packDirectory } from 'appwrite-local';
import { hasCode, messageOf } from 'resilience-core';
import type { CodeBundle, RolloutEvent, RolloutView } from 'resilience-core/deployment';
import {
  createRolloutRunner,
  formatRolloutEvent,
  processOwner,
  readPolicyFile,
  retryTransient,
  rolloutExitCode,
  rolloutVerdictLines,
  startWithRetries,
  stopwatch,
  waitUntil,
} from './lib/rollout-runner.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    endpoint: { type: 'string' },
    project: { type: 'string' },
    key: { type: 'string' },
    dir: { type: 'string' },
    files: { type: 'string' },
    entrypoint: { type: 'string' },
    commands: { type: 'string' },
    deployment: { type: 'string' },
    standby: { type: 'string' },
    policy: { type: 'string' },
    'watch-ms': { type: 'string' },
    'interval-ms': { type: 'string' },
    'min-samples': { type: 'string' },
    'max-error-rate': { type: 'string' },
    'max-p95-ms': { type: 'string' },
    'build-timeout-ms': { type: 'string' },
    'lock-ttl-ms': { type: 'string' },
    'build-poll-max-ms': { type: 'string' },
    'health-path': { type: 'string' },
    'resume-policy': { type: 'string' },
    'max-run-ms': { type: 'string' },
    'retry-for-ms': { type: 'string' },
    wait: { type: 'boolean', default: false },
    'skip-health-check': { type: 'boolean', default: false },
    'no-auto-rollback': { type: 'boolean', default: false },
    'force-slo': { type: 'boolean', default: false },
    'slo-min-events': { type: 'string' },
    reason: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const [command, functionId] = positionals;
const elapsed = stopwatch();

function usage(): never {
  console.log(
    'usage: npm run rollout -- <start|resume|rollback|status|history> <functionId> [options]\n' +
      '       (see the header of scripts/rollout.ts for every option)',
  );
  process.exit(values.help ? 0 : 2);
}

function refuse(message: string): never {
  console.error(`refused: ${message}`);
  process.exit(2);
}

if (values.help || !command || !functionId) usage();

const { APPWRITE_ENDPOINT, APPWRITE_PROJECT_ID, APPWRITE_API_KEY } = process.env;
const endpoint = values.endpoint ?? APPWRITE_ENDPOINT;
const projectId = values.project ?? APPWRITE_PROJECT_ID;
const key = values.key ?? APPWRITE_API_KEY;
if (!endpoint || !projectId || !key) {
  refuse('set APPWRITE_ENDPOINT, APPWRITE_PROJECT_ID and APPWRITE_API_KEY (or --endpoint, --project, --key)');
}

const sloMinEvents = values['slo-min-events'];
if (sloMinEvents !== undefined && !/^\d+$/.test(sloMinEvents)) {
  refuse(`--slo-min-events must be a whole number ≥ 0, got ${sloMinEvents}`);
}

const { orchestrator, platform, sloStats } = createRolloutRunner({
  endpoint,
  projectId,
  key,
  owner: processOwner('cli'),
  onEvent: printEvent,
  ...(sloMinEvents !== undefined ? { slo: { minEvents: Number(sloMinEvents) } } : {}),
});

/** The rollout this process drives (from the history entries it writes). */
let drivenRolloutId: string | null = null;

function printEvent(e: RolloutEvent): void {
  drivenRolloutId ??= e.rolloutId;
  if (values.json) return void console.log(JSON.stringify({ type: 'event', ...e }));
  console.log(formatRolloutEvent(e, elapsed()));
}

function num(name: keyof typeof values): number | undefined {
  const raw = values[name];
  if (raw === undefined || typeof raw !== 'string') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) refuse(`--${String(name)} must be a number, got ${raw}`);
  return n;
}

function policyFromArgs(): Record<string, unknown> {
  const fromFile = values.policy ? readPolicyFile(values.policy) : {};
  const flags: Record<string, unknown> = {
    watchWindowMs: num('watch-ms'),
    watchIntervalMs: num('interval-ms'),
    minSamples: num('min-samples'),
    maxErrorRate: num('max-error-rate'),
    maxP95LatencyMs: num('max-p95-ms'),
    buildTimeoutMs: num('build-timeout-ms'),
    lockTtlMs: num('lock-ttl-ms'),
    buildPollMaxMs: num('build-poll-max-ms'),
    buildPollInitialMs:
      num('build-poll-max-ms') === undefined ? undefined : Math.min(500, num('build-poll-max-ms')!),
    healthPath: values['health-path'],
    resumePolicy: values['resume-policy'],
  };
  return { ...fromFile, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
}

async function codeFromArgs(required: boolean): Promise<CodeBundle | undefined> {
  if (!values.dir && !required) return undefined;
  const repoFunction = path.join(root, 'functions', functionId!);
  const dir = values.dir ? path.resolve(values.dir) : repoFunction;
  if (!existsSync(dir)) refuse(`code directory ${dir} does not exist (pass --dir)`);
  const files = values.files?.split(',') ?? (values.dir ? ['.'] : ['dist']);
  for (const f of files)
    if (!existsSync(path.join(dir, f))) refuse(`${path.join(dir, f)} does not exist (built?)`);
  const archive = await packDirectory(dir, files);
  console.log(
    `[${elapsed()}] · packed ${path.relative(process.cwd(), dir) || '.'} (${files.join(', ')}): ${archive.length} bytes`,
  );
  return {
    archive: new Uint8Array(archive),
    entrypoint: values.entrypoint ?? 'dist/main.js',
    commands: values.commands ?? '',
  };
}

function verdict(view: RolloutView): number {
  const totals = platform.stats;
  if (values.json) {
    console.log(
      JSON.stringify({ type: 'result', rollout: view, apiCalls: totals, sloCounts: sloStats.counts }),
    );
  } else {
    console.log('');
    console.log(rolloutVerdictLines(view, totals, elapsed()).join('\n'));
    if (sloStats.counts)
      console.log(`SLO gate: ${sloStats.counts} execution counts (listExecutions, 1 row each)`);
  }
  return rolloutExitCode(view);
}

/** How a driving command retries transient failures ({@link retryTransient}), printing the countdown. */
function retryOptions() {
  return {
    maxWaitMs: num('retry-for-ms') ?? 300_000,
    out: (line: string) =>
      values.json ? console.log(JSON.stringify({ type: 'retry', message: line })) : console.log(line),
  };
}

/** Retries transient failures of a driving command. */
function withRetries(attempt: (n: number) => Promise<RolloutView>): Promise<RolloutView> {
  return retryTransient(attempt, retryOptions());
}
/**
 * `resume`, taking over the lock when its holder is gone; when a live (or unprovable) holder's lease has not
 * ended, refuses saying when it ends, or with --wait waits for it and tries again.
 */
async function resumeOrWait(options: Parameters<typeof orchestrator.resume>[1]): Promise<RolloutView> {
  for (let i = 0; ; i++) {
    try {
      return await orchestrator.resume(functionId!, options);
    } catch (error) {
      const retryAt = hasCode(error, 'CONFLICT') ? error.details?.retryAt : undefined;
      if (typeof retryAt !== 'string') throw error;
      if (!values.wait || i >= 10) {
        console.error(`the lock can be taken over at ${retryAt}: run resume again then, or pass --wait`);
        throw error;
      }
      await waitUntil(Date.parse(retryAt) + 250, 'the previous run may still be alive; its lease', (line) =>
        console.log(line),
      );
    }
  }
}

async function main(): Promise<number> {
  const maxRunMs = num('max-run-ms');
  const run = maxRunMs === undefined ? {} : { maxRunMs };
  switch (command) {
    case 'start': {
      const code = await codeFromArgs(!values.deployment);
      const input = {
        functionId,
        ...(code ? { code } : {}),
        ...(values.deployment ? { deploymentId: values.deployment } : {}),
        ...(values.standby ? { standbyFunctionId: values.standby } : {}),
        skipHealthCheck: values['skip-health-check'],
        autoRollback: !values['no-auto-rollback'],
        policy: policyFromArgs(),
      };
      const view = await startWithRetries({
        orchestrator,
        functionId: functionId!,
        start: () => orchestrator.start(input, { ...run, forceSlo: values['force-slo'] }),
        resume: { ...run, ...(code ? { code } : {}) },
        retry: retryOptions(),
        drivenRolloutId: () => drivenRolloutId,
      });
      return verdict(view);
    }
    case 'resume': {
      const code = await codeFromArgs(false);
      const options = { ...run, ...(code ? { code } : {}) };
      const view = await withRetries(async (n) => {
        if (n > 0 && drivenRolloutId) {
          const current = await orchestrator.current(functionId!);
          if (current?.rolloutId === drivenRolloutId && current.done) return current;
        }
        return resumeOrWait(options);
      });
      return verdict(view);
    }
    case 'rollback': {
      const { outcome, rollout } = await orchestrator.requestRollback(
        functionId!,
        values.reason ?? 'manual rollback (rollout command)',
        run,
      );
      if (outcome === 'requested') {
        console.log(
          `rollback requested: the run driving rollout ${rollout.rolloutId} acts on it at its next step`,
        );
        return 0;
      }
      const exit = verdict(rollout);
      // For a manual rollback, "rolled back" (or an abort before the switch) is the success.
      return rollout.status === 'rolled_back' || (rollout.status === 'failed' && !rollout.green.active)
        ? 0
        : exit;
    }
    case 'status': {
      const view = await orchestrator.current(functionId!);
      if (!view) refuse(`no rollout of ${functionId}`);
      for (const e of await orchestrator.events(view.rolloutId)) {
        console.log(
          `${new Date(e.at).toISOString()} ${e.level.padEnd(5)} ${e.status.padEnd(12)} ${e.message}`,
        );
      }
      console.log(JSON.stringify(view, null, 2));
      return 0;
    }
    case 'history': {
      const page = await orchestrator.history(functionId!, { limit: num('limit') ?? 20 });
      console.table(
        page.rollouts.map((r) => ({
          rollout: r.rolloutId,
          status: r.status,
          started: r.startedAt,
          blue: r.blue.deploymentId,
          green: r.green.deploymentId,
          skipped: r.skipHealthCheck ? 'health check' : '',
          reason: (r.reason ?? '').slice(0, 60),
        })),
      );
      return 0;
    }
    default:
      return usage();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (hasCode(error, 'INVALID_INPUT', 'NOT_FOUND', 'CONFLICT')) {
      const issues = error.issues?.map((i) => `\n  - ${i.path}: ${i.message}`).join('') ?? '';
      console.error(`refused (${error.code}): ${error.message}${issues}`);
      process.exit(2);
    }
    console.error(`error: ${messageOf(error)}`);
    process.exit(4);
  },
);
