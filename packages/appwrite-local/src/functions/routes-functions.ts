/** Routes: functions CRUD, runtimes and specifications (GET/POST/PUT/DELETE /functions…). */
import { AppwriteError } from '../errors.ts';
import type { Router } from '../server-context.ts';
import { resolveId } from '../wire.ts';
import type { FunctionsDeps } from './deps.ts';
import { NODE_RUNTIMES, newFunctionRecord, parseFunctionSettings, parseRuntime } from './function-input.ts';
import { applyQueries, listTotal, matchesSearch, parseQueries } from './list-query.ts';
import { removeDeploymentFiles, requireFunction } from './lookup.ts';
import { functionModel } from './models.ts';
import type { FunctionRecord } from './records.ts';
import { SPECIFICATIONS } from './specifications.ts';
import { ROOT } from './store.ts';

const FUNCTION_QUERY_ATTRIBUTES = [
  'name',
  'enabled',
  'runtime',
  'deploymentId',
  'schedule',
  'timeout',
  'entrypoint',
  'commands',
];

/** Registers the function routes. */
export function registerFunctionRoutes(deps: FunctionsDeps, router: Router): void {
  const render = (fn: FunctionRecord) => functionModel(fn, deps.store.variables.list(fn.$id));

  router.add({
    method: 'GET',
    path: '/functions',
    scope: 'functions.read',
    handler: (req) => {
      // Appwrite's function search index holds the id, name and runtime.
      const all = deps.store.functions
        .list(ROOT)
        .map(render)
        .filter((f) => matchesSearch(f, req.query.search, ['$id', 'name', 'runtime']));
      const { total, page } = applyQueries(all, parseQueries(req.query.queries), FUNCTION_QUERY_ATTRIBUTES);
      return { status: 200, json: { total: listTotal(req.query, total), functions: page } };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/runtimes',
    // Public in Appwrite (Runtimes/XList.php: scope `public`): no key needed.
    scope: null,
    handler: () => ({
      status: 200,
      json: {
        total: NODE_RUNTIMES.length,
        runtimes: NODE_RUNTIMES.map((key) => ({
          $id: key,
          key: key.split('-')[0],
          name: 'Node.js',
          version: key.slice(key.indexOf('-') + 1),
          base: 'node',
          image: `local/${key} (node ${process.versions.node})`,
          logo: 'node.png',
          supports: ['amd64'],
        })),
      },
    }),
  });

  router.add({
    method: 'GET',
    path: '/functions/specifications',
    scope: 'functions.read',
    handler: () => ({
      status: 200,
      json: {
        total: SPECIFICATIONS.length,
        specifications: SPECIFICATIONS.map((spec) => ({ ...spec, enabled: true })),
      },
    }),
  });

  router.add({
    method: 'POST',
    path: '/functions',
    scope: 'functions.write',
    handler: (req) => {
      const functionId = resolveId(req.body.functionId, 'functionId');
      const runtime = parseRuntime(req.body.runtime);
      const settings = parseFunctionSettings(req.body);
      const record = newFunctionRecord(functionId, runtime, settings, deps.ctx.clock.now());
      if (!deps.store.functions.insert(ROOT, record)) throw new AppwriteError('function_already_exists');
      return { status: 201, json: render(record) };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/:functionId',
    scope: 'functions.read',
    handler: (req) => ({ status: 200, json: render(requireFunction(deps, req.params.functionId!)) }),
  });

  router.add({
    method: 'PUT',
    path: '/functions/:functionId',
    scope: 'functions.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const settings = parseFunctionSettings(req.body);
      const runtime = settings.runtime ?? fn.runtime;
      const redeployNeeded =
        fn.deploymentId !== '' &&
        (runtime !== fn.runtime ||
          settings.entrypoint !== fn.entrypoint ||
          settings.commands !== fn.commands ||
          settings.specification !== fn.specification);
      const updated: FunctionRecord = {
        ...fn,
        ...settings,
        runtime,
        live: fn.live && !redeployNeeded,
        $updatedAt: deps.ctx.clock.now(),
      };
      deps.store.functions.put(ROOT, updated);
      return { status: 200, json: render(updated) };
    },
  });

  router.add({
    method: 'DELETE',
    path: '/functions/:functionId',
    scope: 'functions.write',
    handler: (req) => {
      deleteFunction(deps, req.params.functionId!);
      return { status: 204 };
    },
  });
}

/** DELETE /functions/{id}: the function, its deployments (and files), executions and variables; its process. */
export function deleteFunction(deps: FunctionsDeps, functionId: string): void {
  requireFunction(deps, functionId);
  deps.pool.release(functionId);
  for (const dep of deps.store.deployments.list(functionId)) removeDeploymentFiles(deps, dep.$id);
  deps.store.deployments.deleteScope(functionId);
  deps.store.executions.deleteScope(functionId);
  deps.store.variables.deleteScope(functionId);
  deps.store.functions.delete(ROOT, functionId);
}
