/**
 * Routes: deployments — upload (whole or chunked), duplicate, get, list, delete, cancel, download — and
 * activation (PATCH /functions/{id}/deployment).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppwriteError, invalidArgument } from '../errors.ts';
import type { Router } from '../server-context.ts';
import { requireString, uniqueId } from '../wire.ts';
import { activateDeployment, syncLatest } from './activation.ts';
import { buildDeployment } from './build.ts';
import { type FunctionsDeps, inBackground, sourcePath } from './deps.ts';
import { applyQueries, listTotal, parseQueries } from './list-query.ts';
import { removeDeploymentFiles, requireDeployment, requireFunction } from './lookup.ts';
import { deploymentModel, functionModel } from './models.ts';
import type { DeploymentRecord } from './records.ts';
import { ROOT } from './store.ts';
import { discardUpload, type PartialUploads, receiveUpload } from './upload.ts';

const DEPLOYMENT_QUERY_ATTRIBUTES = [
  'status',
  'activate',
  'type',
  'entrypoint',
  'buildSize',
  'sourceSize',
  'totalSize',
  'buildDuration',
];

/** Registers the deployment routes. */
export function registerDeploymentRoutes(
  deps: FunctionsDeps,
  router: Router,
  partials: PartialUploads,
): void {
  router.add({
    method: 'GET',
    path: '/functions/:functionId/deployments',
    scope: 'functions.read',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const search = typeof req.query.search === 'string' ? req.query.search : '';
      const all = deps.store.deployments
        .list(fn.$id)
        .filter((d) => !search || d.$id.includes(search) || d.entrypoint.includes(search))
        .map(deploymentModel);
      const { total, page } = applyQueries(all, parseQueries(req.query.queries), DEPLOYMENT_QUERY_ATTRIBUTES);
      return { status: 200, json: { total: listTotal(req.query, total), deployments: page } };
    },
  });

  router.add({
    method: 'POST',
    path: '/functions/:functionId/deployments',
    scope: 'functions.write',
    handler: async (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const record = await receiveUpload(deps, partials, fn, req);
      return { status: 202, json: deploymentModel(record) };
    },
  });

  router.add({
    method: 'POST',
    path: '/functions/:functionId/deployments/duplicate',
    scope: 'functions.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const original = requireDeployment(deps, fn.$id, requireString(req.body, 'deploymentId'));
      if (!existsSync(sourcePath(deps, original.$id))) throw new AppwriteError('build_not_found');
      const now = deps.ctx.clock.now();
      const copy: DeploymentRecord = {
        ...original,
        $id: uniqueId(),
        $createdAt: now,
        $updatedAt: now,
        // A duplicate rebuilds the same source with the function's current settings.
        entrypoint: fn.entrypoint || original.entrypoint,
        commands: fn.commands,
        status: 'waiting',
        buildLogs: '',
        buildDuration: 0,
        buildSize: 0,
      };
      const target = sourcePath(deps, copy.$id);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(sourcePath(deps, original.$id), target);
      deps.store.deployments.insert(fn.$id, copy);
      syncLatest(deps, copy);
      inBackground(deps, `build ${copy.$id}`, () => buildDeployment(deps, fn.$id, copy.$id));
      return { status: 202, json: deploymentModel(copy) };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/:functionId/deployments/:deploymentId',
    scope: 'functions.read',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      return {
        status: 200,
        json: deploymentModel(requireDeployment(deps, fn.$id, req.params.deploymentId!)),
      };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/:functionId/deployments/:deploymentId/download',
    scope: 'functions.read',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const dep = requireDeployment(deps, fn.$id, req.params.deploymentId!);
      const file = sourcePath(deps, dep.$id);
      if (!existsSync(file)) throw new AppwriteError('build_not_found');
      return {
        status: 200,
        raw: readFileSync(file),
        headers: {
          'content-type': 'application/gzip',
          'content-disposition': `attachment; filename="${dep.$id}.tar.gz"`,
        },
      };
    },
  });

  router.add({
    method: 'PATCH',
    path: '/functions/:functionId/deployments/:deploymentId/status',
    scope: 'functions.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const dep = requireDeployment(deps, fn.$id, req.params.deploymentId!);
      if (dep.status === 'ready' || dep.status === 'failed')
        throw new AppwriteError('build_already_completed');
      if (dep.status === 'canceled') throw new AppwriteError('build_canceled');
      const canceled: DeploymentRecord = {
        ...dep,
        status: 'canceled',
        buildLogs: `${dep.buildLogs}\nBuild canceled.`,
        $updatedAt: deps.ctx.clock.now(),
      };
      deps.store.deployments.put(fn.$id, canceled);
      discardUpload(deps, partials, dep.$id);
      syncLatest(deps, canceled);
      return { status: 200, json: deploymentModel(canceled) };
    },
  });

  router.add({
    method: 'DELETE',
    path: '/functions/:functionId/deployments/:deploymentId',
    scope: 'functions.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const dep = requireDeployment(deps, fn.$id, req.params.deploymentId!);
      deps.store.deployments.delete(fn.$id, dep.$id);
      discardUpload(deps, partials, dep.$id);
      if (fn.deploymentId === dep.$id) {
        // Deleting the active deployment leaves the function without one, as Appwrite does.
        deps.store.functions.put(ROOT, {
          ...fn,
          deploymentId: '',
          deploymentCreatedAt: 0,
          $updatedAt: deps.ctx.clock.now(),
        });
      }
      deps.pool.releaseDeployment(fn.$id, dep.$id);
      removeDeploymentFiles(deps, dep.$id);
      return { status: 204 };
    },
  });

  router.add({
    method: 'PATCH',
    path: '/functions/:functionId/deployment',
    scope: 'functions.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const deploymentId = req.body.deploymentId;
      if (typeof deploymentId !== 'string' || deploymentId === '') {
        throw invalidArgument('Param "deploymentId" is not optional.');
      }
      const dep = requireDeployment(deps, fn.$id, deploymentId);
      const updated = activateDeployment(deps, fn, dep);
      return { status: 200, json: functionModel(updated, deps.store.variables.list(fn.$id)) };
    },
  });
}
