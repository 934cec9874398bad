/** Routes: executions — create (sync, async, scheduled), get, list, delete. */
import { AppwriteError } from '../errors.ts';
import type { Router } from '../server-context.ts';
import type { FunctionsDeps } from './deps.ts';
import { parseExecutionParams } from './execution-input.ts';
import {
  activeDeployment,
  type ExecutionInput,
  recordExecution,
  runExecution,
  runInBackground,
} from './executor.ts';
import { applyQueries, parseQueries } from './list-query.ts';
import { requireFunction } from './lookup.ts';
import { executionModel } from './models.ts';

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
      const fn = requireFunction(deps, req.params.functionId!);
      // Only API keys reach this server, and Appwrite lets keys execute disabled functions and ignores `execute`.
      const params = parseExecutionParams(req.body, deps.ctx.clock.now());
      const input: ExecutionInput = {
        trigger: 'http',
        method: params.method,
        path: params.path,
        headers: params.headers,
        body: Buffer.from(params.body, 'utf8'),
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
        return { status: 202, json: executionModel(record) };
      }
      const deploymentId = activeDeployment(deps, fn);
      if (params.async) {
        const record = recordExecution(deps, fn, input, { status: 'waiting', deploymentId });
        runInBackground(deps, record, input, deploymentId);
        return { status: 202, json: executionModel(record) };
      }
      const record = recordExecution(deps, fn, input, { status: 'processing', deploymentId });
      const run = runExecution(deps, record, input, deploymentId);
      deps.background.add(run);
      void run.finally(() => deps.background.delete(run));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), options.syncTimeoutSeconds * 1000);
      });
      const outcome = await Promise.race([run, timedOut]).finally(() => clearTimeout(timer));
      if (outcome === 'timeout') throw new AppwriteError('function_synchronous_timeout');
      return { status: 201, json: executionModel(outcome.record, outcome.responseBody) };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/:functionId/executions',
    scope: 'execution.read',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const all = deps.store.executions.list(fn.$id).map((e) => executionModel(e));
      const { total, page } = applyQueries(all, parseQueries(req.query.queries), EXECUTION_QUERY_ATTRIBUTES);
      return { status: 200, json: { total, executions: page } };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/:functionId/executions/:executionId',
    scope: 'execution.read',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const execution = deps.store.executions.get(fn.$id, req.params.executionId!);
      if (!execution) throw new AppwriteError('execution_not_found');
      return { status: 200, json: executionModel(execution) };
    },
  });

  router.add({
    method: 'DELETE',
    path: '/functions/:functionId/executions/:executionId',
    scope: 'execution.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const execution = deps.store.executions.get(fn.$id, req.params.executionId!);
      if (!execution) throw new AppwriteError('execution_not_found');
      if (execution.status === 'waiting' || execution.status === 'processing') {
        throw new AppwriteError('execution_in_progress');
      }
      deps.store.executions.delete(fn.$id, execution.$id);
      return { status: 204 };
    },
  });
}
