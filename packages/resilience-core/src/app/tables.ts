/**
 * The application's tables. Organizations are Appwrite teams (no table); recognitions are rows.
 */
import { z } from 'zod';
import { lazySchema } from '../schema/lazy-schema.ts';
import type { TableSpec } from '../schema/table-spec.ts';

/** Table id of recognitions. */
export const RECOGNITIONS_TABLE = 'recognitions';

/** Longest recognition message, in characters. */
export const MESSAGE_MAX = 1000;
/** Most points one recognition may carry. */
export const POINTS_MAX = 1000;
/** Most tags on one recognition. */
export const TAGS_MAX = 10;
/** Longest tag, in characters. */
export const TAG_MAX_LENGTH = 32;

/** A stored recognition's columns (the row adds `$id`, `$createdAt`… — `$createdAt` is when it was given). */
export const recognitionRowSchema = lazySchema(() =>
  z.object({
    /** The organization (Appwrite team id). */
    orgId: z.string().min(1).max(36),
    /** The user who gave it (Appwrite user id). */
    giverId: z.string().min(1).max(36),
    /** The user who received it; a member of `orgId`, never the giver. */
    receiverId: z.string().min(1).max(36),
    /** Free text, 1..MESSAGE_MAX characters. */
    message: z.string().min(1).max(MESSAGE_MAX),
    /** Points awarded, 0..POINTS_MAX. Default 0. */
    points: z.number().int().min(0).max(POINTS_MAX),
    /** Up to TAGS_MAX tags of 1..TAG_MAX_LENGTH characters. Default [] (an unset column reads as null). */
    tags: z
      .array(z.string().min(1).max(TAG_MAX_LENGTH))
      .max(TAGS_MAX)
      .nullable()
      .transform((tags) => tags ?? []),
  }),
);

/** A recognition's column values. */
export type RecognitionData = z.infer<typeof recognitionRowSchema>;

/** `recognitions`: one row per recognition given. */
export const recognitionsTable: TableSpec = {
  $id: RECOGNITIONS_TABLE,
  name: 'Recognitions',
  columns: [
    { key: 'orgId', type: 'string', size: 36, required: true },
    { key: 'giverId', type: 'string', size: 36, required: true },
    { key: 'receiverId', type: 'string', size: 36, required: true },
    { key: 'message', type: 'string', size: MESSAGE_MAX, required: true },
    { key: 'points', type: 'integer', required: false, min: 0, max: POINTS_MAX, default: 0 },
    { key: 'tags', type: 'string', size: TAG_MAX_LENGTH, array: true, required: false },
  ],
  indexes: [
    { key: 'org', type: 'key', columns: ['orgId'] },
    { key: 'org_receiver', type: 'key', columns: ['orgId', 'receiverId'] },
    { key: 'org_giver', type: 'key', columns: ['orgId', 'giverId'] },
  ],
  rowSchema: recognitionRowSchema,
};

/** Every table of the application, for `src/tables.ts`. */
export const appTables: TableSpec[] = [recognitionsTable];
