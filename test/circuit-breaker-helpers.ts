import { errors, hasCode, ResilienceError, type TableStore } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { CircuitBreaker, type CircuitBreakerOptions } from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { expect } from 'vitest';

/** What happened to one call: it ran (whatever it returned), or the breaker rejected it and why. */
export type CallResult = 'ran' | 'open' | 'isolated' | 'half-open-full' | 'store-unavailable';

/** A dependency's behaviour for one call. */
export type Behaviour = 'ok' | 'fail' | '4xx' | 'slow' | 'timeout';

/** A 503 from a dependency (counts as a failure). */
export function serverError(): ResilienceError {
  return new ResilienceError('DEPENDENCY_ERROR', 'dependency answered 503', { details: { status: 503 } });
}

/** A 404 from a dependency (does not count). */
export function clientError(): ResilienceError {
  return new ResilienceError('DEPENDENCY_ERROR', 'dependency answered 404', { details: { status: 404 } });
}

/** A call that behaves as asked; `slow` takes `slowMs` of manual-clock time. */
export function dependency(clock: ManualClock, behaviour: Behaviour, slowMs = 0) {
  return async (): Promise<string> => {
    switch (behaviour) {
      case 'ok':
        return 'ok';
      case 'slow':
        clock.set(clock.now() + slowMs);
        return 'slow';
      case 'fail':
        throw serverError();
      case '4xx':
        throw clientError();
      case 'timeout':
        throw new ResilienceError('TIMEOUT', 'timed out');
    }
  };
}

/** Runs one call and says what happened to it. */
export async function callOnce(breaker: CircuitBreaker, fn: () => Promise<unknown>): Promise<CallResult> {
  try {
    await breaker.execute(fn);
    return 'ran';
  } catch (error) {
    if (hasCode(error, 'CIRCUIT_OPEN')) return (error.details?.reason as CallResult) ?? 'open';
    return 'ran';
  }
}

/** A breaker over the store (shared) or without one (local-only). */
export function makeBreaker(
  clock: ManualClock,
  options: CircuitBreakerOptions,
  store?: TableStore,
  name = 'dep',
): CircuitBreaker {
  return new CircuitBreaker(name, options, { clock, ...(store ? { store } : {}) });
}

/** Options of the fleet scenario: count window 20, opens at 50% once 10 calls are in, one probe. */
export const fleetOptions: CircuitBreakerOptions = {
  window: { type: 'count', size: 20, bucketMs: 1_000 },
  minimumCalls: 10,
  failureRateThreshold: 50,
  openDuration: { baseMs: 10_000, multiplier: 2, maxMs: 60_000 },
  halfOpen: { maxProbes: 1, leaseMs: 5_000 },
  cacheTtlMs: 1_000,
};

/** What the fleet scenario observed. */
export interface FleetReport {
  /** Calls that reached the failing dependency before every execution saw OPEN. */
  failingCalls: number;
  statusesAfterFailures: string[];
  /** Probes admitted fleet-wide when the dependency recovered (summed over executions). */
  probesAdmitted: number;
  /** Calls that reached the dependency in the half-open moment. */
  recoveryCalls: number;
  rejectionsWhileHalfOpen: string[];
  statusesAfterRecovery: string[];
  /** Caller-path storage round trips per execution in the final, healthy round (steady state). */
  steadyStateCallPathRoundTrips: number[];
}

/**
 * 20 executions — separate breaker instances, so separate caches like cold processes — share one store. Each
 * calls a failing dependency 5 times; then the dependency recovers, the open duration passes, and each calls
 * once at the same moment; then once more after the cache TTL.
 */
