/**
 * End to end: the create-recognition and quota-reset bundles (built with the project's esbuild config, loaded
 * with require() from outside the repository the way open-runtimes loads them) against the local Appwrite server
 * provisioned from appwrite.json, with the organization as a real team. Proves the quota wiring survives bundling: atomic admission under
 * concurrency, 429 with headers, usage report, increase workflow, and the reset job.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { build } from 'esbuild';
import { Client, Teams, Users } from 'node-appwrite';
import type { FunctionHandler } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { esbuildOptions } from '../scripts/build-function.mjs';

const root = path.resolve(import.meta.dirname, '..');
const outside = mkdtempSync(path.join(tmpdir(), 'quota-e2e-'));
const requireOutside = createRequire(path.join(outside, 'index.js'));
const ORG = 'org-e2e';
let server: AppwriteLocal;
let api: FunctionHandler;
let reset: FunctionHandler;

/**
 * Bundles a function with the project's one esbuild config into its own folder outside the repository (not
 * into functions/<name>/dist, which other test files read concurrently) and loads it with require().
 */
async function load(name: string): Promise<FunctionHandler> {
  const dir = path.join(outside, name);
  mkdirSync(dir, { recursive: true });
  const outfile = path.join(dir, 'main.js');
  await build(esbuildOptions({ entry: path.join(root, 'functions', name, 'src', 'main.ts'), outfile }));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
  return requireOutside(outfile) as FunctionHandler;
}

beforeAll(async () => {
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'quota-e2e',
    apiKey: 'e2e-key',
    config: path.join(root, 'appwrite.json'),
  });
  process.env.APPWRITE_FUNCTION_API_ENDPOINT = server.endpoint;
  process.env.APPWRITE_FUNCTION_PROJECT_ID = server.projectId;
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const users = new Users(client);
  const teams = new Teams(client);
  await teams.create({ teamId: ORG, name: 'E2E Org' });
  for (const [userId, roles] of [
    ['ann', ['owner']],
    ['ben', []],
    ['cat', []],
  ] as const) {
    await users.create({ userId, name: userId });
    await teams.createMembership({ teamId: ORG, roles: [...roles], userId });
  }
  api = await load('create-recognition');
  reset = await load('quota-reset');
});

afterAll(async () => {
  await server?.stop();
  rmSync(outside, { recursive: true, force: true });
});

const asServer = () => ({ 'x-appwrite-key': server.apiKey, 'x-appwrite-trigger': 'http' });
const asUser = (userId: string) => ({ ...asServer(), 'x-appwrite-user-id': userId });

describe('quotas through the bundled functions on the local server', () => {
  it('admits exactly the limit of concurrent recognitions and answers the rest 429 with headers', async () => {
    const settings = await invoke(api, {
      method: 'PUT',
      path: `/orgs/${ORG}/quota-settings`,
      body: { overrides: { recognitions_per_day: 4 } },
      headers: asServer(),
    });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        invoke(api, {
          method: 'POST',
          path: '/recognitions',
          body: { orgId: ORG, receiverId: 'cat', message: `thanks #${i}`, points: 10 },
          headers: asUser('ben'),
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(
      statuses.filter((s) => s === 201),
      JSON.stringify(results.map((r) => r.body)),
    ).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(8);
    // Successes carry the RateLimit headers of the tightest quota consumed (recognitions_per_day here).
    for (const ok of results.filter((r) => r.status === 201)) {
      expect(ok.headers['RateLimit-Limit']).toBe('4');
      expect(Number(ok.headers['RateLimit-Remaining'])).toBeLessThan(4);
      expect(Number(ok.headers['RateLimit-Reset'])).toBeGreaterThan(0);
    }
    const refused = results.find((r) => r.status === 429)!;
    expect(refused.headers).toMatchObject({ 'RateLimit-Limit': '4', 'RateLimit-Remaining': '0' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({
      error: { code: 'QUOTA_EXCEEDED', details: { quotaType: 'recognitions_per_day' } },
    });

    const report = await invoke(api, { method: 'GET', path: `/orgs/${ORG}/quotas`, headers: asUser('ben') });
    expect(report.status).toBe(200);
    const used = Object.fromEntries(
      (report.body as { quotas: { quotaType: string; current: { used: number } }[] }).quotas.map((q) => [
        q.quotaType,
        q.current.used,
      ]),
    );
    // Product quotas moved all-or-nothing with the 4 admitted; every one of the 12 calls was an API call.
    expect(used).toMatchObject({
      recognitions_per_day: 4,
      api_calls_per_hour: 12,
      reward_points_per_month: 40,
    });
  });

  it('runs the increase workflow: member submits, a non-admin cannot approve, the owner can', async () => {
    const submitted = await invoke(api, {
      method: 'POST',
      path: `/orgs/${ORG}/quota-requests`,
      body: { quotaType: 'recognitions_per_day', amount: 6, durationDays: 2, reason: 'Awards week' },
      headers: asUser('ben'),
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const id = (submitted.body as { id: string }).id;
    const byMember = await invoke(api, {
      method: 'POST',
      path: `/orgs/${ORG}/quota-requests/${id}/approve`,
      body: {},
      headers: asUser('ben'),
    });
    expect(byMember.status).toBe(403);
    const outsider = await invoke(api, {
      method: 'GET',
      path: `/orgs/${ORG}/quotas`,
      headers: asUser('zed'),
    });
    expect(outsider.status).toBe(403);
    const byOwner = await invoke(api, {
      method: 'POST',
      path: `/orgs/${ORG}/quota-requests/${id}/approve`,
      body: { note: 'enjoy' },
      headers: asUser('ann'),
    });
    expect(byOwner.status, JSON.stringify(byOwner.body)).toBe(200);
    const more = await invoke(api, {
      method: 'POST',
      path: '/recognitions',
      body: { orgId: ORG, receiverId: 'ben', message: 'after the increase' },
      headers: asUser('cat'),
    });
    expect(more.status).toBe(201);
    expect(more.body).toMatchObject({ orgId: ORG, giverId: 'cat' });
  });

  it('the quota-reset bundle runs on its cron trigger and twice changes nothing', async () => {
    const first = await invoke(reset, {
      method: 'POST',
      path: '/',
      headers: { ...asServer(), 'x-appwrite-trigger': 'schedule' },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const second = await invoke(reset, {
      method: 'POST',
      path: '/',
      headers: { ...asServer(), 'x-appwrite-trigger': 'schedule' },
    });
    expect(second.body).toMatchObject({
      ok: true,
      report: { windowsClosed: 0, reservationsReleased: 0, summariesSent: 0, historyPruned: 0 },
      retention: { incomplete: false, breakerRowsDeleted: 0, exportRowsDeleted: 0, jobsDeleted: 0 },
    });
  });
});
