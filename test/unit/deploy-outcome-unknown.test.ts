/**
 * Rollout locks and journal writes under commits whose outcome is unknown (issue 10.8): the Appwrite adapter
 * raises `OUTCOME_UNKNOWN` when a transaction's commit answered 400 `transaction_failed`, a 5xx or nothing.
 * The lock code re-reads the lock row and learns the result; it never assumes either. `AmbiguousCommits`
 * wraps a store and makes chosen transactions commit-then-throw or throw-without-commit.
 */
import { errors, hasCode, type TableStore, uniqueIndexesOf, type WriteOp } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  commitFenced,
  deploymentTables,
  EVENTS_TABLE,
  type HeldLock,
  LOCKS_TABLE,
  type LockRow,
  releaseRolloutLock,
  rolloutLockIdOf,
  tryAcquireRolloutLock,
} from 'resilience-core/deployment';
import { ManualClock, simBundle } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { fastPolicy, settle, simWorld } from '../deploy-sim.ts';

type Fault = 'commit-then-throw' | 'throw-without-commit';

/** A store whose next transactions fail as `faults` says (one fault per transaction, then normal). */
class AmbiguousCommits {
  readonly faults: Fault[] = [];
  commits = 0;
  /** Runs before each faulted transaction (e.g. another run takes the lock over meanwhile). */
  beforeFault: (() => Promise<void>) | null = null;

  constructor(readonly inner: TableStore) {}

  store(): TableStore {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
        return async (ops: readonly WriteOp[]) => {
          const fault = this.faults.shift();
          if (fault && this.beforeFault) await this.beforeFault();
          if (fault !== 'throw-without-commit') {
            await target.transaction(ops);
            this.commits++;
          }
          if (fault) throw errors.outcomeUnknown(`injected: ${fault}`);
        };
      },
    });
  }
}

function world() {
  const clock = new ManualClock();
  const memory = new MemoryTableStore({ clock, unique: uniqueIndexesOf(deploymentTables) });
  const faulty = new AmbiguousCommits(memory);
  return { clock, memory, faulty, store: faulty.store() };
}

const acquire = (store: TableStore, clock: ManualClock, owner: string, rolloutId = 'r1') =>
  tryAcquireRolloutLock(store, clock, { functionId: 'app', rolloutId, owner, ttlMs: 10_000 }, () => true);

async function held(store: TableStore, clock: ManualClock, owner = 'run-a'): Promise<HeldLock> {
  const result = await acquire(store, clock, owner);
  if (!result.acquired) throw new Error('expected to acquire');
  return result.lock;
}

async function lockRow(store: TableStore): Promise<LockRow | null> {
  return (await store.get(LOCKS_TABLE, rolloutLockIdOf('app'))) as LockRow | null;
}

const eventOp = (id: string): WriteOp => ({
  action: 'create',
  table: EVENTS_TABLE,
  id,
  data: {
    rolloutId: 'r1',
    functionId: 'app',
    at: 0,
    status: 'pending',
    level: 'info',
    message: id,
    details: null,
  },
});

