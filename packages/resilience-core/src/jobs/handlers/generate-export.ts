import { z } from 'zod';
import { RECOGNITIONS_TABLE } from '../../app/tables.ts';
import { errors } from '../../errors.ts';
import { stableId } from '../../ids.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Condition, ListResult, TableStore } from '../../ports/table-store.ts';
import { lazySchema } from '../../schema/lazy-schema.ts';
import { type ExportChunkRow, exportChunkRowSchema } from '../export-row.ts';
import { defineJobType } from '../job-types.ts';
import type { JobContext } from '../queue.ts';
import { JOB_TABLES } from '../tables.ts';

/**
 * `generate-export`: an organization's recognitions as a CSV file, stored as rows of the `exports` table in
 * chunks of at most {@link EXPORT_CHUNK_CHARS} characters (one row per chunk, ids derived from the job id and
 * the chunk number, so a retried attempt overwrites rather than duplicates). Rows rather than Appwrite Storage
 * because every part of the system — including the local server — already speaks TablesDB, and a file that
 * must be read back through the same per-organization check as the job is simplest as rows the function
 * reads with its key. {@link readExport} assembles it again for the download route.
 */

/** Characters per `exports` row (the `data` column holds 65,000). */
export const EXPORT_CHUNK_CHARS = 60_000;
/** Most recognitions one export reads. Larger exports fail permanently (narrow the date range). */
export const EXPORT_MAX_ROWS = 100_000;

/** Payload of `generate-export`. */
export const generateExportPayload = lazySchema(() =>
  z
    .object({
      format: z.literal('csv').default('csv'),
      /** Only recognitions created at or after this time (ISO-8601). */
      since: z.iso.datetime({ offset: true }).optional(),
      /** Only recognitions created before this time (ISO-8601). */
      until: z.iso.datetime({ offset: true }).optional(),
    })
    .strict(),
);

/** The `generate-export` job type. */
export const generateExportType = defineJobType({
  type: 'generate-export',
  payload: generateExportPayload,
  description: "An organization's recognitions to CSV (rows of the exports table)",
  defaults: { priority: 5, maxRetries: 3, leaseMs: 60_000 },
});

/** What a finished export job reports as its result. */
export interface ExportResult {
  exportId: string;
  rows: number;
  bytes: number;
  chunks: number;
  contentType: 'text/csv';
}

/** The CSV columns, in order: row metadata first, then the recognition's own fields. */
export const EXPORT_COLUMNS = ['$id', '$createdAt', 'giverId', 'receiverId', 'message', 'points', 'tags'];

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-`, `@`,
 * tab or CR gets a `'` prefix so spreadsheets do not evaluate it as a formula.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = Array.isArray(value)
    ? value.join(';')
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Splits text into chunks of at most `size` characters (at least one chunk, possibly empty). */
export function chunkText(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

/** Builds the `generate-export` handler. */
export function createGenerateExportHandler(deps: { store: TableStore; clock: Clock }) {
  return async (payload: z.infer<typeof generateExportPayload>, ctx: JobContext): Promise<ExportResult> => {
    const where: Condition[] = [{ field: 'orgId', op: 'eq', value: ctx.orgId }];
    if (payload.since) where.push({ field: '$createdAt', op: 'gte', value: toAppwriteTime(payload.since) });
    if (payload.until) where.push({ field: '$createdAt', op: 'lt', value: toAppwriteTime(payload.until) });
    const lines = [EXPORT_COLUMNS.join(',')];
    let cursor: string | null = null;
    do {
      ctx.signal.throwIfAborted();
      const page: ListResult = await deps.store.list(RECOGNITIONS_TABLE, {
        where,
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      for (const row of page.rows) lines.push(EXPORT_COLUMNS.map((c) => csvCell(row[c])).join(','));
      if (lines.length - 1 > EXPORT_MAX_ROWS) {
        throw Object.assign(
          errors.invalidInput(`Export exceeds ${EXPORT_MAX_ROWS} rows; narrow since/until`),
          {
            permanent: true,
          },
        );
      }
      cursor = page.nextCursor;
    } while (cursor);
    const csv = `${lines.join('\r\n')}\r\n`;
    const chunks = chunkText(csv, EXPORT_CHUNK_CHARS);
    const now = deps.clock.now();
    for (let i = 0; i < chunks.length; i++) {
      ctx.signal.throwIfAborted();
      const row: ExportChunkRow = {
        exportId: ctx.jobId,
        orgId: ctx.orgId,
        chunk: i,
        chunks: chunks.length,
        contentType: 'text/csv',
        data: chunks[i]!,
        rowCount: lines.length - 1,
        createdAtMs: now,
      };
      await deps.store.upsert(JOB_TABLES.exports, exportChunkId(ctx.jobId, i), row);
    }
    return {
      exportId: ctx.jobId,
      rows: lines.length - 1,
      bytes: Buffer.byteLength(csv),
      chunks: chunks.length,
      contentType: 'text/csv',
    };
  };
}

/** The row id of an export chunk. */
export function exportChunkId(exportId: string, chunk: number): string {
  return stableId('exp', exportId, chunk);
}

/** Reads an export back as one CSV string; NOT_FOUND when missing, incomplete or another organization's. */
export async function readExport(
  store: TableStore,
  exportId: string,
  orgId: string,
): Promise<{ csv: string; rowCount: number; contentType: string }> {
  const first = await store.get(JOB_TABLES.exports, exportChunkId(exportId, 0));
  const head = first ? exportChunkRowSchema.parse(first) : null;
  if (!head || head.orgId !== orgId) throw errors.notFound(`Export ${exportId} not found`, { exportId });
  const parts = [head.data];
  for (let i = 1; i < head.chunks; i++) {
    const row = await store.get(JOB_TABLES.exports, exportChunkId(exportId, i));
    if (!row) throw errors.notFound(`Export ${exportId} is incomplete`, { exportId, chunk: i });
    parts.push(exportChunkRowSchema.parse(row).data);
  }
  return { csv: parts.join(''), rowCount: head.rowCount, contentType: head.contentType };
}

/** ISO-8601 in Appwrite's stored form (`…000+00:00`), so string comparison with `$createdAt` is exact. */
function toAppwriteTime(iso: string): string {
  return new Date(iso).toISOString().replace('Z', '+00:00');
}
