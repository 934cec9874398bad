import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import { webhookVariablesSchema } from 'resilience-core/notify';
import { defineFunction } from 'resilience-core/runtime';
import { hooksFor } from './hooks.ts';
import { circuitBreakerRoutes } from './routes/circuit-breakers.ts';
import { jobRoutes } from './routes/jobs.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { quotaRoutes } from './routes/quota.ts';
import { recognitionRoutes } from './routes/recognitions.ts';

/**
 * create-recognition: the app's HTTP API (execute: users). Other services add their routes as
 * `./routes/<service>.ts` and spread them below (one import line, one spread line each).
 */
export default defineFunction({
  name: 'create-recognition',
  version: process.env.BUILD_VERSION ?? '0.0.0-dev',
  // The Slack/Teams webhook variables its notifications read.
  env: webhookVariablesSchema,
  setup: (ctx) => ({
    store: ctx.store(),
    orgs: ctx.orgs(),
    clock: ctx.clock,
    hooks: hooksFor(ctx),
    setup: ctx,
  }),
  routes: [...recognitionRoutes, ...quotaRoutes, ...jobRoutes, ...circuitBreakerRoutes, ...metricsRoutes],
  health: {
    recognitions: (deps) => deps.store.list(RECOGNITIONS_TABLE, { limit: 1, select: ['orgId'] }),
  },
});
