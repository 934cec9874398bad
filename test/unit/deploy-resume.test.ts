import { hasCode } from 'resilience-core';
import { EVENTS_TABLE, LOCKS_TABLE, ROLLOUTS_TABLE, rolloutLockIdOf } from 'resilience-core/deployment';
import { simBundle } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fastPolicy, flush, settle, simWorld, statusPath } from '../deploy-sim.ts';

/** A promise that never settles: the orchestrator holding it is, for every purpose, dead. */
const never = () => new Promise<never>(() => {});

/** Advances the clock until the rollout of `app` has made both activation calls (the twin's, then the switch). */
async function untilSwitchCalled(w: ReturnType<typeof simWorld>): Promise<void> {
  for (let i = 0; i < 200 && w.platform.stats.byMethod.activateDeployment !== 2; i++)
    await w.clock.advance(100).then(() => flush());
}

/**
 * A world whose rollout of `app` (of `code`) died inside the live activation call, which never answered, and
 * whose lease has since expired: what the next run has to finish.
 */
async function diedInSwitch(code = simBundle()): Promise<ReturnType<typeof simWorld>> {
  const w = simWorld();
  w.platform.interceptor = async (method, args, proceed) =>
    method === 'activateDeployment' && args[0] === 'app' ? never() : proceed();
  void w.orchestrator().start({ functionId: 'app', code, policy: fastPolicy });
  await untilSwitchCalled(w);
  w.platform.interceptor = null;
  await w.clock.advance(25_000);
  return w;
}

describe('one rollout per function', () => {
  it('refuses a second concurrent rollout of the same function', async () => {
    const w = simWorld();
    const a = w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy });
    const b = w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy });
    const [ra, rb] = await settle(w.clock, Promise.allSettled([a, b]));
    const outcomes = [ra, rb].map((r) =>
      r.status === 'fulfilled' ? r.value.status : (r.reason as { code: string }).code,
    );
    expect(outcomes.sort()).toEqual(['CONFLICT', 'succeeded']);
    const refused = [ra, rb].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.message).toMatch(/a rollout of app is in progress .*one rollout per function/);
    expect(w.platform.stats.byMethod.createDeployment).toBe(2); // green + twin of the one that ran
  });

  it('of 10 concurrent starts exactly one runs', async () => {
    const w = simWorld();
    const all = Array.from({ length: 10 }, () =>
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    const results = await settle(w.clock, Promise.allSettled(all));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && hasCode(r.reason, 'CONFLICT'))).toHaveLength(9);
    expect((await w.store.list(ROLLOUTS_TABLE)).rows).toHaveLength(1);
  });

  it('allows rollouts of different functions at the same time', async () => {
    const w = simWorld();
    w.platform.addFunction('other');
    w.platform.addFunction('other-standby', { execute: [] });
    w.platform.seedActive('other');
    w.platform.seedActive('other-standby');
    const [a, b] = await settle(
      w.clock,
      Promise.all([
        w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
        w.orchestrator().start({ functionId: 'other', code: simBundle(), policy: fastPolicy }),
      ]),
    );
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
  });

  it('runs a new rollout once the previous one finished', async () => {
    const w = simWorld();
    const first = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    const second = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    expect(second.status).toBe('succeeded');
    expect(second.blue.deploymentId).toBe(first.green.deploymentId);
    const history = await w.orchestrator().history('app');
    expect(history.rollouts.map((r) => r.rolloutId)).toEqual([second.rolloutId, first.rolloutId]);
  });
});

