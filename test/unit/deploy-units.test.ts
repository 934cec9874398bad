import fc from 'fast-check';
import { hasCode, uniqueIndexesOf } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  deploymentTables,
  type ExecutionInfo,
  evaluateWatch,
  jsonShapeSchema,
  LOCKS_TABLE,
  matchJsonShape,
  parseRolloutPolicy,
  releaseRolloutLock,
  rolloutBackoffDelay,
  rolloutLockIdOf,
  tryAcquireRolloutLock,
} from 'resilience-core/deployment';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';

describe('json shape matcher', () => {
  const cases: [string, unknown, unknown, string[]][] = [
    ['primitive ok', 'string', 'x', []],
    ['primitive wrong', 'number', 'x', ['$: expected number, got string "x"']],
    ['integer', 'integer', 1.5, ['$: expected integer, got number 1.5']],
    ['nested', { a: { b: 'boolean' } }, { a: { b: 1 } }, ['$.a.b: expected boolean, got number 1']],
    ['missing key', { a: 'any' }, {}, ['$.a: missing']],
    ['optional key', { a: { $optional: 'string' } }, {}, []],
    ['array items', ['number'], [1, 'x'], ['$[1]: expected number, got string "x"']],
    ['exact', { ok: { $eq: true } }, { ok: false }, ['$.ok: expected true, got boolean false']],
    ['one of', { $oneOf: ['string', 'null'] }, null, []],
    ['extra keys allowed', { a: 'number' }, { a: 1, b: 2 }, []],
  ];
  it.each(cases)('%s', (_name, shape, value, problems) => {
    expect(jsonShapeSchema.safeParse(shape).success).toBe(true);
    expect(matchJsonShape(value, jsonShapeSchema.parse(shape))).toEqual(problems);
  });

  it('rejects shapes that are not shapes', () => {
    expect(jsonShapeSchema.safeParse('strng').success).toBe(false);
    expect(jsonShapeSchema.safeParse({ a: 3 }).success).toBe(false);
  });

  it('any JSON value matches "any" and its own $eq', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(matchJsonShape(v, 'any')).toEqual([]);
        expect(matchJsonShape(v, { $eq: v })).toEqual([]);
      }),
    );
  });
});

describe('backoff', () => {
  it('stays within [1, max] and grows until the cap', () => {
    fc.assert(
      fc.property(
        fc.nat(40),
        fc.integer({ min: 50, max: 5_000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (n, initial, r) => {
          const max = initial * 4;
          const d = rolloutBackoffDelay(n, initial, max, () => r);
          expect(d).toBeGreaterThanOrEqual(1);
          expect(d).toBeLessThanOrEqual(max);
        },
      ),
    );
    expect(rolloutBackoffDelay(0, 500, 5_000, () => 0.5)).toBe(500);
    expect(rolloutBackoffDelay(3, 500, 5_000, () => 0.5)).toBe(4_000);
    expect(rolloutBackoffDelay(10, 500, 5_000, () => 0.5)).toBe(5_000);
  });
});

describe('watch analysis', () => {
  const policy = { minSamples: 10, maxErrorRate: 0.1, maxP95LatencyMs: 1_000 };
  const exec = (
    status: number,
    durationMs = 10,
    state: ExecutionInfo['status'] = status >= 500 ? 'failed' : 'completed',
  ): ExecutionInfo => ({
    id: Math.random().toString(36).slice(2),
    functionId: 'f',
    deploymentId: 'g',
    status: state,
    trigger: 'http',
    requestMethod: 'GET',
    requestPath: '/',
    responseStatusCode: status,
    responseBody: '',
    durationMs,
    createdAt: 0,
  });
  const cases: [string, ExecutionInfo[], string][] = [
    ['no samples is inconclusive', [], 'inconclusive'],
    ['9 failures are still inconclusive', Array.from({ length: 9 }, () => exec(500)), 'inconclusive'],
    ['10 good is healthy', Array.from({ length: 10 }, () => exec(200)), 'healthy'],
    [
      '1 error in 10 is at the limit (healthy)',
      [...Array.from({ length: 9 }, () => exec(200)), exec(503)],
      'healthy',
    ],
    ['2 errors in 10 fail', [...Array.from({ length: 8 }, () => exec(200)), exec(500), exec(500)], 'failing'],
    ['4xx are not errors', Array.from({ length: 10 }, () => exec(404)), 'healthy'],
    [
      'unfinished executions are no evidence',
      Array.from({ length: 20 }, () => exec(0, 0, 'processing')),
      'inconclusive',
    ],
    ['slow p95 fails', Array.from({ length: 10 }, (_, i) => exec(200, i < 9 ? 10 : 5_000)), 'failing'],
  ];
  it.each(cases)('%s', (_name, executions, kind) => {
    expect(evaluateWatch(executions, policy, { probes: 0, evaluations: 1 }).kind).toBe(kind);
  });
});

describe('policy validation', () => {
  it('applies defaults', () => {
    const p = parseRolloutPolicy(undefined);
    expect(p).toMatchObject({
      minSamples: 10,
      maxErrorRate: 0.05,
      healthPath: '/health',
      resumePolicy: 'resume',
    });
  });
  it('refuses a lock lease shorter than two poll intervals', () => {
    let error: unknown = null;
    try {
      parseRolloutPolicy({ lockTtlMs: 5_000, watchIntervalMs: 5_000 });
    } catch (e) {
      error = e;
    }
    expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as { issues: { path: string }[] }).issues[0]!.path).toBe('policy.lockTtlMs');
  });
});

