/**
 * `npm run doctor`: a read-only checklist of a live project — the Appwrite named by APPWRITE_ENDPOINT,
 * APPWRITE_PROJECT_ID and APPWRITE_API_KEY (the key is never printed). One line per check, `✓` ok, `!` warning,
 * `✗` failure, then a summary with the number of API calls made; exit code 0 when nothing failed, 1 otherwise.
 * `--json` prints the report as JSON instead (same exit code). `--no-exec` skips the /health executions.
 *
 * Checks, in order (each a few GET calls; the counts are in the report):
 *   connection  the endpoint answers (`GET /health/version`, public), the project exists and the key is accepted;
 *               key scopes: a 401 `general_unauthorized_scope` met by any check names the missing scope
 *   schema      the database and every table of appwrite.json (`allTables`), each column and index present, of
 *               a compatible type (the deploy's own comparison: `planSchema` / `planTable` of
 *               resilience-core/adapters/appwrite) and `available`; no counter column holding NULL
 *               (`findNullCounters`: one list per counter column; `npm run deploy` backfills them)
 *   functions   every function of appwrite.json (scripts/appwrite-config.ts): runtime, schedule, events,
 *               execute, scopes, timeout, enabled, entrypoint (✗ when different; name/logging/commands/
 *               specification ! — `npm run deploy` fixes both); an active deployment with status `ready`;
 *               `GET /health` answering 200 and reporting that deployment id (one synchronous execution per
 *               function: the only records the doctor creates — executions — skipped with --no-exec)
 *   twins       each standby twin (`<id>-standby`) exists with no schedule, no events and no execute roles;
 *               deploy-orchestrator has no twin
 *   variables   the names of `functionVariables` are set on each function (values never read into output;
 *               secret values are not even returned by Appwrite); a missing webhook URL is a warning
 *               (notifications off on that channel)
 *   operations  circuit breakers OPEN or isolated (!); job queue: DEAD_LETTER jobs (!), a job due for more than
 *               5 minutes (✗: the worker isn't draining); the last scheduled quota-reset execution older than
 *               26 h or failed (!); an unfinished rollout or a held rollout lock (!)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, ExecutionMethod, Functions, type Models, Query, TablesDB } from 'node-appwrite';
import { allTables, DATABASE_ID, errorText, type TableSpec } from 'resilience-core';
import { findNullCounters, planSchema, type TableState } from 'resilience-core/adapters/appwrite';
import { CIRCUIT_BREAKERS_TABLE } from 'resilience-core/circuit-breaker';
import { ACTIVE_STATUSES, LOCKS_TABLE, ROLLOUTS_TABLE } from 'resilience-core/deployment';
import { DUE_STATUSES, JOB_TABLES } from 'resilience-core/jobs';
import { z } from 'zod';
import {
  functions as declaredFunctions,
  FUNCTIONS_WITH_STANDBY,
  type FunctionConfig,
  functionVariables,
  WEBHOOK_VARIABLES,
} from './appwrite-config.ts';
import { settingsDiff } from './deploy.ts';

/** `ok` ✓, `warn` !, `fail` ✗. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the checklist. */
export interface DoctorCheck {
  area: 'connection' | 'schema' | 'functions' | 'twins' | 'variables' | 'operations';
  /** Stable id, e.g. `schema.job-queue`, `function.job-worker.health`, `ops.dead-letter`. */
  id: string;
  status: CheckStatus;
  /** The line's text (never holds a variable value or the key). */
  message: string;
  /** API calls this check made. */
  calls: number;
}

/** What {@link runDoctor} found. */
export interface DoctorReport {
  endpoint: string;
  projectId: string;
  checks: DoctorCheck[];
  summary: Record<CheckStatus, number>;
  /** Every API call made, in total and per HTTP method. */
  calls: { total: number; byMethod: Record<string, number> };
  /** 0 when no check failed, else 1. */
  exitCode: 0 | 1;
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  endpoint: string;
  projectId: string;
  /** The API key (read scopes; `execution.write` for the /health executions). Never printed. */
  key: string;
  /** Run `GET /health` on every function (one synchronous execution each). Default true. */
  execute?: boolean;
  /** Current time, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Declared tables. Default `allTables`. */
  tables?: readonly TableSpec[];
  /** Declared functions (twins included). Default: scripts/appwrite-config.ts `functions`. */
  functions?: readonly FunctionConfig[];
}

