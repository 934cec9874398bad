import { createHash, randomBytes } from 'node:crypto';

/** Appwrite's id rule: 1–36 characters of `[a-zA-Z0-9._-]`, not starting with a special character. */
export const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/;

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
 */
export function stableId(...parts: ReadonlyArray<string | number>): string {
  const joined = parts.map(String).join('.');
  if (ID_PATTERN.test(joined)) return joined;
  const prefix = String(parts[0] ?? 'h')
    .replace(/[^a-zA-Z0-9]/g, '')
    .slice(0, 4);
  const digest = createHash('sha256').update(joined).digest('hex');
  return `${prefix || 'h'}${digest}`.slice(0, 36);
}
