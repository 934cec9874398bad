/**
 * `npm run deploy` rolls changed code out blue-green (issue 2 × issue 7), against the local Appwrite with the
 * real create-recognition bundle: a first deploy is direct; a changed good bundle is validated on
 * create-recognition-standby, switched in one call, watched and succeeds; a bundle whose health check fails is
 * never switched and the deploy fails (in process: `RolloutVerdictError`; the command: exit 1 with the verdict),
 * with blue still active; unchanged code does nothing; `--direct` keeps the old path.
 *
 * The bundles are deployed from a copy of the functions' dist/ folders in a temporary folder (`sourceRoot`), so
 * changing them never touches the repository. Small watch windows keep each rollout to a few seconds.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Functions } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions as declared } from '../scripts/appwrite-config.ts';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';
import { type DeployOptions, type DeployReport, deploy, RolloutVerdictError } from '../scripts/deploy.ts';
import { createRolloutRunner } from '../scripts/lib/rollout-runner.ts';
import { tarGz } from '../scripts/lib/tar-gz.ts';
import { localRolloutPolicy } from './deploy-helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const FN = 'create-recognition';
const TWIN = `${FN}-standby`;
const ONLY = [FN, TWIN];

let server: AppwriteLocal;
let api: Functions;
let source: string;
let lines: string[] = [];

const bundlePath = () => path.join(source, 'functions', FN, 'dist', 'main.js');

const run = (extra: Partial<DeployOptions> = {}): Promise<DeployReport> => {
  lines = [];
  return deploy({
    endpoint: server.endpoint,
    projectId: server.projectId,
    key: server.apiKey,
    build: false,
    only: ONLY,
    sourceRoot: source,
    policy: localRolloutPolicy,
    out: (line) => lines.push(line),
    pollMs: 50,
    schemaPollMs: 20,
    buildTimeoutMs: 60_000,
    ...extra,
  });
};

async function health(functionId: string): Promise<{ status: number; deploymentId: string }> {
  const execution = await api.createExecution({
    functionId,
    xpath: '/health',
    method: 'GET' as never,
    async: false,
  });
  const body = JSON.parse(execution.responseBody || '{}') as { deploymentId?: string };
  return { status: execution.responseStatusCode, deploymentId: body.deploymentId ?? '' };
}

const deploymentCount = async (functionId: string) => (await api.listDeployments({ functionId })).total;
const activeOf = async (functionId: string) => (await api.get({ functionId })).deploymentId;

beforeAll(async () => {
  source = mkdtempSync(path.join(tmpdir(), 'deploy-rollout-'));
  for (const fn of declared.filter((f) => ONLY.includes(f.$id))) {
    const dist = path.join(ROOT, fn.path, 'dist');
    if (!existsSync(path.join(dist, 'main.js'))) await buildFunction(path.join(ROOT, fn.path));
    cpSync(dist, path.join(source, fn.path, 'dist'), { recursive: true });
  }
  server = await startAppwriteLocal({ port: 0, memory: true, projectId: 'rollout', apiKey: 'rollout-key' });
  api = new Functions(
    new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey),
  );
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (source) rmSync(source, { recursive: true, force: true });
});

describe('npm run deploy: code changes roll out blue-green', () => {
  let first: DeployReport;
  let green = '';

  it('deploys directly the first time (no active deployment yet), the live function and its twin', async () => {
    first = await run();
    for (const id of ONLY) {
      expect(first.functions[id]).toMatchObject({ code: 'deployed' });
      expect(first.functions[id]?.rollout).toBeUndefined();
    }
    expect(lines).toContain(
      lines.find((l) => l.startsWith(`  ↑ ${FN}:`) && l.endsWith('direct: first deployment')),
    );
    expect(lines.some((l) => l.includes('⇄'))).toBe(false);
    expect(await health(FN)).toEqual({ status: 200, deploymentId: first.functions[FN]?.deploymentId });
  }, 120_000);

  it('does nothing for unchanged code: no rollout, no upload', async () => {
    const uploads = [await deploymentCount(FN), await deploymentCount(TWIN)];
    const report = await run();
    for (const id of ONLY) {
      expect(report.functions[id]).toMatchObject({
        code: 'unchanged',
        deploymentId: first.functions[id]?.deploymentId,
      });
    }
    expect([await deploymentCount(FN), await deploymentCount(TWIN)]).toEqual(uploads);
    expect(lines.some((l) => l.includes('⇄') || l.includes('↑'))).toBe(false);
  }, 60_000);

  it('rolls a changed good bundle out: validated on the twin, one switch call, watched, succeeded', async () => {
    writeFileSync(bundlePath(), `${readFileSync(bundlePath(), 'utf8')}\n// v2: a changed bundle\n`);
    const blue = first.functions[FN]!.deploymentId;
    const report = await run();
    const entry = report.functions[FN]!;
    expect(entry.code).toBe('rolled_out');
    const view = entry.rollout!;
    expect(view.status).toBe('succeeded');
    expect(view.blue.deploymentId).toBe(blue);
    expect(view.skipHealthCheck).toBe(false);
    expect(view.standby.functionId).toBe(TWIN);
    expect(view.validation).toMatchObject({ health: { ok: true } });
    expect(view.figures.switch?.calls).toBe(1);
    expect(view.figures.rollback).toBeNull();
    expect(view.watch?.samples).toBeGreaterThanOrEqual(localRolloutPolicy.minSamples!);
    green = view.green.deploymentId!;
    expect(green).not.toBe(blue);
    expect(entry.deploymentId).toBe(green);
    expect(await activeOf(FN)).toBe(green);
    // The live function now answers from the new deployment.
    expect(await health(FN)).toEqual({ status: 200, deploymentId: green });
    // The twin runs the validated copy and knows it: its own step does not upload again.
    expect(report.functions[TWIN]).toMatchObject({
      code: 'unchanged',
      deploymentId: view.standby.deploymentId,
    });
    expect(await activeOf(TWIN)).toBe(view.standby.deploymentId);
    // Live progress, then the verdict.
    const text = lines.join('\n');
    expect(text).toContain(`⇄ ${FN}: rolling out`);
    for (const status of ['building', 'validating', 'switching', 'watching', 'succeeded'])
      expect(text).toMatch(new RegExp(`\\] [·!] ${status}`));
    expect(text).toContain(`VERDICT: SUCCEEDED — green ${green} is active on ${FN}`);
    expect(text).toContain('switch:   1 API call');

    // Re-running with the same bytes does nothing again.
    const uploads = await deploymentCount(FN);
    const again = await run();
    expect(again.functions[FN]).toMatchObject({ code: 'unchanged', deploymentId: green });
    expect(await deploymentCount(FN)).toBe(uploads);
  }, 120_000);

  it('never switches a bundle whose health check fails: deploy fails with the verdict, blue stays', async () => {
    const bad = readFileSync(path.join(ROOT, 'test', 'fixtures', 'deploy', 'bad-health', 'index.js'), 'utf8');
    writeFileSync(bundlePath(), bad);
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RolloutVerdictError);
    const failure = error as RolloutVerdictError;
    expect(failure.rollout.status).toBe('failed');
    expect(failure.rollout.green.active).toBe(false);
    expect(failure.rollout.figures.switch).toBeNull();
    expect(failure.message).toMatch(/VERDICT: FAILED/);
    expect(failure.message).toContain(`blue ${green} still active`);
    expect(failure.message).toContain(`code of ${TWIN} NOT deployed`);
    expect(failure.report.functions[FN]).toMatchObject({ code: 'failed', deploymentId: green });
    expect(failure.report.functions[TWIN]?.code).toBe('skipped');
    expect(await activeOf(FN)).toBe(green);
    expect(await health(FN)).toEqual({ status: 200, deploymentId: green });
    expect(lines.join('\n')).toMatch(/✗ stopped: code of create-recognition-standby NOT deployed/);
  }, 120_000);

  it('the command exits non-zero with the verdict when validation fails (--policy FILE)', async () => {
    // The repository's own (good) bundle, with a policy whose smoke request cannot pass: validation fails.
    const policyFile = path.join(source, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        ...localRolloutPolicy,
        smokeRequests: [{ path: '/no-such-route', expectStatus: 200 }],
      }),
    );
    const result = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'scripts', 'deploy.ts'),
        '--skip-build',
        '--function',
        FN,
        '--policy',
        policyFile,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          APPWRITE_ENDPOINT: server.endpoint,
          APPWRITE_PROJECT_ID: server.projectId,
          APPWRITE_API_KEY: server.apiKey,
        },
      },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(`⇄ ${FN}: rolling out`);
    expect(result.stdout).toMatch(/VERDICT: FAILED/);
    expect(result.stderr).toMatch(/✗ deploy failed: rollout of create-recognition: VERDICT: FAILED/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(server.apiKey);
    expect(await activeOf(FN)).toBe(green);
  }, 120_000);

  it('refuses a bad policy before changing anything', async () => {
    const before = server.stats.requests;
    const error = await run({ policy: { watchWindowMs: 10 } }).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/invalid rollout policy/);
    expect(server.stats.requests).toBe(before);
  });

  it('--direct uploads and activates a changed bundle without a rollout', async () => {
    writeFileSync(
      bundlePath(),
      `${readFileSync(path.join(ROOT, 'functions', FN, 'dist', 'main.js'), 'utf8')}\n// v3\n`,
    );
    const report = await run({ direct: true });
    expect(report.functions[FN]?.code).toBe('deployed');
    expect(report.functions[FN]?.rollout).toBeUndefined();
    expect(lines.some((l) => l.startsWith(`  ↑ ${FN}:`) && l.endsWith('direct: --direct'))).toBe(true);
    expect(await health(FN)).toEqual({ status: 200, deploymentId: report.functions[FN]?.deploymentId });
  }, 120_000);

  it('resumes a rollout an earlier run left unfinished, then rolls its own code out', async () => {
    // An earlier run (e.g. a deploy killed mid-rollout) that stopped right after starting.
    const { orchestrator } = createRolloutRunner({
      endpoint: server.endpoint,
      projectId: server.projectId,
      key: server.apiKey,
      owner: 'killed-run',
      onEvent: () => {},
    });
    const archive = tarGz(path.join(source, 'functions', FN), ['dist']);
    const interrupted = await orchestrator.start(
      {
        functionId: FN,
        code: { archive: new Uint8Array(archive), entrypoint: 'dist/main.js' },
        policy: localRolloutPolicy,
      },
      { maxRunMs: 1 },
    );
    expect(interrupted.done).toBe(false);

    writeFileSync(bundlePath(), `${readFileSync(bundlePath(), 'utf8')}\n// v4\n`);
    const report = await run();
    const text = lines.join('\n');
    expect(text).toContain(`rollout ${interrupted.rolloutId} was left unfinished`);
    expect(text).toMatch(/earlier rollout: VERDICT: /);
    expect((await orchestrator.get(interrupted.rolloutId)).done).toBe(true);
    const view = report.functions[FN]!.rollout!;
    expect(view.rolloutId).not.toBe(interrupted.rolloutId);
    expect(view.status).toBe('succeeded');
    expect(await health(FN)).toEqual({ status: 200, deploymentId: view.green.deploymentId });
  }, 120_000);
});
