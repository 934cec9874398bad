/** Formats epoch ms as Appwrite stores datetimes (`2026-01-01T00:00:00.000+00:00`), so stored strings compare in order. */
export function isoTime(ms: number): string {
  // Decisions format the same window end over and over: remember the last one (formatting is costly).
  if (ms !== lastMs) {
    last = new Date(ms).toISOString().replace('Z', '+00:00');
    lastMs = ms;
  }
  return last;
}

let lastMs = Number.NaN;
let last = '';

/** Parses a stored datetime to epoch ms; `null` stays `null`. */
export function parseTime(value: string | null): number | null {
  return value === null ? null : Date.parse(value);
}
