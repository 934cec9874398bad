/**
 * Round trips of `POST /recognitions`: every Appwrite request one recognition costs, counted at the local
 * server (its `trace` hook sees each HTTP request the real adapters send) and broken down by purpose. The
 * function runs from source through the kit with the real Appwrite TableStore and Teams directory, so the
 * numbers are what a deployed execution pays (minus the platform's own calls).
 *
 * Scenarios (one execution per POST, as on Appwrite: per-execution caches start empty every time):
 * - cold: the first recognition of an org's windows (usage rows do not exist yet);
 * - warm: a later recognition (rows exist) — the common case the budget is about;
 * - warm with points: also consumes `reward_points_per_month` (three quotas move together);
 * - same execution: a second recognition through the same execution's services (limits and membership cached).
 *
 * The asserted budgets fail on a regression; the printed table is the measurement.
 */
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Teams, Users } from 'node-appwrite';
import { createAppwriteTableStore, createTeamsOrgDirectory } from 'resilience-core/adapters/appwrite';
import { createRecognition, createRecognitionInputSchema } from 'resilience-core/app';
import { QuotaService, quotaRecognitionHooks, updateQuotaSettings, usageRowId } from 'resilience-core/quota';
import type { FunctionHandler } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import api from '../functions/create-recognition/src/main.ts';
import { measureCriticalPath } from './quota-critical-path.ts';

const root = path.resolve(import.meta.dirname, '..');
const ORG = 'rt-org';
let server: AppwriteLocal;
let handler: FunctionHandler;
let trace: { method: string; path: string; query: string; status: number }[] = [];

/** What a request was for, from its method and path (table names are the service's own). */
function purpose(e: { method: string; path: string }): string {
  const p = e.path;
  if (p.startsWith('/teams/')) return 'membership (Teams)';
  if (p.includes('/transactions')) {
    if (e.method === 'POST' && p.endsWith('/transactions')) return 'quota: transaction create';
    if (p.endsWith('/operations')) return 'quota: transaction operations';
    return 'quota: transaction commit/rollback';
  }
  const table = /\/tables\/([^/]+)\/rows/.exec(p)?.[1] ?? '?';
  const op =
    e.method === 'GET'
      ? /\/rows\/[^/]+$/.test(p)
        ? 'get'
        : 'list'
      : e.method === 'PATCH' && /\/(increment|decrement)$/.test(p)
        ? 'increment'
        : e.method === 'POST'
          ? 'create'
          : e.method.toLowerCase();
  const column = /\/rows\/[^/]+\/([^/]+)\/(increment|decrement)$/.exec(p)?.[1];
  return `${table}: ${op}${column ? ` ${column}` : ''}`;
}

function breakdown(entries: typeof trace): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) out[purpose(e)] = (out[purpose(e)] ?? 0) + 1;
  return out;
}

/** Runs `fn` and returns the requests the server saw meanwhile. */
async function counted(fn: () => Promise<unknown>): Promise<typeof trace> {
  const seen: typeof trace = [];
  trace = seen;
  try {
    await fn();
  } finally {
    trace = [];
  }
  return seen;
}

function report(label: string, entries: typeof trace): void {
  const lines = Object.entries(breakdown(entries))
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `    ${String(v).padStart(2)}  ${k}`);
  console.log(`POST /recognitions — ${label}: ${entries.length} Appwrite requests\n${lines.join('\n')}`);
}

const userHeaders = (userId: string) => ({
  'x-appwrite-key': server.apiKey,
  'x-appwrite-trigger': 'http',
  'x-appwrite-user-id': userId,
});

async function post(body: Record<string, unknown>, userId = 'ann') {
  const out = await invoke(handler, {
    method: 'POST',
    path: '/recognitions',
    body,
    headers: userHeaders(userId),
  });
  expect(out.status, JSON.stringify(out.body)).toBe(201);
  return out;
}

beforeAll(async () => {
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'round-trips',
    apiKey: 'rt-key',
    config: path.join(root, 'appwrite.json'),
    trace: (e) => trace.push(e),
  });
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const teams = new Teams(client);
  const users = new Users(client);
  await teams.create({ teamId: ORG, name: 'Round trips' });
  for (const id of ['ann', 'ben']) {
    await users.create({ userId: id, name: id });
    await teams.createMembership({ teamId: ORG, roles: [], userId: id });
  }
  handler = api.with({
    env: { APPWRITE_FUNCTION_API_ENDPOINT: server.endpoint, APPWRITE_FUNCTION_PROJECT_ID: server.projectId },
  }) as FunctionHandler;
});
afterAll(async () => {
  await server?.stop();
});

