/**
 * `npm run deploy`: builds the bundles and deploys everything to the Appwrite named by APPWRITE_ENDPOINT,
 * APPWRITE_PROJECT_ID and APPWRITE_API_KEY, idempotently, printing each step:
 *   1. build       the four bundles (skip with --skip-build)
 *   2. schema      database, tables, columns (waiting until available), indexes — additive only; a change that
 *                  would need a column/index recreated (data loss) is refused with an explanation, before any
 *                  write (resilience-core/adapters/appwrite `provisionSchema`)
 *   3. functions   created through node-appwrite when missing (the CLI cannot create one with only an API key,
 *                  platform notes §B5), settings updated when they differ; a runtime change is refused (it
 *                  needs the function recreated, which loses its deployments and executions)
 *   4. variables   the env names listed in `functionVariables` (scripts/appwrite-config.ts), as secret variables;
 *                  values never printed
 *   5. code        a deterministic tar.gz of dist/; skipped when the active deployment already runs the same
 *                  bytes (SHA-256 kept in the function variable RESILIENCE_BUNDLE_SHA256), unless --redeploy.
 *                  Changed code of a function that already has an active deployment AND a standby twin
 *                  (`FUNCTIONS_WITH_STANDBY`: create-recognition, job-worker, quota-reset) is ROLLED OUT
 *                  blue-green by the same RolloutOrchestrator as `npm run rollout` (scripts/lib/rollout-runner.ts):
 *                  uploaded inactive, validated on `<fn>-standby` (GET /health + the policy's smoke requests),
 *                  switched in one call, watched, and rolled back by itself when the watch fails — with live
 *                  progress lines. A rollout that ends rolled back or failed stops the deploy: no other
 *                  function's code is deployed, and deploy throws `RolloutVerdictError` (the command exits 1,
 *                  so CI fails). Direct upload + activation (today's path) for first deploys (no active
 *                  deployment), for deploy-orchestrator (no twin: it is not rolled out by itself), for the twins
 *                  themselves, and for everything with --direct.
 * Never deletes anything. Options: --skip-build, --function <id> (repeatable), --redeploy, --direct (no
 * rollouts: upload and activate directly, the pre-rollout behaviour), --policy FILE.json (rollout policy:
 * watch window, thresholds, smoke requests… see resilience-core deployment/rollout-policy.ts; validated before
 * anything changes), --force-slo (roll out even when an SLO's error budget is exhausted; recorded in the
 * rollout's history — see scripts/rollout.ts).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Functions, ID, type Models, type ProjectKeyScopes, type Runtime } from 'node-appwrite';
import { InputFile } from 'node-appwrite/file';
import { allTables, DATABASE_ID, errorText, hasCode, isResilienceError } from 'resilience-core';
import { type ProvisionEvent, provisionSchema, readFailure } from 'resilience-core/adapters/appwrite';
import { parseRolloutPolicy, type RolloutPolicyInput, type RolloutView } from 'resilience-core/deployment';
import { z } from 'zod';
import {
  functions as declaredFunctions,
  FUNCTIONS_WITH_STANDBY,
  type FunctionConfig,
  functionVariables,
} from './appwrite-config.ts';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from './build-function.mjs';
import {
  createRolloutRunner,
  formatRolloutEvent,
  processOwner,
  type RolloutRunner,
  type RolloutRunnerOptions,
  readPolicyFile,
  rolloutVerdictLines,
  startWithRetries,
  stopwatch,
} from './lib/rollout-runner.ts';
import { tarGz } from './lib/tar-gz.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The function variable holding the SHA-256 of the code archive the active deployment was built from. */
export const BUNDLE_HASH_VARIABLE = 'RESILIENCE_BUNDLE_SHA256';

