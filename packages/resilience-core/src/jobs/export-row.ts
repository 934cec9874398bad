import { z } from 'zod';
import { lazySchema } from '../schema/lazy-schema.ts';

/** An `exports` row: one chunk of a CSV file. */
export const exportChunkRowSchema = lazySchema(() =>
  z.object({
    /** The export id (= the job id that produced it). */
    exportId: z.string().max(36),
    orgId: z.string().max(36),
    /** 0-based chunk number. */
    chunk: z.number().int().min(0),
    /** Chunks in the whole file. */
    chunks: z.number().int().min(1),
    contentType: z.string().max(64),
    /** ≤ EXPORT_CHUNK_CHARS characters of the file. */
    data: z.string(),
    /** Data rows in the whole file (header excluded). */
    rowCount: z.number().int().min(0),
    /** When the chunk was written, epoch ms. */
    createdAtMs: z.number().int(),
  }),
);
/** An `exports` row. */
export type ExportChunkRow = z.infer<typeof exportChunkRowSchema>;
