/**
 * Table declarations in code, in the shape of appwrite.json's `tables[]` entries (appwrite-cli 12).
 * Each service declares the tables it reads and writes in its own `tables.ts`; `src/tables.ts` lists them
 * all; appwrite.json must declare each with compatible columns (checked by `npm test`), so code and config
 * cannot drift. Column keys equal the TypeScript field names.
 */

import type { ZodObject } from 'zod';

/** The one database every table lives in. */
export const DATABASE_ID = 'resilience';

/** The column types the services use (appwrite.json `columns[].type`). */
export type ColumnType = 'string' | 'integer' | 'double' | 'boolean' | 'datetime';

/** One column of a table, as appwrite.json's `tables[].columns[]` holds it. */
export interface ColumnSpec {
  key: string;
  type: ColumnType;
  /** Maximum characters, for `string`. */
  size?: number;
  required: boolean;
  array?: boolean;
  /** Only allowed when `required` is false. */
  default?: string | number | boolean | null;
  min?: number;
  max?: number;
  /** `enum` needs `elements`. */
  format?: 'enum' | 'email' | 'url' | 'ip';
  elements?: string[];
}

/** One index of a table (`unique` where uniqueness is a guarantee the code relies on). */
export interface IndexSpec {
  key: string;
  type: 'key' | 'unique' | 'fulltext';
  columns: string[];
  orders?: ('ASC' | 'DESC')[];
}

/** A table as declared in code: appwrite.json's `tables[]` entry plus its row schema. */
export interface TableSpec {
  $id: string;
  name: string;
  columns: ColumnSpec[];
  indexes: IndexSpec[];
  /** Row-level permissions on (rows carry their own `$permissions`). Default false. */
  rowSecurity?: boolean;
  /** Table-level permissions. Default `[]`: only API keys (the functions) can touch it. */
  $permissions?: string[];
  /**
   * The zod schema of the row's columns (without `$`-metadata): the one the service parses the rows it reads
   * with (declare it once, in the service, and reference it here). Every table in `allTables` must have one:
   * `npm test` (test/appwrite-config.test.ts, test/row-schema-check.ts) checks that its fields and the columns
   * are the same set with compatible types (string/enum ↔ string, `z.iso.datetime` ↔ datetime, int ↔ integer,
   * number ↔ double, boolean), arrays, nullability (required ↔ never null; not required and no default ↔
   * `.nullable()`), zod `.max()` ≤ `size`, enum values = `elements`, and zod bounds within `min`/`max`, so code
   * and appwrite.json cannot drift. Optional in the type only for ad-hoc tables in tests. Never written to
   * appwrite.json (strip it when serialising a TableSpec yourself).
   */
  rowSchema?: ZodObject;
}

/** The unique indexes of each table, in the form `MemoryTableStore` takes. */
export function uniqueIndexesOf(specs: readonly TableSpec[]): Record<string, string[][]> {
  const out: Record<string, string[][]> = {};
  for (const spec of specs) {
    const unique = spec.indexes.filter((i) => i.type === 'unique').map((i) => i.columns);
    if (unique.length) out[spec.$id] = unique;
  }
  return out;
}
