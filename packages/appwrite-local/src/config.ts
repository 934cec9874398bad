/**
 * appwrite.json (appwrite-cli 12 format) as the server reads it: `tablesDB[]` and `tables[]` are provisioned by
 * the core; `functions[]` is handed to the functions module unparsed beyond its `$id`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const columnSchema = z.looseObject({
  key: z.string(),
  type: z.string(),
  required: z.boolean().optional(),
  array: z.boolean().optional(),
  size: z.number().optional(),
  default: z.unknown().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  format: z.string().optional(),
  elements: z.array(z.string()).optional(),
});

const indexSchema = z.looseObject({
  key: z.string(),
  type: z.string(),
  columns: z.array(z.string()),
  orders: z.array(z.string()).optional(),
});

const tableSchema = z.looseObject({
  $id: z.string(),
  databaseId: z.string(),
  name: z.string().optional(),
  enabled: z.boolean().optional(),
  rowSecurity: z.boolean().optional(),
  $permissions: z.array(z.string()).optional(),
  columns: z.array(columnSchema).default([]),
  indexes: z.array(indexSchema).default([]),
});

/** The part of appwrite.json the server understands. */
export const appwriteConfigSchema = z.looseObject({
  projectId: z.string().optional(),
  tablesDB: z
    .array(z.looseObject({ $id: z.string(), name: z.string().optional(), enabled: z.boolean().optional() }))
    .default([]),
  tables: z.array(tableSchema).default([]),
  /** Function entries as written in the file (validated by the functions module). */
  functions: z.array(z.looseObject({ $id: z.string() })).default([]),
});

/** A table entry of appwrite.json. */
export type ConfigTable = z.infer<typeof tableSchema>;
/** A column entry of appwrite.json. */
export type ConfigColumn = z.infer<typeof columnSchema>;

/** Parsed appwrite.json plus the absolute directory it came from (function `path`s are relative to it). */
export type AppwriteConfig = z.infer<typeof appwriteConfigSchema> & { dir: string };

/** Reads and validates appwrite.json; throws an Error naming the file and the first issue. */
export function loadAppwriteConfig(path: string): AppwriteConfig {
  const file = resolve(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`appwrite-local: cannot read config ${file}: ${(e as Error).message}`);
  }
  const parsed = appwriteConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`appwrite-local: invalid config ${file}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return { ...parsed.data, dir: dirname(file) };
}
