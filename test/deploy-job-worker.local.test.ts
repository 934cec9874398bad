/**
 * Blue-green rollout of a cron/event function, end to end: the real job-worker bundle on the local Appwrite
 * server provisioned from the repository's appwrite.json (job-worker with its minute schedule and job-created
 * event, and its twin job-worker-standby with neither), the real orchestrator and node-appwrite adapters.
 *
 * What it shows: the new build is validated on the twin (GET /health there drains nothing: due jobs stay
 * PENDING); until the switch, the live function's schedule keeps running on blue (a cron tick fired just
 * before the activation call runs blue and drains the jobs); after it, cron and event executions run green;
 * the twin never runs a schedule or an event. The minute scheduler is driven by hand (`tick`).
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppwriteLocal, deployFunction, packDirectory, startAppwriteLocal } from 'appwrite-local';
import { Client, Functions, Query } from 'node-appwrite';
import { listAll, systemClock } from 'resilience-core';
import { createAppwriteFunctionsPlatform, createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import {
  countingPlatform,
  type FunctionsPlatform,
  type RolloutEvent,
  RolloutOrchestrator,
} from 'resilience-core/deployment';
import { createJobQueue, JOB_TABLES, productJobTypes } from 'resilience-core/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORKER_DIR = path.join(ROOT, 'functions', 'job-worker');

let server: AppwriteLocal;
let functions: Functions;
let greenDir: string;
let blue: string;

const conn = () => ({ endpoint: server.endpoint, projectId: server.projectId, key: server.apiKey });
const store = () => createAppwriteTableStore(conn());
const jobStatuses = async () => (await listAll(store(), JOB_TABLES.queue)).map((r) => String(r.status));

async function executionsOf(functionId: string) {
  const out = await functions.listExecutions({ functionId, queries: [Query.limit(100)] });
  return out.executions;
}

beforeAll(async () => {
  await buildFunction(WORKER_DIR);
  // The "new build": the same bundle with one byte changed, so its archive (and code hash) differs.
  greenDir = mkdtempSync(path.join(tmpdir(), 'job-worker-green-'));
  cpSync(path.join(WORKER_DIR, 'dist'), path.join(greenDir, 'dist'), { recursive: true });
  appendFileSync(path.join(greenDir, 'dist', 'main.js'), '\n// green build\n');

  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'jw-rollout',
    apiKey: 'key',
    config: path.join(ROOT, 'appwrite.json'),
    functions: { autoTick: false },
  });
  functions = new Functions(
    new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey),
  );

  // Due jobs created before any deployment is active: no event execution picks them up, so only what the
  // rollout (or a cron tick) runs can drain them.
  const queue = createJobQueue({ store: store(), clock: systemClock, types: productJobTypes });
  for (let i = 0; i < 3; i++) {
    await queue.enqueue({ orgId: 'acme', type: 'cleanup-recognitions', payload: { daysOld: 90 } });
  }

  const common = {
    endpoint: server.endpoint,
    projectId: server.projectId,
    apiKey: server.apiKey,
    dir: WORKER_DIR,
    files: ['dist'],
    entrypoint: 'dist/main.js',
    commands: '',
  };
  blue = (await deployFunction({ ...common, functionId: 'job-worker' })).$id;
  await deployFunction({ ...common, functionId: 'job-worker-standby' });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (greenDir) rmSync(greenDir, { recursive: true, force: true });
});

describe('rolling out a new job-worker build', () => {
  it('validates on the twin without draining, keeps the schedule on blue until the switch, then runs green', async () => {
    const twin = await functions.get({ functionId: 'job-worker-standby' });
    expect({ schedule: twin.schedule, events: twin.events, execute: twin.execute }).toEqual({
      schedule: '',
      events: [],
      execute: [],
    });
    const live = await functions.get({ functionId: 'job-worker' });
    expect(live.schedule).toBe('* * * * *');
    expect(live.events.length).toBe(1);
    expect(await jobStatuses()).toEqual(['PENDING', 'PENDING', 'PENDING']);

    const minute = Date.now();
    const beforeSwitch: {
      statuses: string[];
      twinExecutions: { trigger: string; method: string; path: string }[];
      tick: { functionId: string; deploymentId: string; trigger: string }[];
      drained: string[];
      activeDuringTick: string;
    }[] = [];

    // The switch is the one activation call on the live function: just before it, record what validation
    // left behind, then fire a cron minute and let it finish — it must run blue.
    const inner = createAppwriteFunctionsPlatform(conn());
    const platform: FunctionsPlatform = {
      ...inner,
      async activateDeployment(functionId, deploymentId) {
        if (functionId === 'job-worker' && beforeSwitch.length === 0) {
          const statuses = await jobStatuses();
          const twinExecutions = (await executionsOf('job-worker-standby')).map((e) => ({
            trigger: e.trigger,
            method: e.requestMethod,
            path: e.requestPath,
          }));
          const started = server.functions.tick(minute);
          await server.functions.settle();
          beforeSwitch.push({
            statuses,
            twinExecutions,
            tick: started.map((e) => ({
              functionId: e.functionId,
              deploymentId: e.deploymentId,
              trigger: e.trigger,
            })),
            drained: await jobStatuses(),
            activeDuringTick: (await functions.get({ functionId: 'job-worker' })).deploymentId,
          });
        }
        return inner.activateDeployment(functionId, deploymentId);
      },
    };
    const counted = countingPlatform(platform);
    const events: RolloutEvent[] = [];
    const orchestrator = new RolloutOrchestrator({
      store: store(),
      platform: counted,
      onEvent: (e) => events.push(e),
    });
    const archive = await packDirectory(greenDir, ['dist']);
    const view = await orchestrator.start({
      functionId: 'job-worker',
      code: { archive: new Uint8Array(archive), entrypoint: 'dist/main.js', commands: '' },
      policy: {
        buildTimeoutMs: 60_000,
        buildPollInitialMs: 100,
        buildPollMaxMs: 500,
        watchWindowMs: 3_000,
        watchIntervalMs: 1_000,
        minSamples: 3,
        maxProbesPerInterval: 3,
        lockTtlMs: 5_000,
        switchVerifyAttempts: 10,
      },
    });

    expect(view.status, view.reason ?? '').toBe('succeeded');
    const green = view.green.deploymentId!;
    expect(green).not.toBe(blue);
    expect(view.standby.functionId).toBe('job-worker-standby');
    expect(view.validation).toMatchObject({ skipped: false, functionId: 'job-worker-standby' });
    expect(view.figures.switch?.calls).toBe(1);

    // Before the switch: validation ran GET /health on the twin only, and drained nothing.
    const [seen] = beforeSwitch;
    expect(seen).toBeDefined();
    expect(seen!.statuses).toEqual(['PENDING', 'PENDING', 'PENDING']);
    expect(seen!.twinExecutions.length).toBeGreaterThan(0);
    expect(seen!.twinExecutions.every((e) => e.trigger === 'http' && e.path === '/health')).toBe(true);
    // The cron minute fired during validation ran the live function on blue (never the twin) and drained.
    expect(seen!.activeDuringTick).toBe(blue);
    expect(seen!.tick).toEqual([{ functionId: 'job-worker', deploymentId: blue, trigger: 'schedule' }]);
    expect(seen!.drained).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);

    // After the switch: green is active; a new job's event and the next cron minute run green.
    expect((await functions.get({ functionId: 'job-worker' })).deploymentId).toBe(green);
    const queue = createJobQueue({ store: store(), clock: systemClock, types: productJobTypes });
    const { jobId } = await queue.enqueue({
      orgId: 'acme',
      type: 'cleanup-recognitions',
      payload: { daysOld: 30 },
    });
    const next = server.functions.tick(minute + 60_000);
    expect(next.map((e) => [e.functionId, e.deploymentId])).toEqual([['job-worker', green]]);
    await server.functions.settle();
    expect((await queue.get(jobId))?.status).toBe('COMPLETED');
    const liveRuns = (await executionsOf('job-worker')).filter((e) => e.trigger !== 'http');
    expect(liveRuns.map((e) => [e.trigger, e.deploymentId])).toEqual(
      expect.arrayContaining([
        ['schedule', blue],
        ['schedule', green],
        ['event', green],
      ]),
    );
    expect(liveRuns.filter((e) => e.deploymentId === blue).map((e) => e.trigger)).toEqual(['schedule']);

    // The twin never ran a schedule or an event, before or after.
    const twinRuns = await executionsOf('job-worker-standby');
    expect(twinRuns.filter((e) => e.trigger !== 'http')).toEqual([]);
    expect(events.some((e) => /validating green on the standby twin/.test(e.message))).toBe(true);
  }, 120_000);
});
