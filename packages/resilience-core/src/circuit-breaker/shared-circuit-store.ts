import { errors, hasCode } from '../errors.ts';
import { stableId } from '../ids.ts';
import { versionBump } from '../ports/compare-and-set.ts';
import { deleteWhere, type PruneLimits, type PruneResult } from '../ports/delete-where.ts';
import type { TableStore } from '../ports/table-store.ts';
import type { CircuitState } from './circuit-state.ts';
import { circuitStateSchema } from './circuit-state.ts';
import {
  CIRCUIT_BREAKER_BUCKETS_TABLE,
  CIRCUIT_BREAKER_PROBES_TABLE,
  CIRCUIT_BREAKERS_TABLE,
  type CircuitBreakerRow,
  type CircuitProbeRow,
  circuitBreakerRowSchema,
  circuitBucketRowSchema,
  circuitProbeRowSchema,
  REOPEN_COUNT_MAX,
} from './tables.ts';
import { addToBuckets, type BucketCounts, OUTCOME_KINDS } from './window.ts';

/** Whether a storage round trip was awaited by a caller or done in the background. */
export type IoPhase = 'callPath' | 'background';

/** A held half-open probe slot. */
export interface ProbeLease {
  id: string;
  slot: number;
  /** The row's generation when we took it; completing compares-and-sets against it. */
  generation: number;
  leaseUntil: number;
}

/** The row id of a breaker: `stableId('cb', name)` or `stableId('cb', name, organizationId)`. */
export function circuitBreakerKey(name: string, scope?: string | null): string {
  return scope ? stableId('cb', name, scope) : stableId('cb', name);
}

/** True for the errors that mean "someone else changed it first": re-read and adopt. */
export function isLostRace(error: unknown): boolean {
  return hasCode(error, 'CONFLICT', 'BOUND_EXCEEDED', 'NOT_FOUND', 'LEASE_LOST');
}

/** True when a write's commit may or may not have happened (`OUTCOME_UNKNOWN`): only a re-read can tell. */
function isOutcomeUnknown(error: unknown): boolean {
  return hasCode(error, 'OUTCOME_UNKNOWN');
}

/**
 * One breaker's shared state over a {@link TableStore}: every method is one storage operation (or a short,
 * bounded sequence of them), all atomic primitives of the port — create for probe slots, bounded increments
 * for counters and version compare-and-set. Every round trip is reported to `onRoundTrip` so the breaker can
 * prove its closed path does none.
 *
 * A write answered `OUTCOME_UNKNOWN` (a commit whose result the server did not say) is never assumed either
 * way: the row is read back and tells whether this write is the one stored (then it succeeded) or not (then
 * it is treated as a lost race, and the caller adopts what is stored).
 */
export class SharedCircuitStore {
  /** Counter rows this process wrote (so it knows to increment rather than create). */
  private readonly written = new Set<string>();

  constructor(
    private readonly storeRef: TableStore | (() => TableStore),
    readonly key: string,
    private readonly name: string,
    private readonly scope: string | null,
    private readonly holder: string,
    private readonly onRoundTrip: (phase: IoPhase) => void,
  ) {}

  private get store(): TableStore {
    return typeof this.storeRef === 'function' ? this.storeRef() : this.storeRef;
  }

  /** The stored state, or `null` when no transition was ever written. A corrupt row throws (a bug). */
  async readState(phase: IoPhase): Promise<CircuitState | null> {
    this.onRoundTrip(phase);
    const row = await this.store.get<CircuitBreakerRow>(CIRCUIT_BREAKERS_TABLE, this.key);
    return row ? circuitStateFromRow(circuitBreakerRowSchema.parse(row)) : null;
  }

