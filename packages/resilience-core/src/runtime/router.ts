/** HTTP methods a route may declare. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A compiled path pattern such as `/orgs/:orgId/recognitions`. */
export interface PathPattern {
  pattern: string;
  match(path: string): Record<string, string> | null;
}

/** Normalises a request path: leading slash, no trailing slash (except `/`), no empty segments. */
export function normalisePath(path: string): string {
  return `/${path.split('?')[0]!.split('/').filter(Boolean).join('/')}`;
}

/**
 * Compiles a path pattern: literal segments match exactly, `:name` segments capture one URL-decoded segment
 * (a segment that does not decode is no match).
 */
export function compilePath(pattern: string): PathPattern {
  const segments = normalisePath(pattern).split('/').filter(Boolean);
  return {
    pattern,
    match(path) {
      const parts = normalisePath(path).split('/').filter(Boolean);
      if (parts.length !== segments.length) return null;
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith(':')) {
          try {
            params[seg.slice(1)] = decodeURIComponent(part);
          } catch {
            return null;
          }
        } else if (seg !== part) return null;
      }
      return params;
    },
  };
}

/** Parses a raw query string into decoded values (last one wins for repeated keys). */
export function parseQuery(queryString: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!queryString) return out;
  for (const [k, v] of new URLSearchParams(queryString.replace(/^\?/, ''))) out[k] = v;
  return out;
}
