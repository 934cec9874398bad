import { lazySchema, type TableStore } from 'resilience-core';
import {
  appwriteExecutionCounter,
  createAppwriteClient,
  createAppwriteFunctionsPlatform,
} from 'resilience-core/adapters/appwrite';
import { createSloGate, ROLLOUTS_TABLE, RolloutOrchestrator } from 'resilience-core/deployment';
import {
  defineFunction,
  openCursor,
  requireConnection,
  routesFor,
  sealCursor,
} from 'resilience-core/runtime';
import { FUNCTION_SLOS } from 'resilience-core/slo';
import { z } from 'zod';
import {
  currentRollout,
  getRollout,
  listRollouts,
  type OrchestratorDeps,
  resumeRollout,
  rollbackRollout,
  startRollout,
} from './handler.ts';
import { historyQuerySchema, resumeBodySchema, rollbackBodySchema, startBodySchema } from './schema.ts';

/** `store`: for opening the history's opaque cursors (resilience-core ports/cursor.ts). */
const route = routesFor<OrchestratorDeps & { store: TableStore }>();

/**
 * deploy-orchestrator: blue-green rollouts of the project's functions, executed by hand (console, API key) or
 * by the deploy pipeline. Every route is `auth: 'key'` (server calls only) and the function's `execute` is
 * `[]`, so users cannot reach it. Long rollouts: execute with `async: true` (up to the function timeout); a
 * run that reaches `DEPLOY_MAX_RUN_MS` answers 202 and `POST /rollouts/resume` continues it.
 */
export default defineFunction({
  name: 'deploy-orchestrator',
  version: process.env.BUILD_VERSION ?? '0.0.0-dev',
  env: lazySchema(() =>
    z.object({
      /** Longest run of one execution, ms. Default 25 s (fits a synchronous execution's 30 s limit). */
      DEPLOY_MAX_RUN_MS: z.coerce.number().int().min(1_000).max(900_000).default(25_000),
      /** Events an SLO window needs before an exhausted budget refuses a rollout. Default per SLO (slo-gate.ts). */
      DEPLOY_SLO_MIN_EVENTS: z.preprocess(
        (v) => (v === '' ? undefined : v),
        z.coerce.number().int().min(0).optional(),
      ),
    }),
  ),
  setup: (ctx) => {
    const client = createAppwriteClient(requireConnection(ctx, 'The Functions platform'));
    return {
      store: ctx.store(),
      orchestrator: new RolloutOrchestrator({
        store: ctx.store(),
        platform: createAppwriteFunctionsPlatform({ client }),
        clock: ctx.clock,
        owner: `exec-${ctx.traceId}`.slice(0, 64),
        onEvent: (e) =>
          ctx.log.info('rollout', { rolloutId: e.rolloutId, status: e.status, message: e.message }),
        // Refuses a rollout whose function's error budget is spent (unless `forceSlo`); fails a fast-burning watch.
        sloGate: createSloGate({
          slos: FUNCTION_SLOS,
          counter: appwriteExecutionCounter(client),
          clock: ctx.clock,
          ...(ctx.env.DEPLOY_SLO_MIN_EVENTS !== undefined
            ? { minEvents: ctx.env.DEPLOY_SLO_MIN_EVENTS }
            : {}),
        }),
      }),
      maxRunMs: ctx.env.DEPLOY_MAX_RUN_MS,
      selfId: ctx.env.APPWRITE_FUNCTION_ID || 'deploy-orchestrator',
    };
  },
  routes: [
    route({
      method: 'POST',
      path: '/rollouts',
      auth: 'key',
      body: startBodySchema,
      summary: 'start a blue-green rollout',
      handler: ({ body, deps }) => startRollout(body, deps),
    }),
    route({
      method: 'POST',
      path: '/rollouts/resume',
      auth: 'key',
      body: resumeBodySchema,
      summary: "continue a function's unfinished rollout",
      handler: ({ body, deps }) => resumeRollout(body, deps),
    }),
    route({
      method: 'POST',
      path: '/rollouts/rollback',
      auth: 'key',
      body: rollbackBodySchema,
      summary: "roll back (or abort) a function's latest rollout",
      handler: ({ body, deps }) => rollbackRollout(body, deps),
    }),
    route({
      method: 'GET',
      path: '/rollouts/:rolloutId',
      auth: 'key',
      summary: 'a rollout and its events',
      handler: ({ params, deps }) => getRollout(params.rolloutId, deps),
    }),
    route({
      method: 'GET',
      path: '/functions/:functionId/rollouts',
      auth: 'key',
      query: historyQuerySchema,
      summary: "a function's rollouts, newest first",
      handler: async ({ params, query, deps }) => {
        // The history's cursors are opaque and bound to this function's rollouts.
        const scope = { table: ROLLOUTS_TABLE, match: { functionId: params.functionId } };
        const cursor = await openCursor(deps.store, query.cursor, scope);
        const out = await listRollouts(params.functionId, { ...query, cursor }, deps);
        const body = out.body as { nextCursor?: string | null };
        if (body.nextCursor !== undefined) body.nextCursor = sealCursor(body.nextCursor, scope);
        return out;
      },
    }),
    route({
      method: 'GET',
      path: '/functions/:functionId/rollouts/current',
      auth: 'key',
      summary: "a function's latest rollout",
      handler: ({ params, deps }) => currentRollout(params.functionId, deps),
    }),
  ],
  health: {
    // Reads the rollouts table (one indexed list): proves the store and the table are reachable.
    rollouts: (deps) => deps.orchestrator.history('health', { limit: 1 }),
  },
});
