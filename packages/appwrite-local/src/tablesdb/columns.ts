/**
 * Column definitions: how a create-column request becomes a `ColumnDef`, how a `ColumnDef` renders as the
 * Appwrite column model, and how row values are validated and normalised against it (Appwrite's Structure
 * validator: unknown keys, missing required values, wrong types, sizes, ranges, formats).
 */
import { isIP } from 'node:net';
import { AppwriteError, invalidArgument } from '../errors.ts';
import { formatDate, parseDate } from '../wire.ts';

/** The storage type of a column (the `type` of Appwrite's column model; `float` requests become `double`). */
export type ColumnType =
  | 'string'
  | 'varchar'
  | 'text'
  | 'mediumtext'
  | 'longtext'
  | 'integer'
  | 'double'
  | 'boolean'
  | 'datetime';

/** A column as stored (tdb_columns.spec). */
export interface ColumnDef {
  key: string;
  type: ColumnType;
  /** `email` | `url` | `ip` | `enum` for strings; `datetime` for datetimes (as Appwrite reports it). */
  format?: string;
  /** Maximum characters for string types. */
  size?: number;
  min?: number;
  max?: number;
  elements?: string[];
  required: boolean;
  array: boolean;
  /** Applied on create when the value is absent or null. */
  default: unknown;
  encrypt?: boolean;
}

/** The route segment of a create-column request (`/columns/{kind}`, `/attributes/{kind}`). */
export const COLUMN_KINDS = [
  'string',
  'varchar',
  'text',
  'mediumtext',
  'longtext',
  'integer',
  'float',
  'boolean',
  'datetime',
  'enum',
  'email',
  'url',
  'ip',
] as const;

/** One of {@link COLUMN_KINDS}. */
export type ColumnKind = (typeof COLUMN_KINDS)[number];

const TEXT_SIZES: Record<string, number> = { text: 65_535, mediumtext: 16_777_215, longtext: 4_294_967_295 };
const KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/;

/** Builds a column from a create-column request body; 400 on bad parameters. */
export function columnFromRequest(kind: ColumnKind, body: Record<string, unknown>): ColumnDef {
  const key = body.key;
  if (typeof key !== 'string' || !KEY_RE.test(key)) {
    throw invalidArgument(
      "Invalid `key` param: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char",
    );
  }
  const required = bool(body.required, 'required');
  const array = body.array === undefined || body.array === null ? false : bool(body.array, 'array');
  const col: ColumnDef = { key, type: 'string', required, array, default: null };
  switch (kind) {
    case 'string':
    case 'varchar': {
      const size = body.size;
      // Varchar/Create.php: Range(1, 16381) ("Maximum size is 16381"); String/Create.php: up to 1,073,741,824.
      const max = kind === 'varchar' ? 16_381 : 1_073_741_824;
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > max) {
        throw invalidArgument(
          `Invalid \`size\` param: Value must be a valid range between 1 and ${max.toLocaleString('en-US')}`,
        );
      }
      col.type = kind;
      col.size = size;
      if (kind === 'string') col.encrypt = body.encrypt === true;
      break;
    }
    case 'text':
    case 'mediumtext':
    case 'longtext':
      col.type = kind;
      col.size = TEXT_SIZES[kind]!;
      break;
    case 'email':
    case 'url':
    case 'ip':
      col.format = kind;
      // Attributes/{Email,URL,IP}/Create.php: 254, 2000, 39 characters.
      col.size = kind === 'ip' ? 39 : kind === 'email' ? 254 : 2000;
      break;
    case 'enum': {
      const elements = body.elements;
      if (
        !Array.isArray(elements) ||
        elements.length === 0 ||
        elements.length > 100 ||
        !elements.every((e) => typeof e === 'string' && e.length > 0 && e.length <= 255)
      ) {
        // Appwrite's ArrayList(Text(255, 1), 100) description (DatabasesBase.php:2036 asserts it verbatim).
        throw invalidArgument(
          'Invalid `elements` param: Value must a valid array no longer than 100 items and Value must be a valid string and at least 1 chars and no longer than 255 chars',
        );
      }
      col.format = 'enum';
      col.elements = elements as string[];
      col.size = 255; // Enum/Create.php: Database::LENGTH_KEY
      break;
    }
    case 'integer':
    case 'float': {
      col.type = kind === 'integer' ? 'integer' : 'double';
      const min = optionalNumber(body.min, 'min', kind === 'integer');
      const max = optionalNumber(body.max, 'max', kind === 'integer');
      if (min !== undefined && max !== undefined && min > max) {
        throw invalidArgument('Minimum value must be lesser than maximum value');
      }
      if (min !== undefined) col.min = min;
      if (max !== undefined) col.max = max;
      break;
    }
    case 'boolean':
      col.type = 'boolean';
      break;
    case 'datetime':
      col.type = 'datetime';
      col.format = 'datetime';
      break;
  }
  const def = body.default;
  if (def !== undefined && def !== null) {
    // Attributes/Action.php:356-360 (the TablesDB context word; the legacy routes say "attribute").
    if (required)
      throw new AppwriteError('column_default_unsupported', 'Cannot set default value for required column');
    if (array)
      throw new AppwriteError('column_default_unsupported', 'Cannot set default value for array columns');
    const message = checkValue(col, def);
    if (message) throw invalidArgument(`Invalid \`default\` param: ${message}`);
    col.default = normalise(col, def);
  }
  return col;
}

