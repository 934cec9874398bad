/**
 * Standby twins of cron/event functions: the orchestrator refuses a twin that would tick, react to events or
 * serve users (before anything changes); the watch judges latency on HTTP executions only (a cron drain lasts
 * its budget by design) while cron/event errors still count; deploy-orchestrator never rolls itself out.
 */
import orchestratorFunction from 'fn-deploy-orchestrator/src/main.ts';
import { hasCode } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { type ExecutionInfo, evaluateWatch, twinProblems } from 'resilience-core/deployment';
import { invoke, simBundle } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fastPolicy, settle, simWorld } from '../deploy-sim.ts';

describe('a standby twin must not do the live function’s work', () => {
  const cases = [
    {
      name: 'a twin with the live schedule (it would run the cron a second time)',
      twin: { execute: [], schedule: '* * * * *' },
      message: /it has the schedule "\* \* \* \* \*"/,
    },
    {
      name: 'a twin subscribed to the job-created event (it would drain the queue too)',
      twin: { execute: [], events: ['databases.resilience.tables.job-queue.rows.*.create'] },
      message: /it reacts to events \(databases\.resilience\.tables\.job-queue\.rows\.\*\.create\)/,
    },
    {
      name: 'a twin users can execute',
      twin: { execute: ['users'] },
      message: /users can execute it \(users\)/,
    },
  ];

  it.each(cases)('refuses $name, before anything changes', async (c) => {
    const w = simWorld();
    w.platform.addFunction('worker');
    w.platform.addFunction('worker-standby', c.twin);
    const blue = w.platform.seedActive('worker');
    const error = await w
      .orchestrator()
      .start({ functionId: 'worker', code: simBundle() })
      .catch((e: unknown) => e);
    expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toMatch(c.message);
    expect((error as { issues: { path: string }[] }).issues[0]?.path).toBe('standbyFunctionId');
    expect(w.store.stats.byMethod.create ?? 0).toBe(0);
    expect(w.store.stats.byMethod.transaction ?? 0).toBe(0);
    expect(w.platform.deploymentsOf('worker')).toHaveLength(1);
    expect(w.platform.deploymentsOf('worker-standby')).toHaveLength(0);
    expect(w.platform.activeOf('worker')).toBe(blue);
  });

  it('accepts a twin with no schedule, no events and execute [] (and checks nothing a platform does not report)', () => {
    const base = { id: 't', name: 't', activeDeploymentId: null, enabled: true, deploymentRetentionDays: 0 };
    expect(twinProblems({ ...base, execute: [], schedule: '', events: [] })).toEqual([]);
    expect(twinProblems({ ...base, execute: [] })).toEqual([]);
    expect(twinProblems({ ...base, execute: ['any'], schedule: '0 0 * * *', events: ['e'] })).toHaveLength(3);
  });

  it('rolls a cron function out through a proper twin (validation on the twin, then the switch)', async () => {
    const w = simWorld();
    w.platform.addFunction('worker', { execute: [], schedule: '* * * * *', events: ['x'] });
    w.platform.addFunction('worker-standby', { execute: [] });
    w.platform.seedActive('worker');
    w.platform.seedActive('worker-standby');
    const view = await settle(
      w.clock,
      w.orchestrator().start({ functionId: 'worker', code: simBundle(), policy: fastPolicy }),
    );
    expect(view.status).toBe('succeeded');
    expect(view.standby.functionId).toBe('worker-standby');
    expect(view.validation).toMatchObject({ functionId: 'worker-standby', health: { ok: true } });
  });
});

function exec(
  trigger: string,
  durationMs: number,
  status: 'completed' | 'failed' = 'completed',
): ExecutionInfo {
  return {
    id: `e${Math.random()}`,
    functionId: 'f',
    deploymentId: 'g',
    status,
    trigger,
    requestMethod: 'GET',
    requestPath: '/',
    responseStatusCode: status === 'failed' ? 500 : 200,
    responseBody: '',
    durationMs,
    createdAt: 0,
  };
}

describe('the watch of a cron/event function', () => {
  const policy = { minSamples: 5, maxErrorRate: 0.1, maxP95LatencyMs: 1_000 };

  it('does not judge latency on cron and event drains (they last their budget), only on HTTP executions', () => {
    const executions = [
      ...Array.from({ length: 4 }, () => exec('schedule', 240_000)),
      exec('event', 60_000),
      ...Array.from({ length: 5 }, () => exec('http', 50)),
    ];
    const verdict = evaluateWatch(executions, policy, { probes: 5, evaluations: 1 });
    expect(verdict.kind).toBe('healthy');
    expect(verdict.summary).toMatchObject({ samples: 10, errors: 0, p95LatencyMs: 50 });
  });

  it('still counts failed cron runs as errors (a green that crashes on its schedule is rolled back)', () => {
    const executions = [
      ...Array.from({ length: 3 }, () => exec('schedule', 1_000, 'failed')),
      ...Array.from({ length: 5 }, () => exec('http', 50)),
    ];
    const verdict = evaluateWatch(executions, policy, { probes: 5, evaluations: 1 });
    expect(verdict.kind).toBe('failing');
    expect(verdict.summary).toMatchObject({ samples: 8, errors: 3 });
  });

  it('still fails slow HTTP executions', () => {
    const verdict = evaluateWatch(
      Array.from({ length: 5 }, () => exec('http', 5_000)),
      policy,
      { probes: 0, evaluations: 1 },
    );
    expect(verdict).toMatchObject({ kind: 'failing', reason: /p95 latency 5000 ms/ });
  });
});

describe('deploy-orchestrator does not roll itself out', () => {
  const key = { 'x-appwrite-key': 'secret' };
  // A connection that is never used: the refusal comes before any platform or storage call.
  const env = {
    APPWRITE_FUNCTION_DEPLOYMENT: 'd1',
    APPWRITE_FUNCTION_API_ENDPOINT: 'http://127.0.0.1:9/v1',
    APPWRITE_FUNCTION_PROJECT_ID: 'p',
  };

  it.each([
    ['POST /rollouts', '/rollouts', { functionId: 'deploy-orchestrator', skipHealthCheck: true }],
    ['POST /rollouts/resume', '/rollouts/resume', { functionId: 'deploy-orchestrator' }],
  ])('%s for itself is 400 and writes nothing', async (_name, path, body) => {
    const store = new MemoryTableStore();
    const fn = orchestratorFunction.with({ store, env });
    const res = await invoke(fn, { method: 'POST', path, body, headers: key });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'INVALID_INPUT', message: /does not roll itself out/ },
    });
    expect(store.stats.calls).toBe(0);
  });

  it('uses APPWRITE_FUNCTION_ID when the orchestrator runs under another id', async () => {
    const store = new MemoryTableStore();
    const fn = orchestratorFunction.with({
      store,
      env: { ...env, APPWRITE_FUNCTION_ID: 'ops-rollouts' },
    });
    const res = await invoke(fn, {
      method: 'POST',
      path: '/rollouts',
      body: { functionId: 'ops-rollouts', skipHealthCheck: true },
      headers: key,
    });
    expect(res.status).toBe(400);
    expect(store.stats.calls).toBe(0);
  });
});
