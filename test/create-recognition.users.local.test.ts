/**
 * create-recognition as its users reach it: the real bundle deployed to appwrite-local (appwrite.json's
 * `execute: ["users"]`), executed through node-appwrite by signed-in users holding a JWT (`users.createJWT` →
 * `Client.setJWT`), so the function's caller comes from the `x-appwrite-user-id` the server sets, not from a
 * test harness. Org = an Appwrite team; memberships and roles are real.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type AppwriteLocal, deployFunction, startAppwriteLocal } from 'appwrite-local';
import { Client, Functions, TablesDB, Teams, Users } from 'node-appwrite';
import { DATABASE_ID } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { RECOGNITIONS_TABLE } from 'resilience-core/app';
import { updateQuotaSettings } from 'resilience-core/quota';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';
import { expectAppwriteError } from './appwrite-local-helpers.ts';

const root = path.resolve(import.meta.dirname, '..');
const functionDir = path.join(root, 'functions', 'create-recognition');
const ORG = 'acme';
let server: AppwriteLocal;
let admin: Client;
/** A Functions service per user, authenticated by that user's JWT (no API key). */
const as: Record<string, Functions> = {};

interface Answer {
  status: number;
  /** The synchronous answer's response headers (all of them; the stored record keeps only content-type/length). */
  headers: { name: string; value: string }[];
  executionId: string;
  body: { ok?: boolean; error?: { code: string; issues?: { path: string; message: string }[] } } & Record<
    string,
    unknown
  >;
  userSeen: string;
}

