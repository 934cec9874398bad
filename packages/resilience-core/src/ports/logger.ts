/**
 * The logging port: what domain code (hooks, the job queue, the quota service) writes its structured lines
 * through, and the redaction every line passes. The function kit's JSON logger (`runtime/logger.ts`) implements
 * it; tests pass a recording logger. Redaction lives here, beside the port, because anything that persists or
 * logs a caller's value (a job's last error, a log line) must scrub it the same way.
 */

/** Fields attached to a log line. Must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

/** The structured logger handed to setup, handlers and hooks. */
export interface Logger {
  /** Expected, routine events (e.g. a lost compare-and-set); written only when the level is `debug`. */
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  /** Written to the error stream. */
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields`. */
  child(fields: LogFields): Logger;
}

/** Key names whose values are never logged. */
const SECRET_KEY =
  /(^|[-_.])(key|apikey|api[-_]?key|secret|token|password|passwd|jwt|cookie|authorization|auth)$|webhook/i;

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Well-known incoming-webhook URLs (Slack, Teams/Office connectors, Power Automate workflows): tokens in the path. */
const WEBHOOK_URL =
  /https?:\/\/(hooks\.slack\.com|[a-z0-9.-]*webhook\.office\.com|[a-z0-9.-]*\.logic\.azure\.com|[a-z0-9.-]*\.environment\.api\.powerplatform\.com)\/[^\s"']*/gi;

/** Deep-copies `value` with secret keys and secret substrings replaced by {@link REDACTED}. */
export function redact(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (typeof value === 'string') {
    let out = value;
    for (const s of secrets) if (s.length >= 6 && out.includes(s)) out = out.split(s).join(REDACTED);
    // Appwrite dynamic keys and JWT-looking strings, even when not known in advance.
    return (
      out
        .replace(/ephemeral_[A-Za-z0-9._-]+/g, REDACTED)
        // Credentials inside URLs (`https://user:pass@host`), and Slack/Teams webhook URLs, even when unknown.
        .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, `$1${REDACTED}@`)
        .replace(WEBHOOK_URL, REDACTED)
        .replace(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9._-]+/g, REDACTED)
    );
  }
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 8) return '[depth]';
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message, secrets, depth + 1), ...errorFields(value) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY.test(k) && v !== null && v !== undefined && v !== ''
        ? REDACTED
        : redact(v, secrets, depth + 1);
  }
  return out;
}

function errorFields(error: Error): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  return code === undefined ? {} : { code };
}

/** Creates a {@link Logger} writing one JSON line per call. */
