/**
 * End to end: the built create-recognition and job-worker bundles (dist/main.js, loaded from outside the
 * repository the way open-runtimes loads them) against the local Appwrite server provisioned from appwrite.json,
 * with organizations as real teams. The "202 + status URL" pattern, refusals that change nothing, and the
 * job-worker cron drain, through the bundles.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Teams, Users } from 'node-appwrite';
import { listAll } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { JOB_TABLES } from 'resilience-core/jobs';
import type { FunctionHandler } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';

const root = path.resolve(import.meta.dirname, '..');
const outside = mkdtempSync(path.join(tmpdir(), 'jobs-e2e-'));
const requireOutside = createRequire(path.join(outside, 'index.js'));
let server: AppwriteLocal;
let api: FunctionHandler;
let worker: FunctionHandler;

function load(name: string): FunctionHandler {
  const dir = path.join(outside, name);
  mkdirSync(dir, { recursive: true });
  // Everything dist/ ships (job-worker loads croner.cjs from beside main.js on first use).
  for (const file of readdirSync(path.join(root, 'functions', name, 'dist')))
    copyFileSync(path.join(root, 'functions', name, 'dist', file), path.join(dir, file));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
  return requireOutside(path.join(dir, 'main.js')) as FunctionHandler;
}

beforeAll(async () => {
  await buildFunction(path.join(root, 'functions', 'create-recognition'));
  await buildFunction(path.join(root, 'functions', 'job-worker'));
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'jobs-e2e',
    apiKey: 'e2e-key',
    config: path.join(root, 'appwrite.json'),
  });
  process.env.APPWRITE_FUNCTION_API_ENDPOINT = server.endpoint;
  process.env.APPWRITE_FUNCTION_PROJECT_ID = server.projectId;
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const users = new Users(client);
  const teams = new Teams(client);
  for (const [teamId, members] of [
    [
      'acme',
      [
        ['ann', ['owner']],
        ['ben', []],
      ],
    ],
    ['globex', [['gus', ['owner']]]],
  ] as const) {
    await teams.create({ teamId, name: teamId });
    for (const [userId, roles] of members) {
      await users.create({ userId, name: userId });
      await teams.createMembership({ teamId, roles: [...roles], userId });
    }
  }
  api = load('create-recognition');
  worker = load('job-worker');
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(outside, { recursive: true, force: true });
});

const asServer = (trigger = 'http') => ({ 'x-appwrite-key': server.apiKey, 'x-appwrite-trigger': trigger });
const asUser = (userId: string) => ({ ...asServer(), 'x-appwrite-user-id': userId });
const jobRows = () =>
  listAll(
    createAppwriteTableStore({ endpoint: server.endpoint, projectId: server.projectId, key: server.apiKey }),
    JOB_TABLES.queue,
  );

describe('jobs through the bundled functions on the local server', () => {
  it('202 + status URL; other organizations, bad payloads and unknown types are refused and change nothing; the cron drain completes the job', async () => {
    const recognition = await invoke(api, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: 'acme', receiverId: 'ann', message: 'thanks for the export' },
      headers: asUser('ben'),
    });
    expect(recognition.status, JSON.stringify(recognition.body)).toBe(201);

    const queued = await invoke(api, {
      method: 'POST',
      path: '/exports',
      body: { orgId: 'acme' },
      headers: asUser('ben'),
    });
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    const { jobId, checkStatusAt } = queued.body as { jobId: string; checkStatusAt: string };
    expect(checkStatusAt).toBe(`/status/${jobId}`);
    const before = await jobRows();

    const refusals = await Promise.all([
      invoke(api, { method: 'GET', path: checkStatusAt, headers: asUser('gus') }),
      invoke(api, { method: 'POST', path: `/jobs/${jobId}/cancel`, body: {}, headers: asUser('gus') }),
      invoke(api, { method: 'GET', path: `/exports/${jobId}?orgId=globex`, headers: asUser('gus') }),
      invoke(api, {
        method: 'POST',
        path: '/exports',
        body: { orgId: 'acme', format: 'xlsx' },
        headers: asUser('ben'),
      }),
      invoke(api, { method: 'POST', path: '/exports', body: { orgId: 'acme' }, headers: asUser('gus') }),
      invoke(api, {
        method: 'POST',
        path: '/cleanups',
        body: { orgId: 'acme', daysOld: -1 },
        headers: asUser('ann'),
      }),
      invoke(worker, {
        method: 'POST',
        path: '/schedules',
        body: { orgId: 'acme', name: 'x', cron: '* * * * *', type: 'mine-bitcoin', payload: {} },
        headers: asServer(),
      }),
    ]);
    expect(refusals.map((r) => r.status)).toEqual([404, 404, 404, 400, 403, 400, 400]);
    expect(refusals[6]?.body).toMatchObject({
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/Unknown job type/) },
    });
    const after = await jobRows();
    expect(after.map((r) => [r.$id, r.status, r.version])).toEqual(
      before.map((r) => [r.$id, r.status, r.version]),
    );

    const pending = await invoke(api, { method: 'GET', path: checkStatusAt, headers: asUser('ben') });
    expect(pending.body).toMatchObject({ jobId, status: 'PENDING', attempts: 0 });

    const drained = await invoke(worker, { method: 'POST', path: '/', headers: asServer('schedule') });
    expect(drained.status, JSON.stringify(drained.body)).toBe(200);
    expect(drained.body).toMatchObject({ ok: true, drain: { completed: 1 } });

    const done = await invoke(api, { method: 'GET', path: checkStatusAt, headers: asUser('ben') });
    expect(done.body).toMatchObject({
      status: 'COMPLETED',
      attempts: 1,
      result: { rows: 1, exportId: jobId },
    });
    const file = await invoke(api, {
      method: 'GET',
      path: `/exports/${jobId}?orgId=acme`,
      headers: asUser('ann'),
    });
    expect(file.status).toBe(200);
    expect((file.body as { csv: string }).csv).toContain('thanks for the export');
    const metrics = await invoke(worker, { method: 'GET', path: '/metrics?orgId=acme', headers: asServer() });
    expect(metrics.status, JSON.stringify(metrics.body)).toBe(200);
    expect(metrics.body).toMatchObject({ due: 0, finishedInWindow: { COMPLETED: 1 }, failureRate: 0 });
  }, 60_000);
});