/** Appwrite's column model for a definition (status is always `available`: schema changes apply at once). */
export function renderColumn(col: ColumnDef, createdAt: number, updatedAt: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    key: col.key,
    type: col.type,
    status: 'available',
    error: '',
    required: col.required,
    array: col.array,
    $createdAt: formatDate(createdAt),
    $updatedAt: formatDate(updatedAt),
  };
  if (col.format) out.format = col.format;
  if (col.elements) out.elements = col.elements;
  if (col.type === 'integer' || col.type === 'double') {
    out.min = col.min ?? (col.type === 'integer' ? Number.MIN_SAFE_INTEGER : -Number.MAX_VALUE);
    out.max = col.max ?? (col.type === 'integer' ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE);
  }
  if (col.size !== undefined && !col.format && col.type !== 'datetime') out.size = col.size;
  // Only reported when set: a CLI config without `encrypt` would otherwise see a change on every push.
  if (col.encrypt) out.encrypt = true;
  out.default = col.default ?? null;
  return out;
}

/**
 * Validates one value (null included) against a column; returns the normalised value or throws 400
 * `row_invalid_structure` with Appwrite's Structure message.
 */
export function validateValue(col: ColumnDef, value: unknown): unknown {
  if (value === null || value === undefined) {
    if (col.required) throw structure(`Missing required attribute "${col.key}"`);
    return null;
  }
  if (col.array) {
    if (!Array.isArray(value)) throw structure(`Attribute "${col.key}" must be an array`);
    return value.map((v) => {
      const message = v === null ? 'Value must not be null' : checkValue(col, v);
      if (message) throw structure(`Attribute "${col.key}" has invalid ${label(col)}. ${message}`);
      return normalise(col, v);
    });
  }
  const message = checkValue(col, value);
  if (message) {
    throw structure(`Attribute "${col.key}" has invalid ${label(col)}. ${message}`);
  }
  return normalise(col, value);
}

/**
 * utopia's Structure validator says `format` for an attribute that has one and `type` otherwise
 * (`Validator/Structure.php:420-421`); Appwrite gives every integer and float column a range format
 * (`intRange`/`floatRange`) and strings their `email`/`url`/`ip`/`enum` format.
 */
function label(col: ColumnDef): 'format' | 'type' {
  if (col.type === 'integer' || col.type === 'double') return 'format';
  return col.format && col.format !== 'datetime' ? 'format' : 'type';
}

function structure(message: string): AppwriteError {
  return new AppwriteError('row_invalid_structure', `Invalid document structure: ${message}`);
}

/** Returns an Appwrite validator message when a non-null scalar does not fit the column, else undefined. */
export function checkValue(col: ColumnDef, v: unknown): string | undefined {
  switch (col.type) {
    case 'integer':
    case 'double': {
      const isInt = col.type === 'integer';
      if (typeof v !== 'number' || !Number.isFinite(v) || (isInt && !Number.isInteger(v))) {
        return isInt ? 'Value must be a valid integer' : 'Value must be a valid float';
      }
      if ((col.min !== undefined && v < col.min) || (col.max !== undefined && v > col.max)) {
        // Appwrite fills a missing bound with PHP_INT_MIN/MAX (integers) or ∓PHP_FLOAT_MAX (floats).
        const lo = col.min ?? (isInt ? INT64_MIN : -Number.MAX_VALUE);
        const hi = col.max ?? (isInt ? INT64_MAX : Number.MAX_VALUE);
        return `Value must be a valid range between ${numberFormat(lo)} and ${numberFormat(hi)}`;
      }
      return undefined;
    }
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'Value must be a valid boolean';
    case 'datetime':
      return typeof v === 'string' && parseDate(v) !== undefined
        ? undefined
        : 'Value must be valid date between 0000-01-01 and 9999-12-31.';
    default: {
      if (typeof v !== 'string') return 'Value must be a valid string';
      if (col.size !== undefined && [...v].length > col.size) {
        return `Value must be a valid string and no longer than ${col.size} chars`;
      }
      if (col.format === 'enum' && !col.elements?.includes(v)) {
        return `Value must be one of (${col.elements?.join(', ')})`;
      }
      if (col.format === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v))
        return 'Value must be a valid email address';
      if (col.format === 'url' && !isUrl(v)) return 'Value must be a valid URL';
      if (col.format === 'ip' && isIP(v) === 0) return 'Value must be a valid IP address';
      return undefined;
    }
  }
}

function normalise(col: ColumnDef, v: unknown): unknown {
  if (col.type === 'datetime') return formatDate(parseDate(v as string) as number);
  return v;
}

function isUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol.length > 1 && u.host.length > 0;
  } catch {
    return false;
  }
}

/** PHP_INT_MIN / PHP_INT_MAX (exact, as strings are needed for messages). */
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

/** PHP's `number_format($n)`: rounded half away from zero to an integer, thousands separated by commas. */
function numberFormat(n: number | bigint): string {
  const whole = typeof n === 'bigint' ? n : BigInt(Math.sign(n) * Math.round(Math.abs(n)));
  const digits = (whole < 0n ? -whole : whole).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return whole < 0n ? `-${digits}` : digits;
}

function bool(v: unknown, param: string): boolean {
  if (typeof v !== 'boolean') throw invalidArgument(`Param "${param}" is not optional.`);
  return v;
}

function optionalNumber(v: unknown, param: string, integer: boolean): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw invalidArgument(
      `Invalid \`${param}\` param: Value must be a valid ${integer ? 'integer' : 'float'}`,
    );
  }
  return v;
}
