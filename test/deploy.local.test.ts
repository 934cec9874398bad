/**
 * Blue-green rollouts end to end: the real orchestrator, the node-appwrite adapters (TableStore and
 * FunctionsPlatform) and real bundles (test/fixtures/deploy/*) on the local Appwrite server, which builds
 * deployments and runs executions in Node processes. Real time, short policy windows.
 */
import path from 'node:path';
import { type AppwriteLocal, deployFunction, packDirectory } from 'appwrite-local';
import type { Functions } from 'node-appwrite';
import { hasCode } from 'resilience-core';
import { createAppwriteFunctionsPlatform, createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import {
  type CodeBundle,
  countingPlatform,
  type FunctionsPlatform,
  ROLLOUTS_TABLE,
  RolloutOrchestrator,
  type RolloutPolicyInput,
} from 'resilience-core/deployment';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../scripts/scenario-support.ts';
import {
  createLiveWithTwin,
  DEPLOY_FIXTURES as FIXTURES,
  startDeployServer,
  waitForLockLeaseEnd,
} from './deploy-helpers.ts';

/** Short windows: each rollout takes a few seconds of real time. */
const policy: RolloutPolicyInput = {
  buildTimeoutMs: 30_000,
  buildPollInitialMs: 100,
  buildPollMaxMs: 500,
  watchWindowMs: 3_000,
  watchIntervalMs: 1_000,
  minSamples: 5,
  maxProbesPerInterval: 5,
  lockTtlMs: 2_500,
  switchVerifyAttempts: 10,
};

let server: AppwriteLocal;
let functions: Functions;
const bundles: Record<string, CodeBundle> = {};

/** A fresh live function `<id>` (blue = fixture `blue`, active; users may execute it) and its twin `<id>-standby`. */
const freshFunction = (id: string) => createLiveWithTwin({ server, functions }, id, { execute: ['users'] });

function world(wrap: (p: FunctionsPlatform) => FunctionsPlatform = (p) => p) {
  const conn = { endpoint: server.endpoint, projectId: server.projectId, key: server.apiKey };
  const store = createAppwriteTableStore(conn);
  const platform = countingPlatform(wrap(createAppwriteFunctionsPlatform(conn)));
  const orchestrator = new RolloutOrchestrator({ store, platform });
  return { store, platform, orchestrator };
}

async function activeOf(id: string): Promise<string> {
  return (await functions.get({ functionId: id })).deploymentId;
}

beforeAll(async () => {
  ({ server, functions } = await startDeployServer());
  for (const name of ['good', 'bad-build', 'bad-health', 'errors-after-switch']) {
    const archive = await packDirectory(path.join(FIXTURES, name));
    bundles[name] = { archive: new Uint8Array(archive), entrypoint: 'index.js', commands: '' };
  }
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('blue-green rollouts on the local Appwrite server', () => {
  it('a good version is switched in one call, watched and succeeds; blue stays as the rollback target', async () => {
    const blue = await freshFunction('good-fn');
    const { orchestrator, platform } = world();
    const view = await orchestrator.start({ functionId: 'good-fn', code: bundles.good, policy });
    expect(view.status).toBe('succeeded');
    expect(view.figures.switch?.calls).toBe(1);
    expect(await activeOf('good-fn')).toBe(view.green.deploymentId);
    expect(view.blue).toEqual({ deploymentId: blue, status: 'standby' });
    expect(view.watch!.samples).toBeGreaterThanOrEqual(5);
    expect(platform.stats.byMethod.activateDeployment).toBe(2); // the twin, then the live switch
    const exec = await functions.createExecution({
      functionId: 'good-fn',
      xpath: '/health',
      method: 'GET' as never,
    });
    expect(JSON.parse(exec.responseBody)).toMatchObject({
      version: 'green',
      deploymentId: view.green.deploymentId,
    });
  });

  it('a version whose build fails is never switched', async () => {
    const blue = await freshFunction('build-fn');
    const { orchestrator, platform } = world();
    const view = await orchestrator.start({ functionId: 'build-fn', code: bundles['bad-build'], policy });
    expect(view.status).toBe('failed');
    expect(view.reason).toMatch(/build failed: nothing was switched/);
    expect(await activeOf('build-fn')).toBe(blue);
    expect(platform.stats.byMethod.activateDeployment ?? 0).toBe(0);
  });

  it('a version whose health check fails is never switched', async () => {
    const blue = await freshFunction('health-fn');
    const { orchestrator } = world();
    const view = await orchestrator.start({ functionId: 'health-fn', code: bundles['bad-health'], policy });
    expect(view.status).toBe('failed');
    expect(view.reason).toMatch(
      /pre-switch validation failed on health-fn-standby: GET \/health: status 503/,
    );
    expect(await activeOf('health-fn')).toBe(blue);
  });

  it('a version that errors after the switch is rolled back within one watch interval, blue active again', async () => {
    const blue = await freshFunction('err-fn');
    const { orchestrator, store } = world();
    const view = await orchestrator.start({
      functionId: 'err-fn',
      code: bundles['errors-after-switch'],
      policy,
    });
    expect(view.status).toBe('rolled_back');
    expect(view.reason).toMatch(/error rate/);
    expect(view.figures.rollback?.calls).toBe(1);
    expect(await activeOf('err-fn')).toBe(blue);
    const row = (await store.get(ROLLOUTS_TABLE, view.rolloutId)) as {
      switchedAt: number;
      rollbackStartedAt: number;
    };
    // Decided at the first evaluation after the switch, i.e. within one watch interval (the wall-time bound
    // is loose: the machine running the tests is shared).
    expect(view.watch!.evaluations).toBe(1);
    expect(row.rollbackStartedAt - row.switchedAt).toBeLessThanOrEqual(3_000);
    const exec = await functions.createExecution({
      functionId: 'err-fn',
      xpath: '/',
      method: 'GET' as never,
    });
    expect(exec.responseStatusCode).toBe(200);
    expect(exec.deploymentId).toBe(blue);
  });

  it('an orchestrator killed mid-switch converges on its next run', async () => {
    const blue = await freshFunction('kill-fn');
    // The run dies right after its activation call reached Appwrite, before it could record anything.
    const dead = world((p) => ({
      ...p,
      activateDeployment: async (fn, dep) => {
        await p.activateDeployment(fn, dep);
        if (fn === 'kill-fn') await new Promise<never>(() => {});
      },
    }));
    void dead.orchestrator.start({ functionId: 'kill-fn', code: bundles.good, policy });
    const { orchestrator, store } = world();
    let current = await orchestrator.current('kill-fn');
    for (let i = 0; i < 200 && current?.status !== 'switching'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      current = await orchestrator.current('kill-fn');
    }
    expect(current?.status).toBe('switching');
    await waitFor(
      "the dead run's activation of green",
      async () => ((await activeOf('kill-fn')) !== blue ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 25 },
    );
    const refused = await orchestrator.resume('kill-fn').catch((e: unknown) => e);
    expect(hasCode(refused, 'CONFLICT')).toBe(true); // the dead run's lease has not expired yet
    await waitForLockLeaseEnd(store, 'kill-fn');
    const view = await orchestrator.resume('kill-fn');
    expect(view.status).toBe('succeeded');
    expect(view.rolloutId).toBe(current!.rolloutId);
    expect(view.figures.switch?.calls).toBe(0); // already switched by the dead run: not switched twice
    expect(await activeOf('kill-fn')).toBe(view.green.deploymentId);
  });

  it('a second concurrent rollout of the same function is refused', async () => {
    await freshFunction('twice-fn');
    const a = world().orchestrator.start({ functionId: 'twice-fn', code: bundles.good, policy });
    const b = world().orchestrator.start({ functionId: 'twice-fn', code: bundles.good, policy });
    const results = await Promise.allSettled([a, b]);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(hasCode((rejected[0] as PromiseRejectedResult).reason, 'CONFLICT')).toBe(true);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.status === 'succeeded')).toHaveLength(1);
  });

  it('with a load generator calling the function throughout a good rollout, no request fails', async () => {
    const blue = await freshFunction('load-fn');
    const { orchestrator } = world();
    let running = true;
    const outcomes: { status: number; deploymentId: string; error?: string }[] = [];
    const load = async () => {
      while (running) {
        try {
          const e = await functions.createExecution({
            functionId: 'load-fn',
            xpath: '/work',
            method: 'POST' as never,
            body: '{}',
          });
          outcomes.push({ status: e.responseStatusCode, deploymentId: e.deploymentId });
        } catch (error) {
          outcomes.push({ status: 0, deploymentId: '', error: String(error) });
        }
      }
    };
    const workers = Array.from({ length: 3 }, load);
    await waitFor(
      'the load generator to be answered',
      async () => (outcomes.length >= 3 ? true : undefined),
      {
        timeoutMs: 20_000,
        intervalMs: 10,
      },
    );
    const view = await orchestrator.start({ functionId: 'load-fn', code: bundles.good, policy });
    const atEnd = outcomes.length;
    await waitFor(
      'green to answer the load after the rollout',
      async () =>
        outcomes.slice(atEnd).filter((o) => o.deploymentId === view.green.deploymentId).length >= 3
          ? true
          : undefined,
      { timeoutMs: 20_000, intervalMs: 10 },
    );
    running = false;
    await Promise.all(workers);
    expect(view.status).toBe('succeeded');
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    const served = new Set(outcomes.map((o) => o.deploymentId));
    expect(served.has(blue)).toBe(true);
    expect(served.has(view.green.deploymentId!)).toBe(true);
    expect(outcomes.length).toBeGreaterThan(20);
  });

  it('rolls out an existing inactive deployment by id (the twin gets its downloaded source)', async () => {
    await freshFunction('byid-fn');
    const built = await deployFunction({
      endpoint: server.endpoint,
      projectId: server.projectId,
      apiKey: server.apiKey,
      functionId: 'byid-fn',
      dir: path.join(FIXTURES, 'good'),
      entrypoint: 'index.js',
      commands: '',
      activate: false,
    });
    const { orchestrator, platform } = world();
    const view = await orchestrator.start({ functionId: 'byid-fn', deploymentId: built.$id, policy });
    expect(view.reason).toMatch(/healthy/);
    expect(view.status).toBe('succeeded');
    expect(await activeOf('byid-fn')).toBe(built.$id);
    expect(platform.stats.byMethod.downloadDeployment).toBe(1);
    expect(platform.stats.byMethod.createDeployment).toBe(1); // the twin's copy only
  });

  it('bad input is refused before anything changes', async () => {
    const blue = await freshFunction('input-fn');
    const { orchestrator, platform } = world();
    const cases: [Record<string, unknown>, string][] = [
      [{ functionId: 'no-such-fn', code: bundles.good, policy }, 'NOT_FOUND'],
      [{ functionId: 'input-fn', policy }, 'INVALID_INPUT'],
      [
        { functionId: 'input-fn', code: bundles.good, policy: { ...policy, maxErrorRate: 1.5 } },
        'INVALID_INPUT',
      ],
    ];
    for (const [input, code] of cases) {
      const error = await orchestrator.start(input).catch((e: unknown) => e);
      expect(hasCode(error, code as 'NOT_FOUND')).toBe(true);
    }
    expect(platform.stats.byMethod.createDeployment ?? 0).toBe(0);
    expect(await activeOf('input-fn')).toBe(blue);
    expect(await orchestrator.current('input-fn')).toBeNull();
  });
});