describe('an orchestrator that dies is resumed or rolled back by the next run', () => {
  it('killed mid-switch after the activation call: the next run converges without switching again', async () => {
    const w = simWorld();
    w.platform.interceptor = async (method, args, proceed) => {
      if (method === 'activateDeployment' && args[0] === 'app') {
        await proceed(); // the switch happened…
        return never(); // …and the process died before recording it
      }
      return proceed();
    };
    const dead = w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy });
    void dead;
    await untilSwitchCalled(w);
    const rollout = (await w.orchestrator().current('app'))!;
    expect(rollout.status).toBe('switching');
    w.platform.interceptor = null;

    // While the dead run's lease lasts, nobody may take over.
    const early = await w
      .orchestrator()
      .resume('app')
      .catch((e: unknown) => e);
    expect(hasCode(early, 'CONFLICT')).toBe(true);
    // A new start is refused too: the function has an unfinished rollout.
    await w.clock.advance(25_000);
    const start = await w
      .orchestrator()
      .start({ functionId: 'app', code: simBundle(), policy: fastPolicy })
      .catch((e: unknown) => e);
    expect((start as Error).message).toMatch(
      /unfinished \(switching\) and its run stopped: resume it or roll it back/,
    );

    const resumed = await settle(w.clock, w.orchestrator().resume('app'));
    expect(resumed.status).toBe('succeeded');
    expect(resumed.rolloutId).toBe(rollout.rolloutId);
    expect(w.platform.activeOf('app')).toBe(resumed.green.deploymentId);
    expect(resumed.figures.switch).toEqual({ calls: 0, ms: 0 }); // the dead run had made the one call
    expect(w.platform.stats.byMethod.activateDeployment).toBe(2); // twin + the one live switch
  });

  it('killed mid-switch before the activation call: the next run makes the switch', async () => {
    const w = await diedInSwitch();
    const resumed = await settle(w.clock, w.orchestrator().resume('app'));
    expect(resumed.status).toBe('succeeded');
    expect(resumed.figures.switch?.calls).toBe(1);
    expect(w.platform.activeOf('app')).toBe(resumed.green.deploymentId);
  });

  it('killed while watching, with resumePolicy rollback: the next run reactivates blue', async () => {
    const w = simWorld();
    let kill = false;
    w.platform.interceptor = async (method, _args, proceed) =>
      kill && method === 'listExecutions' ? never() : proceed();
    const o = w.orchestrator({
      onEvent: (e) => {
        w.events.push(e);
        if (e.status === 'watching') kill = true;
      },
    });
    void o.start({
      functionId: 'app',
      code: simBundle(),
      policy: { ...fastPolicy, resumePolicy: 'rollback' },
    });
    for (let i = 0; i < 300 && !kill; i++) await w.clock.advance(100).then(() => flush());
    await flush();
    w.platform.interceptor = null;
    await w.clock.advance(25_000);
    const resumed = await settle(w.clock, w.orchestrator().resume('app'));
    expect(resumed.status).toBe('rolled_back');
    expect(resumed.reason).toMatch(/died while watching and resumePolicy is rollback/);
    expect(w.platform.activeOf('app')).toBe(w.blue);
  });

  it('killed while building: the next run finishes the build wait without the code (uploads were recorded)', async () => {
    const w = simWorld();
    let kill = false;
    w.platform.interceptor = async (method, _args, proceed) => {
      if (method === 'getDeployment') kill = true;
      return kill && method === 'getDeployment' ? never() : proceed();
    };
    void w
      .orchestrator()
      .start({ functionId: 'app', code: simBundle({ buildMs: 10_000 }), policy: fastPolicy });
    for (let i = 0; i < 100 && !kill; i++) await w.clock.advance(100).then(() => flush());
    w.platform.interceptor = null;
    await w.clock.advance(25_000);
    const resumed = await settle(w.clock, w.orchestrator().resume('app'));
    expect(resumed.status).toBe('succeeded');
    expect(w.platform.stats.byMethod.createDeployment).toBe(2); // no re-upload
    const events = await w.orchestrator().events(resumed.rolloutId);
    expect(events.some((e) => /resumes the rollout at building/.test(e.message))).toBe(true);
  });

  it('a run that stalled past its lease cannot write after another run took over (fencing)', async () => {
    const w = simWorld();
    let release: (() => void) | null = null;
    let stalled = false;
    w.platform.interceptor = async (method, args, proceed) => {
      if (!stalled && method === 'execute' && args[0] === 'app') {
        stalled = true;
        await new Promise<void>((r) => {
          release = r;
        });
      }
      return proceed();
    };
    const slow = w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy });
    const slowResult = slow.then(
      (v) => v,
      (e: unknown) => e,
    );
    for (let i = 0; i < 300 && !release; i++) await w.clock.advance(100).then(() => flush());
    expect(release).not.toBeNull();
    await w.clock.advance(25_000);
    const taker = await settle(w.clock, w.orchestrator().resume('app'));
    expect(taker.status).toBe('succeeded');
    release!();
    const error = await settle(w.clock, slowResult);
    expect(hasCode(error, 'LEASE_LOST')).toBe(true);
    expect((await w.orchestrator().get(taker.rolloutId)).status).toBe('succeeded');
  });

  it('of 10 concurrent resumes after the lease expired exactly one takes over', async () => {
    const w = await diedInSwitch();
    const results = await settle(
      w.clock,
      Promise.allSettled(Array.from({ length: 10 }, () => w.orchestrator().resume('app'))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && hasCode(r.reason, 'CONFLICT'))).toHaveLength(9);
  });

  it('a run out of time budget stops at a step boundary and the next run continues at once', async () => {
    const w = simWorld();
    const first = await settle(
      w.clock,
      w
        .orchestrator()
        .start({ functionId: 'app', code: simBundle(), policy: fastPolicy }, { maxRunMs: 12_000 }),
    );
    expect(first.done).toBe(false);
    expect(['validating', 'switching', 'watching']).toContain(first.status);
    const lock = (await w.store.get(LOCKS_TABLE, rolloutLockIdOf('app'))) as { expiresAt: number };
    expect(lock.expiresAt).toBeLessThanOrEqual(w.clock.now());
    const second = await settle(w.clock, w.orchestrator().resume('app'));
    expect(second.status).toBe('succeeded');
  });

  it('retries transient platform failures within a step', async () => {
    const w = simWorld();
    let failures = 3;
    w.platform.interceptor = async (method, _args, proceed) => {
      if (method === 'getDeployment' && failures-- > 0) {
        const { errors } = await import('resilience-core');
        throw errors.retryable('Appwrite 503');
      }
      return proceed();
    };
    const view = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    expect(view.status).toBe('succeeded');
  });

  it("resume refuses code that differs from the rollout's", async () => {
    const w = await diedInSwitch(simBundle({ version: 'a' }));
    const error = await w
      .orchestrator()
      .resume('app', { code: simBundle({ version: 'b' }) })
      .catch((e: unknown) => e);
    expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
    const ok = await settle(w.clock, w.orchestrator().resume('app', { code: simBundle({ version: 'a' }) }));
    expect(ok.status).toBe('succeeded');
  });
});

