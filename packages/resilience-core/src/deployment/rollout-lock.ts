import { errors, hasCode } from '../errors.ts';
import { stableId } from '../ids.ts';
import type { Clock } from '../ports/clock.ts';
import { versionBump, versionedDelete } from '../ports/compare-and-set.ts';
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
 * - A commit whose outcome is unknown (`OUTCOME_UNKNOWN`: Appwrite answered 400 `transaction_failed`, a 5xx,
 *   or nothing) is never assumed either way: {@link commitLearning} re-reads the lock row, which every one of
 *   these transactions changes, and learns from it whether the commit applied (then it is done), did not
 *   (then it is sent again: the version CAS makes a repeat harmless) or lost the lock to another run.
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
 * Proves that a lock's holder is gone (its process is dead, or it is an earlier attempt of the caller itself),
 * so its lease need not be waited out. A wrong `true` costs no safety: the takeover bumps the version, and
 * every later write of the old holder fails with `LEASE_LOST` (it is fenced).
 */
export type HolderGone = (holder: LockRow) => boolean | Promise<boolean>;

/**
 * Tries to take the lock for `rolloutId`. Creates it when free. When it exists and its lease has expired (or
 * `holderGone(holder)` proves its holder is gone), takes it over only if `mayTakeOver(holder)` agrees (e.g. the
 * holder's rollout is finished, or is the one being resumed). Otherwise returns the holder. Races are settled
 * by the store (create / version CAS).
 */
export async function tryAcquireRolloutLock(
  store: TableStore,
  clock: Clock,
  args: { functionId: string; rolloutId: string; owner: string; ttlMs: number },
  mayTakeOver: (holder: LockRow) => boolean | Promise<boolean>,
  holderGone: HolderGone = () => false,
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
    const lapsed = holder.expiresAt <= clock.now() || (await holderGone(holder));
    if (!sameRun && (!lapsed || !(await mayTakeOver(holder)))) {
      return { acquired: false, holder };
    }
    const taken = { rolloutId: args.rolloutId, owner: args.owner, version: holder.version + 1, expiresAt };
    try {
      const outcome = await commitLearning(
        store,
        id,
        [lockBump(id, holder.version), { action: 'update', table: LOCKS_TABLE, id, data: taken }],
        (row) =>
          row && holdsExactly(row, taken)
            ? 'applied'
            : row?.version === holder.version
              ? 'not-applied'
              : 'lost',
      );
      if (outcome === 'applied')
        return { acquired: true, lock: { id, ...args, version: taken.version, expiresAt } };
      // 'lost': someone else changed the lock while the outcome was unknown: look again.
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
    lockBump(lock.id, lock.version),
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
  const lost = () =>
    errors.leaseLost(`the rollout lock of ${lock.functionId} was taken over by another run`, {
      functionId: lock.functionId,
      rolloutId: lock.rolloutId,
    });
  const after = { rolloutId: lock.rolloutId, owner: lock.owner, version: lock.version + 1, expiresAt };
  let outcome: Learned;
  try {
    outcome = await commitLearning(store, lock.id, [...fencedOps(lock, expiresAt), ...ops], (row) =>
      learnFromLock(row, lock, after),
    );
  } catch (error) {
    if (hasCode(error, 'BOUND_EXCEEDED', 'NOT_FOUND')) throw lost();
    throw error;
  }
  if (outcome === 'lost') throw lost();
  afterFencedWrite(lock, expiresAt);
}

/** Releases the lock if still held by this run (a lost lock is left to its new holder). */
export async function releaseRolloutLock(store: TableStore, lock: HeldLock): Promise<boolean> {
  try {
    const outcome = await commitLearning(
      store,
      lock.id,
      versionedDelete({ table: LOCKS_TABLE, id: lock.id, expected: lock.version }),
      (row) => learnFromLock(row, lock, null),
    );
    return outcome === 'applied';
  } catch (error) {
    if (hasCode(error, 'BOUND_EXCEEDED', 'NOT_FOUND')) return false;
    throw error;
  }
}

/** What a re-read of the lock row says about a commit whose outcome was unknown. */
export type Learned = 'applied' | 'not-applied' | 'lost';

/** Commits sent in all, the first included, before an outcome that stays "not applied" is given up. */
const COMMIT_ATTEMPTS = 3;

/**
 * Commits `ops` (every one of which changes the lock row `lockId`) and, when the outcome is unknown
 * (`OUTCOME_UNKNOWN`), re-reads that row and asks `learn` what it shows: `applied` (done), `not-applied` (sent
 * again, up to {@link COMMIT_ATTEMPTS} commits in all, then the `OUTCOME_UNKNOWN` is thrown as is) or `lost`
 * (another run changed the lock: returned to the caller). Any other failure of the commit, or of the re-read,
 * is thrown: the caller then knows nothing more than before, and a re-read of the lock settles it later.
 */
export async function commitLearning(
  store: TableStore,
  lockId: string,
  ops: readonly WriteOp[],
  learn: (row: LockRow | null) => Learned,
): Promise<'applied' | 'lost'> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.transaction(ops);
      return 'applied';
    } catch (error) {
      if (!hasCode(error, 'OUTCOME_UNKNOWN')) throw error;
      const raw = await store.get(LOCKS_TABLE, lockId);
      const learned = learn(raw ? lockRowSchema.parse(raw) : null);
      if (learned !== 'not-applied') return learned;
      if (attempt >= COMMIT_ATTEMPTS) throw error;
    }
  }
}

/**
 * A fenced write or release of `lock` (`after`: the lock row the write leaves, or null for a release) as the
 * re-read lock row tells it: the row the write leaves (or no row) → applied; the row as `lock` last wrote it →
 * not applied; anything else → another run has the lock.
 */
function learnFromLock(
  row: LockRow | null,
  lock: HeldLock,
  after: Pick<LockRow, 'rolloutId' | 'owner' | 'version' | 'expiresAt'> | null,
): Learned {
  if (row === null) return after === null ? 'applied' : 'lost';
  if (after !== null && holdsExactly(row, after)) return 'applied';
  if (holdsExactly(row, lock)) return 'not-applied';
  return 'lost';
}

function holdsExactly(
  row: LockRow,
  expected: Pick<LockRow, 'rolloutId' | 'owner' | 'version' | 'expiresAt'>,
): boolean {
  return (
    row.version === expected.version &&
    row.owner === expected.owner &&
    row.rolloutId === expected.rolloutId &&
    row.expiresAt === expected.expiresAt
  );
}

/** The lock's version compare-and-set guard ({@link versionBump}): fails unless the lock is still at `version`. */
function lockBump(id: string, version: number): WriteOp {
  return versionBump({ table: LOCKS_TABLE, id, expected: version });
}
