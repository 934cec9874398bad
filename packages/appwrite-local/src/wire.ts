/** Small wire-format helpers shared by every module: dates, ids, and parameters from JSON or query strings. */
import { randomBytes } from 'node:crypto';
import { invalidArgument } from './errors.ts';

/** Formats epoch milliseconds the way Appwrite does: `2026-01-01T00:00:00.000+00:00`. */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/;

/**
 * Checks a custom id (`[a-zA-Z0-9._-]`, at most 36 characters, not starting with a special character);
 * `unique()` yields a fresh id as Appwrite does. Throws 400 `general_argument_invalid` naming the parameter.
 */
export function resolveId(value: unknown, param: string): string {
  if (value === 'unique()') return uniqueId();
  if (typeof value !== 'string' || !ID_RE.test(value)) {
    throw invalidArgument(
      `Invalid \`${param}\` param: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char`,
    );
  }
  return value;
}

/** A 20-hex-character id like `ID.unique()`: 13 hex digits of time (µs-ish) plus 7 random ones. */
export function uniqueId(): string {
  const t = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  return t.toString(16).padStart(13, '0').slice(-13) + randomBytes(4).toString('hex').slice(0, 7);
}

/** Requires a string parameter (400 when missing or not a string). */
export function requireString(body: Record<string, unknown>, param: string): string {
  const v = body[param];
  if (typeof v !== 'string' || v.length === 0) {
    throw invalidArgument(`Param "${param}" is not optional.`);
  }
  return v;
}

/** An optional boolean that may arrive as a JSON boolean or the strings `true`/`false` (query strings). */
export function optionalBoolean(value: unknown, param: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (value === true || value === 'true' || value === '1' || value === 1) return true;
  if (value === false || value === 'false' || value === '0' || value === 0) return false;
  throw invalidArgument(`Invalid \`${param}\` param: Value must be a valid boolean`);
}

/** An optional string array (max 100 items, as Appwrite's ArrayList validators). */
export function optionalStringArray(value: unknown, param: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > 100 || !value.every((v) => typeof v === 'string')) {
    throw invalidArgument(`Invalid \`${param}\` param: Value must a valid array no longer than 100 items`);
  }
  return value as string[];
}

const ZONED =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)? ([A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*)$/;

/**
 * Parses a date as Appwrite's Datetime validator accepts it (PHP `new \DateTime`): ISO-8601 with or without time
 * and offset, or a wall-clock time followed by a named zone (`1975-06-12 14:12:55 America/New_York`, upstream
 * DatabasesBase.php:2560); undefined if invalid.
 */
export function parseDate(v: string): number | undefined {
  const zoned = ZONED.exec(v);
  if (zoned) return parseZoned(zoned);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v))
    return undefined;
  const ms = Date.parse(v.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** A wall-clock time in an IANA zone → epoch ms (undefined for an unknown zone or an impossible date). */
function parseZoned(m: RegExpExecArray): number | undefined {
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return undefined;
  }
  const ms = Number(`0.${frac ?? '0'}`) * 1000;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0), ms);
  if (Number.isNaN(wall)) return undefined;
  /** The zone's offset from UTC at instant `t`, ms. */
  const offsetAt = (t: number) => {
    const p = Object.fromEntries(format.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    const asUtc = Date.UTC(
      Number(p.year),
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
      Number(p.second),
    );
    return asUtc - Math.floor(t / 1000) * 1000;
  };
  // Two passes settle the offset across a DST change.
  const first = wall - offsetAt(wall);
  return wall - offsetAt(first);
}