describe('POST /recognitions round trips (local Appwrite, real adapters)', () => {
  it('counts every request of a cold, a warm and a warm-with-points recognition', async () => {
    const cold = await counted(() => post({ orgId: ORG, receiverId: 'ben', message: 'first' }));
    report('cold (first use of the windows)', cold);
    let depth = 0;
    const warm = await counted(async () => {
      depth = (await measureCriticalPath(() => post({ orgId: ORG, receiverId: 'ben', message: 'second' })))
        .sequential;
    });
    report(`warm (new execution, rows exist), ${depth} sequential`, warm);
    // Points: the first with points creates the reward window row; the second is the warm figure.
    await post({ orgId: ORG, receiverId: 'ben', message: 'points', points: 5 });
    let depthPoints = 0;
    const warmPoints = await counted(async () => {
      depthPoints = (
        await measureCriticalPath(() => post({ orgId: ORG, receiverId: 'ben', message: 'points', points: 5 }))
      ).sequential;
    });
    report(`warm with points (3 quotas), ${depthPoints} sequential`, warmPoints);

    // Budgets (a regression fails here). Warm, no points: membership of caller and receiver (2), limits (2
    // reads), one bounded increment each for api_calls_per_hour and recognitions_per_day (2), the row (1).
    expect(breakdown(warm)).toEqual({
      'membership (Teams)': 2,
      'quota-settings: get': 1,
      'quota-increase-requests: list': 1,
      'quota-usage: increment used': 2,
      'recognitions: create': 1,
    });
    expect(warm.length).toBe(WARM_BUDGET);
    // With points: one bounded increment per quota, side by side (recognitions and points all-or-nothing by
    // compensation), no transaction and no read afterwards.
    expect(breakdown(warmPoints)).toEqual({
      'membership (Teams)': 2,
      'quota-settings: get': 1,
      'quota-increase-requests: list': 1,
      'quota-usage: increment used': 3,
      'recognitions: create': 1,
    });
    expect(warmPoints.length).toBe(WARM_POINTS_BUDGET);
    // Sequential: caller ∥ receiver ∥ limits (the route's prefetch runs beside the kit's auth) → the quota
    // increments side by side → the row.
    expect(depth).toBe(SEQUENTIAL_BUDGET);
    expect(depthPoints).toBe(SEQUENTIAL_BUDGET);
    expect(cold.length).toBeLessThanOrEqual(COLD_BUDGET);
  });

  it('never over-admits under concurrency when either quota is the tight one, and keeps product quotas together', async () => {
    const admin = createAppwriteTableStore({
      endpoint: server.endpoint,
      projectId: server.projectId,
      key: server.apiKey,
    });
    const client = new Client()
      .setEndpoint(server.endpoint)
      .setProject(server.projectId)
      .setKey(server.apiKey);
    const teams = new Teams(client);
    const cases = [
      { org: 'rt-api-tight', overrides: { api_calls_per_hour: 9, recognitions_per_day: 30 }, expected: 9 },
      { org: 'rt-rec-tight', overrides: { api_calls_per_hour: 100, recognitions_per_day: 7 }, expected: 7 },
      {
        org: 'rt-pts-tight',
        overrides: { api_calls_per_hour: 100, reward_points_per_month: 50 },
        expected: 5,
      },
    ];
    for (const c of cases) {
      await teams.create({ teamId: c.org, name: c.org });
      for (const id of ['ann', 'ben']) await teams.createMembership({ teamId: c.org, roles: [], userId: id });
      await updateQuotaSettings(
        admin,
        { userId: null, orgId: c.org, isAdmin: true },
        { overrides: c.overrides },
        Date.now(),
      );
    }
    const CALLS = 30;
    for (const c of cases) {
      const results = await Promise.all(
        Array.from({ length: CALLS }, (_, i) =>
          invoke(handler, {
            method: 'POST',
            path: '/recognitions',
            body: { orgId: c.org, receiverId: 'ben', message: `#${i}`, points: 10 },
            headers: userHeaders('ann'),
          }),
        ),
      );
      const created = results.filter((r) => r.status === 201).length;
      expect(
        results.every((r) => r.status === 201 || r.status === 429),
        c.org,
      ).toBe(true);
      expect(created, c.org).toBe(c.expected);
      const quotas = new QuotaService({ store: admin });
      const usedOf = async (type: string) =>
        (
          await admin.get<{ used: number }>(
            'quota-usage',
            usageRowId(c.org, type, (await quotas.currentWindow(c.org, type)).key),
          )
        )?.used ?? 0;
      // Product quotas moved together with the created rows; every call that reached the quota check is an API
      // call, up to that quota's limit.
      expect(await usedOf('recognitions_per_day'), c.org).toBe(created);
      expect(await usedOf('reward_points_per_month'), c.org).toBe(created * 10);
      expect(await usedOf('api_calls_per_hour'), c.org).toBe(Math.min(CALLS, c.overrides.api_calls_per_hour));
      const rows = await admin.list('recognitions', {
        where: [{ field: 'orgId', op: 'eq', value: c.org }],
        limit: 100,
      });
      expect(rows.rows.length, c.org).toBe(created);
    }
  });

  it('counts a second recognition in the same execution (limits and membership cached)', async () => {
    const store = createAppwriteTableStore({
      endpoint: server.endpoint,
      projectId: server.projectId,
      key: server.apiKey,
    });
    const client = new Client()
      .setEndpoint(server.endpoint)
      .setProject(server.projectId)
      .setKey(server.apiKey);
    const orgs = createTeamsOrgDirectory({ client });
    const quotas = new QuotaService({ store });
    const hooks = quotaRecognitionHooks(quotas);
    const log = { debug() {}, info() {}, warn() {}, error() {} } as never;
    const give = (message: string) =>
      createRecognition(
        createRecognitionInputSchema.parse({ orgId: ORG, receiverId: 'ben', message, giverId: 'ann' }),
        { userId: null },
        { store, orgs, hooks, log, traceId: 't' },
      );
    await give('primes the caches');
    const second = await counted(() => give('same execution'));
    report('same execution (caches hot)', second);
    expect(second.length).toBeLessThanOrEqual(SAME_EXECUTION_BUDGET);
  });
});

/**
 * Request budgets, asserted above. Before this design (one transaction for all three quotas, then one read per
 * quota; limits resolved after the membership checks): cold 15, warm 10, warm with points 11, same execution 6.
 */
const WARM_BUDGET = 7;
/** Was 9: a transaction (3 calls) and a read of the rows. */
const WARM_POINTS_BUDGET = 8;
/** Sequential round trips, warm, with or without points. Was 4 without points and 7 with. */
const SEQUENTIAL_BUDGET = 3;
const COLD_BUDGET = 9;
const SAME_EXECUTION_BUDGET = 3;
