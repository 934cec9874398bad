import type { AppwriteRequest } from './context.ts';
import { parseQuery } from './router.ts';

/** A thrown value's cause, for log lines (name, message and the top of the stack). */
export function describeCause(cause: unknown): unknown {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) {
    return {
      name: cause.name,
      message: cause.message,
      stack: cause.stack?.split('\n').slice(0, 6).join('\n'),
    };
  }
  return String(cause);
}

/** The query of a request: `queryString` parsed, else the runtime's raw `query` decoded. */
export function queryOf(req: AppwriteRequest): Record<string, string> {
  return req.queryString !== undefined ? parseQuery(req.queryString) : decodeAll(req.query ?? {});
}

function decodeAll(query: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    try {
      out[decodeURIComponent(k.replace(/\+/g, ' '))] = decodeURIComponent(String(v).replace(/\+/g, ' '));
    } catch {
      out[k] = String(v);
    }
  }
  return out;
}

/** The body parsed as JSON, or `null` when empty or not JSON (event payloads). */
export function parseJsonOrNull(req: AppwriteRequest): unknown {
  const text = bodyTextOf(req);
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The request body as text: `bodyText` (open-runtimes v5), its alias `bodyRaw`, or — for runtimes that hand
 * over only a parsed `body` — that object re-serialised.
 */
export function bodyTextOf(req: AppwriteRequest): string {
  if (typeof req.bodyText === 'string') return req.bodyText;
  if (typeof req.bodyRaw === 'string') return req.bodyRaw;
  if (typeof req.body === 'string') return req.body;
  if (req.body !== undefined && req.body !== null) return JSON.stringify(req.body);
  return '';
}
