/**
 * Routes: executions — create (sync, async, scheduled), get, list, delete.
 *
 * Callers, as Appwrite treats them: API keys execute any function (even disabled) regardless of `execute`, and
 * see every execution with its logs. A user (`X-Appwrite-JWT`) or guest may execute an enabled function only
 * when one of their roles is in its `execute` list (else 401 `user_unauthorized`; a disabled function is 404
 * `function_not_found`); the function receives `x-appwrite-user-id` and `x-appwrite-user-jwt` for a user. A
 * user's execution carries `read("user:<id>")`: users read only executions their roles can read (their own),
 * never with `logs`/`errors` (blanked), and cannot delete them (401 `user_unauthorized`).
 */
import { AppwriteError } from '../errors.ts';
import { type ApiRequest, type AuthContext, isKeyAuth, type Router } from '../server-context.ts';
import type { FunctionsDeps } from './deps.ts';
import { parseExecutionParams } from './execution-input.ts';
import {
  activeDeployment,
  type ExecutionInput,
  recordExecution,
  runExecution,
  runInBackground,
  timedOutRecord,
} from './executor.ts';
import { applyQueries, listTotal, matchesSearch, parseQueries } from './list-query.ts';
import { requireFunction } from './lookup.ts';
import { executionModel } from './models.ts';
import type { ExecutionRecord, FunctionRecord } from './records.ts';

const EXECUTION_QUERY_ATTRIBUTES = [
  'trigger',
  'status',
  'responseStatusCode',
  'duration',
  'requestMethod',
  'requestPath',
  'deploymentId',
  'scheduledAt',
];

/** Options of the execution routes. */
export interface ExecutionRouteOptions {
  /** Limit of a synchronous execution before the caller gets 408, seconds (Appwrite: 30). */
  syncTimeoutSeconds: number;
}

/** Appwrite's 408 message, which names the limit (30 s there; the configured limit here). */
function syncTimeoutMessage(options: ExecutionRouteOptions): string {
  return `Synchronous function execution timed out. Use asynchronous execution instead, or ensure the execution duration doesn't exceed ${options.syncTimeoutSeconds} seconds.`;
}

/** The function as a caller may see it: users and guests get 404 for a disabled one (keys see it anyway). */
function visibleFunction(deps: FunctionsDeps, req: ApiRequest): FunctionRecord {
  const fn = requireFunction(deps, req.params.functionId!);
  if (!fn.enabled && !isKeyAuth(req.auth)) throw new AppwriteError('function_not_found');
  return fn;
}

/** 401 `user_unauthorized` unless one of the caller's roles is in the function's `execute` list. */
function checkExecute(fn: FunctionRecord, auth: AuthContext | undefined): void {
  if (isKeyAuth(auth)) return;
  const roles = auth?.roles ?? [];
  if (fn.execute.some((r) => roles.includes(r))) return;
  throw new AppwriteError(
    'user_unauthorized',
    fn.execute.length === 0
      ? "No permissions provided for action 'execute'"
      : `Missing "execute" permission for role "${roles.includes('users') ? 'users' : 'guests'}". Only ${JSON.stringify(fn.execute)} scopes are allowed and ${JSON.stringify(roles)} was given.`,
  );
}

/** Whether the caller may read the execution: keys always, others through its `read(...)` permissions. */
function canRead(e: ExecutionRecord, auth: AuthContext | undefined): boolean {
  if (isKeyAuth(auth)) return true;
  const roles = auth?.roles ?? [];
  return e.$permissions.some((p) => {
    const m = /^read\("(.+)"\)$/.exec(p);
    return m !== null && roles.includes(m[1] as string);
  });
}

/** The execution model for the caller: logs and errors only for API keys, as Appwrite. */
function modelFor(e: ExecutionRecord, auth: AuthContext | undefined, responseBody = '') {
  const model = executionModel(e, responseBody);
  if (!isKeyAuth(auth)) {
    model.logs = '';
    model.errors = '';
  }
  return model;
}

