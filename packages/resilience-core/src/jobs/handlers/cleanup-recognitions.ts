import { z } from 'zod';
import { RECOGNITIONS_TABLE } from '../../app/tables.ts';
import type { Clock } from '../../ports/clock.ts';
import type { TableStore } from '../../ports/table-store.ts';
import { lazySchema } from '../../schema/lazy-schema.ts';
import { defineJobType } from '../job-types.ts';
import type { JobContext } from '../queue.ts';

/** Payload of `cleanup-recognitions`: delete the organization's recognitions older than `daysOld` days. */
export const cleanupRecognitionsPayload = lazySchema(() =>
  z
    .object({
      /** Age in whole days (1..3650); recognitions created before now − daysOld × 24 h are deleted. */
      daysOld: z.number().int().min(1).max(3650),
    })
    .strict(),
);

/** The `cleanup-recognitions` job type. */
export const cleanupRecognitionsType = defineJobType({
  type: 'cleanup-recognitions',
  payload: cleanupRecognitionsPayload,
  description: "Deletes an organization's recognitions older than N days",
  defaults: { priority: 10, maxRetries: 3, leaseMs: 60_000 },
});

/** What a cleanup reports. */
export interface CleanupResult {
  deleted: number;
  /** The cut-off, ISO-8601: rows created before it were deleted. */
  before: string;
}

/**
 * Builds the `cleanup-recognitions` handler. Deletes page by page (100 rows, 10 deletes at a time) and is
 * idempotent: a retried attempt deletes whatever the previous one left. Only the job's organization is touched.
 */
export function createCleanupRecognitionsHandler(deps: { store: TableStore; clock: Clock }) {
  return async (
    payload: z.infer<typeof cleanupRecognitionsPayload>,
    ctx: JobContext,
  ): Promise<CleanupResult> => {
    const before = new Date(deps.clock.now() - payload.daysOld * 86_400_000)
      .toISOString()
      .replace('Z', '+00:00');
    let deleted = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      const page = await deps.store.list(RECOGNITIONS_TABLE, {
        where: [
          { field: 'orgId', op: 'eq', value: ctx.orgId },
          { field: '$createdAt', op: 'lt', value: before },
        ],
        limit: 100,
        select: ['orgId'],
      });
      if (!page.rows.length) break;
      for (let i = 0; i < page.rows.length; i += 10) {
        const results = await Promise.all(
          page.rows.slice(i, i + 10).map((row) => deps.store.delete(RECOGNITIONS_TABLE, row.$id)),
        );
        deleted += results.filter(Boolean).length;
      }
    }
    return { deleted, before };
  };
}
