/**
 * The SLO gate on every rollout path, against the local Appwrite server: `npm run rollout -- start` (a child
 * process) and the deploy-orchestrator function (its bundle, executed with an API key) both refuse a rollout of
 * create-recognition while its 99.95 % availability budget is exhausted over enough events, go through with
 * `--force-slo` / `forceSlo: true` recording it in the first history entry, and admit a low-traffic function
 * with a note. The events threshold is lowered to 4 (`--slo-min-events=4`, `DEPLOY_SLO_MIN_EVENTS=4`) so four
 * recorded executions, two of them failed, are "enough"; without it the default rule (2,000 events for 99.95 %)
 * applies and the same records only earn a low-traffic note.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { deployFunction, packDirectory } from 'appwrite-local';
import { ExecutionMethod } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions as declared } from '../scripts/appwrite-config.ts';
import { createRolloutRunner } from '../scripts/lib/rollout-runner.ts';
import { DEPLOY_FIXTURES, type DeployServer, functionEntry, startDeployServer } from './deploy-helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ORCHESTRATOR_DIR = path.join(ROOT, 'functions', 'deploy-orchestrator');
const FN = 'create-recognition';

const POLICY_FLAGS = [
  '--watch-ms=2000',
  '--interval-ms=500',
  '--min-samples=3',
  '--lock-ttl-ms=2500',
  '--build-timeout-ms=30000',
  '--build-poll-max-ms=300',
];
const policy = {
  buildPollInitialMs: 100,
  buildPollMaxMs: 300,
  watchWindowMs: 2_000,
  watchIntervalMs: 500,
  minSamples: 3,
  lockTtlMs: 2_500,
};

let s: DeployServer;

function rollout(args: string[]): Promise<{ code: number | null; out: string }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts', 'rollout.ts'), ...args],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        APPWRITE_ENDPOINT: s.server.endpoint,
        APPWRITE_PROJECT_ID: s.server.projectId,
        APPWRITE_API_KEY: s.server.apiKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

async function orchestrator(method: 'GET' | 'POST', xpath: string, body?: unknown) {
  const exec = await s.functions.createExecution({
    functionId: 'deploy-orchestrator',
    xpath,
    method: method as never,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: exec.responseStatusCode, body: JSON.parse(exec.responseBody || 'null') };
}

async function rolloutsOf(functionId: string) {
  const { orchestrator } = createRolloutRunner({
    endpoint: s.server.endpoint,
    projectId: s.server.projectId,
    key: s.server.apiKey,
    owner: 'test-reader',
    onEvent: () => {},
  });
  return { orchestrator, rollouts: (await orchestrator.history(functionId, { limit: 20 })).rollouts };
}

const active = async () => (await s.functions.get({ functionId: FN })).deploymentId;

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-function.mjs'), ORCHESTRATOR_DIR], {
    stdio: 'ignore',
  });
  s = await startDeployServer({
    functions: [
      functionEntry('deploy-orchestrator', {
        entrypoint: 'dist/main.js',
        scopes: declared.find((f) => f.$id === 'deploy-orchestrator')!.scopes,
      }),
      functionEntry(FN),
      functionEntry(`${FN}-standby`),
    ],
  });
  const connection = { endpoint: s.server.endpoint, projectId: s.server.projectId, apiKey: s.server.apiKey };
  await s.functions.createVariable({
    functionId: 'deploy-orchestrator',
    variableId: 'deploy-slo-min-events',
    key: 'DEPLOY_SLO_MIN_EVENTS',
    value: '4',
  });
  await deployFunction({
    ...connection,
    functionId: 'deploy-orchestrator',
    dir: ORCHESTRATOR_DIR,
    files: ['dist'],
    entrypoint: 'dist/main.js',
    commands: '',
  });
  // Blue answers 503 on /health (recorded `failed`) and 200 elsewhere.
  for (const functionId of [FN, `${FN}-standby`]) {
    await deployFunction({
      ...connection,
      functionId,
      dir: path.join(DEPLOY_FIXTURES, 'bad-health'),
      entrypoint: 'index.js',
      commands: '',
    });
  }
  // 4 HTTP executions, 2 failed: 50 % errors against a 0.05 % budget (−99,900 % left).
  for (const xpath of ['/health', '/', '/health', '/']) {
    await s.functions.createExecution({ functionId: FN, xpath, method: ExecutionMethod.GET });
  }
}, 120_000);

afterAll(async () => {
  await s?.server.stop();
});

describe('npm run rollout -- start and the SLO gate', () => {
  const dirArg = `--dir=${path.join(DEPLOY_FIXTURES, 'good')}`;

  it('refuses a rollout of a function whose error budget is exhausted, with the reason, exit 2, nothing written', async () => {
    const before = await active();
    const { code, out } = await rollout([
      'start',
      FN,
      dirArg,
      '--entrypoint=index.js',
      '--slo-min-events=4',
      ...POLICY_FLAGS,
    ]);
    expect(code).toBe(2);
    expect(out).toMatch(
      /refused \(CONFLICT\): error budget exhausted: create-recognition-availability -99900\.0% of budget left \(2\/4 bad over 30 d\)\. Rollouts of create-recognition are frozen until the budget recovers/,
    );
    expect(out).not.toMatch(/VERDICT/);
    expect((await rolloutsOf(FN)).rollouts).toHaveLength(0);
    expect(await active()).toBe(before);
  }, 60_000);

  it('goes through with --force-slo, recording it in the first history entry', async () => {
    const before = await active();
    const { code, out } = await rollout([
      'start',
      FN,
      dirArg,
      '--entrypoint=index.js',
      '--slo-min-events=4',
      '--force-slo',
      ...POLICY_FLAGS,
    ]);
    expect(out).toMatch(/VERDICT: SUCCEEDED/);
    expect(code).toBe(0);
    expect(out).toMatch(
      /! pending\s+rollout of create-recognition started: .*; FORCED despite an exhausted error budget \(create-recognition-availability -99900\.0% of budget left \(2\/4 bad over 30 d\)\)/,
    );
    // One SLO evaluation at the start: create-recognition's 2 SLOs share their totals, (1 + 2) × 5 windows.
    expect(out).toMatch(/SLO gate: 15 execution counts/);
    const { orchestrator, rollouts } = await rolloutsOf(FN);
    expect(rollouts).toHaveLength(1);
    expect(rollouts[0]!.blue.deploymentId).toBe(before);
    const events = await orchestrator.events(rollouts[0]!.rolloutId);
    expect(events[0]!.level).toBe('warn');
    expect(events[0]!.message).toMatch(/FORCED despite an exhausted error budget/);
  }, 90_000);

  it('admits the same records without the override (default rule: 2,000 events for 99.95 %), noting low traffic', async () => {
    const { code, out } = await rollout([
      'start',
      FN,
      `--dir=${path.join(DEPLOY_FIXTURES, 'blue')}`,
      '--entrypoint=index.js',
      ...POLICY_FLAGS,
    ]);
    expect(out).toMatch(/VERDICT: SUCCEEDED/);
    expect(code).toBe(0);
    expect(out).toMatch(
      /! pending\s+rollout of create-recognition started: .*; admitted on low traffic despite an exhausted error budget \(create-recognition-availability .*fewer than the 2000 events that refuse\)/,
    );
    expect(out).not.toMatch(/FORCED/);
  }, 90_000);
});

describe('the deploy-orchestrator function and the SLO gate', () => {
  it('answers 409 with the reason for an exhausted budget and writes nothing', async () => {
    const before = (await rolloutsOf(FN)).rollouts.length;
    const deployments = (await s.functions.listDeployments({ functionId: FN })).total;
    const code = {
      archiveBase64: (await packDirectory(path.join(DEPLOY_FIXTURES, 'good'))).toString('base64'),
      entrypoint: 'index.js',
    };
    const refused = await orchestrator('POST', '/rollouts', { functionId: FN, code, policy });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'CONFLICT' });
    expect(refused.body.error.message).toMatch(
      // The two rollouts above added their own probe executions (all 200) to the 4 records.
      /^error budget exhausted: create-recognition-availability -\d+\.\d% of budget left \(2\/\d+ bad over 30 d\)/,
    );
    expect((await rolloutsOf(FN)).rollouts).toHaveLength(before);
    expect((await s.functions.listDeployments({ functionId: FN })).total).toBe(deployments);
  }, 60_000);

  it('rolls out with forceSlo: true, the first history entry recording it', async () => {
    const code = {
      archiveBase64: (await packDirectory(path.join(DEPLOY_FIXTURES, 'good'))).toString('base64'),
      entrypoint: 'index.js',
    };
    const started = await orchestrator('POST', '/rollouts', { functionId: FN, code, policy, forceSlo: true });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ ok: true, success: true, rollout: { status: 'succeeded' } });
    const one = await orchestrator('GET', `/rollouts/${started.body.rollout.rolloutId}`);
    const first = one.body.events[0];
    expect(first.level).toBe('warn');
    expect(first.message).toMatch(
      /; FORCED despite an exhausted error budget \(create-recognition-availability .*\/.* bad over 30 d\)/,
    );
    expect(await active()).toBe(started.body.rollout.green.deploymentId);
  }, 90_000);

  it('refuses a forceSlo that is not a boolean (400, field named)', async () => {
    const bad = await orchestrator('POST', '/rollouts', {
      functionId: FN,
      deploymentId: 'x',
      forceSlo: 'yes',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path)).toContain('forceSlo');
  });
});
