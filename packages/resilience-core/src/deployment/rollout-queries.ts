import type { TableStore } from '../ports/table-store.ts';
import { ACTIVE_STATUSES, type RolloutRow, rolloutRowSchema, TERMINAL_STATUSES } from './rollout-row.ts';
import { ROLLOUTS_TABLE } from './tables.ts';

/** Reads of the rollouts table shared by the orchestrator's entry points (each one indexed list or get). */

/** The function's newest rollout that is not finished, or null. */
export async function findUnfinishedRollout(
  store: TableStore,
  functionId: string,
): Promise<{ id: string; row: RolloutRow } | null> {
  const page = await store.list(ROLLOUTS_TABLE, {
    where: [
      { field: 'functionId', op: 'eq', value: functionId },
      { field: 'status', op: 'eq', value: [...ACTIVE_STATUSES] },
    ],
    orderBy: [{ field: '$sequence', direction: 'desc' }],
    limit: 1,
  });
  const r = page.rows[0];
  return r ? { id: r.$id, row: rolloutRowSchema.parse(r) } : null;
}

/** The function's newest rollout, or null. */
export async function findLatestRollout(
  store: TableStore,
  functionId: string,
): Promise<{ id: string; row: RolloutRow } | null> {
  const page = await store.list(ROLLOUTS_TABLE, {
    where: [{ field: 'functionId', op: 'eq', value: functionId }],
    orderBy: [{ field: '$sequence', direction: 'desc' }],
    limit: 1,
  });
  const r = page.rows[0];
  return r ? { id: r.$id, row: rolloutRowSchema.parse(r) } : null;
}

/** True when the rollout is finished, or does not exist. */
export async function isFinishedOrMissing(store: TableStore, rolloutId: string): Promise<boolean> {
  const raw = await store.get(ROLLOUTS_TABLE, rolloutId);
  return raw === null || TERMINAL_STATUSES.includes(rolloutRowSchema.parse(raw).status);
}
