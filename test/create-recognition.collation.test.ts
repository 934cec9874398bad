/**
 * Ids built from caller-supplied parts never silently share a row when the parts differ only in case or
 * accents. Appwrite on MariaDB compares `$id` under `utf8mb4_general_ci` (platform notes §F1): `Order-1` and
 * `order-1` are one row there. A recognition's row id comes from (org, giver, requestId): two requestIds that
 * differ only in case, or two server-call givers that differ only in case or accents, must give two
 * recognitions, and a repeated requestId must still give the first one back.
 *
 * Run under both comparisons: a memory store that folds ids as `utf8mb4_general_ci` does (lower case, accents
 * stripped, trailing spaces ignored) beside the plain (binary) one, and the local server started with each
 * `collation`.
 */
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import createRecognition from 'fn-create-recognition/src/main.ts';
import { Client, Teams, Users } from 'node-appwrite';
import { MemoryOrgDirectory } from 'resilience-core/adapters/memory';
import { forgetKnownAlerts } from 'resilience-core/quota';
import type { FunctionHandler } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { caseInsensitive, fold, quotaFixture } from './quota-helpers.ts';

const ORG = 'org-acme';

/** Gives recognitions through `post` and checks that ids never merge and retries stay idempotent. */
async function expectDistinctRows(
  post: (body: Record<string, unknown>, asUser: boolean) => Promise<{ status: number; body: unknown }>,
) {
  const idOf = (r: { body: unknown }) => (r.body as { $id: string }).$id;
  const give = (requestId: string, extra: Record<string, unknown> = {}) => ({
    orgId: ORG,
    receiverId: 'carol',
    message: `thanks ${requestId}`,
    requestId,
    ...extra,
  });
  const spellings = ['Order-1', 'order-1', 'ORDER-1'];
  const first = await Promise.all(spellings.map((r) => post(give(r), true)));
  expect(first.map((r) => r.status)).toEqual([201, 201, 201]);
  expect(new Set(first.map(idOf)).size).toBe(3);
  expect(new Set(first.map(idOf).map(fold)).size).toBe(3);
  // A retry of each spelling gets its own first recognition back.
  const retries = await Promise.all(spellings.map((r) => post(give(r), true)));
  expect(retries.map((r) => r.status)).toEqual([200, 200, 200]);
  expect(retries.map(idOf)).toEqual(first.map(idOf));
  // Server calls naming givers that differ only in case or accents: separate recognitions.
  const givers = ['jose', 'José', 'JOSE'];
  const byGiver = await Promise.all(givers.map((g) => post(give('import-7', { giverId: g }), false)));
  expect(byGiver.map((r) => r.status)).toEqual([201, 201, 201]);
  expect(byGiver.map((r) => (r.body as { giverId: string }).giverId)).toEqual(givers);
  expect(new Set(byGiver.map(idOf).map(fold)).size).toBe(3);
}

beforeEach(() => forgetKnownAlerts());

describe.each(['utf8mb4_general_ci', 'binary'] as const)('recognition ids under %s (memory)', (collation) => {
  it('never merge two recognitions whose requestIds or givers differ only in case or accents', async () => {
    const f = quotaFixture();
    const store = collation === 'binary' ? f.store : caseInsensitive(f.store);
    const orgs = new MemoryOrgDirectory({ [ORG]: { bob: [], carol: [], jose: [], José: [], JOSE: [] } });
    const fn = createRecognition.with({ store, orgs, clock: f.clock, env: {} });
    await expectDistinctRows((body, asUser) =>
      invoke(fn, {
        method: 'POST',
        path: '/recognitions',
        body,
        headers: asUser ? { 'x-appwrite-user-id': 'bob' } : {},
      }),
    );
  });
});

describe.each(['utf8mb4_general_ci', 'binary'] as const)(
  'recognition ids under %s (local server)',
  (collation) => {
    let server: AppwriteLocal;
    let handler: FunctionHandler;
    beforeAll(async () => {
      server = await startAppwriteLocal({
        port: 0,
        memory: true,
        projectId: 'collation',
        apiKey: 'collation-key',
        config: path.resolve(import.meta.dirname, '..', 'appwrite.json'),
        // The local server's comparison of ids (utf8mb4_general_ci by default, as Appwrite on MariaDB).
        ...({ collation } as object),
      });
      const client = new Client()
        .setEndpoint(server.endpoint)
        .setProject(server.projectId)
        .setKey(server.apiKey);
      const users = new Users(client);
      const teams = new Teams(client);
      await teams.create({ teamId: ORG, name: 'Acme' });
      for (const id of ['bob', 'carol']) {
        await users.create({ userId: id, name: id });
        await teams.createMembership({ teamId: ORG, roles: [], userId: id });
      }
      handler = createRecognition.with({
        env: {
          APPWRITE_FUNCTION_API_ENDPOINT: server.endpoint,
          APPWRITE_FUNCTION_PROJECT_ID: server.projectId,
        },
      }) as FunctionHandler;
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('never merge two recognitions whose requestIds differ only in case', async () => {
      const idOf = (r: { body: unknown }) => (r.body as { $id: string }).$id;
      const post = (requestId: string) =>
        invoke(handler, {
          method: 'POST',
          path: '/recognitions',
          body: { orgId: ORG, receiverId: 'carol', message: `thanks ${requestId}`, requestId },
          headers: {
            'x-appwrite-key': server.apiKey,
            'x-appwrite-trigger': 'http',
            'x-appwrite-user-id': 'bob',
          },
        });
      const spellings = ['Order-1', 'order-1', 'ORDER-1'];
      const first = await Promise.all(spellings.map(post));
      expect(first.map((r) => r.status)).toEqual([201, 201, 201]);
      expect(new Set(first.map(idOf).map(fold)).size).toBe(3);
      const retries = await Promise.all(spellings.map(post));
      expect(retries.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(retries.map(idOf)).toEqual(first.map(idOf));
    });
  },
);
