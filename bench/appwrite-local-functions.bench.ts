/**
 * appwrite-local function executions through the real SDK over loopback: a warm execution (reused process)
 * against a cold one (first execution after a deployment switch starts a new process), and against a plain
 * `functions.get` round-trip on the same server (what the runtime adds on top of the HTTP API).
 */
import { join } from 'node:path';
import { deployFunction, startAppwriteLocal } from 'appwrite-local';
import { Client, Functions } from 'node-appwrite';
import { type Bench, type Figure, percentile } from './lib.ts';

const FIXTURE = join(import.meta.dirname, '..', 'test', 'fixtures', 'functions', 'basic');

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const bench: Bench = {
  name: 'appwrite-local-functions',
  async run(ctx) {
    const s = await startAppwriteLocal({
      port: 0,
      memory: true,
      projectId: 'bench',
      apiKey: 'bench-key',
      functions: { autoTick: false },
    });
    try {
      const functions = new Functions(
        new Client().setEndpoint(s.endpoint).setProject('bench').setKey('bench-key'),
      );
      await functions.create({
        functionId: 'b',
        name: 'b',
        runtime: 'node-22' as never,
        entrypoint: 'main.js',
      });
      const deploy = (activate: boolean) =>
        deployFunction({
          endpoint: s.endpoint,
          projectId: 'bench',
          apiKey: 'bench-key',
          functionId: 'b',
          dir: FIXTURE,
          activate,
        });
      const blue = await deploy(true);
      const green = await deploy(false);
      const execute = () => functions.createExecution({ functionId: 'b', xpath: '/echo' });

      const cold: number[] = [];
      for (let i = 0; i < 10; i++) {
        await functions.updateFunctionDeployment({
          functionId: 'b',
          deploymentId: i % 2 ? blue.$id : green.$id,
        });
        cold.push(await timeMs(execute));
      }
      for (let i = 0; i < 20; i++) await execute();
      const warm: number[] = [];
      const get: number[] = [];
      for (let i = 0; i < 200; i++) {
        warm.push(await timeMs(execute));
        get.push(await timeMs(() => functions.get({ functionId: 'b' })));
      }
      const row = (name: string, v: number[]) => ({
        name,
        p50: Number(percentile(v, 50).toFixed(2)),
        p99: Number(percentile(v, 99).toFixed(2)),
        n: v.length,
      });
      ctx.table('Sync execution latency through node-appwrite (ms)', [
        row('warm execution', warm),
        row('cold execution (after activation)', cold),
        row('functions.get (HTTP baseline)', get),
      ]);
      const warmP50 = percentile(warm, 50);
      const coldP50 = percentile(cold, 50);
      const getP50 = percentile(get, 50);
      const figures: Figure[] = [
        {
          name: 'execution.warm.p50',
          value: warmP50,
          unit: 'ms',
          peer: 'cold execution',
          peerValue: coldP50,
          target: '<= 0.25 x cold',
          pass: warmP50 <= 0.25 * coldP50,
        },
        { name: 'execution.warm.p99', value: percentile(warm, 99), unit: 'ms' },
        {
          name: 'execution.warm.overhead',
          value: warmP50 / getP50,
          unit: 'ratio',
          peer: 'functions.get p50',
          peerValue: getP50,
        },
        { name: 'coldStarts', value: s.functions.coldStarts, unit: 'processes' },
      ];
      return figures;
    } finally {
      await s.stop();
    }
  },
};

export default bench;
