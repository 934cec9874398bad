import { hasCode } from 'resilience-core';
import {
  canTransition,
  createBlueGreen,
  ROLLOUT_STATUSES,
  ROLLOUT_TRANSITIONS,
  ROLLOUTS_TABLE,
  type RolloutPolicyInput,
  type RolloutStatus,
} from 'resilience-core/deployment';
import { type SimBehaviourInput, simBundle } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fastPolicy, settle, simWorld, statusPath } from '../deploy-sim.ts';

const HAPPY: RolloutStatus[] = ['pending', 'building', 'validating', 'switching', 'watching', 'succeeded'];

interface Scenario {
  name: string;
  version: SimBehaviourInput;
  options?: { skipHealthCheck?: boolean; autoRollback?: boolean; policy?: RolloutPolicyInput };
  expectStatus: RolloutStatus;
  expectPath: RolloutStatus[];
  /** Which deployment is active on `app` at the end. */
  expectActive: 'blue' | 'green';
  /** activateDeployment calls on the live function. */
  expectLiveActivations: number;
  expectReason?: RegExp;
}

const scenarios: Scenario[] = [
  {
    name: 'a good version is switched, watched and succeeds',
    version: { version: 'v2' },
    expectStatus: 'succeeded',
    expectPath: HAPPY,
    expectActive: 'green',
    expectLiveActivations: 1,
    expectReason: /healthy over the watch/,
  },
  {
    name: 'a version whose build fails is never switched',
    version: { buildOk: false },
    expectStatus: 'failed',
    expectPath: ['pending', 'building', 'failed'],
    expectActive: 'blue',
    expectLiveActivations: 0,
    expectReason: /build failed: nothing was switched/,
  },
  {
    name: 'a version whose health check fails is never switched',
    version: { healthStatus: 503 },
    expectStatus: 'failed',
    expectPath: ['pending', 'building', 'validating', 'failed'],
    expectActive: 'blue',
    expectLiveActivations: 0,
    expectReason: /pre-switch validation failed .*status 503/,
  },
  {
    name: 'a version that errors after the switch is rolled back to blue',
    version: { failOnLive: true },
    expectStatus: 'rolled_back',
    expectPath: ['pending', 'building', 'validating', 'switching', 'watching', 'rolling_back', 'rolled_back'],
    expectActive: 'blue',
    expectLiveActivations: 2,
    expectReason: /watch failed: error rate 100.0% \(10\/10\)/,
  },
  {
    name: 'a version too slow after the switch is rolled back (p95 latency)',
    version: { latencyMs: 9_000 },
    options: { policy: { maxP95LatencyMs: 5_000 } },
    expectStatus: 'rolled_back',
    expectPath: ['pending', 'building', 'validating', 'switching', 'watching', 'rolling_back', 'rolled_back'],
    expectActive: 'blue',
    expectLiveActivations: 2,
    expectReason: /p95 latency 9000 ms above 5000 ms/,
  },
  {
    name: 'without autoRollback a failing watch ends failed with green left active',
    version: { latencyMs: 9_000 },
    options: { autoRollback: false, policy: { maxP95LatencyMs: 5_000 } },
    expectStatus: 'failed',
    expectPath: ['pending', 'building', 'validating', 'switching', 'watching', 'failed'],
    expectActive: 'green',
    expectLiveActivations: 1,
    expectReason: /autoRollback is off/,
  },
  {
    name: 'skipHealthCheck skips validation and still switches and watches',
    version: { version: 'v2' },
    options: { skipHealthCheck: true },
    expectStatus: 'succeeded',
    expectPath: ['pending', 'building', 'switching', 'watching', 'succeeded'],
    expectActive: 'green',
    expectLiveActivations: 1,
  },
  {
    name: 'a build slower than buildTimeoutMs fails without switching',
    version: { buildMs: 120_000 },
    options: { policy: { buildTimeoutMs: 30_000 } },
    expectStatus: 'failed',
    expectPath: ['pending', 'building', 'failed'],
    expectActive: 'blue',
    expectLiveActivations: 0,
    expectReason: /not ready within 30000 ms/,
  },
  {
    name: 'a failing smoke request (wrong shape) blocks the switch',
    version: { bodies: { '/recognitions': { ok: true, items: 'nope' } } },
    options: {
      policy: {
        smokeRequests: [{ path: '/recognitions', expectShape: { ok: 'boolean', items: ['object'] } }],
      },
    },
    expectStatus: 'failed',
    expectPath: ['pending', 'building', 'validating', 'failed'],
    expectActive: 'blue',
    expectLiveActivations: 0,
    expectReason: /GET \/recognitions: \$\.items: expected array/,
  },
  {
    name: 'passing smoke requests let the switch happen',
    version: { bodies: { '/recognitions': { ok: true, items: [{ id: 'r1' }] } } },
    options: {
      policy: {
        smokeRequests: [
          { path: '/recognitions', expectStatus: [200, 204], expectShape: { items: [{ id: 'string' }] } },
        ],
      },
    },
    expectStatus: 'succeeded',
    expectPath: HAPPY,
    expectActive: 'green',
    expectLiveActivations: 1,
  },
  {
    name: 'a quiet function with probes disabled is not declared healthy on no evidence',
    version: {},
    options: { policy: { maxProbesPerInterval: 0, switchVerifyAttempts: 1 } },
    expectStatus: 'rolled_back',
    expectPath: ['pending', 'building', 'validating', 'switching', 'watching', 'rolling_back', 'rolled_back'],
    expectActive: 'blue',
    expectLiveActivations: 2,
    expectReason: /not enough evidence: 1 finished executions of green in the watch, 10 required/,
  },
];

