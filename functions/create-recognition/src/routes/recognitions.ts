import {
  createRecognition,
  createRecognitionInputSchema,
  listRecognitions,
  listRecognitionsQuerySchema,
  prefetchRecognition,
} from 'resilience-core/app';
import { route } from '../deps.ts';

/**
 * The recognition routes: give one (201, or 200 for a repeated `requestId`, both with the quota hook's
 * `RateLimit-*` headers), and list an org's.
 */
export const recognitionRoutes = [
  route({
    method: 'POST',
    path: '/recognitions',
    auth: 'member',
    summary: 'A member recognizes another member of the org',
    body: createRecognitionInputSchema,
    // While the kit checks the caller's membership: the receiver's membership and the org's quota limits.
    prefetch: ({ rawBody, caller, deps }) =>
      prefetchRecognition(rawBody, caller, {
        store: deps.store,
        orgs: deps.orgs,
        hooks: deps.hooks,
        log: deps.setup.log,
        traceId: deps.setup.traceId,
      }),
    handler: async ({ body, caller, deps, log, traceId }) => {
      const { row, created, headers } = await createRecognition(body, caller, {
        store: deps.store,
        orgs: deps.orgs,
        hooks: deps.hooks,
        log,
        traceId,
      });
      // `headers`: what the hooks' admission adds, e.g. RateLimit-* of the tightest quota consumed.
      return { status: created ? 201 : 200, body: row, headers };
    },
  }),
  route({
    method: 'GET',
    path: '/orgs/:orgId/recognitions',
    auth: 'member',
    summary: "A page of the org's recognitions, newest first",
    query: listRecognitionsQuerySchema,
    handler: async ({ params, query, deps }) => ({
      body: await listRecognitions(params.orgId, query, deps.store),
    }),
  }),
];
