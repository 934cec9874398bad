/**
 * The watch counts executions by their END time and treats a timed-out probe as a failure (issue 10.11).
 * Appwrite records a synchronous execution when it ends and an async/schedule/event one when it is queued
 * (platform notes §F5); a probe that outlives the 30 s sync limit answers 408 (the adapter's `TIMEOUT`) while
 * Appwrite records it `failed`/500.
 */
import { ResilienceError } from 'resilience-core';
import { type ExecutionInfo, mergeProbeTimeouts } from 'resilience-core/deployment';
import { simBundle } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fastPolicy, settle, simWorld } from '../deploy-sim.ts';

const timeout = () =>
  new ResilienceError('TIMEOUT', 'functions.createExecution/app: the execution timed out (408)');

/** Makes `app`'s /health probes after the switch's verification time out, `count` of them. */
function timeOutProbes(
  w: ReturnType<typeof simWorld>,
  count: number,
  options: { recordLikeAppwrite: boolean },
): { timedOut: () => number } {
  let healthAfterSwitch = 0;
  let timedOut = 0;
  w.platform.interceptor = async (method, args, proceed) => {
    const [fn, request] = args as [string, { path?: string }];
    if (method !== 'execute' || fn !== 'app' || request.path !== '/health') return proceed();
    if (w.platform.activeOf('app') === w.blue) return proceed();
    healthAfterSwitch++;
    if (healthAfterSwitch === 1 || timedOut >= count) return proceed(); // the first one verifies the switch
    timedOut++;
    if (options.recordLikeAppwrite) {
      w.platform.record('app', {
        status: 'failed',
        responseStatusCode: 500,
        requestPath: '/health',
        durationMs: 30_000,
      });
    }
    throw timeout();
  };
  return { timedOut: () => timedOut };
}

describe('the watch and timed-out probes', () => {
  it('a probe that times out (408) is a failure of green: the rollout rolls back', async () => {
    const w = simWorld();
    const probes = timeOutProbes(w, 3, { recordLikeAppwrite: false });
    const view = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    expect(probes.timedOut()).toBe(3);
    expect(view.status).toBe('rolled_back');
    expect(view.reason).toMatch(/error rate 30\.0% \(3\/10\)/);
    expect(w.platform.activeOf('app')).toBe(w.blue);
  });

  it('a timed-out probe counts once, also after Appwrite has recorded it (failed/500)', async () => {
    const w = simWorld();
    const probes = timeOutProbes(w, 3, { recordLikeAppwrite: true });
    const view = await settle(
      w.clock,
      w.orchestrator().start({
        functionId: 'app',
        code: simBundle(),
        policy: { ...fastPolicy, maxErrorRate: 0.5, maxP95LatencyMs: 60_000 },
      }),
    );
    expect(probes.timedOut()).toBe(3);
    expect(view.status).toBe('succeeded');
    // 3 errors, not 6: each timeout matched its record; the watch went on with more probes and evaluations.
    expect(view.watch).toMatchObject({ errors: 3 });
    expect(view.watch!.evaluations).toBeGreaterThan(1);
    expect(view.watch!.samples).toBeGreaterThan(10);
  });

  it('mergeProbeTimeouts: a timeout with no record yet counts; a matching failed record replaces it', () => {
    const at = 1_000_000;
    const exec = (id: string, fields: Partial<ExecutionInfo>): ExecutionInfo => ({
      id,
      functionId: 'app',
      deploymentId: 'g',
      status: 'failed',
      trigger: 'http',
      requestMethod: 'GET',
      requestPath: '/health',
      responseStatusCode: 500,
      responseBody: '',
      durationMs: 30_000,
      createdAt: at,
      endedAt: at,
      ...fields,
    });
    const t = exec('probe-timeout:1', { responseStatusCode: 408 });
    expect(mergeProbeTimeouts([], [t]).map((e) => e.id)).toEqual(['probe-timeout:1']);
    expect(mergeProbeTimeouts([exec('r1', {})], [t]).map((e) => e.id)).toEqual(['r1']);
    // Another path, a success, or a record far from the timeout is no match.
    for (const other of [
      exec('r2', { requestPath: '/' }),
      exec('r3', { status: 'completed', responseStatusCode: 200 }),
      exec('r4', { endedAt: at + 60_000 }),
    ])
      expect(mergeProbeTimeouts([other], [t]).map((e) => e.id)).toEqual([other.id, t.id]);
    // One record absorbs one timeout only.
    const t2 = exec('probe-timeout:2', {});
    expect(mergeProbeTimeouts([exec('r1', {})], [t, t2]).map((e) => e.id)).toEqual(['r1', 'probe-timeout:2']);
  });
});

describe('the watch counts executions by their end time', () => {
  it('async executions of green queued before the switch that fail after it are counted', async () => {
    const w = simWorld();
    // Right after the switch, 10 async executions appear that were queued 60 s earlier (Appwrite records them
    // when queued, `$createdAt`), ran green, and failed just now.
    w.platform.interceptor = async (method, args, proceed) => {
      const result = await proceed();
      if (method === 'activateDeployment' && args[0] === 'app' && w.platform.activeOf('app') !== w.blue) {
        const now = w.clock.now();
        for (let i = 0; i < 10; i++)
          w.platform.record('app', {
            trigger: 'http',
            status: 'failed',
            responseStatusCode: 500,
            createdAt: now - 60_000,
            endedAt: now + 100,
          });
      }
      return result;
    };
    const view = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    expect(view.status).toBe('rolled_back');
    expect(view.reason).toMatch(/error rate/);
  });

  it('records of green that ended before the switch are not counted', async () => {
    const w = simWorld();
    w.platform.interceptor = async (method, args, proceed) => {
      if (method === 'activateDeployment' && args[0] === 'app' && w.platform.activeOf('app') === w.blue) {
        const result = await proceed();
        // Failures that ENDED 60 s before this switch (e.g. an earlier activation of the same deployment).
        const now = w.clock.now();
        for (let i = 0; i < 10; i++)
          w.platform.record('app', {
            status: 'failed',
            responseStatusCode: 500,
            createdAt: now - 70_000,
            endedAt: now - 60_000,
          });
        return result;
      }
      return proceed();
    };
    const view = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    expect(view.status).toBe('succeeded');
    expect(view.watch).toMatchObject({ errors: 0 });
  });
});
