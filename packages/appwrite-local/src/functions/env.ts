/**
 * The environment of a function's process (§A5): APPWRITE_FUNCTION_* values, the function's variables, and
 * PATH so child tools resolve. Nothing else from the server's own environment leaks in.
 */
import { SERVER_VERSION } from '../errors.ts';
import type { FunctionsDeps } from './deps.ts';
import type { FunctionRecord } from './records.ts';
import { specificationOf } from './specifications.ts';

/** `node-22` → `22`; the runtime version a function's process reports (it runs on the server's Node). */
function runtimeVersion(runtime: string): string {
  const dash = runtime.indexOf('-');
  return dash < 0 ? '' : runtime.slice(dash + 1);
}

/** Variables of the function as an env map (function variables override nothing reserved). */
function variables(deps: FunctionsDeps, functionId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of deps.store.variables.list(functionId)) out[v.key] = v.value;
  return out;
}

/**
 * Env for executions of `fn` on `deploymentId`. Memory and CPUs are those of `specification` (the runtime
 * specification unless the build asks for its own).
 */
export function runtimeEnv(
  deps: FunctionsDeps,
  fn: FunctionRecord,
  deploymentId: string,
  specification: string = fn.specification,
): Record<string, string> {
  const spec = specificationOf(specification);
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    ...variables(deps, fn.$id),
    APPWRITE_FUNCTION_API_ENDPOINT: deps.endpoint,
    APPWRITE_FUNCTION_ID: fn.$id,
    APPWRITE_FUNCTION_NAME: fn.name,
    APPWRITE_FUNCTION_DEPLOYMENT: deploymentId,
    APPWRITE_FUNCTION_PROJECT_ID: deps.ctx.projectId,
    APPWRITE_FUNCTION_RUNTIME_NAME: 'Node.js',
    APPWRITE_FUNCTION_RUNTIME_VERSION: runtimeVersion(fn.runtime),
    APPWRITE_FUNCTION_CPUS: String(spec.cpus),
    APPWRITE_FUNCTION_MEMORY: String(spec.memory),
    APPWRITE_VERSION: SERVER_VERSION,
    APPWRITE_REGION: 'default',
    APPWRITE_DEPLOYMENT_TYPE: 'manual',
    APPWRITE_VCS_REPOSITORY_ID: '',
    APPWRITE_VCS_REPOSITORY_NAME: '',
    APPWRITE_VCS_REPOSITORY_OWNER: '',
    APPWRITE_VCS_REPOSITORY_URL: '',
    APPWRITE_VCS_REPOSITORY_BRANCH: '',
    APPWRITE_VCS_REPOSITORY_BRANCH_URL: '',
    APPWRITE_VCS_COMMIT_HASH: '',
    APPWRITE_VCS_COMMIT_MESSAGE: '',
    APPWRITE_VCS_COMMIT_URL: '',
    APPWRITE_VCS_COMMIT_AUTHOR_NAME: '',
    APPWRITE_VCS_COMMIT_AUTHOR_URL: '',
    APPWRITE_VCS_ROOT_DIRECTORY: '',
    OPEN_RUNTIMES_CPUS: String(spec.cpus),
    OPEN_RUNTIMES_MEMORY: String(spec.memory),
    OPEN_RUNTIMES_HOSTNAME: 'localhost',
    OPEN_RUNTIMES_SECRET: deps.runtimeSecret,
  };
}

/** Env for the build commands: the runtime env plus a short-lived build key (as Appwrite's build adds). */
export function buildEnv(
  deps: FunctionsDeps,
  fn: FunctionRecord,
  deploymentId: string,
): Record<string, string> {
  return {
    ...runtimeEnv(deps, fn, deploymentId, fn.buildSpecification ?? fn.specification),
    APPWRITE_FUNCTION_API_KEY: deps.ctx.keys.issueDynamicKey({
      functionId: fn.$id,
      executionId: `build-${deploymentId}`,
      scopes: fn.scopes,
      ttlSeconds: 900,
    }),
  };
}
