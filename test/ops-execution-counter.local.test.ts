import path from 'node:path';
import { deployFunction } from 'appwrite-local';
import { Client, ExecutionMethod } from 'node-appwrite';
import { appwriteExecutionCounter } from 'ops-console';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_FIXTURES, type DeployServer, startDeployServer } from './deploy-helpers.ts';

/**
 * The SLO evaluation's Appwrite counter against the local server through the real SDK: each count is one
 * `listExecutions` with only the queries the Executions validator allows, and the counts match the records.
 */
let d: DeployServer;
let calls = 0;
let startedAt = 0;

beforeAll(async () => {
  d = await startDeployServer();
  await d.functions.create({
    functionId: 'app',
    name: 'app',
    runtime: 'node-22' as never,
    execute: [],
    entrypoint: 'index.js',
    commands: '',
  });
  await deployFunction({
    endpoint: d.server.endpoint,
    projectId: d.server.projectId,
    apiKey: d.server.apiKey,
    functionId: 'app',
    dir: path.join(DEPLOY_FIXTURES, 'bad-health'),
    entrypoint: 'index.js',
    commands: '',
  });
  startedAt = Date.now();
  // bad-health answers 503 on /health (recorded failed) and 200 elsewhere.
  for (const xpath of ['/health', '/', '/health', '/', '/', '/health', '/', '/']) {
    await d.functions.createExecution({ functionId: 'app', xpath, method: ExecutionMethod.GET });
  }
  await d.functions.createExecution({
    functionId: 'app',
    xpath: '/',
    method: ExecutionMethod.GET,
    async: true,
  });
}, 120_000);

afterAll(async () => {
  await d?.server.stop();
});

describe('appwriteExecutionCounter', () => {
  const counter = () =>
    appwriteExecutionCounter(
      new Client().setEndpoint(d.server.endpoint).setProject(d.server.projectId).setKey(d.server.apiKey),
      () => calls++,
    );
  const base = () => ({
    functionId: 'app',
    triggers: ['http'],
    since: startedAt - 1000,
    until: Date.now() + 60_000,
  });

  it('counts finished HTTP executions, errors (status failed) and slow ones, one call each', async () => {
    const c = counter();
    // The async execution is counted once it has finished.
    await expect.poll(async () => (await c.count(base())).count, { timeout: 20_000, interval: 200 }).toBe(9);
    const before = calls;
    expect(await c.count(base())).toEqual({ count: 9, capped: false });
    expect(await c.count({ ...base(), bad: { kind: 'error' } })).toEqual({ count: 3, capped: false });
    expect(await c.count({ ...base(), bad: { kind: 'slow', slowerThanMs: 60_000 } })).toEqual({
      count: 0,
      capped: false,
    });
    expect(await c.count({ ...base(), bad: { kind: 'slow', slowerThanMs: 0 } })).toMatchObject({ count: 9 });
    expect(calls - before).toBe(4);
  });

  it('bounds the interval by $createdAt and the trigger', async () => {
    const c = counter();
    expect(await c.count({ ...base(), until: startedAt - 1 })).toEqual({ count: 0, capped: false });
    expect(await c.count({ ...base(), since: Date.now() + 1000 })).toEqual({ count: 0, capped: false });
    expect(await c.count({ ...base(), triggers: ['schedule'] })).toEqual({ count: 0, capped: false });
  });
});
