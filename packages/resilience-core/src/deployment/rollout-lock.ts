import { errors, hasCode } from '../errors.ts';
import { stableId } from '../ids.ts';
import type { Clock } from '../ports/clock.ts';
import type { TableStore, WriteOp } from '../ports/table-store.ts';
import { type LockRow, lockRowSchema } from './rollout-row.ts';
import { LOCKS_TABLE } from './tables.ts';

/**
 * The per-function rollout lock: one row per function, id `stableId('lock', functionId)`.
 * - Acquire = `create` with that deterministic id: of concurrent acquirers exactly one succeeds.
 * - The holder's lease ends at `expiresAt`; after it, another run may take over with a version
 *   compare-and-set (increment `version` with `max = seen + 1`, in one transaction with the new owner):
 *   of concurrent takers exactly one succeeds.
 * - Every write the holder makes goes through {@link fencedOps}: the same version CAS, so a run that lost
 *   its lease (it stalled past `expiresAt` and someone took over) cannot write any more (`LEASE_LOST`).
 */

/** The lock id of a function. */
export function rolloutLockIdOf(functionId: string): string {
  return stableId('lock', functionId);
}

/** A lock this run holds (the version it last wrote). */
export interface HeldLock {
  id: string;
  functionId: string;
  rolloutId: string;
  owner: string;
  version: number;
  expiresAt: number;
}

/** Outcome of {@link tryAcquireRolloutLock}. */
export type AcquireResult = { acquired: true; lock: HeldLock } | { acquired: false; holder: LockRow };

/**
 * Tries to take the lock for `rolloutId`. Creates it when free. When it exists and its lease has expired,
 * takes it over only if `mayTakeOver(holder)` agrees (e.g. the holder's rollout is finished, or is the one
 * being resumed). Otherwise returns the holder. Races are settled by the store (create / version CAS).
 */
export async function tryAcquireRolloutLock(
  store: TableStore,
  clock: Clock,
  args: { functionId: string; rolloutId: string; owner: string; ttlMs: number },
  mayTakeOver: (holder: LockRow) => boolean | Promise<boolean>,
): Promise<AcquireResult> {
  const id = rolloutLockIdOf(args.functionId);
  for (let attempt = 0; attempt < 3; attempt++) {
    const expiresAt = clock.now() + args.ttlMs;
    try {
      await store.create(LOCKS_TABLE, id, {
        functionId: args.functionId,
        rolloutId: args.rolloutId,
        owner: args.owner,
        expiresAt,
        version: 0,
      });
      return { acquired: true, lock: { id, ...args, version: 0, expiresAt } };
    } catch (error) {
      if (!hasCode(error, 'CONFLICT')) throw error;
    }
    const raw = await store.get(LOCKS_TABLE, id);
    if (!raw) continue; // released in between: try creating again
    const holder = lockRowSchema.parse(raw);
    const sameRun = holder.owner === args.owner && holder.rolloutId === args.rolloutId;
    if (!sameRun && (holder.expiresAt > clock.now() || !(await mayTakeOver(holder)))) {
      return { acquired: false, holder };
    }
    try {
      await store.transaction([
        ...casOps(id, holder.version),
        {
          action: 'update',
          table: LOCKS_TABLE,
          id,
          data: { rolloutId: args.rolloutId, owner: args.owner, expiresAt },
        },
      ]);
      return { acquired: true, lock: { id, ...args, version: holder.version + 1, expiresAt } };
    } catch (error) {
      // Someone else bumped the version first (took over, or the holder renewed): look again.
      if (!hasCode(error, 'BOUND_EXCEEDED', 'NOT_FOUND')) throw error;
    }
  }
  const raw = await store.get(LOCKS_TABLE, id);
  if (raw) return { acquired: false, holder: lockRowSchema.parse(raw) };
  throw errors.conflict(`could not acquire the rollout lock of ${args.functionId}: contended`);
}

/**
 * The operations that make a write "fenced": bump the lock's version from `lock.version` (fails with
 * `BOUND_EXCEEDED` when anyone else changed it) and extend the lease. Put them in the same transaction as the
 * write; on success, call {@link afterFencedWrite}.
 */
export function fencedOps(lock: HeldLock, expiresAt: number): WriteOp[] {
  return [
    ...casOps(lock.id, lock.version),
    { action: 'update', table: LOCKS_TABLE, id: lock.id, data: { expiresAt } },
  ];
}

/** Updates the held lock after a successful fenced write. */
export function afterFencedWrite(lock: HeldLock, expiresAt: number): void {
  lock.version += 1;
  lock.expiresAt = expiresAt;
}

/** Runs a fenced transaction; translates a lost CAS into `LEASE_LOST`. */
export async function commitFenced(
  store: TableStore,
  lock: HeldLock,
  expiresAt: number,
  ops: readonly WriteOp[],
): Promise<void> {
  try {
    await store.transaction([...fencedOps(lock, expiresAt), ...ops]);
  } catch (error) {
    if (hasCode(error, 'BOUND_EXCEEDED', 'NOT_FOUND')) {
      throw errors.leaseLost(`the rollout lock of ${lock.functionId} was taken over by another run`, {
        functionId: lock.functionId,
        rolloutId: lock.rolloutId,
      });
    }
    throw error;
  }
  afterFencedWrite(lock, expiresAt);
}

/** Releases the lock if still held by this run (a lost lock is left to its new holder). */
export async function releaseRolloutLock(store: TableStore, lock: HeldLock): Promise<boolean> {
  try {
    await store.transaction([
      ...casOps(lock.id, lock.version),
      { action: 'delete', table: LOCKS_TABLE, id: lock.id },
    ]);
    return true;
  } catch (error) {
    if (hasCode(error, 'BOUND_EXCEEDED', 'NOT_FOUND')) return false;
    throw error;
  }
}

function casOps(id: string, version: number): WriteOp[] {
  return [
    { action: 'increment', table: LOCKS_TABLE, id, column: 'version', by: 1, bound: { max: version + 1 } },
  ];
}
