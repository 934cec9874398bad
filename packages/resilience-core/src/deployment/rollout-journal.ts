import { errors } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Clock } from '../ports/clock.ts';
import type { TableStore, WriteOp } from '../ports/table-store.ts';
import { commitFenced, type HeldLock } from './rollout-lock.ts';
import type { RolloutPolicy } from './rollout-policy.ts';
import { canTransition, type EventRow, type RolloutRow, type RolloutStatus } from './rollout-row.ts';
import { EVENTS_TABLE, ROLLOUTS_TABLE } from './tables.ts';

/**
 * The rollout's journal: every write a run makes, each FENCED by its lock (one transaction with the lock's
 * version compare-and-set, `commitFenced`) — the rollout row's changes and the history entry that says why,
 * together — and the live progress feed (`onEvent`). Moved out of the orchestrator as is; the orchestrator's steps
 * decide, this file records.
 */

/** A history entry as callers see it (also what `onEvent` receives, live). */
export interface RolloutEvent extends EventRow {
  id: string;
}

/** The part of a run the journal writes for. */
export interface JournalRun {
  id: string;
  row: RolloutRow;
  lock: HeldLock;
  policy: RolloutPolicy;
}

/** Fenced writes of rollout rows and history entries. */
export class RolloutJournal {
  constructor(
    private readonly store: TableStore,
    private readonly clock: Clock,
    private readonly onEvent: (event: RolloutEvent) => void,
  ) {}

  /** Moves to `to` (a legal transition) with `patch`, recording a history entry. */
  async transition(
    run: JournalRun,
    to: RolloutStatus,
    message: string,
    patch: Partial<RolloutRow> = {},
    level: EventRow['level'] = 'info',
  ): Promise<void> {
    if (!canTransition(run.row.status, to)) {
      throw errors.internal(`illegal rollout transition ${run.row.status} → ${to}`);
    }
    await this.update(run, { ...patch, status: to }, message, level);
  }

  /** Ends the rollout in a terminal status. */
  finish(
    run: JournalRun,
    to: 'succeeded' | 'failed' | 'rolled_back',
    reason: string,
    details?: Record<string, unknown>,
  ): Promise<void> {
    const level = to === 'succeeded' ? 'info' : to === 'rolled_back' ? 'warn' : 'error';
    if (!canTransition(run.row.status, to))
      throw errors.internal(`illegal rollout transition ${run.row.status} → ${to}`);
    return this.update(run, { status: to, reason, finishedAt: this.clock.now() }, reason, level, details);
  }

  /** Records a history entry without changing the row. */
  note(run: JournalRun, level: EventRow['level'], message: string, details?: unknown): Promise<void> {
    return this.update(run, {}, message, level, details);
  }

  /** A fenced update of the rollout row plus a history entry. */
  async update(
    run: JournalRun,
    patch: Partial<RolloutRow>,
    message: string,
    level: EventRow['level'] = 'info',
    details?: unknown,
  ): Promise<void> {
    const fitted = fitColumns(patch);
    const ops: WriteOp[] = Object.keys(fitted).length
      ? [{ action: 'update', table: ROLLOUTS_TABLE, id: run.id, data: fitted }]
      : [];
    const next = { ...run.row, ...fitted };
    await this.write(run, ops, { level, message, details }, next);
    run.row = next;
  }

  /** The one write path of a run: `ops` plus an optional event, fenced by the lock, in one transaction. */
  async write(
    run: JournalRun,
    ops: WriteOp[],
    event: { level: EventRow['level']; message: string; details?: unknown } | null,
    rowAfter: RolloutRow = run.row,
  ): Promise<void> {
    const all = [...ops];
    let created: RolloutEvent | null = null;
    if (event) {
      created = this.eventOf(run.id, rowAfter, event.level, event.message, event.details);
      const { id, ...data } = created;
      all.push({ action: 'create', table: EVENTS_TABLE, id, data });
    }
    await commitFenced(this.store, run.lock, this.clock.now() + run.policy.lockTtlMs, all);
    if (created) this.emit(created);
  }

  /** Leaves the rollout resumable: records why, and expires the lease so the next run may continue at once. */
  async pause(run: JournalRun, message: string, level: EventRow['level'] = 'warn'): Promise<void> {
    await this.write(run, [], { level, message });
    await commitFenced(this.store, run.lock, this.clock.now(), []);
  }

  /** Records a history entry without the lock (a rollback request while another run holds it). */
  async appendEvent(
    id: string,
    row: RolloutRow,
    level: EventRow['level'],
    message: string,
  ): Promise<RolloutEvent> {
    const event = this.eventOf(id, row, level, message);
    const { id: eventId, ...data } = event;
    await this.store.create(EVENTS_TABLE, eventId, data);
    return event;
  }

  /** A new history entry of rollout `rolloutId` in `row`'s status, its text fitted to the columns (tables.ts). */
  private eventOf(
    rolloutId: string,
    row: RolloutRow,
    level: EventRow['level'],
    message: string,
    details?: unknown,
  ): RolloutEvent {
    return {
      id: newId(),
      rolloutId,
      functionId: row.functionId,
      at: this.clock.now(),
      status: row.status,
      level,
      message: message.slice(0, 1000),
      details: details === undefined ? null : JSON.stringify(details).slice(0, 8000),
    };
  }

  emit(event: RolloutEvent): void {
    try {
      this.onEvent(event);
    } catch {
      // Progress display must never break a rollout.
    }
  }
}

/** Keeps free-text columns within their sizes (tables.ts), so a long report never fails a write. */
function fitColumns(patch: Partial<RolloutRow>): Partial<RolloutRow> {
  const out = { ...patch };
  if (typeof out.reason === 'string') out.reason = out.reason.slice(0, 2000);
  if (typeof out.abortReason === 'string') out.abortReason = out.abortReason.slice(0, 500);
  if (typeof out.validation === 'string' && out.validation.length > 20_000) {
    // The full report is in the event history (details are capped there too).
    out.validation = JSON.stringify({ skipped: false, truncated: true, chars: out.validation.length });
  }
  return out;
}
