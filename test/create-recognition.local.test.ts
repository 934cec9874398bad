/**
 * create-recognition end to end on the local Appwrite: the built bundle (as Appwrite loads it), real Teams for
 * membership (users, a team, memberships created through node-appwrite) and the Appwrite TableStore for rows.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, TablesDB, Teams, Users } from 'node-appwrite';
import { DATABASE_ID } from 'resilience-core';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import type { FunctionHandler } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';

const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, 'functions', 'create-recognition', 'dist', 'main.js');
let server: AppwriteLocal;
let handler: FunctionHandler;
let headers: (userId?: string) => Record<string, string>;

beforeAll(async () => {
  if (!existsSync(bundle)) await buildFunction(path.dirname(path.dirname(bundle)));
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'e2e',
    apiKey: 'e2e-key',
    config: path.join(root, 'appwrite.json'),
  });
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const users = new Users(client);
  const teams = new Teams(client);
  for (const id of ['ann', 'ben', 'cat', 'out'])
    await users.create({ userId: id, email: `${id}@example.com`, name: id });
  await teams.create({ teamId: 'acme', name: 'Acme' });
  for (const id of ['ann', 'ben']) await teams.createMembership({ teamId: 'acme', roles: [], userId: id });
  await teams.create({ teamId: 'other', name: 'Other' });
  await teams.createMembership({ teamId: 'other', roles: [], userId: 'cat' });
  // A fresh copy of the bundle with this server's env, as a cold start would parse it.
  const env = {
    APPWRITE_FUNCTION_API_ENDPOINT: server.endpoint,
    APPWRITE_FUNCTION_PROJECT_ID: server.projectId,
    APPWRITE_FUNCTION_DEPLOYMENT: 'e2e-deployment',
  };
  handler = (createRequire(import.meta.url)(bundle) as FunctionHandler).with({ env });
  headers = (userId) => ({
    'x-appwrite-key': server.apiKey,
    'x-appwrite-trigger': 'http',
    'x-appwrite-execution-id': 'exec-1',
    ...(userId ? { 'x-appwrite-user-id': userId } : {}),
  });
});
afterAll(async () => {
  await server?.stop();
});

describe('create-recognition on appwrite-local', () => {
  it('stores a recognition between two members of a team: 201, and the row is in TablesDB', async () => {
    const out = await invoke(handler, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'ben', message: 'Shipped it', points: 10, tags: ['launch'] },
      headers: headers('ann'),
    });
    expect(out.status, JSON.stringify(out.body)).toBe(201);
    const row = out.body as { $id: string; $sequence: number };
    expect(typeof row.$sequence).toBe('number');
    const client = new Client()
      .setEndpoint(server.endpoint)
      .setProject(server.projectId)
      .setKey(server.apiKey);
    const stored = await new TablesDB(client).getRow({
      databaseId: DATABASE_ID,
      tableId: RECOGNITIONS_TABLE,
      rowId: row.$id,
    });
    expect(stored).toMatchObject({ giverId: 'ann', receiverId: 'ben', points: 10, tags: ['launch'] });
  });

  it('refuses a caller outside the team (403) and a receiver outside it (403)', async () => {
    const outsider = await invoke(handler, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'ben', message: 'hi' },
      headers: headers('cat'),
    });
    expect(outsider.status).toBe(403);
    const toOutsider = await invoke(handler, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'cat', message: 'hi' },
      headers: headers('ann'),
    });
    expect(toOutsider.status).toBe(403);
  });

  it('lists the team recognitions for a member', async () => {
    const out = await invoke(handler, { path: '/orgs/acme/recognitions', headers: headers('ben') });
    expect(out.status).toBe(200);
    expect((out.body as { rows: { message: string }[] }).rows.map((r) => r.message)).toContain('Shipped it');
  });

  it('reports healthy with the deployment id', async () => {
    const out = await invoke(handler, { path: '/health', headers: headers() });
    expect(out.body).toMatchObject({
      name: 'create-recognition',
      deploymentId: 'e2e-deployment',
      status: 'ok',
    });
  });
});