  /**
   * Writes `next` if the stored version is still `expectedVersion` (version 0 = no row yet: create it).
   * Loses the race with CONFLICT or BOUND_EXCEEDED (see {@link isLostRace}); returns the written state.
   */
  async writeTransition(
    expectedVersion: number,
    next: DistributiveOmit<CircuitState, 'version'>,
    phase: IoPhase,
  ): Promise<CircuitState> {
    const state = circuitStateSchema.parse({ ...next, version: expectedVersion + 1 });
    const { version, ...data } = stateToRow(state, this.name, this.scope);
    this.onRoundTrip(phase);
    try {
      if (expectedVersion === 0) {
        await this.store.create(CIRCUIT_BREAKERS_TABLE, this.key, { ...data, version });
      } else {
        // Compare-and-set: the bounded increment fails (and the whole transaction with it) unless the row is
        // still at expectedVersion.
        await this.store.transaction([
          versionBump({ table: CIRCUIT_BREAKERS_TABLE, id: this.key, expected: expectedVersion }),
          { action: 'update', table: CIRCUIT_BREAKERS_TABLE, id: this.key, data },
        ]);
      }
    } catch (error) {
      if (!isOutcomeUnknown(error)) throw error;
      // The row says whether our transition is the one stored; a failed re-read leaves the outcome unknown.
      const stored = await this.readState(phase);
      if (stored && sameTransition(stored, state)) return state;
      throw errors.conflict(`Circuit "${this.name}" transition not stored (commit outcome was unknown)`, {
        breaker: this.name,
        version: stored?.version ?? 0,
      });
    }
    return state;
  }

  /** Adds outcome counts (seen under CLOSED `version`) to the shared buckets: one atomic increment per counter. */
  async addOutcomes(version: number, buckets: BucketCounts, phase: IoPhase): Promise<void> {
    const ops: Promise<void>[] = [];
    for (const [bucketStart, counts] of buckets) {
      for (let k = 0; k < 4; k++) {
        const by = counts[k]!;
        if (by > 0) ops.push(this.addCounter(version, bucketStart, k, by, phase));
      }
    }
    const results = await Promise.allSettled(ops);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async addCounter(version: number, bucketStart: number, k: number, by: number, phase: IoPhase) {
    const kind = OUTCOME_KINDS[k]!;
    const id = stableId('cbb', this.key, version, bucketStart, kind);
    // A counter this process has not written yet is most likely new: try create first (one round trip).
    let createFirst = !this.written.has(id);
    if (this.written.size > 1000) this.written.clear();
    this.written.add(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!createFirst) {
        try {
          this.onRoundTrip(phase);
          await this.store.increment(CIRCUIT_BREAKER_BUCKETS_TABLE, id, 'count', by);
          return;
        } catch (error) {
          if (!hasCode(error, 'NOT_FOUND')) throw error;
        }
      }
      createFirst = false;
      try {
        this.onRoundTrip(phase);
        await this.store.create(CIRCUIT_BREAKER_BUCKETS_TABLE, id, {
          breakerKey: this.key,
          version,
          bucketStart,
          kind,
          count: by,
        });
        return;
      } catch (error) {
        // Another execution created it first: increment it instead.
        if (!hasCode(error, 'CONFLICT')) throw error;
      }
    }
  }

  /** The shared outcome counts of CLOSED `version` from bucket start `since` on (one list, newest first). */
  async readOutcomes(version: number, since: number, phase: IoPhase): Promise<BucketCounts> {
    this.onRoundTrip(phase);
    const page = await this.store.list(CIRCUIT_BREAKER_BUCKETS_TABLE, {
      where: [
        { field: 'breakerKey', op: 'eq', value: this.key },
        { field: 'version', op: 'eq', value: version },
        { field: 'bucketStart', op: 'gte', value: since },
      ],
      orderBy: [{ field: 'bucketStart', direction: 'desc' }],
      limit: 1000,
    });
    const out: BucketCounts = new Map();
    for (const row of page.rows) {
      const r = circuitBucketRowSchema.parse(row);
      addToBuckets(out, r.bucketStart, OUTCOME_KINDS.indexOf(r.kind), r.count);
    }
    return out;
  }