/** Options of {@link deploy}. */
export interface DeployOptions {
  endpoint: string;
  projectId: string;
  /** An API key with databases/tables/columns/indexes/functions write scopes. Never printed. */
  key: string;
  /** Build the bundles first. Default true. */
  build?: boolean;
  /** Only these function ids (default: all declared). */
  only?: readonly string[];
  /** Upload code even when unchanged. */
  redeploy?: boolean;
  /** Longest total wait retrying a rollout's transient failures (Appwrite unreachable…), ms. Default 300000. */
  retryForMs?: number;
  /** Where variable values come from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Progress lines. Default stdout. */
  out?: (line: string) => void;
  /** Between build status polls, ms. Default 2000. */
  pollMs?: number;
  /** Longest wait for one deployment build, ms. Default 600000. */
  buildTimeoutMs?: number;
  /** Column/index availability polling (see provisionSchema). */
  schemaPollMs?: number;
  /** Never roll out: upload and activate every changed function directly (`--direct`). Default false. */
  direct?: boolean;
  /**
   * Roll out even a function whose SLO error budget is exhausted (`--force-slo`); the rollout's first history
   * entry records it. Default false: such a rollout is refused and the deploy stops.
   */
  forceSlo?: boolean;
  /** The rollouts' SLO gate: SLOs and events threshold (default `FUNCTION_SLOS`, see rollout-runner.ts). */
  slo?: RolloutRunnerOptions['slo'];
  /**
   * Rollout policy for the blue-green rollouts of step 5 (`--policy FILE`), validated before anything changes.
   * Default: the orchestrator's defaults (60 s watch, 5 % errors, p95 5 s, …).
   */
  policy?: RolloutPolicyInput;
  /**
   * Folder the functions' `path`s (scripts/appwrite-config.ts) are relative to: where bundles are built and
   * packed from. Default: the repository root. (Tests deploy a modified copy from a temporary folder.)
   */
  sourceRoot?: string;
}

/** What a deploy did for one function. */
export interface FunctionDeployReport {
  settings: 'created' | 'updated' | 'unchanged';
  /**
   * `deployed`: uploaded and activated directly; `rolled_out`: a blue-green rollout succeeded; `unchanged`: same
   * bytes already active; `failed`: its rollout ended rolled back or failed (blue active, see `rollout`);
   * `skipped`: not deployed because an earlier function's rollout did not succeed.
   */
  code: 'deployed' | 'rolled_out' | 'unchanged' | 'failed' | 'skipped';
  /** The active deployment after this deploy ('' when none). */
  deploymentId: string;
  /** The rollout's final view, when the code went through one. */
  rollout?: RolloutView;
}

/** What a deploy did, per function. */
export interface DeployReport {
  schema: { created: string[]; updated: string[]; extra: string[] };
  functions: Record<string, FunctionDeployReport>;
}

/**
 * Thrown by {@link deploy} when a function's rollout ends rolled back or failed (or unfinished): the verdict is
 * in the message, the rollout in `rollout`, and what was done up to then in `report` (the functions whose code
 * was not deployed because of it are `code: 'skipped'`).
 */
export class RolloutVerdictError extends Error {
  readonly rollout: RolloutView;
  readonly report: DeployReport;
  constructor(message: string, rollout: RolloutView, report: DeployReport) {
    super(message);
    this.name = 'RolloutVerdictError';
    this.rollout = rollout;
    this.report = report;
  }
}

const SYMBOL: Record<ProvisionEvent['status'], string> = {
  exists: '=',
  created: '+',
  updated: '~',
  waiting: '…',
  available: '✓',
  extra: '?',
  backfilled: '↻',
};

