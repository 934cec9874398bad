/**
 * Activating a deployment (PATCH /functions/{id}/deployment, and auto-activation after a build) and keeping the
 * function's `latestDeployment*` fields in step with its newest deployment.
 */
import { AppwriteError } from '../errors.ts';
import type { FunctionsDeps } from './deps.ts';
import type { DeploymentRecord, FunctionRecord } from './records.ts';
import { ROOT } from './store.ts';

/**
 * Makes `deployment` the function's active one. 400 `build_not_ready` unless it is ready. Processes of other
 * deployments are retired (they finish their in-flight executions, which keep their deployment id).
 */
export function activateDeployment(
  deps: FunctionsDeps,
  fn: FunctionRecord,
  deployment: DeploymentRecord,
): FunctionRecord {
  if (deployment.status !== 'ready') throw new AppwriteError('build_not_ready');
  const now = deps.ctx.clock.now();
  const updated: FunctionRecord = {
    ...fn,
    deploymentId: deployment.$id,
    deploymentCreatedAt: deployment.$createdAt,
    live: true,
    $updatedAt: now,
  };
  deps.store.functions.put(ROOT, updated);
  deps.pool.release(fn.$id, deployment.$id);
  return updated;
}

/**
 * Auto-activation after a successful build (Appwrite's rule): only when the upload asked for it, and only if the
 * deployment is at least as new as the active one — an older build finishing late never replaces a newer one.
 */
export function maybeAutoActivate(deps: FunctionsDeps, deployment: DeploymentRecord): void {
  if (!deployment.activate || deployment.status !== 'ready') return;
  const fn = deps.store.functions.get(ROOT, deployment.functionId);
  if (!fn) return;
  const active = fn.deploymentId ? deps.store.deployments.get(fn.$id, fn.deploymentId) : null;
  if (active && active.$createdAt > deployment.$createdAt) return;
  activateDeployment(deps, fn, deployment);
}

/** Copies a deployment's status onto the function's `latestDeployment*` fields when it is the latest one. */
export function syncLatest(deps: FunctionsDeps, deployment: DeploymentRecord): void {
  const fn = deps.store.functions.get(ROOT, deployment.functionId);
  if (!fn) return;
  if (
    fn.latestDeploymentId &&
    fn.latestDeploymentId !== deployment.$id &&
    fn.latestDeploymentCreatedAt > deployment.$createdAt
  ) {
    return;
  }
  deps.store.functions.put(ROOT, {
    ...fn,
    latestDeploymentId: deployment.$id,
    latestDeploymentCreatedAt: deployment.$createdAt,
    latestDeploymentStatus: deployment.status,
  });
}