export async function runFleetScenario(
  store: TableStore,
  clock: ManualClock,
  latency: () => Promise<void>,
  name = `fleet${Date.now().toString(36)}`,
): Promise<FleetReport> {
  const executions = Array.from(
    { length: 20 },
    (_, i) => new CircuitBreaker(name, fleetOptions, { clock, store, instanceId: `exec${i}` }),
  );
  let healthy = false;
  let reached = 0;
  const dep = async () => {
    reached++;
    await latency();
    if (!healthy) throw serverError();
    return 'ok';
  };
  const fallback = {
    fallback: (e: unknown) => (hasCode(e, 'CIRCUIT_OPEN') ? String(e.details?.reason) : 'failed'),
  };

  await Promise.all(
    executions.map(async (b) => {
      for (let i = 0; i < 5; i++) await b.execute(dep, fallback);
      await b.flush();
    }),
  );
  const failingCalls = reached;
  const statusesAfterFailures = executions.map((b) => b.status);

  healthy = true;
  await clock.advance(fleetOptions.openDuration!.baseMs!);
  reached = 0;
  const results = await Promise.all(executions.map((b) => b.execute(dep, fallback)));
  await Promise.all(executions.map((b) => b.flush()));
  const probesAdmitted = executions.reduce((n, b) => n + b.snapshot().counters.probes.admitted, 0);
  const recoveryCalls = reached;

  await clock.advance(fleetOptions.cacheTtlMs!);
  await Promise.all(executions.map((b) => b.execute(dep, fallback)));
  await Promise.all(executions.map((b) => b.flush()));
  const before = executions.map((b) => b.snapshot().counters.storageRoundTrips.callPath);
  await Promise.all(executions.map((b) => b.execute(dep, fallback)));
  const after = executions.map((b) => b.snapshot().counters.storageRoundTrips.callPath);
  return {
    failingCalls,
    statusesAfterFailures,
    probesAdmitted,
    recoveryCalls,
    rejectionsWhileHalfOpen: results.filter((r) => r !== 'ok'),
    statusesAfterRecovery: executions.map((b) => b.status),
    steadyStateCallPathRoundTrips: after.map((n, i) => n - before[i]!),
  };
}

/** Options of the memory-backed shared-breaker tests: count window 10, opens at 50% once 4 calls are in, one probe. */
export const sharedOptions: CircuitBreakerOptions = {
  window: { type: 'count', size: 10 },
  minimumCalls: 4,
  failureRateThreshold: 50,
  openDuration: { baseMs: 10_000, multiplier: 2, maxMs: 60_000 },
  halfOpen: { maxProbes: 1, leaseMs: 5_000 },
  cacheTtlMs: 1_000,
};

/**
 * A store whose operations can fail (`control.down`: as a network outage, RETRYABLE) or hang until released
 * (`hang()`, then `control.release()`), and which counts the calls that reach it (`control.calls`).
 */
export function controllableStore(inner: TableStore) {
  const control = { down: false, hanging: false, calls: 0, release: () => {} };
  let gate = Promise.resolve();
  const wrapper = {} as TableStore;
  for (const method of [
    'create',
    'get',
    'update',
    'upsert',
    'delete',
    'list',
    'increment',
    'transaction',
  ] as const) {
    (wrapper as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      control.calls++;
      if (control.hanging) await gate;
      if (control.down) throw errors.retryable('store unreachable');
      return (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  const hang = () => {
    control.hanging = true;
    gate = new Promise<void>((resolve) => {
      control.release = () => {
        control.hanging = false;
        resolve();
      };
    });
  };
  return { store: wrapper, control, hang };
}

/**
 * Breakers named `dep` sharing one memory store behind a {@link controllableStore}, on a manual clock:
 * `make(instanceId)` builds one with {@link sharedOptions} overridden by `extra`.
 */
export function memoryBreakers(extra: CircuitBreakerOptions = {}) {
  const clock = new ManualClock();
  const memory = new MemoryTableStore({ clock });
  const { store, control, hang } = controllableStore(memory);
  const make = (instanceId = 'a') =>
    new CircuitBreaker('dep', { ...sharedOptions, ...extra }, { clock, store, instanceId });
  return { clock, memory, store, control, hang, make };
}

/** Waits until the code under test is sleeping on the manual clock (its timeout timer is armed). */
export async function sleeperRegistered(clock: ManualClock): Promise<void> {
  for (let i = 0; i < 1000 && clock.pending === 0; i++) await new Promise((r) => setImmediate(r));
  expect(clock.pending).toBeGreaterThan(0);
}