  /**
   * Claims a probe slot of the half-open episode of OPEN `version`: creates slot rows 0..maxProbes-1 in turn
   * (exactly one creator wins each) and takes over a pending slot whose lease has expired (compare-and-set on
   * its generation). `null` when every slot is held or done.
   */
  async claimProbe(
    version: number,
    maxProbes: number,
    now: number,
    leaseMs: number,
    phase: IoPhase,
  ): Promise<ProbeLease | null> {
    const leaseUntil = now + leaseMs;
    for (let slot = 0; slot < maxProbes; slot++) {
      const id = stableId('cbp', this.key, version, slot);
      try {
        this.onRoundTrip(phase);
        const row: CircuitProbeRow = {
          breakerKey: this.key,
          version,
          slot,
          holder: this.holder,
          leaseUntil,
          generation: 0,
          outcome: 'pending',
        };
        await this.store.create(CIRCUIT_BREAKER_PROBES_TABLE, id, row);
        return { id, slot, generation: 0, leaseUntil };
      } catch (error) {
        if (!hasCode(error, 'CONFLICT')) throw error;
      }
      this.onRoundTrip(phase);
      const existing = await this.store.get(CIRCUIT_BREAKER_PROBES_TABLE, id);
      if (!existing) continue;
      const probe = circuitProbeRowSchema.parse(existing);
      if (probe.outcome !== 'pending' || probe.leaseUntil > now) continue;
      const takeover: ProbeLease = { id, slot, generation: probe.generation + 1, leaseUntil };
      try {
        this.onRoundTrip(phase);
        await this.store.transaction([
          versionBump({
            table: CIRCUIT_BREAKER_PROBES_TABLE,
            id,
            expected: probe.generation,
            column: 'generation',
          }),
          {
            action: 'update',
            table: CIRCUIT_BREAKER_PROBES_TABLE,
            id,
            data: { holder: this.holder, leaseUntil },
          },
        ]);
        return takeover;
      } catch (error) {
        if (isOutcomeUnknown(error)) {
          // Ours only if the slot now holds exactly our takeover; otherwise it is not (or no longer) ours.
          if (await this.holdsProbe(takeover, 'pending', phase)) return takeover;
          continue;
        }
        if (!isLostRace(error)) throw error;
      }
    }
    return null;
  }

  /**
   * Records a probe's outcome if we still hold its lease; `false` when another execution took it over. After an
   * unknown commit outcome the slot is read back: our outcome stored → `true`; still ours and untouched → the
   * write is tried once more; anything else → `false`.
   */
  async completeProbe(lease: ProbeLease, outcome: 'success' | 'failure', phase: IoPhase): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.onRoundTrip(phase);
        await this.store.transaction([
          versionBump({
            table: CIRCUIT_BREAKER_PROBES_TABLE,
            id: lease.id,
            expected: lease.generation,
            column: 'generation',
          }),
          { action: 'update', table: CIRCUIT_BREAKER_PROBES_TABLE, id: lease.id, data: { outcome } },
        ]);
        return true;
      } catch (error) {
        if (isLostRace(error)) return false;
        if (!isOutcomeUnknown(error)) throw error;
        const done: ProbeLease = { ...lease, generation: lease.generation + 1 };
        if (await this.holdsProbe(done, outcome, phase)) return true;
        // Untouched (the commit did not happen) and still ours: one more try; else someone moved it on.
        if (attempt > 0 || !(await this.holdsProbe(lease, 'pending', phase))) return false;
      }
    }
  }

  /** Whether the probe slot holds exactly `lease` (our holder, its generation and lease end) with `outcome`. */
  private async holdsProbe(
    lease: ProbeLease,
    outcome: CircuitProbeRow['outcome'],
    phase: IoPhase,
  ): Promise<boolean> {
    this.onRoundTrip(phase);
    const row = await this.store.get(CIRCUIT_BREAKER_PROBES_TABLE, lease.id);
    if (!row) return false;
    const probe = circuitProbeRowSchema.parse(row);
    return (
      probe.holder === this.holder &&
      probe.generation === lease.generation &&
      probe.leaseUntil === lease.leaseUntil &&
      probe.outcome === outcome
    );
  }

  /** How many probes of OPEN `version`'s half-open episode succeeded. */
  async countProbeSuccesses(version: number, phase: IoPhase): Promise<number> {
    this.onRoundTrip(phase);
    const page = await this.store.list(CIRCUIT_BREAKER_PROBES_TABLE, {
      where: [
        { field: 'breakerKey', op: 'eq', value: this.key },
        { field: 'version', op: 'eq', value: version },
        { field: 'outcome', op: 'eq', value: 'success' },
      ],
      limit: 100,
    });
    return page.rows.length;
  }
}

