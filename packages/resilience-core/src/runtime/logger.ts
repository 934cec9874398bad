/**
 * Structured JSON logs through the runtime's `log`/`error` streams: one JSON object per line, each carrying
 * the execution's trace id and function name. Secrets are redacted twice: by key name (anything that looks
 * like a key, secret, token, password, JWT, cookie or authorization) and by value (every secret string the
 * kit knows for this execution, e.g. the dynamic `x-appwrite-key` and `APPWRITE_API_KEY`).
 */

import { type LogFields, type Logger, REDACTED, redact } from '../ports/logger.ts';

export { type LogFields, type Logger, REDACTED, redact };

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  write: (line: string) => void;
  writeError: (line: string) => void;
  /** Fields on every line (traceId, fn, deploymentId…). */
  base: LogFields;
  /** Secret values to scrub from any string logged. Empty strings are ignored. */
  secrets?: readonly string[];
  /** Timestamp source (ms). Default `Date.now`. */
  now?: () => number;
  /** Lowest level written: `debug` writes everything, `info` (the default) drops debug lines. */
  level?: 'debug' | 'info';
}

export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  const now = options.now ?? Date.now;
  const debug = options.level === 'debug';
  const make = (base: LogFields): Logger => {
    const emit = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields) => {
      const line = JSON.stringify(
        redact(
          { level, time: new Date(now()).toISOString(), msg: message, ...base, ...(fields ?? {}) },
          secrets,
        ),
        (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
      );
      (level === 'error' ? options.writeError : options.write)(line);
    };
    return {
      debug: debug ? (m, f) => emit('debug', m, f) : () => {},
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.base);
}