describe('manual rollback', () => {
  it('after success reactivates blue in one call', async () => {
    const w = simWorld();
    const done = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    const before = w.platform.stats.byMethod.activateDeployment ?? 0;
    const { outcome, rollout } = await settle(
      w.clock,
      w.orchestrator().requestRollback('app', 'customer reports'),
    );
    expect(outcome).toBe('performed');
    expect(rollout.rolloutId).toBe(done.rolloutId);
    expect(rollout.status).toBe('rolled_back');
    expect(rollout.figures.rollback?.calls).toBe(1);
    expect((w.platform.stats.byMethod.activateDeployment ?? 0) - before).toBe(1);
    expect(w.platform.activeOf('app')).toBe(w.blue);
    expect(statusPath(w.events, done.rolloutId).slice(-3)).toEqual([
      'succeeded',
      'rolling_back',
      'rolled_back',
    ]);
  });

  it('while another run is watching: requested, and that run rolls back at its next step', async () => {
    const w = simWorld();
    let watching = false;
    const o = w.orchestrator({
      onEvent: (e) => {
        w.events.push(e);
        if (e.status === 'watching') watching = true;
      },
    });
    const run = o.start({ functionId: 'app', code: simBundle(), policy: fastPolicy });
    const result = run.then((v) => v);
    for (let i = 0; i < 300 && !watching; i++) await w.clock.advance(100).then(() => flush());
    const requested = await w.orchestrator().requestRollback('app', 'operator says so');
    expect(requested.outcome).toBe('requested');
    const view = await settle(w.clock, result);
    expect(view.status).toBe('rolled_back');
    expect(view.reason).toMatch(/manual rollback: operator says so/);
    expect(w.platform.activeOf('app')).toBe(w.blue);
  });

  it('before the switch aborts the rollout without switching anything', async () => {
    const w = simWorld();
    const run = w
      .orchestrator()
      .start({ functionId: 'app', code: simBundle({ buildMs: 20_000 }), policy: fastPolicy });
    const result = run.then((v) => v);
    await w.clock.advance(1_000);
    await flush();
    expect((await w.orchestrator().requestRollback('app', 'wrong branch')).outcome).toBe('requested');
    const view = await settle(w.clock, result);
    expect(view.status).toBe('failed');
    expect(view.reason).toMatch(/aborted before the switch, nothing was switched/);
    expect(w.platform.activeOf('app')).toBe(w.blue);
  });

  it('of a rolled-back rollout is refused', async () => {
    const w = simWorld();
    await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle({ buildOk: false }), policy: fastPolicy }),
    );
    const error = await w
      .orchestrator()
      .requestRollback('app', 'again')
      .catch((e: unknown) => e);
    expect(hasCode(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toMatch(/nothing to roll back/);
  });

  it('of a failed rollout that left green active (autoRollback off) reactivates blue', async () => {
    const w = simWorld();
    const failed = await settle(
      w.clock,
      w.orchestrator().start({
        functionId: 'app',
        code: simBundle({ latencyMs: 9_000 }),
        autoRollback: false,
        policy: { ...fastPolicy, maxP95LatencyMs: 5_000 },
      }),
    );
    expect(failed.status).toBe('failed');
    expect(failed.green.active).toBe(true);
    const { rollout } = await settle(w.clock, w.orchestrator().requestRollback('app', 'too slow'));
    expect(rollout.status).toBe('rolled_back');
    expect(w.platform.activeOf('app')).toBe(w.blue);
  });

  it('refuses to roll back over a later manual change of the active deployment', async () => {
    const w = simWorld();
    await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    await w.platform.activateDeployment('app', w.blue);
    const error = await w
      .orchestrator()
      .requestRollback('app', 'x')
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/refusing to roll back over a later change/);
  });
});

describe('history', () => {
  it('keeps every rollout per function, newest first, with its events', async () => {
    const w = simWorld();
    const a = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle({ buildOk: false }), policy: fastPolicy }),
    );
    const b = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    const page1 = await w.orchestrator().history('app', { limit: 1 });
    expect(page1.rollouts.map((r) => r.status)).toEqual(['succeeded']);
    const page2 = await w.orchestrator().history('app', { limit: 1, cursor: page1.nextCursor! });
    expect(page2.rollouts.map((r) => r.rolloutId)).toEqual([a.rolloutId]);
    const events = await w.orchestrator().events(b.rolloutId);
    expect(events[0]!.message).toMatch(/rollout of app started/);
    expect(events.at(-1)!.status).toBe('succeeded');
    expect(
      (await w.store.list(EVENTS_TABLE, { where: [{ field: 'rolloutId', op: 'eq', value: a.rolloutId }] }))
        .rows.length,
    ).toBeGreaterThan(2);
  });
});