/** Deploys; see the file header. Throws with a readable message on any refusal or failure. */
export async function deploy(options: DeployOptions): Promise<DeployReport> {
  const out = options.out ?? ((line: string) => console.log(line));
  const root = options.sourceRoot ?? repoRoot;
  // Bad thresholds are refused here, before anything is built or changed.
  if (options.policy !== undefined) parseRolloutPolicy(options.policy);
  const client = new Client().setEndpoint(options.endpoint).setProject(options.projectId).setKey(options.key);
  const api = new Functions(client);
  const selected = declaredFunctions.filter((f) => !options.only?.length || options.only.includes(f.$id));
  const unknown = (options.only ?? []).filter((id) => !declaredFunctions.some((f) => f.$id === id));
  if (unknown.length) throw new Error(`Unknown function(s): ${unknown.join(', ')}`);
  const report: DeployReport = { schema: { created: [], updated: [], extra: [] }, functions: {} };

  out(`▸ build`);
  if (options.build ?? true) {
    for (const folder of [...new Set(selected.map((f) => f.path))]) {
      const { bytes } = (await buildFunction(path.join(root, folder))) as { bytes: number };
      out(`  ✓ ${folder}/dist/main.js (${(bytes / 1024).toFixed(1)} KB)`);
    }
  } else out('  = skipped (--skip-build)');

  out(`▸ schema: database ${DATABASE_ID}, ${allTables.length} tables`);
  report.schema = await provisionSchema({
    client,
    databaseId: DATABASE_ID,
    tables: allTables,
    ...(options.schemaPollMs !== undefined ? { pollIntervalMs: options.schemaPollMs } : {}),
    onProgress: (e) => {
      if (e.status === 'exists' && e.kind !== 'table' && e.kind !== 'database') return;
      out(`  ${SYMBOL[e.status]} ${e.kind} ${e.id}${e.detail ? ` (${e.detail})` : ''}`);
    },
  });

  out('▸ functions');
  const remote: Record<string, Models.Function> = {};
  for (const fn of selected) {
    const existing = await getOrNull(() => api.get({ functionId: fn.$id }));
    const settings = functionSettings(fn);
    if (!existing) {
      remote[fn.$id] = await api.create({ ...settings, runtime: fn.runtime as Runtime });
      out(`  + ${fn.$id} (created, ${fn.runtime})`);
      report.functions[fn.$id] = { settings: 'created', code: 'unchanged', deploymentId: '' };
      continue;
    }
    if (existing.runtime !== fn.runtime) {
      throw new Error(
        `Refusing to change ${fn.$id}'s runtime ${existing.runtime} → ${fn.runtime}: Appwrite needs the function ` +
          'deleted and recreated, which loses its deployments, executions and variables. Do it by hand if intended.',
      );
    }
    const diff = settingsDiff(existing, fn);
    if (diff.length) {
      remote[fn.$id] = await api.update(settings);
      out(`  ~ ${fn.$id} (${diff.join(', ')})`);
    } else {
      remote[fn.$id] = existing;
      out(`  = ${fn.$id}`);
    }
    report.functions[fn.$id] = {
      settings: diff.length ? 'updated' : 'unchanged',
      code: 'unchanged',
      deploymentId: '',
    };
  }

  out('▸ variables');
  const env = options.env ?? process.env;
  let anyVariable = false;
  for (const fn of selected) {
    const names = functionVariables[fn.$id] ?? [];
    if (!names.length) continue;
    const list = await api.listVariables({ functionId: fn.$id });
    for (const name of names) {
      const value = env[name];
      if (value === undefined || value === '') {
        out(`  ? ${fn.$id}.${name} not set in this environment (left as is)`);
        continue;
      }
      anyVariable = true;
      const current = list.variables.find((v) => v.key === name);
      if (current)
        await api.updateVariable({
          functionId: fn.$id,
          variableId: current.$id,
          key: name,
          value,
          secret: true,
        });
      else
        await api.createVariable({
          functionId: fn.$id,
          variableId: ID.unique(),
          key: name,
          value,
          secret: true,
        });
      out(`  ${current ? '~' : '+'} ${fn.$id}.${name} (secret, value not shown)`);
    }
  }
  if (!anyVariable) out('  = none to set');

  out('▸ code');
  let runner: RolloutRunner | undefined;
  /** The rollout of the function being rolled out, from its first history entry. */
  let drivenRolloutId: string | null = null;
  // The stopwatch of the rollout being driven (progress lines show the time since it started).
  let elapsed = stopwatch();
  for (const [index, fn] of selected.entries()) {
    const archive = tarGz(path.join(root, fn.path), ['dist']);
    const sha = createHash('sha256').update(archive).digest('hex');
    const recorded = await bundleHashOf(api, fn.$id);
    const active = remote[fn.$id]?.deploymentId ?? '';
    const entry = report.functions[fn.$id]!;
    if (!options.redeploy && active && recorded === sha) {
      out(`  = ${fn.$id} unchanged (${sha.slice(0, 12)}, deployment ${active})`);
      entry.deploymentId = active;
      continue;
    }
    const rollout = !options.direct && active !== '' && FUNCTIONS_WITH_STANDBY.includes(fn.$id);
    if (!rollout) {
      const why = options.direct
        ? '--direct'
        : !active
          ? 'first deployment'
          : fn.$id.endsWith('-standby')
            ? 'standby twin'
            : 'no standby twin';
      out(
        `  ↑ ${fn.$id}: uploading ${(archive.length / 1024).toFixed(1)} KB (${sha.slice(0, 12)}), direct: ${why}`,
      );
      const created = await api.createDeployment({
        functionId: fn.$id,
        code: InputFile.fromBuffer(new Uint8Array(archive), 'code.tar.gz'),
        activate: true,
        entrypoint: fn.entrypoint,
        commands: fn.commands,
      });
      const ready = await waitForBuild(api, fn.$id, created.$id, options, out);
      const now = await api.get({ functionId: fn.$id });
      if (now.deploymentId !== ready.$id) {
        await api.updateFunctionDeployment({ functionId: fn.$id, deploymentId: ready.$id });
      }
      await recordBundleHash(api, fn.$id, sha);
      out(`  ✓ ${fn.$id} active: deployment ${ready.$id}`);
      entry.code = 'deployed';
      entry.deploymentId = ready.$id;
      continue;
    }

    const twinId = `${fn.$id}-standby`;
    if (!(await getOrNull(() => api.get({ functionId: twinId })))) {
      throw new Error(
        `${fn.$id}'s standby twin ${twinId} does not exist on the server, so its new code cannot be validated ` +
          `before the switch: deploy without --function (it creates the twin), or pass --direct`,
      );
    }
    out(
      `  ⇄ ${fn.$id}: rolling out ${(archive.length / 1024).toFixed(1)} KB (${sha.slice(0, 12)}) blue-green: ` +
        `blue ${active}, validated on ${twinId}`,
    );
    elapsed = stopwatch();
    runner ??= createRolloutRunner({
      endpoint: options.endpoint,
      projectId: options.projectId,
      key: options.key,
      owner: processOwner('deploy'),
      ...(options.slo !== undefined ? { slo: options.slo } : {}),
      onEvent: (e) => {
        drivenRolloutId ??= e.rolloutId;
        out(`    ${formatRolloutEvent(e, elapsed())}`);
      },
    });
    drivenRolloutId = null;
    await finishUnfinishedRollout(runner, fn.$id, out);
    elapsed = stopwatch();
    const before = runner.platform.stats.calls;
    const beforeByMethod = { ...runner.platform.stats.byMethod };
    const code = { archive: new Uint8Array(archive), entrypoint: fn.entrypoint, commands: fn.commands };
    const orchestrator = runner.orchestrator;
    // Transient failures (Appwrite unreachable, 5xx, unknown commit outcomes) are retried with a countdown,
    // continuing the rollout this deploy started (shared with `npm run rollout`).
    const view = await startWithRetries({
      orchestrator,
      functionId: fn.$id,
      start: () =>
        orchestrator.start(
          {
            functionId: fn.$id,
            standbyFunctionId: twinId,
            code,
            ...(options.policy !== undefined ? { policy: options.policy } : {}),
          },
          { forceSlo: options.forceSlo === true },
        ),
      resume: { code },
      retry: { maxWaitMs: options.retryForMs ?? 300_000, out: (line) => out(`    ${line}`) },
      drivenRolloutId: () => drivenRolloutId,
    }).catch((error: unknown) => {
      // An exhausted error budget (the SLO gate) refuses the rollout: say how to force it.
      if (hasCode(error, 'CONFLICT') && error.details?.slos !== undefined) {
        throw new Error(`${error.message} (\`npm run deploy -- --force-slo\`)`);
      }
      // A rollout another run left unfinished (or one still running) blocks a new one: say how to clear it.
      if (hasCode(error, 'CONFLICT')) {
        throw new Error(
          `${errorText(error)}. Finish it with \`npm run rollout -- resume ${fn.$id}\` (or ` +
            `\`npm run rollout -- rollback ${fn.$id}\`), then deploy again`,
        );
      }
      throw error;
    });
    const calls = {
      calls: runner.platform.stats.calls - before,
      byMethod: Object.fromEntries(
        Object.entries(runner.platform.stats.byMethod)
          .map(([m, n]) => [m, n - (beforeByMethod[m] ?? 0)] as const)
          .filter(([, n]) => n > 0),
      ),
    };
    const verdict = rolloutVerdictLines(
      view,
      calls,
      elapsed(),
      `npm run rollout -- resume ${fn.$id}, then npm run deploy again`,
    );
    for (const line of verdict) out(`    ${line}`);
    entry.rollout = view;
    // The twin now runs the rolled-out code (it was validated there): record that, so the twin's own step
    // below knows its code is current and a later deploy of other bytes re-uploads it.
    const twin = await getOrNull(() => api.get({ functionId: twinId }));
    if (twin && remote[twinId]) remote[twinId] = twin;
    if (twin && view.standby.deploymentId && twin.deploymentId === view.standby.deploymentId) {
      await recordBundleHash(api, twinId, sha);
    }
    if (view.status === 'succeeded') {
      await recordBundleHash(api, fn.$id, sha);
      out(`  ✓ ${fn.$id} active: deployment ${view.green.deploymentId} (rolled out)`);
      entry.code = 'rolled_out';
      entry.deploymentId = view.green.deploymentId ?? '';
      continue;
    }
    entry.code = 'failed';
    const current = await getOrNull(() => api.get({ functionId: fn.$id }));
    entry.deploymentId = current?.deploymentId ?? '';
    const rest = selected.slice(index + 1).map((f) => f.$id);
    for (const id of rest) report.functions[id]!.code = 'skipped';
    const stopped = rest.length
      ? `code of ${rest.join(', ')} NOT deployed (the deploy stops at a rollout that did not succeed)`
      : 'no other function was waiting for code';
    out(`  ✗ ${fn.$id}: ${verdict[0]}`);
    out(`  ✗ stopped: ${stopped}`);
    throw new RolloutVerdictError(`rollout of ${fn.$id}: ${verdict[0]}; ${stopped}`, view, report);
  }
  out('✓ deployed');
  return report;
}