/** Executes create-recognition synchronously as `who` and parses the answer. */
async function call(who: Functions, method: 'GET' | 'POST', xpath: string, body?: unknown): Promise<Answer> {
  const execution = await who.createExecution({
    functionId: 'create-recognition',
    xpath,
    method: method as never,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  let parsed: Answer['body'];
  try {
    parsed = JSON.parse(execution.responseBody) as Answer['body'];
  } catch {
    parsed = { raw: execution.responseBody };
  }
  return {
    status: execution.responseStatusCode,
    headers: execution.responseHeaders,
    executionId: execution.$id,
    body: parsed,
    userSeen: execution.$permissions.join(','),
  };
}

beforeAll(async () => {
  if (!existsSync(path.join(functionDir, 'dist', 'main.js'))) await buildFunction(functionDir);
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'users-e2e',
    apiKey: 'users-e2e-key',
    config: path.join(root, 'appwrite.json'),
    functions: { autoTick: false },
  });
  await deployFunction({
    endpoint: server.endpoint,
    projectId: server.projectId,
    apiKey: server.apiKey,
    functionId: 'create-recognition',
    dir: functionDir,
    files: ['dist'],
  });
  // deploy-orchestrator is deployed too: Appwrite checks a function's deployment before its `execute` list
  // (Create.php), so the refusal below is only reached on a deployed function.
  const orchestratorDir = path.join(root, 'functions', 'deploy-orchestrator');
  if (!existsSync(path.join(orchestratorDir, 'dist', 'main.js'))) await buildFunction(orchestratorDir);
  await deployFunction({
    endpoint: server.endpoint,
    projectId: server.projectId,
    apiKey: server.apiKey,
    functionId: 'deploy-orchestrator',
    dir: orchestratorDir,
    files: ['dist'],
  });
  admin = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const users = new Users(admin);
  const teams = new Teams(admin);
  for (const id of ['ann', 'ben', 'out'])
    await users.create({ userId: id, email: `${id}@example.com`, name: id });
  await teams.create({ teamId: ORG, name: 'Acme' });
  await teams.createMembership({ teamId: ORG, roles: ['owner'], userId: 'ann' });
  await teams.createMembership({ teamId: ORG, roles: ['member'], userId: 'ben' });
  for (const id of ['ann', 'ben', 'out']) {
    const { jwt } = await users.createJWT({ userId: id });
    as[id] = new Functions(
      new Client().setEndpoint(server.endpoint).setProject(server.projectId).setJWT(jwt),
    );
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('create-recognition executed by signed-in users (JWT)', () => {
  it('a member recognizes another member: 201, the giver is the JWT user, and the row is stored', async () => {
    const out = await call(as.ben!, 'POST', '/recognitions', {
      orgId: ORG,
      receiverId: 'ann',
      message: 'Great launch',
      points: 5,
    });
    expect(out.status, JSON.stringify(out.body)).toBe(201);
    // The execution belongs to ben (read("user:ben")), so the server knew the caller.
    expect(out.userSeen).toBe('read("user:ben")');
    const row = out.body as unknown as { $id: string; giverId: string };
    expect(row.giverId).toBe('ben');
    const stored = await new TablesDB(admin).getRow({
      databaseId: DATABASE_ID,
      tableId: RECOGNITIONS_TABLE,
      rowId: row.$id,
    });
    expect(stored).toMatchObject({ orgId: ORG, giverId: 'ben', receiverId: 'ann', points: 5 });
  });

  it('refuses a giver named other than the JWT user (the caller cannot be spoofed through the body)', async () => {
    const out = await call(as.ben!, 'POST', '/recognitions', {
      orgId: ORG,
      giverId: 'ann',
      receiverId: 'ann',
      message: 'as someone else',
    });
    expect(out.status, JSON.stringify(out.body)).toBe(403);
    expect(out.body.error?.code).toBe('FORBIDDEN');
  });

  it('refuses an outsider (403) and a member recognizing the outsider (403)', async () => {
    const outsider = await call(as.out!, 'POST', '/recognitions', {
      orgId: ORG,
      receiverId: 'ben',
      message: 'hello',
    });
    expect(outsider.status, JSON.stringify(outsider.body)).toBe(403);
    expect(outsider.body.error?.code).toBe('FORBIDDEN');
    const toOutsider = await call(as.ann!, 'POST', '/recognitions', {
      orgId: ORG,
      receiverId: 'out',
      message: 'hello',
    });
    expect(toOutsider.status, JSON.stringify(toOutsider.body)).toBe(403);
  });

  it('answers a bad body with 400 and the field issues', async () => {
    const out = await call(as.ben!, 'POST', '/recognitions', { orgId: ORG, receiverId: 'ann', points: -3 });
    expect(out.status).toBe(400);
    expect(out.body.error?.code).toBe('INVALID_INPUT');
    const fields = (out.body.error?.issues ?? []).map((i) => i.path);
    expect(fields).toEqual(expect.arrayContaining(['message', 'points']));
  });

  it('an admin route: a plain member gets 403, the org owner 200', async () => {
    const submitted = await call(as.ben!, 'POST', `/orgs/${ORG}/quota-requests`, {
      quotaType: 'recognitions_per_day',
      amount: 50,
      durationDays: 2,
      reason: 'Awards week',
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const requestId = (submitted.body as { id: string }).id;
    const byMember = await call(as.ben!, 'POST', `/orgs/${ORG}/quota-requests/${requestId}/approve`, {});
    expect(byMember.status, JSON.stringify(byMember.body)).toBe(403);
    const byOutsider = await call(as.out!, 'POST', `/orgs/${ORG}/quota-requests/${requestId}/approve`, {});
    expect(byOutsider.status).toBe(403);
    const byOwner = await call(as.ann!, 'POST', `/orgs/${ORG}/quota-requests/${requestId}/approve`, {
      note: 'enjoy',
    });
    expect(byOwner.status, JSON.stringify(byOwner.body)).toBe(200);
    expect(byOwner.body).toMatchObject({ status: 'approved' });
  });

  it('a quota refusal tells an SDK caller when to retry in the body (the stored record drops Retry-After)', async () => {
    const store = createAppwriteTableStore({
      endpoint: server.endpoint,
      projectId: server.projectId,
      key: server.apiKey,
    });
    const teams = new Teams(admin);
    await teams.create({ teamId: 'tight', name: 'Tight' });
    for (const id of ['ann', 'ben']) await teams.createMembership({ teamId: 'tight', roles: [], userId: id });
    await updateQuotaSettings(
      store,
      { userId: null, orgId: 'tight', isAdmin: true },
      { overrides: { recognitions_per_day: 1 } },
      Date.now(),
    );
    const give = { orgId: 'tight', receiverId: 'ann', message: 'once' };
    expect((await call(as.ben!, 'POST', '/recognitions', give)).status).toBe(201);
    const refused = await call(as.ben!, 'POST', '/recognitions', give);
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    // The synchronous caller gets every header (Executions/Create.php:510-517 at 1.9.5); the stored record keeps
    // only Appwrite's allow-list (:445-450), so a caller reading the execution later (or an async one) sees none.
    expect(refused.headers.map((h) => h.name.toLowerCase())).toContain('retry-after');
    const stored = await new Functions(admin).getExecution({
      functionId: 'create-recognition',
      executionId: refused.executionId,
    });
    const storedNames = stored.responseHeaders.map((h) => h.name.toLowerCase());
    expect(storedNames).not.toContain('retry-after');
    expect(storedNames).not.toContain('ratelimit-remaining');
    const error = refused.body.error as unknown as Record<string, unknown>;
    expect(error.code).toBe('QUOTA_EXCEEDED');
    // Seconds until the org's day ends (UTC): at least 1, at most a day.
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(86_400);
    expect(error.rateLimit).toEqual({
      limit: 1,
      remaining: 0,
      resetSeconds: error.retryAfterSeconds,
    });
  });

  it('lists the org recognitions for a member and refuses the outsider', async () => {
    const list = await call(as.ann!, 'GET', `/orgs/${ORG}/recognitions`);
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).toContain('Great launch');
    expect((await call(as.out!, 'GET', `/orgs/${ORG}/recognitions`)).status).toBe(403);
  });

  it('is not executable without a user or key, and users cannot run the key-only functions', async () => {
    const guest = new Functions(new Client().setEndpoint(server.endpoint).setProject(server.projectId));
    await expectAppwriteError(
      guest.createExecution({ functionId: 'create-recognition', xpath: '/health' }),
      401,
      'user_unauthorized',
    );
    // deploy-orchestrator has `execute: []` in appwrite.json: API keys only.
    await expectAppwriteError(
      as.ann!.createExecution({ functionId: 'deploy-orchestrator', xpath: '/health' }),
      401,
      'user_unauthorized',
    );
  });
});
