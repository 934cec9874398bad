import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { invoke } from '../testing/fake-context.ts';
import { defineFunction, routesFor } from './define-function.ts';
import type { PathParams } from './params.ts';

const seen: unknown[] = [];
const route = routesFor<object>();
const fn = defineFunction({
  name: 'params-test',
  version: '0',
  setup: () => ({}),
  routes: [
    route({
      method: 'GET',
      path: '/things/:thingId',
      auth: 'any',
      handler: ({ params }) => {
        seen.push(params.thingId);
        return { body: { thingId: params.thingId } };
      },
    }),
    route({
      method: 'GET',
      path: '/named/:name',
      auth: 'any',
      params: z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/) }),
      handler: ({ params }) => ({ body: { name: params.name } }),
    }),
  ],
}).with({ env: {} });

describe('path parameters are validated at the edge', () => {
  it.each(['.', '..', '%2e', '%2E%2e', '%2F', 'a%2Fb', '_x', '-x', 'x'.repeat(37), '%C3%A9', 'a%20b'])(
    'GET /things/%s is a 400 naming thingId, and the handler never runs',
    async (segment) => {
      seen.length = 0;
      const out = await invoke(fn, { method: 'GET', path: `/things/${segment}` });
      expect(out.status, JSON.stringify(out.body)).toBe(400);
      expect(out.body).toMatchObject({
        ok: false,
        error: { code: 'INVALID_INPUT', issues: [{ path: 'thingId' }] },
      });
      expect(seen).toEqual([]);
    },
  );

  it('an Appwrite id passes unchanged', async () => {
    const out = await invoke(fn, { method: 'GET', path: `/things/Row.1-a_b` });
    expect(out).toMatchObject({ status: 200, body: { thingId: 'Row.1-a_b' } });
  });

  it("a route's own params schema replaces the id rule", async () => {
    const long = `b${'x'.repeat(50)}`;
    expect(await invoke(fn, { method: 'GET', path: `/named/${long}` })).toMatchObject({
      status: 200,
      body: { name: long },
    });
    const bad = await invoke(fn, { method: 'GET', path: '/named/..' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'INVALID_INPUT', issues: [{ path: 'name' }] } });
  });

  it('types params from the path literal', () => {
    const typed: PathParams<'/orgs/:orgId/jobs/:jobId/x'> = { orgId: 'a', jobId: 'b' };
    expect(Object.keys(typed)).toEqual(['orgId', 'jobId']);
    route({
      method: 'GET',
      path: '/orgs/:orgId',
      auth: 'any',
      handler: ({ params }) => {
        // @ts-expect-error — `nope` is not a parameter of the path
        const missing: string = params.nope;
        return { body: { orgId: params.orgId satisfies string, missing } };
      },
    });
  });
});
