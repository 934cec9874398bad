/**
 * croner beside the bundle, end to end: the built job-worker bundle, copied out of the repository as dist/
 * ships (main.js + croner.cjs), creates a schedule (the cron expression is validated by croner, loaded from
 * croner.cjs on that first use), refuses a bad expression with croner's reason, and its drain materialises the
 * schedule's due slot. A copy without croner.cjs cannot evaluate a cron at all: the chunk is what runs.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { listAll } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { JOB_TABLES } from 'resilience-core/jobs';
import type { FunctionHandler } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';

const root = path.resolve(import.meta.dirname, '..');
const outside = mkdtempSync(path.join(tmpdir(), 'bundle-cron-'));
const requireOutside = createRequire(path.join(outside, 'index.js'));
let server: AppwriteLocal;

/** The job-worker bundle copied to `outside/<folder>`, with or without its croner.cjs. */
function load(folder: string, withChunk: boolean): FunctionHandler {
  const dist = path.join(root, 'functions', 'job-worker', 'dist');
  const dir = path.join(outside, folder);
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(dist))
    if (withChunk || file !== 'croner.cjs') copyFileSync(path.join(dist, file), path.join(dir, file));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
  return requireOutside(path.join(dir, 'main.js')) as FunctionHandler;
}

const saved = {
  endpoint: process.env.APPWRITE_FUNCTION_API_ENDPOINT,
  project: process.env.APPWRITE_FUNCTION_PROJECT_ID,
};

beforeAll(async () => {
  await buildFunction(path.join(root, 'functions', 'job-worker'));
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'bundle-cron',
    apiKey: 'cron-key',
    config: path.join(root, 'appwrite.json'),
  });
  process.env.APPWRITE_FUNCTION_API_ENDPOINT = server.endpoint;
  process.env.APPWRITE_FUNCTION_PROJECT_ID = server.projectId;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  for (const [key, value] of [
    ['APPWRITE_FUNCTION_API_ENDPOINT', saved.endpoint],
    ['APPWRITE_FUNCTION_PROJECT_ID', saved.project],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(outside, { recursive: true, force: true });
});

const asServer = (trigger = 'http') => ({ 'x-appwrite-key': server.apiKey, 'x-appwrite-trigger': trigger });
const schedule = (cron: string, name: string) => ({
  method: 'POST',
  path: '/schedules',
  body: { orgId: 'acme', name, cron, type: 'cleanup-recognitions', payload: { daysOld: 30 } },
  headers: asServer(),
});

describe('the job-worker bundle evaluates cron expressions with croner.cjs beside it', () => {
  it('creates a schedule, refuses a bad expression with the reason, and its drain evaluates it', async () => {
    const worker = load('with-chunk', true);
    const loaded = () =>
      Object.keys(requireOutside.cache).some((f) =>
        f.startsWith(path.join(outside, 'with-chunk', 'croner.cjs')),
      );
    expect(loaded()).toBe(false); // not at load
    const bad = await invoke(worker, schedule('61 * * * *', 'bad'));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/cron/i);
    expect(loaded()).toBe(true); // on first use
    const created = await invoke(worker, schedule('* * * * *', 'every-minute'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const drained = await invoke(worker, { method: 'POST', path: '/', headers: asServer('schedule') });
    expect(drained.status, JSON.stringify(drained.body)).toBe(200);
    // The tick evaluated the schedule's cron (its first slot is the next whole minute: nothing due yet).
    expect(drained.body).toMatchObject({ tick: { schedules: 1, invalid: [] } });
    expect(bad.body).toMatchObject({
      error: { issues: [{ path: 'cron', message: 'CronPattern: Invalid value for minute: 61' }] },
    });
    const store = createAppwriteTableStore({
      endpoint: server.endpoint,
      projectId: server.projectId,
      key: server.apiKey,
    });
    const schedules = await listAll(store, JOB_TABLES.schedules);
    expect(schedules.map((r) => (r as { cron?: string }).cron)).toEqual(['* * * * *']);
  });

  it('without croner.cjs the same bundle cannot evaluate a cron (the chunk is what runs)', async () => {
    const worker = load('without-chunk', false);
    const result = await invoke(worker, schedule('* * * * *', 'no-chunk'));
    // createSchedule reports any failure of the cron parser as the expression's issue.
    expect(result.status).toBe(400);
    expect(JSON.stringify(result.body)).toMatch(/Cannot find module .*without-chunk[\\/]+croner\.cjs/);
  });
});
