/**
 * Breaker transitions whose commit outcome is unknown (`OUTCOME_UNKNOWN`: a 400 transaction_failed, a 5xx or a
 * lost response on commit), against the local Appwrite server: a TableStore wrapper makes one transaction
 * either commit and then throw, or throw without committing. The breaker must re-read the row and act on what
 * it says — never assume the write happened, never assume it did not.
 */
import { errors, type TableStore, type WriteOp } from 'resilience-core';
import {
  CIRCUIT_BREAKER_PROBES_TABLE,
  CIRCUIT_BREAKERS_TABLE,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitEvent,
  circuitBreakerTables,
} from 'resilience-core/circuit-breaker';
import { ManualClock } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTables, startLocalWithTables } from './appwrite-local-helpers.ts';
import { callOnce, dependency, makeBreaker } from './circuit-breaker-helpers.ts';

type Fault = 'commit-then-throw' | 'throw-without-commit';

/** A store whose next transaction touching `table` fails with OUTCOME_UNKNOWN, after committing or not. */
function ambiguousStore(inner: TableStore) {
  const armed: { fault: Fault; table: string } = { fault: 'commit-then-throw', table: '' };
  let faults = 0;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
      return async (ops: WriteOp[]) => {
        if (!armed.table || !ops.some((op) => op.table === armed.table)) return target.transaction(ops);
        const fault = armed.fault;
        armed.table = '';
        faults++;
        if (fault === 'commit-then-throw') await target.transaction(ops);
        throw errors.outcomeUnknown('transaction commit answered 500 (injected)');
      };
    },
  });
  return {
    store,
    arm(fault: Fault, table: string) {
      armed.fault = fault;
      armed.table = table;
    },
    get faults() {
      return faults;
    },
  };
}

const options: CircuitBreakerOptions = {
  window: { type: 'count', size: 10, bucketMs: 1_000 },
  minimumCalls: 4,
  failureRateThreshold: 50,
  openDuration: { baseMs: 10_000, multiplier: 2, maxMs: 60_000 },
  halfOpen: { maxProbes: 1, successesToClose: 1, leaseMs: 5_000 },
  cacheTtlMs: 1_000,
};

let local: LocalTables;
let n = 0;

beforeAll(async () => {
  local = await startLocalWithTables(circuitBreakerTables);
});

afterAll(async () => {
  await local?.stop();
});

/** A breaker with a stored row at version 1 (CLOSED), over the faulty store, and the events it emitted. */
async function setup() {
  const clock = new ManualClock();
  const faulty = ambiguousStore(local.store());
  const name = `unknown-${++n}`;
  const breaker = makeBreaker(clock, options, faulty.store, name);
  await breaker.reset(); // version 1: later transitions are transactions (compare-and-set on the version)
  const events: CircuitEvent[] = [];
  breaker.on((e) => events.push(e));
  const row = () => local.store().get(CIRCUIT_BREAKERS_TABLE, `cb.${name}`);
  return { clock, faulty, breaker, events, row, name };
}

/** Fails calls until the breaker stops running them (at most 10). */
async function failUntilOpen(breaker: CircuitBreaker, clock: ManualClock): Promise<number> {
  let ran = 0;
  for (let i = 0; i < 10; i++) {
    if ((await callOnce(breaker, dependency(clock, 'fail'))) !== 'ran') break;
    ran++;
  }
  return ran;
}

