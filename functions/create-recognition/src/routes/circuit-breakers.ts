import { lazySchema } from 'resilience-core';
import {
  breakerNameSchema,
  CIRCUIT_BREAKERS_TABLE,
  storedBreakerFromRow,
} from 'resilience-core/circuit-breaker';
import { processCircuitBreakers } from 'resilience-core/notify';
import { cursorSchema, invalidInput, sealedPage } from 'resilience-core/runtime';
import { z } from 'zod';
import { route } from '../deps.ts';

/**
 * Operator routes for circuit breakers (API key only).
 *
 * | route | what |
 * |---|---|
 * | `GET /circuit-breakers[?cursor=]` | every stored breaker (state as callers see it now, HALF_OPEN derived), plus this process's counters |
 * | `POST /circuit-breakers/:name/isolate` | `{ scope?, reason? }`: force open for every execution until reset |
 * | `POST /circuit-breakers/:name/reset` | `{ scope? }`: close for every execution, forgiving past re-openings |
 *
 * `scope` is the organization id of a per-organization breaker. Bad names or bodies are 400 and change nothing.
 */

const scope = lazySchema(() => z.string().min(1).max(64).optional());
const isolateBody = lazySchema(() =>
  z.object({ scope, reason: z.string().min(1).max(200).optional() }).strict(),
);
const resetBody = lazySchema(() => z.object({ scope }).strict());
/** Breaker names may be longer than an Appwrite id (up to 64): the kit checks them with this schema. */
const nameParams = lazySchema(() => z.object({ name: breakerNameSchema }));
const listQuery = lazySchema(() => z.object({ cursor: cursorSchema.optional() }).strict());

/** The `:name` path parameter, or a 400. */
function breakerName(params: Record<string, string>): string {
  const parsed = breakerNameSchema.safeParse(params.name);
  if (!parsed.success) throw invalidInput('path', parsed.error);
  return parsed.data;
}

export const circuitBreakerRoutes = [
  route({
    method: 'GET',
    path: '/circuit-breakers',
    auth: 'key',
    summary: 'Stored breaker states and this execution process counters',
    query: listQuery,
    handler: async ({ query, deps, clock }) => {
      const page = await sealedPage(
        deps.store,
        query.cursor,
        { table: CIRCUIT_BREAKERS_TABLE, match: {} },
        (cursor) =>
          deps.store.list(CIRCUIT_BREAKERS_TABLE, {
            orderBy: [{ field: 'name', direction: 'asc' }],
            limit: 100,
            ...(cursor ? { cursor } : {}),
          }),
      );
      const now = clock.now();
      const breakers = page.rows.map((r) => {
        const b = storedBreakerFromRow(r, now);
        return {
          ...b,
          changedAt: new Date(b.changedAt).toISOString(),
          openUntil: b.openUntil === null ? null : new Date(b.openUntil).toISOString(),
        };
      });
      return {
        body: {
          breakers,
          nextCursor: page.nextCursor,
          process: processCircuitBreakers(deps.setup).snapshot(),
        },
      };
    },
  }),
  route({
    method: 'POST',
    path: '/circuit-breakers/:name/isolate',
    auth: 'key',
    params: nameParams,
    summary: 'Force a breaker open for every execution',
    body: isolateBody,
    handler: async ({ params, body, deps }) => {
      const name = breakerName(params);
      const breaker = processCircuitBreakers(deps.setup).get(name, body.scope ?? null);
      await breaker.isolate(body.reason);
      return { body: breaker.snapshot() };
    },
  }),
  route({
    method: 'POST',
    path: '/circuit-breakers/:name/reset',
    auth: 'key',
    params: nameParams,
    summary: 'Close a breaker for every execution',
    body: resetBody,
    handler: async ({ params, body, deps }) => {
      const name = breakerName(params);
      const breaker = processCircuitBreakers(deps.setup).get(name, body.scope ?? null);
      await breaker.reset();
      return { body: breaker.snapshot() };
    },
  }),
];
