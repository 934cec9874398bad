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
  /**
   * The code increments this column (an `increment` op): a counter. Appwrite leaves NULL in a column added to
   * a table that has rows, and an increment of NULL writes nothing (platform notes §F2), so a counter must
   * never hold NULL. Appwrite refuses a default on a required column, so a counter is an `integer` that is
   * either `required` (every create writes it) or has a numeric `default` (Appwrite fills it on create); and
   * the schema provisioner backfills its {@link counterStartOf} into every row that holds NULL before the code
   * that increments it is deployed ({@link counterSpecProblems}; `provisionSchema`). Never written to
   * appwrite.json.
   */
  counter?: boolean;
}

/** The value a counter column starts at, and is backfilled with: its `default`, else its `min`, else 0. */
export function counterStartOf(column: ColumnSpec): number {
  if (typeof column.default === 'number') return column.default;
  return column.min ?? 0;
}

/**
 * Why the counter columns of `spec` could hold NULL (none when all is well): a counter must be an integer,
 * without `array`, and either required or with a numeric default.
 */
export function counterSpecProblems(spec: TableSpec): Array<{ key: string; problem: string }> {
  const problems: Array<{ key: string; problem: string }> = [];
  for (const c of spec.columns) {
    if (!c.counter) continue;
    const problem = (text: string) => problems.push({ key: c.key, problem: text });
    if (c.type !== 'integer') problem(`a counter must be an integer column, not ${c.type}`);
    if (c.array) problem('a counter cannot be an array');
    if (c.required && c.default !== undefined) problem('Appwrite refuses a default on a required column');
    if (!c.required && typeof c.default !== 'number')
      problem(
        'a counter that is not required needs a numeric default (rows created without it would hold NULL, ' +
          'and increments of NULL write nothing)',
      );
  }
  return problems;
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
   * `npm test` (test/unit/appwrite-config.test.ts, test/row-schema-check.ts) checks that its fields and the columns
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