describe('rollout state machine (simulated platform, manual clock)', () => {
  it.each(scenarios)('$name', async (s) => {
    const w = simWorld();
    const view = await settle(
      w.clock,
      w.orchestrator().start({
        functionId: 'app',
        code: simBundle(s.version),
        skipHealthCheck: s.options?.skipHealthCheck ?? false,
        autoRollback: s.options?.autoRollback ?? true,
        policy: { ...fastPolicy, ...s.options?.policy },
      }),
    );
    expect(view.status).toBe(s.expectStatus);
    expect(view.done).toBe(true);
    expect(statusPath(w.events, view.rolloutId)).toEqual(s.expectPath);
    const green = view.green.deploymentId!;
    expect(w.platform.activeOf('app')).toBe(s.expectActive === 'blue' ? w.blue : green);
    expect(w.platform.stats.byMethod.activateDeployment ?? 0).toBe(
      s.expectLiveActivations + (s.options?.skipHealthCheck || s.expectPath.length <= 3 ? 0 : 1),
    );
    if (s.expectReason) expect(view.reason).toMatch(s.expectReason);
    // Blue is never deleted: it stays the rollback target.
    expect(w.platform.deploymentsOf('app')).toContain(w.blue);
    // The lock is released at the end.
    expect(await w.store.list('deployments-locks')).toMatchObject({ rows: [] });
  });

  it('records the switch and the rollback as one API call each', async () => {
    const w = simWorld();
    const view = await settle(
      w.clock,
      w.orchestrator().start({
        functionId: 'app',
        code: simBundle({ latencyMs: 9_000 }),
        policy: { ...fastPolicy, maxP95LatencyMs: 5_000 },
      }),
    );
    expect(view.figures.switch?.calls).toBe(1);
    expect(view.figures.rollback?.calls).toBe(1);
    expect(view.blue.status).toBe('active');
    expect(view.green.status).toBe('rolled_back');
  });

  it('rolls an erroring version back within one watch interval of the switch', async () => {
    const w = simWorld();
    // Health fine everywhere, so the switch verification passes; user traffic fails on green.
    const view = await settle(
      w.clock,
      (async () => {
        const o = w.orchestrator();
        const run = o.start({ functionId: 'app', code: simBundle({ status: 500 }), policy: fastPolicy });
        return run;
      })(),
    );
    // Probes are health checks (200) here; without traffic there is no error: it succeeds. Now with traffic:
    expect(view.status).toBe('succeeded');

    const w2 = simWorld();
    const o2 = w2.orchestrator({
      onEvent: (e) => {
        w2.events.push(e);
        // Users call the function as soon as green is live: every one of their requests hits POST /.
        if (e.status === 'watching' && e.message.startsWith('verified')) void w2.platform.traffic('app', 20);
      },
    });
    const failing = await settle(
      w2.clock,
      o2.start({ functionId: 'app', code: simBundle({ status: 500 }), policy: fastPolicy }),
    );
    expect(failing.status).toBe('rolled_back');
    expect(failing.reason).toMatch(/error rate/);
    const row = (await w2.store.get(ROLLOUTS_TABLE, failing.rolloutId)) as {
      switchedAt: number;
      rollbackStartedAt: number;
    };
    expect(row.rollbackStartedAt - row.switchedAt).toBeLessThanOrEqual(5_000);
    expect(w2.platform.activeOf('app')).toBe(w2.blue);
  });

  it('fills a quiet window with synthetic probes before judging', async () => {
    const w = simWorld();
    const view = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    expect(view.status).toBe('succeeded');
    expect(view.watch!.samples).toBeGreaterThanOrEqual(10);
    expect(view.watch!.probes).toBeGreaterThan(0);
  });

  it('keeps probing an idle function, so a version that degrades late in the window is rolled back', async () => {
    const policy = { ...fastPolicy, minSamples: 5 };
    const late = simBundle({ failAfterExecutions: 8 });
    const w = simWorld();
    const view = await settle(w.clock, w.orchestrator().start({ functionId: 'app', code: late, policy }));
    expect(view.status).toBe('rolled_back');
    expect(view.reason).toMatch(/error rate/);
    // Without idle probes the same version looks healthy on the first 5 samples and nothing else is seen.
    const w2 = simWorld();
    const blind = await settle(
      w2.clock,
      w2.orchestrator().start({ functionId: 'app', code: late, policy: { ...policy, idleProbes: 0 } }),
    );
    expect(blind.status).toBe('succeeded');
  });

  it('says in the result and in the history that the health check was skipped', async () => {
    const w = simWorld();
    const result = await settle(
      w.clock,
      createBlueGreen(w.orchestrator()).executeBlueGreenDeployment('app', simBundle(), '/health', {
        skipHealthCheck: true,
        policy: fastPolicy,
      }),
    );
    expect(result.success).toBe(true);
    expect(result.state.healthCheckSkipped).toBe(true);
    expect(result.rollout.validation).toEqual({ skipped: true });
    expect(w.events.some((e) => e.level === 'warn' && /validation SKIPPED/.test(e.message))).toBe(true);
    expect(w.platform.deploymentsOf('app-standby')).toHaveLength(1); // nothing uploaded to the twin
  });

  it('the seed API returns blue and green states', async () => {
    const w = simWorld();
    const result = await settle(
      w.clock,
      createBlueGreen(w.orchestrator()).executeBlueGreenDeployment(
        'app',
        simBundle({ version: 'v2' }),
        'https://x.example/v1/health',
        {
          policy: fastPolicy,
        },
      ),
    );
    expect(result).toMatchObject({
      success: true,
      state: { blue: { status: 'standby', deploymentId: w.blue }, green: { status: 'active', active: true } },
    });
  });

  it('rolls out an existing inactive deployment by id (twin gets the downloaded code)', async () => {
    const w = simWorld();
    const dep = await w.platform.createDeployment('app', simBundle({ version: 'v3', buildMs: 0 }), {
      activate: false,
    });
    const view = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', deploymentId: dep.id, policy: fastPolicy }),
    );
    expect(view.status).toBe('succeeded');
    expect(w.platform.activeOf('app')).toBe(dep.id);
    expect(w.platform.stats.byMethod.downloadDeployment).toBe(1);
  });

  it('warns in the history when deployment retention could delete blue', async () => {
    const w = simWorld();
    w.platform.addFunction('kept', { deploymentRetentionDays: 7 });
    w.platform.addFunction('kept-standby', { execute: [] });
    w.platform.seedActive('kept');
    w.platform.seedActive('kept-standby');
    const view = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'kept', code: simBundle(), policy: fastPolicy }),
    );
    const first = (await w.orchestrator().events(view.rolloutId))[0]!;
    expect(first.message).toMatch(/deletes inactive deployments after 7 days/);
  });

  it('every transition taken is one the state machine allows', () => {
    for (const from of ROLLOUT_STATUSES) {
      for (const to of ROLLOUT_STATUSES)
        expect(canTransition(from, to)).toBe(ROLLOUT_TRANSITIONS[from].includes(to));
    }
    expect(canTransition('building', 'watching')).toBe(false);
    expect(canTransition('failed', 'succeeded')).toBe(false);
    expect(canTransition('rolled_back', 'rolling_back')).toBe(false);
    expect(canTransition('succeeded', 'rolling_back')).toBe(true);
  });
});