/** The settings sent on create/update (everything but the runtime on update). */
export function functionSettings(fn: FunctionConfig) {
  return {
    functionId: fn.$id,
    name: fn.name,
    execute: fn.execute,
    events: fn.events,
    schedule: fn.schedule,
    timeout: fn.timeout,
    enabled: fn.enabled,
    logging: fn.logging,
    entrypoint: fn.entrypoint,
    commands: fn.commands,
    scopes: fn.scopes as ProjectKeyScopes[],
    buildSpecification: fn.specification,
    runtimeSpecification: fn.specification,
  };
}

/** Names of the settings that differ between the remote function and its declaration. */
export function settingsDiff(remote: Models.Function, fn: FunctionConfig): string[] {
  const sameSet = (a: readonly string[] = [], b: readonly string[] = []) =>
    [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
  const diff: string[] = [];
  if (remote.name !== fn.name) diff.push('name');
  if (!sameSet(remote.execute, fn.execute)) diff.push('execute');
  if (!sameSet(remote.events, fn.events)) diff.push('events');
  if ((remote.schedule ?? '') !== fn.schedule) diff.push('schedule');
  if (remote.timeout !== fn.timeout) diff.push('timeout');
  if (remote.enabled !== fn.enabled) diff.push('enabled');
  if (remote.logging !== fn.logging) diff.push('logging');
  if ((remote.entrypoint ?? '') !== fn.entrypoint) diff.push('entrypoint');
  if ((remote.commands ?? '') !== fn.commands) diff.push('commands');
  if (!sameSet(remote.scopes, fn.scopes)) diff.push('scopes');
  const r = remote as Models.Function & { buildSpecification?: string; runtimeSpecification?: string };
  if (r.runtimeSpecification !== undefined && r.runtimeSpecification !== fn.specification)
    diff.push('specification');
  return diff;
}

async function waitForBuild(
  api: Functions,
  functionId: string,
  deploymentId: string,
  options: DeployOptions,
  out: (line: string) => void,
): Promise<Models.Deployment> {
  const deadline = Date.now() + (options.buildTimeoutMs ?? 600_000);
  let last = '';
  for (;;) {
    const dep = await api.getDeployment({ functionId, deploymentId });
    if (dep.status !== last) {
      out(`    ${functionId}: ${dep.status}`);
      last = dep.status;
    }
    if (dep.status === 'ready') return dep;
    if (dep.status === 'failed' || dep.status === 'canceled') {
      throw new Error(
        `Deployment ${deploymentId} of ${functionId} ${dep.status}:\n${String(dep.buildLogs ?? '').slice(-2000)}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`Deployment ${deploymentId} of ${functionId} still ${dep.status}`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
  }
}

/**
 * A rollout of the function that an earlier run left unfinished (a deploy or `npm run rollout` killed or timed
 * out mid-rollout) blocks a new one. Its lease has run out, so it is resumed here first and driven to its end by
 * its own stored policy (a switch in progress is completed; a watch is finished or rolled back); the caller then
 * starts its own rollout whatever that ended in. A rollout still driven by a live run (lease running) is left
 * alone: the orchestrator refuses (`CONFLICT`), and so does the deploy.
 */
async function finishUnfinishedRollout(
  runner: RolloutRunner,
  functionId: string,
  out: (line: string) => void,
): Promise<void> {
  const current = await runner.orchestrator.current(functionId);
  if (!current || current.done) return;
  out(
    `  ! ${functionId}: rollout ${current.rolloutId} was left unfinished (${current.status}) by an earlier run: ` +
      'resuming it first',
  );
  const elapsed = stopwatch();
  const view = await runner.orchestrator.resume(functionId).catch((error: unknown) => {
    if (hasCode(error, 'CONFLICT')) {
      throw new Error(
        `${errorText(error)}. Another run is rolling ${functionId} out: wait for it, or see ` +
          `\`npm run rollout -- status ${functionId}\``,
      );
    }
    throw error;
  });
  for (const line of rolloutVerdictLines(view, runner.platform.stats, elapsed()).slice(0, 1)) {
    out(`    earlier rollout: ${line}`);
  }
  if (!view.done) {
    throw new Error(
      `the earlier rollout ${view.rolloutId} of ${functionId} is still unfinished (${view.status}): ` +
        `\`npm run rollout -- resume ${functionId}\`, then deploy again`,
    );
  }
}

