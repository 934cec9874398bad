/**
 * `npm run deploy` and the SLO gate (through `deploy()` in process, the same runner as the command), against the
 * local Appwrite with the real create-recognition bundle and a test SLO list: a latency SLO that every execution
 * misses (slower than 1 ms, objective 0.5, so ⌈1 / 0.5⌉ = 2 events are enough to refuse). A changed bundle is
 * refused while that budget is exhausted — the deploy fails naming the SLO and `--force-slo`, blue stays, no
 * rollout is recorded — and rolls out with `forceSlo`, its first history entry recording it.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Functions } from 'node-appwrite';
import { appwriteExecutionCounter } from 'resilience-core/adapters/appwrite';
import { defineSlos } from 'resilience-core/slo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions as declared } from '../scripts/appwrite-config.ts';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';
import { type DeployOptions, deploy } from '../scripts/deploy.ts';
import { createRolloutRunner } from '../scripts/lib/rollout-runner.ts';
import { localRolloutPolicy } from './deploy-helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const FN = 'create-recognition';
const ONLY = [FN, `${FN}-standby`];
const SLOS = defineSlos([
  { id: 'test-latency', functionId: FN, kind: 'latency', objective: 0.5, thresholdMs: 1 },
]);

let server: AppwriteLocal;
let api: Functions;
let source: string;
let lines: string[] = [];

const run = (extra: Partial<DeployOptions> = {}) => {
  lines = [];
  return deploy({
    endpoint: server.endpoint,
    projectId: server.projectId,
    key: server.apiKey,
    build: false,
    only: ONLY,
    sourceRoot: source,
    policy: localRolloutPolicy,
    slo: { slos: SLOS },
    out: (line) => lines.push(line),
    pollMs: 50,
    schemaPollMs: 20,
    buildTimeoutMs: 60_000,
    ...extra,
  });
};
const bundlePath = () => path.join(source, 'functions', FN, 'dist', 'main.js');
const change = (tag: string) =>
  writeFileSync(bundlePath(), `${readFileSync(bundlePath(), 'utf8')}\n// ${tag}\n`);
const activeOf = async () => (await api.get({ functionId: FN })).deploymentId;
const rollouts = async () => {
  const { orchestrator } = createRolloutRunner({
    endpoint: server.endpoint,
    projectId: server.projectId,
    key: server.apiKey,
    owner: 'test-reader',
    onEvent: () => {},
  });
  return { orchestrator, list: (await orchestrator.history(FN, { limit: 10 })).rollouts };
};

beforeAll(async () => {
  source = mkdtempSync(path.join(tmpdir(), 'slo-gate-deploy-'));
  for (const fn of declared.filter((f) => ONLY.includes(f.$id))) {
    const dist = path.join(ROOT, fn.path, 'dist');
    if (!existsSync(path.join(dist, 'main.js'))) await buildFunction(path.join(ROOT, fn.path));
    cpSync(dist, path.join(source, fn.path, 'dist'), { recursive: true });
  }
  server = await startAppwriteLocal({ port: 0, memory: true, projectId: 'slogate', apiKey: 'slogate-key' });
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  api = new Functions(client);
  await run(); // first deploy: direct, no rollout
  for (let i = 0; i < 3; i++) {
    await api.createExecution({ functionId: FN, xpath: '/health', method: 'GET' as never });
  }
  // Precondition: the test SLO's bad events are there (every execution is slower than 1 ms).
  const slow = await appwriteExecutionCounter(client).count({
    functionId: FN,
    triggers: ['http'],
    since: Date.now() - 3_600_000,
    until: Date.now() + 60_000,
    bad: { kind: 'slow', slowerThanMs: 1 },
  });
  expect(slow.count).toBeGreaterThanOrEqual(3);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (source) rmSync(source, { recursive: true, force: true });
});

describe('npm run deploy and the SLO gate', () => {
  it('refuses to roll out a function whose error budget is exhausted, naming --force-slo; blue stays', async () => {
    const blue = await activeOf();
    change('v2');
    await expect(run()).rejects.toThrow(
      /error budget exhausted: test-latency -100\.0% of budget left \(\d+\/\d+ bad over 30 d\)\. Rollouts of create-recognition are frozen .*\(`npm run deploy -- --force-slo`\)$/,
    );
    expect(await activeOf()).toBe(blue);
    expect((await rollouts()).list).toHaveLength(0);
  }, 120_000);

  it('rolls out with forceSlo, the first history entry recording it', async () => {
    const blue = await activeOf();
    const report = await run({ forceSlo: true });
    const entry = report.functions[FN]!;
    expect(entry.code).toBe('rolled_out');
    expect(entry.rollout).toMatchObject({ status: 'succeeded', blue: { deploymentId: blue } });
    expect(await activeOf()).toBe(entry.deploymentId);
    expect(
      lines.some((l) =>
        /! pending\s+rollout of create-recognition started: .*; FORCED despite an exhausted error budget \(test-latency/.test(
          l,
        ),
      ),
    ).toBe(true);
    const { orchestrator, list } = await rollouts();
    const events = await orchestrator.events(list[0]!.rolloutId);
    expect(events[0]).toMatchObject({ level: 'warn' });
    expect(events[0]!.message).toMatch(/FORCED despite an exhausted error budget \(test-latency/);
  }, 120_000);
});
