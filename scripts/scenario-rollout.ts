/**
 * Scenario step of blue-green rollouts (issue 7): a new build of create-recognition (the same bundle, uploaded
 * again: a new deployment id) goes through the deploy-orchestrator function — build, validate on the
 * `create-recognition-standby` twin, switch with one activation call, watch — and the live function's active
 * deployment changes from blue to green. The watch is shortened to a few seconds (policy override) so the step
 * stays short; `npm run rollout` and the function's defaults watch for a minute.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packDirectory } from 'appwrite-local';
import { Functions } from 'node-appwrite';
import { check, type ScenarioStep } from './scenario-context.ts';
import { expectStatus, truncate } from './scenario-support.ts';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const FUNCTION_ID = 'create-recognition';

/** A short rollout: quick build polls, a 4 s watch judged every second on at least 3 executions. */
const POLICY = {
  buildPollInitialMs: 100,
  buildPollMaxMs: 500,
  watchWindowMs: 4_000,
  watchIntervalMs: 1_000,
  minSamples: 3,
  lockTtlMs: 10_000,
};

interface RolloutAnswer {
  ok: boolean;
  success: boolean;
  rollout: {
    rolloutId: string;
    status: string;
    done: boolean;
    reason: string | null;
    blue: { deploymentId: string | null };
    green: { deploymentId: string | null; active: boolean };
    standby: { functionId: string | null };
    watch: { samples: number; errors: number; p95Ms?: number | null } | null;
    figures: { switch: { calls: number; ms: number } | null };
  };
}

const rolloutStep: ScenarioStep = {
  name: 'blue-green: deploy-orchestrator rolls out a new build of create-recognition',
  async run(ctx) {
    for (const id of [FUNCTION_ID, `${FUNCTION_ID}-standby`, 'deploy-orchestrator'])
      check(ctx.deployed.includes(id), `${id} is not deployed`);
    const functions = new Functions(ctx.client);
    const blue = (await functions.get({ functionId: FUNCTION_ID })).deploymentId;
    const archive = await packDirectory(join(root, 'functions', FUNCTION_ID), ['dist']);
    const started = performance.now();
    const r = await ctx.execute('deploy-orchestrator', {
      path: '/rollouts',
      method: 'POST',
      body: {
        functionId: FUNCTION_ID,
        code: { archiveBase64: archive.toString('base64'), entrypoint: 'dist/main.js' },
        policy: POLICY,
        maxRunMs: 25_000,
      },
    });
    const ms = Math.round(performance.now() - started);
    expectStatus(r, 200, 'POST /rollouts');
    const { rollout } = r.body as RolloutAnswer;
    check(
      rollout.status === 'succeeded',
      `the rollout ended ${rollout.status}: ${truncate(rollout.reason ?? JSON.stringify(rollout))}`,
    );
    const live = (await functions.get({ functionId: FUNCTION_ID })).deploymentId;
    check(
      rollout.blue.deploymentId === blue,
      `the rollout's blue is ${rollout.blue.deploymentId}, was ${blue}`,
    );
    check(
      live === rollout.green.deploymentId && live !== blue,
      `create-recognition's active deployment is ${live}; blue ${blue}, green ${rollout.green.deploymentId}`,
    );
    const health = await ctx.execute(FUNCTION_ID, { path: '/health' });
    expectStatus(health, 200, 'GET /health after the switch');
    check(
      health.execution.deploymentId === live,
      `/health ran on ${health.execution.deploymentId}, not the new deployment ${live}`,
    );
    const watch = rollout.watch;
    return [
      `rollout ${rollout.rolloutId}: ${rollout.status} in ${ms} ms (validated on ${rollout.standby.functionId}; switch ${rollout.figures.switch?.calls ?? '?'} call(s), ${rollout.figures.switch?.ms ?? '?'} ms);`,
      `watch: ${watch ? `${watch.samples} executions, ${watch.errors} errors` : 'no summary'}; active deployment ${blue} → ${live}`,
    ].join('\n      ');
  },
};

/** The blue-green steps `npm start` runs (spread into scripts/scenario.ts). */
export const rolloutSteps: ScenarioStep[] = [rolloutStep];
