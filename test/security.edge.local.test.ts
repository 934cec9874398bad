/**
 * Security review of the edge (issue 11.3 and 11.4), on appwrite-local with the functions' own source over the
 * Appwrite adapters (the path production takes):
 * - ids that are path segments: `GET /rollouts/.` used to reach `…/rows/.` (a list) and answer 500; every
 *   path parameter that is not an Appwrite id is now a 400 naming it, and no request leaves for Appwrite;
 * - cursors: `GET /orgs/A/recognitions?cursor=<B's row id>` used to answer 200 positioned after B's row (and
 *   400 for an unknown id), an existence oracle across orgs; cursors are now opaque and bound to the org's own
 *   list, and every bad one gets the same 400 with a `cursor` field issue.
 */
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Teams, Users } from 'node-appwrite';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import { sealCursor } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import recognition from '../functions/create-recognition/src/main.ts';
import orchestrator from '../functions/deploy-orchestrator/src/main.ts';

const root = path.resolve(import.meta.dirname, '..');
let server: AppwriteLocal;
let recognitions: typeof recognition;
let deploy: typeof orchestrator;
let requestsSeen = 0;
const headers = (userId?: string) => ({
  'x-appwrite-key': server.apiKey,
  'x-appwrite-trigger': 'http',
  ...(userId ? { 'x-appwrite-user-id': userId } : {}),
});

beforeAll(async () => {
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'edge',
    apiKey: 'edge-key',
    config: path.join(root, 'appwrite.json'),
    trace: () => {
      requestsSeen++;
    },
  });
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const users = new Users(client);
  const teams = new Teams(client);
  for (const id of ['ann', 'ben', 'cat', 'dan']) {
    await users.create({ userId: id, email: `${id}@example.com`, name: id });
  }
  await teams.create({ teamId: 'orga', name: 'A' });
  await teams.create({ teamId: 'orgb', name: 'B' });
  for (const id of ['ann', 'ben']) await teams.createMembership({ teamId: 'orga', roles: [], userId: id });
  for (const id of ['cat', 'dan']) await teams.createMembership({ teamId: 'orgb', roles: [], userId: id });
  const env = {
    APPWRITE_FUNCTION_API_ENDPOINT: server.endpoint,
    APPWRITE_FUNCTION_PROJECT_ID: server.projectId,
    APPWRITE_FUNCTION_DEPLOYMENT: 'edge-deployment',
  };
  recognitions = recognition.with({ env });
  deploy = orchestrator.with({ env });
});
afterAll(async () => {
  await server?.stop();
});

async function give(orgId: string, from: string, to: string, message: string): Promise<string> {
  const out = await invoke(recognitions, {
    method: 'POST',
    path: '/recognitions',
    body: { orgId, receiverId: to, message },
    headers: headers(from),
  });
  expect(out.status, JSON.stringify(out.body)).toBe(201);
  return (out.body as { $id: string }).$id;
}

describe('ids that are path segments never address another endpoint', () => {
  const hostile = ['.', '..', '%2e%2e', '%2F', '..%2F..', '_x', 'x'.repeat(37)];

  it.each(hostile)('GET /rollouts/%s is a 400 naming rolloutId (was 500)', async (segment) => {
    const out = await invoke(deploy, { method: 'GET', path: `/rollouts/${segment}`, headers: headers() });
    expect(out.status, JSON.stringify(out.body)).toBe(400);
    expect(out.body).toMatchObject({ error: { code: 'INVALID_INPUT', issues: [{ path: 'rolloutId' }] } });
  });

  it.each([
    ['deploy', 'GET', '/functions/..', '/rollouts'],
    ['deploy', 'GET', '/functions/.', '/rollouts/current'],
    ['recognitions', 'GET', '/status/..', ''],
    ['recognitions', 'GET', '/exports/.', ''],
    ['recognitions', 'POST', '/jobs/..', '/cancel'],
    ['recognitions', 'GET', '/orgs/..', '/recognitions'],
    ['recognitions', 'GET', '/orgs/orga/quota-requests/..', ''],
  ])('%s %s %s…%s is a 400 before any Appwrite request', async (which, method, head, tail) => {
    const before = requestsSeen;
    const out = await invoke(which === 'deploy' ? deploy : recognitions, {
      method,
      path: `${head}${tail}`,
      headers: headers(),
      ...(method === 'POST' ? { body: {} } : {}),
    });
    expect(out.status, JSON.stringify(out.body)).toBe(400);
    expect((out.body as { error: { issues: unknown[] } }).error.issues.length).toBeGreaterThan(0);
    expect(requestsSeen - before).toBe(0);
  });
});

describe('cursors are opaque and bound to the org', () => {
  let foreignRow: string;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) await give('orga', 'ann', 'ben', `a${i}`);
    foreignRow = await give('orgb', 'cat', 'dan', 'b-secret');
  });

  it('pages an org with opaque cursors, each row once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const out = await invoke(recognitions, {
        path: `/orgs/orga/recognitions?limit=1${q}`,
        headers: headers('ann'),
      });
      expect(out.status, JSON.stringify(out.body)).toBe(200);
      const body = out.body as { rows: { $id: string; orgId: string }[]; nextCursor: string | null };
      for (const r of body.rows) {
        expect(r.orgId).toBe('orga');
        seen.push(r.$id);
      }
      if (body.nextCursor) expect(body.nextCursor).not.toContain(body.rows[0]!.$id);
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);
  });

  it("a member of A cannot learn whether a row of B exists: B's row and an unknown row answer alike", async () => {
    const ask = async (cursor: string) => {
      const out = await invoke(recognitions, {
        path: `/orgs/orga/recognitions?cursor=${encodeURIComponent(cursor)}`,
        headers: headers('ann'),
      });
      return { status: out.status, body: out.body as { error?: { issues?: { path: string }[] } } };
    };
    const answers = [
      await ask(foreignRow),
      await ask('nonexistent0row'),
      await ask(sealCursor(foreignRow, { table: RECOGNITIONS_TABLE })!),
      await ask(sealCursor('nonexistent0row', { table: RECOGNITIONS_TABLE })!),
      await ask('../../x'),
    ];
    for (const a of answers) {
      expect(a.status).toBe(400);
      expect(a.body.error?.issues?.[0]?.path).toBe('cursor');
    }
    // Identical bodies apart from the trace id: no oracle.
    const strip = (b: unknown) => JSON.stringify({ ...(b as object), traceId: undefined });
    expect(new Set(answers.slice(0, 4).map((a) => strip(a.body))).size).toBe(1);
  });
});