/** A due job older than this means the worker isn't draining the queue. */
export const STALE_DUE_JOB_MS = 5 * 60_000;
/** The daily quota-reset should have run within this long. */
export const QUOTA_RESET_MAX_AGE_MS = 26 * 3_600_000;
/** Settings whose difference is a failure (the others are warnings). */
const CRITICAL_SETTINGS = new Set([
  'execute',
  'events',
  'schedule',
  'timeout',
  'enabled',
  'entrypoint',
  'scopes',
]);
/** The settings a twin must keep empty, reported by the twin line. */
const TWIN_SETTINGS = new Set(['execute', 'events', 'schedule']);
const SYMBOL: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗' };

/** The Appwrite failure (`code`, `type`, `message`) on an error or its `cause` chain. */
function appwriteFailure(error: unknown): { status: number; type: string; message: string } | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const e = current as { code?: unknown; type?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'number' && e.code >= 100) {
      return {
        status: e.code,
        type: typeof e.type === 'string' ? e.type : '',
        message: typeof e.message === 'string' ? e.message : '',
      };
    }
    current = e.cause;
  }
  return null;
}

/** The scope a 401 `general_unauthorized_scope` names (`… missing scopes (["rows.read"])`), else null. */
export function missingScopeOf(error: unknown): string | null {
  const failure = appwriteFailure(error);
  if (failure?.status !== 401 || failure.type !== 'general_unauthorized_scope') return null;
  return /missing scopes? \(\[?"?([a-z]+\.[a-z]+)/i.exec(failure.message)?.[1] ?? 'unknown';
}

const describe = (error: unknown): string => {
  const failure = appwriteFailure(error);
  if (failure) return `${failure.status} ${failure.type}: ${failure.message}`;
  return errorText(error);
};

const ago = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${Math.round(s / 86_400)} d`;
};

/** The kit's `/health` answer, as far as the doctor reads it. */
const healthBodySchema = z.object({
  deploymentId: z.string(),
  status: z.string().optional(),
  checks: z.record(z.string(), z.object({ ok: z.boolean() }).loose()).optional(),
});

/** Runs every check (see the file header). Never throws for a failed check: it becomes a `fail` line. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const now = options.now ?? Date.now;
  const tables = options.tables ?? allTables;
  const declared = options.functions ?? declaredFunctions;
  const client = new Client().setEndpoint(options.endpoint).setProject(options.projectId).setKey(options.key);
  const calls = { total: 0, byMethod: {} as Record<string, number> };
  const count = (method: string) => {
    calls.total++;
    calls.byMethod[method] = (calls.byMethod[method] ?? 0) + 1;
  };
  const originalCall = client.call.bind(client);
  client.call = (method, url, headers, params, responseType) => {
    count(method.toUpperCase());
    return originalCall(method, url, headers, params, responseType);
  };
  const functionsApi = new Functions(client);
  const db = new TablesDB(client);
  const checks: DoctorCheck[] = [];
  const missingScopes = new Set<string>();

  /** Runs one check; its API calls are counted, a missing scope or an error becomes a `fail` line. */
  const check = async (
    area: DoctorCheck['area'],
    id: string,
    run: () => Promise<{ status: CheckStatus; message: string }>,
  ): Promise<DoctorCheck> => {
    const before = calls.total;
    let result: { status: CheckStatus; message: string };
    try {
      result = await run();
    } catch (error) {
      const scope = missingScopeOf(error);
      if (scope) {
        missingScopes.add(scope);
        result = { status: 'fail', message: `${id}: not checked, the key lacks scope ${scope}` };
      } else result = { status: 'fail', message: `${id}: ${describe(error)}` };
    }
    const line: DoctorCheck = { area, id, ...result, calls: calls.total - before };
    checks.push(line);
    return line;
  };

  // ── connection ────────────────────────────────────────────────────────────────────────────────────────────
  let remoteFunctions: Models.Function[] | null = null;
  const connection = await check('connection', 'connection', async () => {
    count('GET');
    let version: string;
    try {
      const response = await fetch(`${options.endpoint.replace(/\/$/, '')}/health/version`, {
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) return { status: 'fail', message: `endpoint answered ${response.status}` };
      version = String(((await response.json()) as { version?: unknown }).version ?? '?');
    } catch (error) {
      return { status: 'fail', message: `cannot reach ${options.endpoint}: ${describe(error)}` };
    }
    try {
      remoteFunctions = (await functionsApi.list({ queries: [Query.limit(100)] })).functions;
    } catch (error) {
      const scope = missingScopeOf(error);
      // An unknown key makes the request a guest's: Appwrite answers with the guests role's missing scope.
      if (scope && /role: guests/.test(appwriteFailure(error)?.message ?? '')) {
        return {
          status: 'fail',
          message: `the key was refused (the request ran as a guest): ${describe(error)}`,
        };
      }
      if (scope) {
        // The key is valid (the scope check comes after authentication); the scope line reports the rest.
        missingScopes.add(scope);
        return {
          status: 'ok',
          message: `Appwrite ${version} at ${options.endpoint}, project ${options.projectId}, key accepted`,
        };
      }
      const failure = appwriteFailure(error);
      if (failure && failure.status !== 401 && failure.status !== 403) {
        return {
          status: 'fail',
          message: `Appwrite ${version} at ${options.endpoint}: project ${options.projectId}: ${describe(error)}`,
        };
      }
      return { status: 'fail', message: `the key was refused: ${describe(error)}` };
    }
    return {
      status: 'ok',
      message: `Appwrite ${version} at ${options.endpoint}, project ${options.projectId}, key accepted`,
    };
  });
  if (connection.status === 'fail') return finish();
  // Placeholder index: the key-scope line is filled in at the end, once every check has run.
  const scopeLineIndex = checks.length;

  // ── schema ────────────────────────────────────────────────────────────────────────────────────────────────
  let tableStates: TableState[] = [];
  let databaseExists = false;
  await check('schema', 'schema.database', async () => {
    const plan = await planSchema({ client, databaseId: DATABASE_ID, tables });
    tableStates = plan.tables;
    databaseExists = plan.databaseExists;
    return plan.databaseExists
      ? { status: 'ok', message: `database ${DATABASE_ID} exists (${tables.length} tables declared)` }
      : { status: 'fail', message: `database ${DATABASE_ID} is missing: run npm run deploy` };
  });
  if (databaseExists) {
    for (const state of tableStates) {
      const line = tableLine(state);
      checks.push({ area: 'schema', id: `schema.${state.plan.spec.$id}`, ...line, calls: 0 });
    }
    await check('schema', 'schema.counters', async () => {
      const counters = tableStates.reduce(
        (n, s) => n + (s.remote ? s.plan.spec.columns.filter((c) => c.counter).length : 0),
        0,
      );
      const nulls = await findNullCounters({ client, databaseId: DATABASE_ID, tables: tableStates });
      if (!nulls.length)
        return { status: 'ok', message: `counters: no NULL in ${counters} counter column(s)` };
      return {
        status: 'fail',
        message:
          `counters hold NULL (increments of NULL count nothing): ` +
          `${nulls.map((n) => `${n.table}.${n.column} in ${n.rows} row(s)`).join(', ')}: run npm run deploy (it backfills them)`,
      };
    });
  }

  // ── functions and twins ───────────────────────────────────────────────────────────────────────────────────
  const remoteById = new Map<string, Models.Function>(
    ((remoteFunctions ?? []) as Models.Function[]).map((f) => [f.$id, f]),
  );
  if (remoteFunctions === null) {
    // The connection check met a missing scope listing the functions (any other failure ended the run there).
    checks.push({
      area: 'functions',
      id: 'functions',
      status: 'fail',
      message: `functions: not checked, the key lacks scope ${[...missingScopes].join(', ')}`,
      calls: 0,
    });
  }
  const twinIds = new Set(FUNCTIONS_WITH_STANDBY.map((id) => `${id}-standby`));
  // Without the function list (its failure is already a line) the function checks cannot run.
  const listed = remoteFunctions !== null;
  for (const fn of listed ? declared : []) {
    const isTwin = twinIds.has(fn.$id);
    const remote = remoteById.get(fn.$id);
    await check(isTwin ? 'twins' : 'functions', `function.${fn.$id}`, async () => {
      if (!remote) {
        return {
          status: 'fail',
          message: `${isTwin ? 'standby twin' : 'function'} ${fn.$id} is missing: run npm run deploy`,
        };
      }
      if (remote.runtime !== fn.runtime) {
        return {
          status: 'fail',
          message: `${fn.$id}: runtime ${remote.runtime}, declared ${fn.runtime} (the function must be recreated)`,
        };
      }
      const diff = settingsDiff(remote, fn);
      if (isTwin) {
        const armed = [
          remote.schedule ? `schedule "${remote.schedule}"` : '',
          remote.events.length ? `events ${remote.events.join(', ')}` : '',
          remote.execute.length ? `execute roles ${remote.execute.join(', ')}` : '',
        ].filter(Boolean);
        if (armed.length) {
          return {
            status: 'fail',
            message:
              `standby twin ${fn.$id} has ${armed.join('; ')}: a twin must never run by itself ` +
              '(it would process the same jobs/windows twice): run npm run deploy',
          };
        }
        const rest = diff.filter((d) => !TWIN_SETTINGS.has(d));
        return settingsLine(fn.$id, rest, 'standby twin: no schedule, events or execute roles');
      }
      return settingsLine(fn.$id, diff, `${fn.runtime}, settings as declared`);
    });
    if (!remote) continue;
    await check(isTwin ? 'twins' : 'functions', `function.${fn.$id}.deployment`, async () => {
      if (!remote.deploymentId) {
        return { status: 'fail', message: `${fn.$id}: no active deployment: run npm run deploy` };
      }
      const deployment = await functionsApi.getDeployment({
        functionId: fn.$id,
        deploymentId: remote.deploymentId,
      });
      if (deployment.status !== 'ready') {
        return {
          status: 'fail',
          message: `${fn.$id}: active deployment ${deployment.$id} is ${deployment.status}, not ready`,
        };
      }
      return { status: 'ok', message: `${fn.$id}: active deployment ${deployment.$id} ready` };
    });
    if (options.execute === false || !remote.deploymentId) continue;
    await check(isTwin ? 'twins' : 'functions', `function.${fn.$id}.health`, async () => {
      const execution = await functionsApi.createExecution({
        functionId: fn.$id,
        async: false,
        xpath: '/health',
        method: ExecutionMethod.GET,
      });
      const parsed = healthBodySchema.safeParse(safeJson(execution.responseBody));
      const failing = parsed.success
        ? Object.entries(parsed.data.checks ?? {})
            .filter(([, c]) => !c.ok)
            .map(([name]) => name)
        : [];
      if (execution.responseStatusCode !== 200) {
        return {
          status: 'fail',
          message:
            `${fn.$id}: GET /health answered ${execution.responseStatusCode} (execution ${execution.$id}, ` +
            `${execution.status})${failing.length ? `: failing checks ${failing.join(', ')}` : ''}`,
        };
      }
      if (!parsed.success) {
        return { status: 'fail', message: `${fn.$id}: GET /health answered 200 without a health report` };
      }
      if (parsed.data.deploymentId !== remote.deploymentId) {
        return {
          status: 'fail',
          message:
            `${fn.$id}: GET /health reports deployment ${parsed.data.deploymentId || '(none)'}, ` +
            `the active one is ${remote.deploymentId}`,
        };
      }
      return {
        status: 'ok',
        message: `${fn.$id}: GET /health 200 from deployment ${remote.deploymentId} (${Math.round(execution.duration * 1000)} ms)`,
      };
    });
  }
  if (listed)
    await check('twins', 'twins.no-orchestrator-twin', async () => {
      const stray = [...remoteById.keys()].filter(
        (id) => id.endsWith('-standby') && !declared.some((f) => f.$id === id),
      );
      if (stray.length) {
        return {
          status: 'warn',
          message:
            `undeclared twin(s) ${stray.join(', ')} (deploy-orchestrator has no twin: it is deployed directly); ` +
            'nothing uses them: delete them',
        };
      }
      return { status: 'ok', message: 'deploy-orchestrator has no twin (deployed directly), no stray twins' };
    });

  // ── variables ─────────────────────────────────────────────────────────────────────────────────────────────
  for (const [functionId, names] of listed ? Object.entries(functionVariables) : []) {
    if (!names.length || !remoteById.has(functionId)) continue;
    await check('variables', `variables.${functionId}`, async () => {
      const { variables } = await functionsApi.listVariables({ functionId });
      const missing: string[] = [];
      const off: string[] = [];
      for (const name of names) {
        const variable = variables.find((v) => v.key === name);
        // Secret values are not returned by Appwrite (''): presence is all that can be checked for them.
        const empty = !variable || (!variable.secret && variable.value === '');
        if (!empty) continue;
        if (WEBHOOK_VARIABLES.includes(name)) off.push(name);
        else missing.push(name);
      }
      const set = names.length - missing.length - off.length;
      if (missing.length)
        return { status: 'fail', message: `${functionId}: variables not set: ${missing.join(', ')}` };
      if (off.length) {
        return {
          status: 'warn',
          message: `${functionId}: ${off.join(', ')} not set: notifications off on ${off.length > 1 ? 'those channels' : 'that channel'} (${set}/${names.length} set)`,
        };
      }
      return {
        status: 'ok',
        message: `${functionId}: ${set}/${names.length} variables set (values not shown)`,
      };
    });
  }

  // ── operations ────────────────────────────────────────────────────────────────────────────────────────────
  const tableReady = (id: string) =>
    tableStates.some((s) => s.plan.spec.$id === id && s.plan.exists && s.plan.createColumns.length === 0);
  const ops = async (
    id: string,
    table: string,
    run: () => Promise<{ status: CheckStatus; message: string }>,
  ) =>
    check('operations', id, async () =>
      tableReady(table)
        ? run()
        : { status: 'warn', message: `${id}: not checked, table ${table} is not ready` },
    );
  const rows = async (tableId: string, queries: string[]) =>
    db.listRows({ databaseId: DATABASE_ID, tableId, queries });

  await ops('ops.circuit-breakers', CIRCUIT_BREAKERS_TABLE, async () => {
    const open = await rows(CIRCUIT_BREAKERS_TABLE, [Query.equal('state', 'OPEN'), Query.limit(25)]);
    if (!open.total) return { status: 'ok', message: 'circuit breakers: none OPEN or isolated' };
    const t = now();
    const names = open.rows.map((r) => {
      const row = r as unknown as {
        name: string;
        scope: string | null;
        isolated: boolean | null;
        openUntil: number | null;
      };
      const label = row.scope ? `${row.name}@${row.scope}` : row.name;
      if (row.isolated) return `${label} (isolated)`;
      if (row.openUntil !== null && row.openUntil > t)
        return `${label} (OPEN, ${ago(row.openUntil - t)} left)`;
      return `${label} (half-open, probing)`;
    });
    return {
      status: 'warn',
      message: `circuit breakers: ${open.total} not closed: ${names.join(', ')}${open.total > names.length ? ', …' : ''}`,
    };
  });
  await ops('ops.dead-letter', JOB_TABLES.queue, async () => {
    const dead = await rows(JOB_TABLES.queue, [Query.equal('status', 'DEAD_LETTER'), Query.limit(1)]);
    return dead.total
      ? {
          status: 'warn',
          message: `job queue: ${dead.total} DEAD_LETTER job(s): inspect and redrive or delete them`,
        }
      : { status: 'ok', message: 'job queue: no DEAD_LETTER jobs' };
  });
  await ops('ops.due-jobs', JOB_TABLES.queue, async () => {
    const t = now();
    const stale = await rows(JOB_TABLES.queue, [
      Query.equal('status', [...DUE_STATUSES]),
      Query.lessThanEqual('runAt', t - STALE_DUE_JOB_MS),
      Query.orderAsc('runAt'),
      Query.limit(1),
    ]);
    const oldest = stale.rows[0] as unknown as { $id: string; type: string; runAt: number } | undefined;
    if (!oldest) return { status: 'ok', message: 'job queue: no job due for more than 5 min' };
    return {
      status: 'fail',
      message:
        `job queue: ${stale.total} job(s) due for more than 5 min, oldest ${oldest.$id} (${oldest.type}) due ` +
        `${ago(t - oldest.runAt)} ago: the worker isn't draining (job-worker schedule, deployment, executions)`,
    };
  });
  await check('operations', 'ops.quota-reset', async () => {
    const fn = remoteById.get('quota-reset');
    if (!fn) {
      return listed
        ? { status: 'warn', message: 'quota-reset: not checked, the function is missing' }
        : { status: 'warn', message: 'quota-reset: not checked, functions could not be listed' };
    }
    const list = await functionsApi.listExecutions({
      functionId: 'quota-reset',
      queries: [Query.equal('trigger', 'schedule'), Query.orderDesc('$createdAt'), Query.limit(1)],
    });
    const last = list.executions[0];
    const t = now();
    if (!last) {
      const age = t - Date.parse(fn.$createdAt);
      return age > QUOTA_RESET_MAX_AGE_MS
        ? {
            status: 'warn',
            message: `quota-reset: no scheduled execution, the function exists for ${ago(age)}: is its schedule running?`,
          }
        : { status: 'ok', message: `quota-reset: no scheduled run yet (created ${ago(age)} ago)` };
    }
    const age = t - Date.parse(last.$createdAt);
    if (last.status === 'failed' || last.responseStatusCode >= 400) {
      return {
        status: 'warn',
        message: `quota-reset: last scheduled run ${last.$id} ${ago(age)} ago failed (${last.status}, ${last.responseStatusCode})`,
      };
    }
    if (age > QUOTA_RESET_MAX_AGE_MS)
      return { status: 'warn', message: `quota-reset: last scheduled run ${ago(age)} ago (more than 26 h)` };
    return { status: 'ok', message: `quota-reset: last scheduled run ${ago(age)} ago, ${last.status}` };
  });
  await ops('ops.rollouts', ROLLOUTS_TABLE, async () => {
    const open = await rows(ROLLOUTS_TABLE, [Query.equal('status', [...ACTIVE_STATUSES]), Query.limit(25)]);
    if (!open.total) return { status: 'ok', message: 'rollouts: none unfinished' };
    const list = open.rows.map((r) => {
      const row = r as unknown as { $id: string; functionId: string; status: string };
      return `${row.functionId} ${row.$id} (${row.status})`;
    });
    return {
      status: 'warn',
      message: `rollouts: ${open.total} unfinished: ${list.join(', ')}: npm run rollout -- status <function>`,
    };
  });
  await ops('ops.rollout-locks', LOCKS_TABLE, async () => {
    const held = await rows(LOCKS_TABLE, [Query.limit(25)]);
    if (!held.total) return { status: 'ok', message: 'rollout locks: none held' };
    const t = now();
    const list = held.rows.map((r) => {
      const row = r as unknown as { functionId: string; owner: string; expiresAt: number };
      return row.expiresAt > t
        ? `${row.functionId} by ${row.owner} (${ago(row.expiresAt - t)} left)`
        : `${row.functionId} by ${row.owner} (expired ${ago(t - row.expiresAt)} ago)`;
    });
    return { status: 'warn', message: `rollout locks: ${held.total} held: ${list.join(', ')}` };
  });

  // The key-scope line, second: what the checks above met.
  checks.splice(scopeLineIndex, 0, {
    area: 'connection',
    id: 'connection.scopes',
    status: missingScopes.size ? 'fail' : 'ok',
    message: missingScopes.size
      ? `the key lacks scope(s) ${[...missingScopes].sort().join(', ')}: add them to the API key`
      : 'key scopes: every call the checks made was allowed',
    calls: 0,
  });
  return finish();

  function finish(): DoctorReport {
    const summary: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
    for (const c of checks) summary[c.status]++;
    return {
      endpoint: options.endpoint,
      projectId: options.projectId,
      checks,
      summary,
      calls,
      exitCode: summary.fail ? 1 : 0,
    };
  }
}

