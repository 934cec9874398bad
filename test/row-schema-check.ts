/**
 * Checks a table's `rowSchema` (the zod schema the service parses its rows with) against the table's declared
 * columns (what appwrite.json makes Appwrite enforce), so code and config cannot drift. Used by
 * test/unit/appwrite-config.test.ts for every table in `allTables`.
 *
 * A row schema fits its columns when, field by field:
 * - every field is a declared column, and every declared column is a field (a column the code never reads or
 *   writes is drift too);
 * - types match: `string` column ↔ zod string (or enum), `datetime` ↔ `z.iso.datetime(…)`, `integer` ↔
 *   `z.number().int()`, `double` ↔ `z.number()`, `boolean` ↔ `z.boolean()`; `email`/`url`/`ip` columns ↔ the
 *   same zod string format;
 * - `array` columns ↔ `z.array(…)` of the element type, and only those;
 * - nullability: a required column's field accepts neither `null` nor `undefined` (Appwrite would refuse the
 *   write); a non-required column without a default may be `null` on read (Appwrite returns every unset column as
 *   `null`), so its field must accept `null` (`.nullable()`, possibly normalised by a `.transform`);
 * - sizes: a string field's zod `.max()` (when given) is at most the column's `size` (else the code accepts values
 *   Appwrite refuses); an enum's values fit the size too;
 * - enums: an `enum` column's `elements` equal the zod enum's values (a value only in zod is refused by Appwrite;
 *   a value only in the column fails the service's parse on read);
 * - numeric bounds: when the column declares `min`/`max`, the zod number is bounded at least as tightly.
 *
 * Reads zod 4 schema internals (`def`, `minValue`, `maxLength`, …), which is acceptable in a test helper; a zod
 * construct it does not understand is reported as a problem, never silently accepted.
 */
import type { ColumnSpec, TableSpec } from 'resilience-core';
import type { ZodType } from 'zod';

/** What matters about one zod field for column compatibility. */
export interface FieldShape {
  /** The innermost zod type (`string`, `number`, `boolean`, `enum`, `literal`, or an unsupported one). */
  zodType: string;
  /** The stored value is a list (`z.array`). */
  array: boolean;
  /** Accepts `null` (`.nullable()`, `.catch()`) at the column level. */
  nullable: boolean;
  /** Accepts `undefined` (`.optional()`, `.default()`, `.catch()`) at the column level. */
  optional: boolean;
  /** Integer-only number. */
  int: boolean;
  /** Values of an enum or literal. */
  values?: readonly unknown[];
  /** String format (`datetime`, `email`, `url`, `ipv4`, …), or null. */
  format: string | null;
  /** Longest string accepted, or null when unbounded. */
  maxLength: number | null;
  /** Numeric bounds (±Infinity when unbounded). */
  minValue: number;
  maxValue: number;
}

/** A zod 4 number bound check (`_zod.def` of a `.min()`/`.gt()`/`.max()`/`.lt()` check). */
interface BoundCheck {
  check: string;
  value?: unknown;
  inclusive?: boolean;
}

interface ZodInternals {
  def: Record<string, unknown> & { type: string };
  format?: string | null;
  maxLength?: number | null;
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
}

/** Reduces a zod field schema to its {@link FieldShape}, unwrapping optional/nullable/default/transform layers. */
export function shapeOf(schema: ZodType): FieldShape {
  const out: FieldShape = {
    zodType: 'unknown',
    array: false,
    nullable: false,
    optional: false,
    int: false,
    format: null,
    maxLength: null,
    minValue: Number.NEGATIVE_INFINITY,
    maxValue: Number.POSITIVE_INFINITY,
  };
  let current = schema as unknown as ZodInternals;
  // Wrappers outside an array describe the column; inside it, the elements (whose nullability is not checked).
  for (let depth = 0; depth < 50; depth++) {
    const def = current.def;
    switch (def.type) {
      case 'optional':
      case 'default':
      case 'prefault':
        if (!out.array) out.optional = true;
        current = def.innerType as ZodInternals;
        continue;
      case 'nullable':
        if (!out.array) out.nullable = true;
        current = def.innerType as ZodInternals;
        continue;
      case 'catch':
        if (!out.array) {
          out.nullable = true;
          out.optional = true;
        }
        current = def.innerType as ZodInternals;
        continue;
      case 'readonly':
      case 'nonoptional':
        current = def.innerType as ZodInternals;
        continue;
      case 'pipe':
        // What is stored is what the pipe takes in; a transform only changes what the service sees.
        current = def.in as ZodInternals;
        continue;
      case 'array':
        if (out.array) return { ...out, zodType: 'array of arrays' };
        out.array = true;
        current = def.element as ZodInternals;
        continue;
      case 'string':
        return {
          ...out,
          zodType: 'string',
          format: current.format ?? null,
          maxLength: current.maxLength ?? null,
        };
      case 'number': {
        const int = current.isInt === true;
        let minValue = current.minValue ?? Number.NEGATIVE_INFINITY;
        let maxValue = current.maxValue ?? Number.POSITIVE_INFINITY;
        // `minValue`/`maxValue` report `.positive()`/`.gt(n)` as n; an integer strictly above n is at least n+1.
        for (const check of (def.checks ?? []) as { _zod: { def: BoundCheck } }[]) {
          const c = check._zod.def;
          if (!int || c.inclusive !== false || typeof c.value !== 'number') continue;
          if (c.check === 'greater_than' && c.value === minValue) minValue = Math.floor(c.value) + 1;
          if (c.check === 'less_than' && c.value === maxValue) maxValue = Math.ceil(c.value) - 1;
        }
        return { ...out, zodType: 'number', int, minValue, maxValue };
      }
      case 'boolean':
        return { ...out, zodType: 'boolean' };
      case 'enum':
        return { ...out, zodType: 'enum', values: Object.values(def.entries as object) };
      case 'literal':
        return { ...out, zodType: 'literal', values: def.values as unknown[] };
      default:
        return { ...out, zodType: def.type };
    }
  }
  return { ...out, zodType: 'too deeply wrapped' };
}