/** Whether `stored` is the transition `written` (same version and every field a transition sets). */
function sameTransition(stored: CircuitState, written: CircuitState): boolean {
  if (stored.version !== written.version || stored.state !== written.state) return false;
  if (stored.changedAt !== written.changedAt) return false;
  if (stored.reopenCount !== Math.min(written.reopenCount, REOPEN_COUNT_MAX)) return false;
  if (stored.state === 'OPEN' && written.state === 'OPEN') {
    return (
      stored.openUntil === written.openUntil &&
      stored.isolated === written.isolated &&
      stored.reason === written.reason
    );
  }
  return true;
}

/** `Omit` that keeps a union a union. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The breaker state a `circuit-breakers` row holds (the row is parsed already: no second validation). */
export function circuitStateFromRow(row: CircuitBreakerRow): CircuitState {
  const reopenCount = row.reopenCount ?? 0;
  if (row.state === 'CLOSED') {
    return { state: 'CLOSED', version: row.version, changedAt: row.changedAt, reopenCount };
  }
  return {
    state: 'OPEN',
    version: row.version,
    changedAt: row.changedAt,
    openUntil: row.openUntil,
    isolated: row.isolated ?? false,
    reopenCount,
    reason: row.reason ?? '',
  };
}

function stateToRow(state: CircuitState, name: string, scope: string | null): CircuitBreakerRow {
  return state.state === 'CLOSED'
    ? {
        name,
        scope,
        state: 'CLOSED',
        version: state.version,
        changedAt: state.changedAt,
        openUntil: null,
        isolated: false,
        reopenCount: Math.min(state.reopenCount, REOPEN_COUNT_MAX),
        reason: null,
      }
    : {
        name,
        scope,
        state: 'OPEN',
        version: state.version,
        changedAt: state.changedAt,
        openUntil: state.openUntil,
        isolated: state.isolated,
        reopenCount: Math.min(state.reopenCount, REOPEN_COUNT_MAX),
        reason: state.reason,
      };
}

/** Deletes bucket rows older than `before` (epoch ms) and probe rows whose lease ended before it; returns how many. */
export async function pruneCircuitBreakerRows(store: TableStore, before: number): Promise<number> {
  return (await pruneCircuitBreakerRowsWithin(store, before)).deleted;
}

/**
 * {@link pruneCircuitBreakerRows} within limits (rows per run, a deadline), as the daily retention runs it.
 * Safe while breakers run: a bucket older than the longest time window (24 h + one bucket) is never read by a
 * time window again; a count window then sees at most the calls after `before`. A probe row whose lease ended
 * is only ever taken over by compare-and-set, and a deleted one is simply created again.
 */
export async function pruneCircuitBreakerRowsWithin(
  store: TableStore,
  before: number,
  limits: PruneLimits = {},
): Promise<PruneResult> {
  let deleted = 0;
  for (const [table, field] of [
    [CIRCUIT_BREAKER_BUCKETS_TABLE, 'bucketStart'],
    [CIRCUIT_BREAKER_PROBES_TABLE, 'leaseUntil'],
  ] as const) {
    const result = await deleteWhere(store, table, [{ field, op: 'lt', value: before }], {
      ...limits,
      select: [field],
      ...(limits.maxDeletes === undefined ? {} : { maxDeletes: limits.maxDeletes - deleted }),
    });
    deleted += result.deleted;
    if (!result.complete) return { deleted, complete: false };
  }
  return { deleted, complete: true };
}
