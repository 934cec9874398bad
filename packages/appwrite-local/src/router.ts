/**
 * A small path router: patterns with `:name` segments; a static segment outranks a parameter at the same
 * position, so `/tablesdb/transactions` wins over `/tablesdb/:databaseId`.
 */
import type { RouteDefinition, Router } from './server-context.ts';

interface CompiledRoute {
  route: RouteDefinition;
  segments: string[];
  /** Higher = more specific (static segments weigh by position). */
  rank: number;
}

/** The result of a lookup: the route and its decoded parameters. */
export type RouteMatch =
  | { kind: 'found'; route: RouteDefinition; params: Record<string, string> }
  | { kind: 'not_found' };

/** The router the server uses; modules see it as `Router`. */
export class PathRouter implements Router {
  private readonly routes: CompiledRoute[] = [];

  /** Registers a route; a duplicate method + pattern throws (a programming error). */
  add(route: RouteDefinition): void {
    const segments = split(route.path);
    if (this.routes.some((r) => r.route.method === route.method && r.route.path === route.path)) {
      throw new Error(`duplicate route ${route.method} ${route.path}`);
    }
    let rank = 0;
    segments.forEach((s, i) => {
      if (!s.startsWith(':')) rank += 2 ** (32 - i);
    });
    this.routes.push({ route, segments, rank });
    this.routes.sort((a, b) => b.rank - a.rank);
  }

  /**
   * Finds the most specific route for a method and path (path below `/v1`). HEAD runs the GET route, as in
   * Appwrite's HTTP layer (Node's server then sends the headers without the body).
   */
  match(method: string, path: string): RouteMatch {
    const parts = split(path);
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const { route, segments } of this.routes) {
      if (route.method !== wanted || segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i] as string;
        const part = parts[i] as string;
        if (seg.startsWith(':')) {
          let decoded: string;
          try {
            decoded = decodeURIComponent(part);
          } catch {
            ok = false;
            break;
          }
          params[seg.slice(1)] = decoded;
        } else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (ok) return { kind: 'found', route, params };
    }
    return { kind: 'not_found' };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}
