import { createHash, randomBytes } from 'node:crypto';

/** Appwrite's id rule: 1–36 characters of `[a-zA-Z0-9._-]`, not starting with a special character. */
export const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/;

/** The field message of a value that fails {@link ID_PATTERN}. */
export const ID_MESSAGE = 'must be 1-36 characters [a-zA-Z0-9._-], not starting with . - or _';

/**
 * Names and client keys (breaker names, idempotency keys): the alphabet of {@link ID_PATTERN}, starting
 * alphanumeric, but up to 64 characters — they are not row ids themselves.
 */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

/** A new unique id: 20 hex characters, time-ordered prefix like Appwrite's `ID.unique()`. */
export function newId(): string {
  const time = Math.floor(Date.now() * 1000)
    .toString(16)
    .padStart(13, '0')
    .slice(-13);
  return time + randomBytes(4).toString('hex').slice(0, 7);
}

/**
 * A deterministic row id from parts (e.g. `stableId('q', orgId, type, window)`): joined with `.` when that
 * fits Appwrite's 36-character rule, otherwise a prefix plus a SHA-256 digest, so equal parts give equal ids.
 *
 * Distinct parts give distinct ids even when a part is caller-supplied (an idempotency key, a schedule name)
 * and contains the `.` separator: `('jk', 'acme', 'x.k')` and `('jk', 'acme.x', 'k')` must not share a row, or
 * one organization could occupy or read another's. Such parts are hashed from an unambiguous (length-prefixed)
 * encoding, and the id carries an `_` after the prefix, so it can equal neither a joined id (which has a `.`)
 * nor the digest id of dot-free parts (neither `.` nor `_`). Ids of dot-free parts are unchanged.
 *
 * Every id it returns is lower case, and distinct parts give ids that differ even when compared case- and
 * accent-insensitively: Appwrite on MariaDB compares `$id` under `utf8mb4_general_ci` (platform notes §F1), so
 * `Order-1` and `order-1` would be one row. Parts with an upper-case letter (or anything outside the id
 * alphabet) therefore take the digest path, whose hex is lower case.
 */
export function stableId(...parts: ReadonlyArray<string | number>): string {
  const strings = parts.map(String);
  const prefix =
    (strings[0] ?? 'h')
      .replace(/[^a-zA-Z0-9]/g, '')
      .slice(0, 4)
      .toLowerCase() || 'h';
  if (strings.some((p) => p.includes('.'))) {
    const encoded = strings.map((p) => `${p.length}:${p}`).join('');
    return `${prefix}_${createHash('sha256').update(encoded).digest('hex')}`.slice(0, 36);
  }
  const joined = strings.join('.');
  if (ID_PATTERN.test(joined) && joined === joined.toLowerCase()) return joined;
  const digest = createHash('sha256').update(joined).digest('hex');
  return `${prefix}${digest}`.slice(0, 36);
}