describe('bad input is refused before anything changes', () => {
  const cases: { name: string; input: Record<string, unknown>; code: string; message: RegExp }[] = [
    {
      name: 'unknown function',
      input: { functionId: 'nope', code: simBundle() },
      code: 'NOT_FOUND',
      message: /function nope does not exist/,
    },
    {
      name: 'missing code',
      input: { functionId: 'app' },
      code: 'INVALID_INPUT',
      message: /invalid rollout request/,
    },
    {
      name: 'empty archive',
      input: { functionId: 'app', code: { archive: new Uint8Array(), entrypoint: 'dist/main.js' } },
      code: 'INVALID_INPUT',
      message: /invalid rollout request/,
    },
    {
      name: 'error rate above 1',
      input: { functionId: 'app', code: simBundle(), policy: { maxErrorRate: 2 } },
      code: 'INVALID_INPUT',
      message: /invalid rollout policy/,
    },
    {
      name: 'watch interval longer than the window',
      input: {
        functionId: 'app',
        code: simBundle(),
        policy: { watchWindowMs: 5_000, watchIntervalMs: 10_000 },
      },
      code: 'INVALID_INPUT',
      message: /invalid rollout policy/,
    },
    {
      name: 'unknown policy key',
      input: { functionId: 'app', code: simBundle(), policy: { maxErrors: 3 } },
      code: 'INVALID_INPUT',
      message: /invalid rollout policy/,
    },
    {
      name: 'missing standby twin',
      input: { functionId: 'app', code: simBundle(), standbyFunctionId: 'ghost' },
      code: 'NOT_FOUND',
      message: /standby twin ghost does not exist/,
    },
    {
      name: 'unknown deployment id',
      input: { functionId: 'app', deploymentId: 'd404' },
      code: 'NOT_FOUND',
      message: /deployment d404/,
    },
    {
      name: 'bad function id',
      input: { functionId: '../etc', code: simBundle() },
      code: 'INVALID_INPUT',
      message: /invalid rollout request/,
    },
  ];

  it.each(cases)('$name', async (c) => {
    const w = simWorld();
    const before = w.platform.deploymentsOf('app').length;
    const error = await w
      .orchestrator()
      .start(c.input)
      .catch((e: unknown) => e);
    expect(hasCode(error, c.code as 'NOT_FOUND')).toBe(true);
    expect((error as Error).message).toMatch(c.message);
    expect(w.store.stats.byMethod.create ?? 0).toBe(0);
    expect(w.store.stats.byMethod.transaction ?? 0).toBe(0);
    expect(w.platform.deploymentsOf('app')).toHaveLength(before);
    expect(w.platform.activeOf('app')).toBe(w.blue);
  });

  it('lists every threshold problem with its policy path', async () => {
    const w = simWorld();
    const error = (await w
      .orchestrator()
      .start({ functionId: 'app', code: simBundle(), policy: { maxErrorRate: -1, minSamples: 0 } })
      .catch((e: unknown) => e)) as { issues: { path: string }[] };
    expect(error.issues.map((i) => i.path).sort()).toEqual(['policy.maxErrorRate', 'policy.minSamples']);
  });
});
