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
 *   5. code        a deterministic tar.gz of dist/, uploaded and activated, waiting for the build; skipped when
 *                  the active deployment already runs the same bytes (SHA-256 kept in the function variable
 *                  RESILIENCE_BUNDLE_SHA256), unless --redeploy
 * Never deletes anything. Options: --skip-build, --function <id> (repeatable), --redeploy.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Functions, ID, type Models, type ProjectKeyScopes, type Runtime } from 'node-appwrite';
import { InputFile } from 'node-appwrite/file';
import { allTables, DATABASE_ID, isResilienceError } from 'resilience-core';
import { type ProvisionEvent, provisionSchema, readFailure } from 'resilience-core/adapters/appwrite';
import { z } from 'zod';
import { functions as declaredFunctions, type FunctionConfig, functionVariables } from './appwrite-config.ts';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from './build-function.mjs';
import { tarGz } from './lib/tar-gz.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

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
}

/** What a deploy did, per function. */
export interface DeployReport {
  schema: { created: string[]; updated: string[]; extra: string[] };
  functions: Record<
    string,
    { settings: 'created' | 'updated' | 'unchanged'; code: 'deployed' | 'unchanged'; deploymentId: string }
  >;
}

const SYMBOL: Record<ProvisionEvent['status'], string> = {
  exists: '=',
  created: '+',
  updated: '~',
  waiting: '…',
  available: '✓',
  extra: '?',
};

/** Deploys; see the file header. Throws with a readable message on any refusal or failure. */
export async function deploy(options: DeployOptions): Promise<DeployReport> {
  const out = options.out ?? ((line: string) => console.log(line));
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
  for (const fn of selected) {
    const archive = tarGz(path.join(root, fn.path), ['dist']);
    const sha = createHash('sha256').update(archive).digest('hex');
    const variables = await api.listVariables({ functionId: fn.$id });
    const recorded = variables.variables.find((v) => v.key === BUNDLE_HASH_VARIABLE);
    const active = remote[fn.$id]?.deploymentId ?? '';
    const entry = report.functions[fn.$id]!;
    if (!options.redeploy && active && recorded?.value === sha) {
      out(`  = ${fn.$id} unchanged (${sha.slice(0, 12)}, deployment ${active})`);
      entry.deploymentId = active;
      continue;
    }
    out(`  ↑ ${fn.$id}: uploading ${(archive.length / 1024).toFixed(1)} KB (${sha.slice(0, 12)})`);
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
    if (recorded) {
      await api.updateVariable({
        functionId: fn.$id,
        variableId: recorded.$id,
        key: BUNDLE_HASH_VARIABLE,
        value: sha,
        secret: false,
      });
    } else {
      await api.createVariable({
        functionId: fn.$id,
        variableId: ID.unique(),
        key: BUNDLE_HASH_VARIABLE,
        value: sha,
        secret: false,
      });
    }
    out(`  ✓ ${fn.$id} active: deployment ${ready.$id}`);
    entry.code = 'deployed';
    entry.deploymentId = ready.$id;
  }
  out('✓ deployed');
  return report;
}

/** The settings sent on create/update (everything but the runtime on update). */
function functionSettings(fn: FunctionConfig) {
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
      `Set ${missing} (the Appwrite to deploy to; the key needs databases, tables and functions write scopes)`,
    );
  }
  const only: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--function' && args[i + 1]) only.push(args[++i]!);
    else if (args[i]?.startsWith('--function=')) only.push(args[i]!.slice('--function='.length));
  }
  const { APPWRITE_ENDPOINT, APPWRITE_PROJECT_ID, APPWRITE_API_KEY } = parsed.data;
  console.log(`Deploying to ${APPWRITE_ENDPOINT} (project ${APPWRITE_PROJECT_ID})`);
  await deploy({
    endpoint: APPWRITE_ENDPOINT,
    projectId: APPWRITE_PROJECT_ID,
    key: APPWRITE_API_KEY,
    build: !args.includes('--skip-build'),
    redeploy: args.includes('--redeploy'),
    only,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    const message = isResilienceError(error) || error instanceof Error ? error.message : String(error);
    console.error(`✗ deploy failed: ${message}`);
    process.exit(1);
  });
}
