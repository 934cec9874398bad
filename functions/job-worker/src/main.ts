import { defineFunction, type RouteResult, routesFor } from 'resilience-core/runtime';
import { z } from 'zod';

/** Answer of every entry point until the owner's implementation replaces this placeholder. */
const notImplemented = (): RouteResult => ({
  status: 501,
  body: { ok: false, error: { code: 'NOT_IMPLEMENTED', message: 'job-worker is not implemented yet' } },
});

/**
 * job-worker — PLACEHOLDER: answers GET /health and 501 everywhere else (POST /, schedule and event triggers).
 * Its owner replaces this file with the real function.
 */
export default defineFunction({
  name: 'job-worker',
  version: process.env.BUILD_VERSION ?? '0.0.0-dev',
  setup: () => ({}),
  routes: [
    routesFor<object>()({
      method: 'POST',
      path: '/',
      auth: 'key',
      body: z.looseObject({}),
      handler: notImplemented,
    }),
  ],
  onSchedule: notImplemented,
  onEvent: notImplemented,
});
