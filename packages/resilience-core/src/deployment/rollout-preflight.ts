import { errors } from '../errors.ts';
import type { FunctionInfo, FunctionsPlatform } from '../ports/functions-platform.ts';
import { parseStartInput } from './rollout-input.ts';
import type { RolloutPolicy } from './rollout-policy.ts';

/**
 * The checks `RolloutOrchestrator.start` makes before it writes anything: the input and its policy, the
 * function, its standby twin (exists, and is safe: {@link twinProblems}), and a named deployment (exists, is not
 * failed/canceled, is not already active, its code can reach the twin). Every refusal is `INVALID_INPUT` (with
 * field issues) or `NOT_FOUND`. A gate that refuses a rollout on other grounds (e.g. an SLO budget) belongs
 * beside these checks.
 */

/** What {@link preflightStart} needs from the orchestrator. */
export interface PreflightDeps {
  platform: FunctionsPlatform;
  /** The orchestrator's platform call (retries `RETRYABLE`). */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  standbyIdOf: (functionId: string) => string;
}

/** A start request that passed every check. */
export interface Preflight {
  input: ReturnType<typeof parseStartInput>;
  policy: RolloutPolicy;
  /** The policy as stored with the rollout. */
  policyJson: string;
  fn: FunctionInfo;
  /** The twin validation runs on, or null when the health check is skipped. */
  standbyId: string | null;
  /** The entrypoint of a named existing deployment (the twin's copy is built with it). */
  existingEntrypoint: string | null;
}

/** Validates a start request against the input schema and the platform; writes nothing. */
export async function preflightStart(deps: PreflightDeps, raw: unknown): Promise<Preflight> {
  const input = parseStartInput(raw);
  const policy = input.parsedPolicy;
  const policyJson = JSON.stringify(policy);
  if (policyJson.length > 20_000) {
    throw errors.invalidInput('rollout policy too large', [
      { path: 'policy', message: 'at most 20000 characters as JSON' },
    ]);
  }
  const fn = await deps.call(() => deps.platform.getFunction(input.functionId));
  if (!fn)
    throw errors.notFound(`function ${input.functionId} does not exist`, { functionId: input.functionId });
  const standbyId = input.skipHealthCheck
    ? null
    : (input.standbyFunctionId ?? deps.standbyIdOf(input.functionId));
  if (standbyId !== null) {
    if (standbyId === input.functionId) {
      throw errors.invalidInput('the standby twin must be another function', [
        { path: 'standbyFunctionId', message: 'equals functionId' },
      ]);
    }
    const twin = await deps.call(() => deps.platform.getFunction(standbyId));
    if (!twin) {
      throw errors.notFound(
        `standby twin ${standbyId} does not exist: declare it in appwrite.json (same code, no events, no ` +
          'schedule, execute []) or pass skipHealthCheck',
        { standbyFunctionId: standbyId },
      );
    }
    const unsafe = twinProblems(twin);
    if (unsafe.length) {
      throw errors.invalidInput(
        `standby twin ${standbyId} is not a safe twin: ${unsafe.join('; ')}. A twin runs unvalidated code ` +
          'on live data: declare it with no schedule, no events and execute [] (API keys only)',
        unsafe.map((message) => ({ path: 'standbyFunctionId', message })),
      );
    }
  }
  let existingEntrypoint: string | null = null;
  if (input.deploymentId !== undefined) {
    const dep = await deps.call(() => deps.platform.getDeployment(input.functionId, input.deploymentId!));
    if (!dep) throw errors.notFound(`deployment ${input.deploymentId} of ${input.functionId} does not exist`);
    if (dep.status === 'failed' || dep.status === 'canceled') {
      throw errors.invalidInput(`deployment ${dep.id} cannot be rolled out: its build is ${dep.status}`, [
        { path: 'deploymentId', message: `build ${dep.status}` },
      ]);
    }
    existingEntrypoint = dep.entrypoint || null;
    if (dep.id === fn.activeDeploymentId) {
      throw errors.invalidInput(`deployment ${dep.id} is already active on ${fn.id}`, [
        { path: 'deploymentId', message: 'already active' },
      ]);
    }
    if (!input.code && standbyId !== null && !deps.platform.downloadDeployment) {
      throw errors.invalidInput('validating an existing deployment on the twin needs its code', [
        {
          path: 'code',
          message: 'required unless skipHealthCheck (this platform cannot download deployments)',
        },
      ]);
    }
  }
  return { input, policy, policyJson, fn, standbyId, existingEntrypoint };
}

/**
 * Why a function is not a safe standby twin: a twin runs the new, unvalidated code against live data, so it
 * must never tick a schedule or react to events (a cron/event function's twin would process the same jobs and
 * windows a second time) and users must not reach it. Fields the platform does not report are not checked.
 */
export function twinProblems(twin: FunctionInfo): string[] {
  const problems: string[] = [];
  if (twin.schedule) problems.push(`it has the schedule "${twin.schedule}"`);
  if (twin.events?.length) problems.push(`it reacts to events (${twin.events.join(', ')})`);
  if (twin.execute.length) problems.push(`users can execute it (${twin.execute.join(', ')})`);
  return problems;
}
