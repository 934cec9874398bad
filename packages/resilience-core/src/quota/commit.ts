/**
 * Committing a quota transaction whose outcome the backend may not know. Appwrite answers some commits with 400
 * `transaction_failed`, a 5xx or no response at all; the adapter raises OUTCOME_UNKNOWN for those (platform
 * notes §F3): the transaction may or may not have applied. Every quota transaction creates one row with an id
 * chosen before the commit (an audit row, a reservation row) — its receipt. Reading the receipt back tells what
 * happened: present → the transaction applied (a transaction applies whole or not at all), absent → it did not.
 * Nothing is assumed either way.
 */
import { hasCode } from '../errors.ts';
import type { TableStore, WriteOp } from '../ports/table-store.ts';

/** The row whose presence proves the transaction applied: created by it, with an id fixed before the commit. */
export interface Receipt {
  table: string;
  id: string;
}

/** What a transaction did: applied, or (after an unknown outcome and a re-read) certainly not applied. */
export type CommitOutcome = 'committed' | 'not-applied';

/**
 * Runs `ops` as one transaction. Errors other than OUTCOME_UNKNOWN propagate unchanged (BOUND_EXCEEDED,
 * NOT_FOUND, CONFLICT: nothing applied). On OUTCOME_UNKNOWN the receipt is read back: `'committed'` when it
 * exists, `'not-applied'` when it does not. If that read fails too, the OUTCOME_UNKNOWN is thrown: still unknown.
 */
export async function commitWithReceipt(
  store: TableStore,
  ops: readonly WriteOp[],
  receipt: Receipt,
): Promise<CommitOutcome> {
  try {
    await store.transaction(ops);
    return 'committed';
  } catch (error) {
    if (!hasCode(error, 'OUTCOME_UNKNOWN')) throw error;
    let row: unknown;
    try {
      row = await store.get(receipt.table, receipt.id);
    } catch {
      throw error;
    }
    return row ? 'committed' : 'not-applied';
  }
}

/** The receipt of a transaction: its `create` of `table` (the first one when several). */
export function receiptOf(ops: readonly WriteOp[], table: string): Receipt {
  const create = ops.find((op) => op.action === 'create' && op.table === table);
  if (!create) throw new Error(`A quota transaction has no create of ${table} to serve as its receipt`);
  return { table, id: (create as { id: string }).id };
}
