import { forEachLimited } from './for-each-limited.ts';
import type { Condition, TableStore } from './table-store.ts';

/** Re-exported from its own module ({@link forEachLimited} moved to `for-each-limited.ts`). */
export { forEachLimited };

/** Bounds of one prune: how much it may delete and when it must stop. */
export interface PruneLimits {
  /** Most rows to delete. Default unlimited. */
  maxDeletes?: number;
  /** Checked before each page; `true` stops the prune (e.g. the function's deadline is near). */
  shouldStop?: () => boolean;
  /** Deletes in flight at once. Default 8. */
  concurrency?: number;
}

/** What one prune did. */
export interface PruneResult {
  deleted: number;
  /** False when a limit stopped it with matching rows left (the next run continues; nothing is half-done). */
  complete: boolean;
}

/** Rows listed per page (and the largest batch of deletes between two limit checks). */
export const PRUNE_PAGE = 100;

/**
 * Deletes every row of `table` matching `where`, page by page (re-listing from the start, so no cursor can
 * point at a deleted row), until none is left or a limit stops it. Only for rows nothing writes to any more
 * (old buckets, expired files): a row matched here is deleted unconditionally. Idempotent: a second call with
 * the same `where` deletes nothing. `select` keeps large columns out of the listing.
 */
export async function deleteWhere(
  store: TableStore,
  table: string,
  where: readonly Condition[],
  limits: PruneLimits & { select?: readonly string[] } = {},
): Promise<PruneResult> {
  const max = limits.maxDeletes ?? Number.POSITIVE_INFINITY;
  let deleted = 0;
  for (;;) {
    if (deleted >= max || limits.shouldStop?.()) return { deleted, complete: false };
    const limit = Math.min(PRUNE_PAGE, max - deleted);
    const page = await store.list(table, {
      where,
      limit,
      ...(limits.select ? { select: limits.select } : {}),
    });
    let removed = 0;
    await forEachLimited(page.rows, limits.concurrency ?? 8, async (row) => {
      if (await store.delete(table, row.$id)) removed++;
    });
    deleted += removed;
    if (page.rows.length < limit) return { deleted, complete: true };
    // Every row of a full page vanished under someone else (a concurrent run): let the next run continue
    // rather than spin against it.
    if (removed === 0) return { deleted, complete: false };
  }
}