/** The SHA-256 recorded in the function's {@link BUNDLE_HASH_VARIABLE}, or null. */
async function bundleHashOf(api: Functions, functionId: string): Promise<string | null> {
  const list = await api.listVariables({ functionId });
  return list.variables.find((v) => v.key === BUNDLE_HASH_VARIABLE)?.value ?? null;
}

/** Records the SHA-256 of the code the function's active deployment was built from (not a secret). */
async function recordBundleHash(api: Functions, functionId: string, sha: string): Promise<void> {
  const list = await api.listVariables({ functionId });
  const current = list.variables.find((v) => v.key === BUNDLE_HASH_VARIABLE);
  if (current?.value === sha) return;
  if (current) {
    await api.updateVariable({
      functionId,
      variableId: current.$id,
      key: BUNDLE_HASH_VARIABLE,
      value: sha,
      secret: false,
    });
  } else {
    await api.createVariable({
      functionId,
      variableId: ID.unique(),
      key: BUNDLE_HASH_VARIABLE,
      value: sha,
      secret: false,
    });
  }
}

async function getOrNull<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (error) {
    if (readFailure(error).status === 404) return null;
    throw error;
  }
}

const envSchema = z.object({
  APPWRITE_ENDPOINT: z.url(),
  APPWRITE_PROJECT_ID: z.string().min(1),
  APPWRITE_API_KEY: z.string().min(1),
});

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(
      `Set ${missing} (the Appwrite to deploy to; the key needs databases, tables, rows, functions and execution read/write scopes)`,
    );
  }
  const only: string[] = [];
  let policyFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--function' && args[i + 1]) only.push(args[++i]!);
    else if (args[i]?.startsWith('--function=')) only.push(args[i]!.slice('--function='.length));
    else if (args[i] === '--policy' && args[i + 1]) policyFile = args[++i]!;
    else if (args[i]?.startsWith('--policy=')) policyFile = args[i]!.slice('--policy='.length);
    else if (args[i] === '--policy') throw new Error('--policy needs a file (a JSON rollout policy)');
  }
  const policy = policyFile === undefined ? undefined : readPolicyFile(policyFile);
  const { APPWRITE_ENDPOINT, APPWRITE_PROJECT_ID, APPWRITE_API_KEY } = parsed.data;
  console.log(`Deploying to ${APPWRITE_ENDPOINT} (project ${APPWRITE_PROJECT_ID})`);
  await deploy({
    endpoint: APPWRITE_ENDPOINT,
    projectId: APPWRITE_PROJECT_ID,
    key: APPWRITE_API_KEY,
    build: !args.includes('--skip-build'),
    redeploy: args.includes('--redeploy'),
    direct: args.includes('--direct'),
    forceSlo: args.includes('--force-slo'),
    ...(policy !== undefined ? { policy } : {}),
    only,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    const message = errorText(error);
    const issues = isResilienceError(error)
      ? (error.issues?.map((i) => `\n  - ${i.path}: ${i.message}`).join('') ?? '')
      : '';
    console.error(`✗ deploy failed: ${message}${issues}`);
    process.exit(1);
  });
}
