/**
 * The deploy-orchestrator function: its bundle (functions/deploy-orchestrator/dist/main.js) deployed on the
 * local Appwrite server and executed with an API key, as an operator or a pipeline would; plus the kit-level
 * refusals (user callers, bad bodies) through a fake open-runtimes context.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { type AppwriteLocal, deployFunction, packDirectory } from 'appwrite-local';
import type { Functions } from 'node-appwrite';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import orchestratorFunction from '../functions/deploy-orchestrator/src/main.ts';
import { functions as declared } from '../scripts/appwrite-config.ts';
import {
  deployBlueWithTwin,
  DEPLOY_FIXTURES as FIXTURES,
  functionEntry,
  startDeployServer,
} from './deploy-helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const FUNCTION_DIR = path.join(ROOT, 'functions', 'deploy-orchestrator');

const policy = {
  buildPollInitialMs: 100,
  buildPollMaxMs: 500,
  watchWindowMs: 2_000,
  watchIntervalMs: 500,
  minSamples: 5,
  lockTtlMs: 2_000,
};

let server: AppwriteLocal;
let functions: Functions;
let blue: string;

async function call(method: 'GET' | 'POST', xpath: string, body?: unknown) {
  const exec = await functions.createExecution({
    functionId: 'deploy-orchestrator',
    xpath,
    method: method as never,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: exec.responseStatusCode, body: JSON.parse(exec.responseBody || 'null') };
}

async function codeOf(name: string) {
  return {
    archiveBase64: (await packDirectory(path.join(FIXTURES, name))).toString('base64'),
    entrypoint: 'index.js',
  };
}

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-function.mjs'), FUNCTION_DIR], {
    stdio: 'ignore',
  });
  ({ server, functions } = await startDeployServer({
    functions: [
      // The scopes appwrite.json gives it (least privilege for its dynamic key).
      functionEntry('deploy-orchestrator', {
        entrypoint: 'dist/main.js',
        scopes: declared.find((f) => f.$id === 'deploy-orchestrator')!.scopes,
      }),
      functionEntry('live', { execute: ['users'] }),
      functionEntry('live-standby', {}),
    ],
  }));
  await deployFunction({
    endpoint: server.endpoint,
    projectId: server.projectId,
    apiKey: server.apiKey,
    functionId: 'deploy-orchestrator',
    dir: FUNCTION_DIR,
    files: ['dist'],
    entrypoint: 'dist/main.js',
    commands: '',
  });
  blue = await deployBlueWithTwin(server, 'live');
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe('deploy-orchestrator on the local server (API key)', () => {
  it('answers /health with its deployment id', async () => {
    const { status, body } = await call('GET', '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'deploy-orchestrator', status: 'ok' });
  });

  it('starts a rollout, reports history and events, and rolls back by hand', async () => {
    const started = await call('POST', '/rollouts', {
      functionId: 'live',
      code: await codeOf('good'),
      policy,
    });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({
      ok: true,
      success: true,
      rollout: { status: 'succeeded', blue: { deploymentId: blue } },
    });
    const green = started.body.rollout.green.deploymentId as string;
    expect((await functions.get({ functionId: 'live' })).deploymentId).toBe(green);

    const history = await call('GET', '/functions/live/rollouts?limit=5');
    expect(history.body.rollouts.map((r: { rolloutId: string }) => r.rolloutId)).toEqual([
      started.body.rollout.rolloutId,
    ]);
    const one = await call('GET', `/rollouts/${started.body.rollout.rolloutId}`);
    expect(one.body.events.length).toBeGreaterThan(5);

    const rolledBack = await call('POST', '/rollouts/rollback', { functionId: 'live', reason: 'operator' });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).toMatchObject({
      outcome: 'performed',
      rollout: { status: 'rolled_back', figures: { rollback: { calls: 1 } } },
    });
    expect((await functions.get({ functionId: 'live' })).deploymentId).toBe(blue);
    const current = await call('GET', '/functions/live/rollouts/current');
    expect(current.body.rollout.status).toBe('rolled_back');
  });

  it('refuses bad input with a clear 4xx before anything changes', async () => {
    const before = (await functions.listDeployments({ functionId: 'live' })).total;
    const missing = await call('POST', '/rollouts', { functionId: 'live' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(
      /give the new code or the id of an existing deployment|invalid rollout request/,
    );
    const unknown = await call('POST', '/rollouts', { functionId: 'nope', code: await codeOf('good') });
    expect(unknown.status).toBe(404);
    const thresholds = await call('POST', '/rollouts', {
      functionId: 'live',
      code: await codeOf('good'),
      policy: { minSamples: -1 },
    });
    expect(thresholds.status).toBe(400);
    expect(thresholds.body.error.issues[0].path).toBe('policy.minSamples');
    expect((await functions.listDeployments({ functionId: 'live' })).total).toBe(before);
    expect((await call('POST', '/rollouts/resume', { functionId: 'live' })).status).toBe(404);
    expect((await call('GET', '/functions/other/rollouts/current')).status).toBe(404);
    expect((await call('GET', '/rollouts/nope')).status).toBe(404);
  });
});

describe('deploy-orchestrator kit-level refusals', () => {
  const fn = orchestratorFunction.with({
    store: new MemoryTableStore(),
    env: { APPWRITE_FUNCTION_DEPLOYMENT: 'd1' },
  });

  it('refuses a signed-in user (server calls only)', async () => {
    const res = await invoke(fn, {
      method: 'POST',
      path: '/rollouts',
      headers: { 'x-appwrite-user-id': 'u1' },
      body: { functionId: 'live', deploymentId: 'd2' },
    });
    expect(res.status).toBe(403);
  });

  it('answers 400 listing the field problems for a malformed body', async () => {
    const res = await invoke(fn, {
      method: 'POST',
      path: '/rollouts',
      body: { functionId: '../x', extra: 1 },
    });
    expect(res.status).toBe(400);
    expect((res.body as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['functionId']),
    );
  });
});
