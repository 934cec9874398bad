import { errors } from 'resilience-core';
import type { CodeBundle, RolloutOrchestrator, RolloutView } from 'resilience-core/deployment';
import type { HistoryQuery, ResumeBody, RollbackBody, StartBody } from './schema.ts';

/**
 * The deploy-orchestrator's handlers: plain `(input, deps) → { status, body }`, no Appwrite types. A rollout
 * runs inside the execution for at most `maxRunMs`; when it ends sooner the answer is 200 with the final
 * state, otherwise 202 with the state so far (it is resumable: call `POST /rollouts/resume`).
 */

/** What the handlers need. */
export interface OrchestratorDeps {
  orchestrator: RolloutOrchestrator;
  /** Upper bound of one execution's run (ms), below the function's timeout. */
  maxRunMs: number;
  /** This function's own id (`APPWRITE_FUNCTION_ID`): it never rolls itself out. Default `deploy-orchestrator`. */
  selfId?: string;
}

/**
 * The orchestrator does not start or resume a rollout of itself: the run would switch the deployment it is
 * running on, and a broken green could then neither finish the watch nor roll itself back. deploy-orchestrator
 * is deployed directly (`npm run deploy`), or rolled out from outside with `npm run rollout`.
 */
function refuseSelf(functionId: string, deps: OrchestratorDeps): void {
  const self = deps.selfId ?? 'deploy-orchestrator';
  if (functionId === self) {
    throw errors.invalidInput(
      `${self} does not roll itself out: deploy it with \`npm run deploy -- --function ${self}\` or drive the rollout from outside ` +
        `with \`npm run rollout -- start ${self} --skip-health-check\``,
      [{ path: 'functionId', message: 'is the orchestrator itself' }],
    );
  }
}

/** A handler's answer. */
export interface HandlerResult {
  status: number;
  body: unknown;
}

/**
 * `POST /rollouts`: start a rollout. A function whose SLO error budget is exhausted is refused (409 CONFLICT)
 * unless `forceSlo` (recorded in the rollout's first history entry).
 */
export async function startRollout(body: StartBody, deps: OrchestratorDeps): Promise<HandlerResult> {
  refuseSelf(body.functionId, deps);
  const { maxRunMs, code, forceSlo, ...rest } = body;
  const view = await deps.orchestrator.start(
    { ...rest, ...(code ? { code: decodeCode(code) } : {}) },
    { maxRunMs: budget(maxRunMs, deps), forceSlo: forceSlo === true },
  );
  return answer(view);
}

/** `POST /rollouts/resume`: continue the function's unfinished rollout. */
export async function resumeRollout(body: ResumeBody, deps: OrchestratorDeps): Promise<HandlerResult> {
  refuseSelf(body.functionId, deps);
  const view = await deps.orchestrator.resume(body.functionId, {
    maxRunMs: budget(body.maxRunMs, deps),
    ...(body.code ? { code: decodeCode(body.code) } : {}),
  });
  return answer(view);
}

/** `POST /rollouts/rollback`: manual rollback (or abort) of the function's latest rollout. */
export async function rollbackRollout(body: RollbackBody, deps: OrchestratorDeps): Promise<HandlerResult> {
  const { outcome, rollout } = await deps.orchestrator.requestRollback(body.functionId, body.reason, {
    maxRunMs: budget(body.maxRunMs, deps),
  });
  return {
    status: outcome === 'requested' || !rollout.done ? 202 : 200,
    body: { ok: true, outcome, rollout },
  };
}

/** `GET /rollouts/:rolloutId`: one rollout with its events. */
export async function getRollout(rolloutId: string, deps: OrchestratorDeps): Promise<HandlerResult> {
  const rollout = await deps.orchestrator.get(rolloutId);
  const events = await deps.orchestrator.events(rolloutId);
  return { status: 200, body: { ok: true, rollout, events } };
}

/** `GET /functions/:functionId/rollouts`: a function's history, newest first. */
export async function listRollouts(
  functionId: string,
  query: HistoryQuery,
  deps: OrchestratorDeps,
): Promise<HandlerResult> {
  const page = await deps.orchestrator.history(functionId, query);
  return { status: 200, body: { ok: true, ...page } };
}

/** `GET /functions/:functionId/rollouts/current`: the latest rollout (or 404). */
export async function currentRollout(functionId: string, deps: OrchestratorDeps): Promise<HandlerResult> {
  const rollout = await deps.orchestrator.current(functionId);
  if (!rollout) {
    return {
      status: 404,
      body: { ok: false, error: { code: 'NOT_FOUND', message: `no rollout of ${functionId}` } },
    };
  }
  return { status: 200, body: { ok: true, rollout } };
}

function answer(view: RolloutView): HandlerResult {
  return { status: view.done ? 200 : 202, body: { ok: true, success: view.success, rollout: view } };
}

function budget(requested: number | undefined, deps: OrchestratorDeps): number {
  return Math.min(requested ?? deps.maxRunMs, deps.maxRunMs);
}

function decodeCode(code: NonNullable<StartBody['code']>): CodeBundle {
  return {
    archive: new Uint8Array(Buffer.from(code.archiveBase64, 'base64')),
    entrypoint: code.entrypoint,
    ...(code.commands !== undefined ? { commands: code.commands } : {}),
  };
}