describe('fenced journal writes with an unknown commit outcome', () => {
  it.each<Fault>(['commit-then-throw', 'throw-without-commit'])(
    '%s: the write is applied exactly once and the run keeps its lock',
    async (fault) => {
      const w = world();
      const lock = await held(w.store, w.clock);
      w.faulty.faults.push(fault);
      await commitFenced(w.store, lock, 50_000, [eventOp('e1')]);
      expect(lock.version).toBe(1);
      expect(await lockRow(w.memory)).toMatchObject({ version: 1, expiresAt: 50_000, owner: 'run-a' });
      expect(await w.memory.get(EVENTS_TABLE, 'e1')).toMatchObject({ message: 'e1' });
      // Committed once either way: commit-then-throw is learnt from the re-read, not sent again.
      expect(w.faulty.commits).toBe(1);
      // The next fenced write works (the held version is the stored one).
      await commitFenced(w.store, lock, 60_000, [eventOp('e2')]);
      expect(await lockRow(w.memory)).toMatchObject({ version: 2, expiresAt: 60_000 });
    },
  );

  it('a commit that never applies ends OUTCOME_UNKNOWN after 3 attempts, with nothing written', async () => {
    const w = world();
    const lock = await held(w.store, w.clock);
    w.faulty.faults.push('throw-without-commit', 'throw-without-commit', 'throw-without-commit');
    const error = await commitFenced(w.store, lock, 50_000, [eventOp('e1')]).catch((e: unknown) => e);
    expect(hasCode(error, 'OUTCOME_UNKNOWN')).toBe(true);
    expect(lock.version).toBe(0);
    expect(await lockRow(w.memory)).toMatchObject({ version: 0 });
    expect(await w.memory.get(EVENTS_TABLE, 'e1')).toBeNull();
  });

  it('an unknown outcome while another run took over is LEASE_LOST, not success', async () => {
    const w = world();
    const lock = await held(w.store, w.clock);
    await w.clock.advance(20_000); // the lease (10 s) has lapsed
    w.faulty.beforeFault = async () => {
      w.faulty.beforeFault = null;
      const other = await acquire(w.memory, w.clock, 'run-b', 'r1');
      expect(other.acquired).toBe(true);
    };
    w.faulty.faults.push('throw-without-commit');
    const error = await commitFenced(w.store, lock, 50_000, [eventOp('e1')]).catch((e: unknown) => e);
    expect(hasCode(error, 'LEASE_LOST')).toBe(true);
    expect(await lockRow(w.memory)).toMatchObject({ owner: 'run-b', version: 1 });
    expect(await w.memory.get(EVENTS_TABLE, 'e1')).toBeNull();
  });
});

describe('lock takeover and release with an unknown commit outcome', () => {
  it.each<Fault>(['commit-then-throw', 'throw-without-commit'])(
    'takeover, %s: acquired once, one version bump',
    async (fault) => {
      const w = world();
      await held(w.store, w.clock, 'run-a');
      await w.clock.advance(20_000);
      w.faulty.faults.push(fault);
      const result = await acquire(w.store, w.clock, 'run-b');
      expect(result.acquired).toBe(true);
      expect(result.acquired && result.lock.version).toBe(1);
      const expiresAt = w.clock.now() + 10_000;
      expect(await lockRow(w.memory)).toMatchObject({ owner: 'run-b', version: 1, expiresAt });
    },
  );

  it.each<Fault>(['commit-then-throw', 'throw-without-commit'])(
    'release, %s: the lock is gone',
    async (fault) => {
      const w = world();
      const lock = await held(w.store, w.clock);
      w.faulty.faults.push(fault);
      expect(await releaseRolloutLock(w.store, lock)).toBe(true);
      expect(await lockRow(w.memory)).toBeNull();
    },
  );
});

describe('a rollout whose journal commits are ambiguous', () => {
  it('reaches the same verdict with every event recorded once', async () => {
    const w = simWorld();
    const faulty = new AmbiguousCommits(w.store);
    // Every third transaction of the run is ambiguous, alternating both kinds.
    let n = 0;
    const store = new Proxy(w.store, {
      get: (target, prop, receiver) => {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
        return (ops: readonly WriteOp[]) => {
          n++;
          if (n % 3 === 0) faulty.faults.push(n % 2 === 0 ? 'commit-then-throw' : 'throw-without-commit');
          return faulty.store().transaction(ops);
        };
      },
    });
    const view = await settle(
      w.clock,
      w.orchestrator({ store }).start({ functionId: 'app', code: simBundle(), policy: fastPolicy }),
    );
    expect(view.status).toBe('succeeded');
    expect(n).toBeGreaterThan(6);
    const stored = (await w.store.list(EVENTS_TABLE, { limit: 500 })).rows.map((r) => r.message);
    expect(stored).toEqual(w.events.map((e) => e.message));
    expect(new Set(stored).size).toBe(stored.length);
    expect(w.platform.stats.byMethod.activateDeployment).toBe(2); // twin + one switch
    expect(await w.store.get(LOCKS_TABLE, rolloutLockIdOf('app'))).toBeNull();
  });
});