/** The zod string formats accepted for each Appwrite string format. */
const STRING_FORMATS: Record<'email' | 'url' | 'ip', readonly string[]> = {
  email: ['email'],
  url: ['url'],
  ip: ['ipv4', 'ipv6'],
};

/** The problems of one field against its column (empty when compatible). */
export function fieldProblems(column: ColumnSpec, s: FieldShape): string[] {
  const problems: string[] = [];
  const say = (message: string) => problems.push(`${column.key}: ${message}`);
  const columnArray = column.array ?? false;
  const what = `${s.array ? 'array of ' : ''}${s.zodType}${s.int ? ' (int)' : ''}${s.format ? ` (${s.format})` : ''}`;
  const wantsColumn = `${columnArray ? 'array of ' : ''}${column.type}${column.format ? ` (${column.format})` : ''}`;

  // Type.
  const values = s.values;
  const valueTypes = new Set((values ?? []).map((v) => typeof v));
  const stringy =
    s.zodType === 'string' ||
    ((s.zodType === 'enum' || s.zodType === 'literal') && valueTypes.size === 1 && valueTypes.has('string'));
  let typeOk: boolean;
  switch (column.type) {
    case 'string':
      typeOk = stringy && (s.zodType !== 'string' || s.format !== 'datetime');
      if (typeOk && column.format && column.format !== 'enum') {
        typeOk = s.zodType === 'string' && (STRING_FORMATS[column.format] ?? []).includes(s.format ?? '');
      }
      break;
    case 'datetime':
      typeOk = s.zodType === 'string' && s.format === 'datetime';
      break;
    case 'integer':
      typeOk = s.zodType === 'number' && s.int;
      break;
    case 'double':
      typeOk = s.zodType === 'number';
      break;
    case 'boolean':
      typeOk = s.zodType === 'boolean';
      break;
  }
  if (!typeOk) say(`zod ${what} does not fit column ${wantsColumn}`);
  if (s.array !== columnArray)
    say(columnArray ? 'array column but zod is not an array' : 'zod array but column is not an array');

  // Nullability.
  if (column.required) {
    if (s.nullable) say('zod accepts null but the column is required');
    if (s.optional) say('zod accepts undefined but the column is required');
  } else {
    const hasDefault = column.default !== undefined && column.default !== null;
    if (!hasDefault && !s.nullable)
      say('column is not required and has no default (null on read) but zod refuses null');
  }

  // Enums.
  if (column.format === 'enum') {
    if (!values) say('enum column needs a zod enum (a free string could be refused by Appwrite)');
    else {
      const elements = column.elements ?? [];
      const onlyZod = values.filter((v) => !elements.includes(String(v)));
      const onlyColumn = elements.filter((e) => !values.includes(e));
      if (onlyZod.length)
        say(`zod enum values ${onlyZod.join(',')} are not column elements (Appwrite refuses them)`);
      if (onlyColumn.length)
        say(`column elements ${onlyColumn.join(',')} are not zod enum values (a stored one fails to parse)`);
    }
  }

  // Sizes.
  if (column.type === 'string' && column.size !== undefined) {
    if (s.maxLength !== null && s.maxLength > column.size)
      say(`zod max ${s.maxLength} exceeds column size ${column.size}`);
    const long = (values ?? []).filter((v) => String(v).length > (column.size ?? 0));
    if (long.length) say(`enum values ${long.join(',')} exceed column size ${column.size}`);
  }

  // Numeric bounds.
  if (s.zodType === 'number') {
    if (column.min !== undefined && !(s.minValue >= column.min)) {
      say(`zod allows values below the column min ${column.min} (zod min ${s.minValue})`);
    }
    if (column.max !== undefined && !(s.maxValue <= column.max)) {
      say(`zod allows values above the column max ${column.max} (zod max ${s.maxValue})`);
    }
  }
  return problems;
}

/** The problems of one table's `rowSchema` against its columns (empty when compatible; a missing schema is one). */
export function rowSchemaProblems(spec: TableSpec): string[] {
  if (!spec.rowSchema) return [`${spec.$id}: no rowSchema`];
  const root = spec.rowSchema as unknown as ZodInternals & { shape?: Record<string, ZodType> };
  if (root.def.type !== 'object' || !root.shape) return [`${spec.$id}: rowSchema is not a z.object`];
  const shape = root.shape;
  const columns = new Map<string, ColumnSpec>(spec.columns.map((c) => [c.key, c]));
  const problems: string[] = [];
  for (const [field, schema] of Object.entries(shape)) {
    const column = columns.get(field);
    if (!column) problems.push(`${field}: not a declared column`);
    else problems.push(...fieldProblems(column, shapeOf(schema)));
  }
  for (const column of spec.columns) {
    if (!(column.key in shape)) {
      problems.push(
        column.required
          ? `${column.key}: required column missing from rowSchema`
          : `${column.key}: column missing from rowSchema (unused, or read without a check)`,
      );
    }
  }
  return problems;
}