describe('breaker transitions with an unknown commit outcome (local server)', () => {
  it('opening: a commit that happened is learnt from the row — OPEN at version 2, no storage trouble, no second write', async () => {
    const { clock, faulty, breaker, events, row } = await setup();
    faulty.arm('commit-then-throw', CIRCUIT_BREAKERS_TABLE);
    await failUntilOpen(breaker, clock);
    expect(faulty.faults).toBe(1);
    expect(await row()).toMatchObject({ state: 'OPEN', version: 2 });
    expect(breaker.status).toBe('OPEN');
    const snapshot = breaker.snapshot();
    expect(snapshot.version).toBe(2);
    expect(snapshot.storage.status).toBe('ok');
    expect(events.filter((e) => e.type === 'storage')).toEqual([]);
    expect(events.filter((e) => e.type === 'transition').map((e) => e.type === 'transition' && e.to)).toEqual(
      ['OPEN'],
    );
    await breaker.flush();
    expect(await row()).toMatchObject({ state: 'OPEN', version: 2 });
  });

  it('opening: a commit that did not happen is not assumed — the breaker keeps what is stored and opens on the next failure', async () => {
    const { clock, faulty, breaker, events, row } = await setup();
    faulty.arm('throw-without-commit', CIRCUIT_BREAKERS_TABLE);
    // The call whose outcome crosses the threshold meets the unknown commit: the row still says CLOSED v1.
    let ran = 0;
    while (faulty.faults === 0 && ran < 10) {
      await callOnce(breaker, dependency(clock, 'fail'));
      ran++;
    }
    expect(faulty.faults).toBe(1);
    expect(await row()).toMatchObject({ state: 'CLOSED', version: 1 });
    expect(breaker.snapshot()).toMatchObject({ state: 'CLOSED', version: 1, storage: { status: 'ok' } });
    // The window is still over the threshold: the next call writes the transition for real (once), at its
    // admission or after its failure.
    expect(['ran', 'open']).toContain(await callOnce(breaker, dependency(clock, 'fail')));
    expect(await row()).toMatchObject({ state: 'OPEN', version: 2 });
    expect(breaker.status).toBe('OPEN');
    expect(events.filter((e) => e.type === 'storage')).toEqual([]);
  });

  it('closing: a probe completion whose commit happened counts — the breaker closes (version 3) fleet-wide', async () => {
    const { clock, faulty, breaker, row, name } = await setup();
    await failUntilOpen(breaker, clock);
    expect(await row()).toMatchObject({ state: 'OPEN', version: 2 });
    clock.set(clock.now() + 10_001);
    faulty.arm('commit-then-throw', CIRCUIT_BREAKER_PROBES_TABLE);
    expect(await callOnce(breaker, dependency(clock, 'ok'))).toBe('ran');
    expect(faulty.faults).toBe(1);
    expect(await row()).toMatchObject({ state: 'CLOSED', version: 3 });
    expect(breaker.snapshot()).toMatchObject({ state: 'CLOSED', version: 3, storage: { status: 'ok' } });
    // Another execution sees it closed.
    const other = makeBreaker(clock, options, local.store(), name);
    expect(await callOnce(other, dependency(clock, 'ok'))).toBe('ran');
    expect(other.snapshot()).toMatchObject({ state: 'CLOSED', version: 3 });
  });

  it('closing: a probe completion whose commit did not happen is written again, then closes once', async () => {
    const { clock, faulty, breaker, row } = await setup();
    await failUntilOpen(breaker, clock);
    clock.set(clock.now() + 10_001);
    faulty.arm('throw-without-commit', CIRCUIT_BREAKER_PROBES_TABLE);
    expect(await callOnce(breaker, dependency(clock, 'ok'))).toBe('ran');
    expect(faulty.faults).toBe(1);
    expect(await row()).toMatchObject({ state: 'CLOSED', version: 3 });
    const probes = await local.store().list(CIRCUIT_BREAKER_PROBES_TABLE, {
      where: [{ field: 'breakerKey', op: 'eq', value: breaker.snapshot().key }],
    });
    expect(probes.rows.map((p) => [p.outcome, p.generation])).toEqual([['success', 1]]);
    expect(breaker.snapshot().storage.status).toBe('ok');
  });

  it('an operator reset whose commit happened is reported done, not retried into a second version', async () => {
    const { clock, faulty, breaker, row } = await setup();
    await failUntilOpen(breaker, clock);
    faulty.arm('commit-then-throw', CIRCUIT_BREAKERS_TABLE);
    await breaker.reset();
    expect(faulty.faults).toBe(1);
    expect(await row()).toMatchObject({ state: 'CLOSED', version: 3 });
    expect(breaker.snapshot()).toMatchObject({ state: 'CLOSED', version: 3 });
  });
});