describe('rollout lock', () => {
  const setup = () => {
    const clock = new ManualClock();
    const store = new MemoryTableStore({ clock, unique: uniqueIndexesOf(deploymentTables) });
    return { clock, store };
  };

  it('of 50 concurrent acquirers exactly one wins', async () => {
    const { clock, store } = setup();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        tryAcquireRolloutLock(
          store,
          clock,
          { functionId: 'f', rolloutId: `r${i}`, owner: `o${i}`, ttlMs: 10_000 },
          () => true,
        ),
      ),
    );
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
  });

  it('an expired lock is taken over by exactly one of 50 concurrent takers, with a version bump', async () => {
    const { clock, store } = setup();
    await tryAcquireRolloutLock(
      store,
      clock,
      { functionId: 'f', rolloutId: 'r0', owner: 'dead', ttlMs: 10_000 },
      () => true,
    );
    clock.set(clock.now() + 11_000);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        tryAcquireRolloutLock(
          store,
          clock,
          { functionId: 'f', rolloutId: `r${i + 1}`, owner: `o${i}`, ttlMs: 10_000 },
          () => true,
        ),
      ),
    );
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    expect((await store.get(LOCKS_TABLE, rolloutLockIdOf('f')))?.version).toBe(1);
  });

  it('an unexpired lock is not taken over, and a lost lock is not released by its old holder', async () => {
    const { clock, store } = setup();
    const first = await tryAcquireRolloutLock(
      store,
      clock,
      { functionId: 'f', rolloutId: 'a', owner: 'A', ttlMs: 10_000 },
      () => true,
    );
    const second = await tryAcquireRolloutLock(
      store,
      clock,
      { functionId: 'f', rolloutId: 'b', owner: 'B', ttlMs: 10_000 },
      () => true,
    );
    expect(second.acquired).toBe(false);
    clock.set(clock.now() + 20_000);
    const third = await tryAcquireRolloutLock(
      store,
      clock,
      { functionId: 'f', rolloutId: 'c', owner: 'C', ttlMs: 10_000 },
      () => true,
    );
    expect(third.acquired).toBe(true);
    if (!first.acquired) throw new Error('unreachable');
    expect(await releaseRolloutLock(store, first.lock)).toBe(false);
    expect((await store.get(LOCKS_TABLE, rolloutLockIdOf('f')))?.owner).toBe('C');
  });

  it('an unexpired lock whose holder is proven gone is taken over at once, and only when mayTakeOver agrees', async () => {
    const { clock, store } = setup();
    const first = await tryAcquireRolloutLock(
      store,
      clock,
      { functionId: 'f', rolloutId: 'a', owner: 'dead', ttlMs: 60_000 },
      () => true,
    );
    expect(first.acquired).toBe(true);
    const args = { functionId: 'f', rolloutId: 'a', owner: 'next', ttlMs: 60_000 };
    const gone = (h: { owner: string }) => h.owner === 'dead';
    expect((await tryAcquireRolloutLock(store, clock, args, () => true)).acquired).toBe(false);
    expect((await tryAcquireRolloutLock(store, clock, args, () => false, gone)).acquired).toBe(false);
    const taken = await tryAcquireRolloutLock(store, clock, args, () => true, gone);
    expect(taken.acquired).toBe(true);
    expect(await store.get(LOCKS_TABLE, rolloutLockIdOf('f'))).toMatchObject({ owner: 'next', version: 1 });
    // The old holder is fenced: it can no longer release (or write).
    if (!first.acquired) throw new Error('unreachable');
    expect(await releaseRolloutLock(store, first.lock)).toBe(false);
  });
});