function settingsLine(id: string, diff: string[], okText: string): { status: CheckStatus; message: string } {
  const critical = diff.filter((d) => CRITICAL_SETTINGS.has(d));
  if (critical.length)
    return {
      status: 'fail',
      message: `${id}: ${diff.join(', ')} differ from appwrite.json: run npm run deploy`,
    };
  if (diff.length)
    return {
      status: 'warn',
      message: `${id}: ${diff.join(', ')} differ from appwrite.json: run npm run deploy`,
    };
  return { status: 'ok', message: `${id}: ${okText}` };
}

/** One table's line: missing, incompatible, not available, different in place, or fine. */
function tableLine({ plan, remote }: TableState): { status: CheckStatus; message: string } {
  const id = plan.spec.$id;
  if (!remote) return { status: 'fail', message: `table ${id} is missing: run npm run deploy` };
  const failures: string[] = [];
  const warnings: string[] = [];
  if (plan.createColumns.length)
    failures.push(`missing columns ${plan.createColumns.map((c) => c.key).join(', ')}`);
  if (plan.createIndexes.length)
    failures.push(`missing indexes ${plan.createIndexes.map((i) => i.key).join(', ')}`);
  for (const p of plan.problems) failures.push(`${p.key}: incompatible, ${p.problem}`);
  const declaredColumns = new Set(plan.spec.columns.map((c) => c.key));
  const declaredIndexes = new Set(plan.spec.indexes.map((i) => i.key));
  for (const item of [
    ...(remote.columns ?? [])
      .filter((c) => declaredColumns.has(c.key))
      .map((c) => ({ kind: 'column', ...c })),
    ...(remote.indexes ?? []).filter((i) => declaredIndexes.has(i.key)).map((i) => ({ kind: 'index', ...i })),
  ]) {
    if (item.status === undefined || item.status === 'available') continue;
    const text = `${item.kind} ${item.key} is ${item.status}${item.error ? ` (${item.error})` : ''}`;
    if (item.status === 'failed' || item.status === 'stuck') failures.push(text);
    else warnings.push(text);
  }
  for (const u of plan.updateColumns) warnings.push(`${u.spec.key} differs (${u.why})`);
  if (plan.updateTable) warnings.push('name/permissions/rowSecurity differ');
  if (plan.extra.length)
    warnings.push(`not declared: ${plan.extra.map((e) => e.slice(id.length + 1)).join(', ')}`);
  if (failures.length)
    return { status: 'fail', message: `table ${id}: ${[...failures, ...warnings].join('; ')}` };
  if (warnings.length) return { status: 'warn', message: `table ${id}: ${warnings.join('; ')}` };
  return {
    status: 'ok',
    message: `table ${id}: ${plan.spec.columns.length} columns, ${plan.spec.indexes.length} index(es) available`,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The report as text lines: one per check, then the summary. */
export function formatDoctorReport(report: DoctorReport): string[] {
  const lines = [`Checking ${report.endpoint} (project ${report.projectId})`];
  let area = '';
  for (const c of report.checks) {
    if (c.area !== area) {
      area = c.area;
      lines.push(`▸ ${area}`);
    }
    lines.push(`  ${SYMBOL[c.status]} ${c.message}`);
  }
  const methods = Object.entries(report.calls.byMethod)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  lines.push(
    `${report.exitCode ? '✗' : '✓'} ${report.summary.ok} ok, ${report.summary.warn} warning(s), ` +
      `${report.summary.fail} failure(s) — ${report.calls.total} API calls (${methods})`,
  );
  return lines;
}

const envSchema = z.object({
  APPWRITE_ENDPOINT: z.url(),
  APPWRITE_PROJECT_ID: z.string().min(1),
  APPWRITE_API_KEY: z.string().min(1),
});

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--json' && a !== '--no-exec');
  if (unknown.length) {
    console.error(`Unknown option(s): ${unknown.join(' ')} (options: --json, --no-exec)`);
    return 2;
  }
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    console.error(
      `Set ${missing} (the Appwrite to check; the key needs databases, tables, rows, functions and execution read scopes, ` +
        'and execution.write for the /health executions)',
    );
    return 2;
  }
  const report = await runDoctor({
    endpoint: parsed.data.APPWRITE_ENDPOINT,
    projectId: parsed.data.APPWRITE_PROJECT_ID,
    key: parsed.data.APPWRITE_API_KEY,
    execute: !args.includes('--no-exec'),
  });
  if (args.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else for (const line of formatDoctorReport(report)) console.log(line);
  return report.exitCode;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`✗ doctor failed: ${errorText(error)}`);
      process.exitCode = 1;
    },
  );
}