/** Registers the execution routes. */
export function registerExecutionRoutes(
  deps: FunctionsDeps,
  router: Router,
  options: ExecutionRouteOptions,
): void {
  router.add({
    method: 'POST',
    path: '/functions/:functionId/executions',
    scope: 'execution.write',
    handler: async (req) => {
      // As Create.php: parameters first (400), then the function (404), its deployment (404, 400
      // build_not_ready), and only then the caller's execute permission (401).
      const params = parseExecutionParams(req.body, deps.ctx.clock.now());
      const fn = visibleFunction(deps, req);
      activeDeployment(deps, fn);
      checkExecute(fn, req.auth);
      const input: ExecutionInput = {
        trigger: 'http',
        method: params.method,
        path: params.path,
        headers: params.headers,
        body: Buffer.from(params.body, 'utf8'),
        userId: req.auth?.kind === 'user' ? req.auth.userId : undefined,
      };
      if (params.scheduledAt !== undefined) {
        // The deployment is resolved when it runs; it must exist now, though. Delayed executions reach the
        // function as `x-appwrite-trigger: schedule` (§A4), so they are recorded with that trigger.
        activeDeployment(deps, fn);
        const record = recordExecution(
          deps,
          fn,
          { ...input, trigger: 'schedule' },
          {
            status: 'scheduled',
            deploymentId: '',
            scheduledAt: params.scheduledAt,
          },
        );
        return { status: 202, json: modelFor(record, req.auth) };
      }
      const deploymentId = activeDeployment(deps, fn);
      if (params.async) {
        const record = recordExecution(deps, fn, input, { status: 'waiting', deploymentId });
        runInBackground(deps, record, input, deploymentId);
        return { status: 202, json: modelFor(record, req.auth) };
      }
      // Appwrite stores a synchronous execution only when it ends (Create.php, in `finally`).
      const record = recordExecution(deps, fn, input, { status: 'processing', deploymentId, persist: false });
      const startedHr = performance.now();
      const run = runExecution(deps, record, input, deploymentId, { sync: true });
      deps.background.add(run);
      void run.finally(() => deps.background.delete(run));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), options.syncTimeoutSeconds * 1000);
      });
      const outcome = await Promise.race([run, timedOut]).finally(() => clearTimeout(timer));
      if (outcome === 'timeout') {
        // The function runs on, but its answer is lost: the record says failed/500, the caller gets 408.
        const error = new AppwriteError('function_synchronous_timeout', syncTimeoutMessage(options));
        const duration = Math.round(performance.now() - startedHr) / 1000;
        deps.store.executions.insert(fn.$id, timedOutRecord(deps, record, error.message, duration));
        throw error;
      }
      deps.store.executions.insert(fn.$id, outcome.record);
      const model = modelFor(outcome.record, req.auth, outcome.responseBody);
      // The caller sees every response header, and the execution id (the stored record keeps two of them).
      model.responseHeaders = [
        ...outcome.responseHeaders,
        { name: 'x-appwrite-execution-id', value: outcome.record.$id },
      ];
      return { status: 201, json: model };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/:functionId/executions',
    scope: 'execution.read',
    handler: (req) => {
      const fn = visibleFunction(deps, req);
      const all = deps.store.executions
        .list(fn.$id)
        .filter((e) => canRead(e, req.auth))
        .map((e) => modelFor(e, req.auth))
        .filter((e) => matchesSearch(e, req.query.search, ['$id', 'functionId', 'deploymentId']));
      const { total, page } = applyQueries(all, parseQueries(req.query.queries), EXECUTION_QUERY_ATTRIBUTES);
      return { status: 200, json: { total: listTotal(req.query, total), executions: page } };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/:functionId/executions/:executionId',
    scope: 'execution.read',
    handler: (req) => {
      const fn = visibleFunction(deps, req);
      const execution = deps.store.executions.get(fn.$id, req.params.executionId!);
      if (!execution || !canRead(execution, req.auth)) throw new AppwriteError('execution_not_found');
      return { status: 200, json: modelFor(execution, req.auth) };
    },
  });

  router.add({
    method: 'DELETE',
    path: '/functions/:functionId/executions/:executionId',
    scope: 'execution.write',
    handler: (req) => {
      const fn = visibleFunction(deps, req);
      const execution = deps.store.executions.get(fn.$id, req.params.executionId!);
      if (!execution || !canRead(execution, req.auth)) throw new AppwriteError('execution_not_found');
      // Executions carry no delete permission for users: only API keys delete them.
      if (!isKeyAuth(req.auth)) throw new AppwriteError('user_unauthorized');
      if (execution.status === 'waiting' || execution.status === 'processing') {
        throw new AppwriteError('execution_in_progress');
      }
      deps.store.executions.delete(fn.$id, execution.$id);
      return { status: 204 };
    },
  });
}
