import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { deployFunction, packDirectory } from 'appwrite-local';
import { createAppwriteFunctionsPlatform, createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import {
  type CodeBundle,
  countingPlatform,
  RolloutOrchestrator,
  type RolloutPolicyInput,
} from 'resilience-core/deployment';
import {
  createLiveWithTwin,
  DEPLOY_FIXTURES as FIXTURES,
  startDeployServer,
} from '../test/deploy-helpers.ts';
import type { Bench, Figure } from './lib.ts';

const policy: RolloutPolicyInput = {
  buildPollInitialMs: 50,
  buildPollMaxMs: 250,
  watchWindowMs: 2_000,
  watchIntervalMs: 500,
  minSamples: 5,
  lockTtlMs: 2_000,
};

/**
 * Blue-green switch and rollback on the local Appwrite server with real bundles: API calls and wall time of
 * the switch (activate the prebuilt green) and of the rollback (reactivate blue), each compared with the
 * usual alternative measured in the same run — a push-style redeploy (upload with `activate: true`, wait for
 * the build and the activation), which is what `appwrite push` does and what a "rollback by redeploying the
 * old code" costs. Target: one API call each for switch and rollback.
 */
const bench: Bench = {
  name: 'deploy',
  async run(ctx) {
    const deployServer = await startDeployServer({ projectId: 'bench' });
    const { server } = deployServer;
    try {
      const conn = { endpoint: server.endpoint, projectId: server.projectId, key: server.apiKey };
      const bundle = async (name: string): Promise<CodeBundle> => ({
        archive: new Uint8Array(await packDirectory(path.join(FIXTURES, name))),
        entrypoint: 'index.js',
        commands: '',
      });
      const setup = (id: string) => createLiveWithTwin(deployServer, id, { pollMs: 20 });
      const rollout = async (id: string, code: CodeBundle) => {
        const platform = countingPlatform(createAppwriteFunctionsPlatform(conn));
        const orchestrator = new RolloutOrchestrator({ store: createAppwriteTableStore(conn), platform });
        const t0 = performance.now();
        const view = await orchestrator.start({ functionId: id, code, policy });
        return { view, totalMs: performance.now() - t0, calls: platform.stats };
      };

      await setup('bench-good');
      const good = await rollout('bench-good', await bundle('good'));
      await setup('bench-err');
      const bad = await rollout('bench-err', await bundle('errors-after-switch'));
      if (good.view.status !== 'succeeded' || bad.view.status !== 'rolled_back') {
        throw new Error(`unexpected outcomes: ${good.view.status} / ${bad.view.status}`);
      }

      // Peer: push-style redeploy (upload, build, auto-activate), timed until the function serves it.
      await setup('bench-peer');
      const t0 = performance.now();
      await deployFunction({
        endpoint: conn.endpoint,
        projectId: conn.projectId,
        apiKey: conn.key,
        entrypoint: 'index.js',
        commands: '',
        functionId: 'bench-peer',
        dir: path.join(FIXTURES, 'good'),
        pollMs: 20,
      });
      const redeployMs = performance.now() - t0;
      const redeployCalls = 1 /* createDeployment */ + 2; /* ≥ one getDeployment + one get until active */

      const sw = good.view.figures.switch!;
      const rb = bad.view.figures.rollback!;
      ctx.table('blue-green switch and rollback (local Appwrite server, real bundles)', [
        {
          step: 'switch (activate prebuilt green)',
          apiCalls: sw.calls,
          wallMs: sw.ms,
          peer: 'redeploy, activate:true',
          peerCalls: `>= ${redeployCalls}`,
          peerMs: Math.round(redeployMs),
        },
        {
          step: 'rollback (reactivate blue)',
          apiCalls: rb.calls,
          wallMs: rb.ms,
          peer: 'redeploy old code',
          peerCalls: `>= ${redeployCalls}`,
          peerMs: Math.round(redeployMs),
        },
        {
          step: 'whole good rollout',
          apiCalls: good.calls.calls,
          wallMs: Math.round(good.totalMs),
          peer: '',
          peerCalls: '',
          peerMs: '',
        },
        {
          step: 'whole failing rollout',
          apiCalls: bad.calls.calls,
          wallMs: Math.round(bad.totalMs),
          peer: '',
          peerCalls: '',
          peerMs: '',
        },
      ]);
      ctx.log(`good rollout calls by method: ${JSON.stringify(good.calls.byMethod)}`);
      const figures: Figure[] = [
        {
          name: 'deploy.switch.api-calls',
          value: sw.calls,
          unit: 'calls',
          target: '= 1',
          pass: sw.calls === 1,
        },
        {
          name: 'deploy.rollback.api-calls',
          value: rb.calls,
          unit: 'calls',
          target: '= 1',
          pass: rb.calls === 1,
        },
        {
          name: 'deploy.switch.wall',
          value: sw.ms,
          unit: 'ms',
          peer: 'redeploy (activate:true)',
          peerValue: redeployMs,
          target: '< peer',
          pass: sw.ms < redeployMs,
        },
        {
          name: 'deploy.rollback.wall',
          value: rb.ms,
          unit: 'ms',
          peer: 'redeploy old code',
          peerValue: redeployMs,
          target: '< peer',
          pass: rb.ms < redeployMs,
        },
        { name: 'deploy.rollout.good.api-calls', value: good.calls.calls, unit: 'calls' },
        { name: 'deploy.rollout.good.wall', value: good.totalMs, unit: 'ms' },
      ];
      return figures;
    } finally {
      await server.stop();
    }
  },
};

export default bench;
