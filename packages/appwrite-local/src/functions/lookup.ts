/** Lookups that raise Appwrite's 404s, and file cleanup shared by the routes. */
import { rmSync } from 'node:fs';
import { AppwriteError } from '../errors.ts';
import { buildDir, type FunctionsDeps, sourcePath } from './deps.ts';
import type { DeploymentRecord, FunctionRecord } from './records.ts';
import { ROOT } from './store.ts';

/** The function, or 404 `function_not_found`. */
export function requireFunction(deps: FunctionsDeps, functionId: string): FunctionRecord {
  const fn = deps.store.functions.get(ROOT, functionId);
  if (!fn) throw new AppwriteError('function_not_found');
  return fn;
}

/** The deployment of a function, or 404 `deployment_not_found`. */
export function requireDeployment(
  deps: FunctionsDeps,
  functionId: string,
  deploymentId: string,
): DeploymentRecord {
  const dep = deps.store.deployments.get(functionId, deploymentId);
  if (!dep) throw new AppwriteError('deployment_not_found');
  return dep;
}

/** Removes a deployment's archive and built code. */
export function removeDeploymentFiles(deps: FunctionsDeps, deploymentId: string): void {
  rmSync(sourcePath(deps, deploymentId), { force: true });
  rmSync(buildDir(deps, deploymentId), { recursive: true, force: true });
}
