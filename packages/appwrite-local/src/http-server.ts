/**
 * The HTTP front: reads the body (bounded), checks project and credentials, routes, and renders Appwrite errors.
 * It never lets a bad request take the process down: every failure becomes an error response.
 *
 * Credentials, as Appwrite resolves them: `X-Appwrite-Key` (static or dynamic key, its scopes), or
 * `X-Appwrite-JWT` (a user: USER_SCOPES and the user's roles; 401 `user_jwt_invalid` when forged or expired,
 * 403 `user_blocked` for a blocked user, a guest when the user no longer exists), both at once → 403
 * `user_api_key_and_session_set`; neither → a guest (GUEST_SCOPES). A missing scope is 401
 * `general_unauthorized_scope`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ERROR_CATALOGUE } from './error-catalogue.ts';
import { AppwriteError, invalidArgument, SERVER_VERSION } from './errors.ts';
import { FAULTS_PATH, type FaultInjector } from './faults.ts';
import { GUEST_ROLES } from './identity.ts';
import { GUEST_SCOPES, USER_SCOPES } from './keys.ts';
import { parseQueryString } from './query-string.ts';
import type { PathRouter } from './router.ts';
import type {
  ApiRequest,
  ApiResponse,
  AuthContext,
  IdentityRegistry,
  KeysService,
  RouteDefinition,
} from './server-context.ts';

/** What the front needs from the server. */
export interface HttpFrontOptions {
  router: PathRouter;
  keys: KeysService;
  /** Resolves the user of a verified `X-Appwrite-JWT`. */
  identity: IdentityRegistry;
  projectId: string;
  /** Largest accepted body in bytes. */
  maxBodyBytes: number;
  /** Added before every request is handled (benches). */
  latencyMs: number;
  stats: { requests: number };
  log(message: string): void;
  /** Called with every request/response pair (diagnostics, tests). */
  trace?: ((entry: TraceEntry) => void) | undefined;
  /** Injected faults (`error` and `drop` rules apply here; see faults.ts). */
  faults?: FaultInjector | undefined;
}

/** One handled request, as the `trace` hook sees it. */
export interface TraceEntry {
  method: string;
  /** Path below `/v1`. */
  path: string;
  /** The raw query string (without `?`). */
  query: string;
  status: number;
  /** The JSON response body (undefined for 204 and raw bodies). */
  json?: unknown;
}

/** Creates the node:http server (not yet listening). */
export function createHttpFront(options: HttpFrontOptions): Server {
  const server = createServer((req, res) => {
    options.stats.requests++;
    handle(options, req, res).catch((e: unknown) => {
      options.log(`unhandled request failure: ${(e as Error).stack ?? e}`);
      if (!res.headersSent) send(res, errorResponse(new AppwriteError('general_unknown')));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  return server;
}

async function handle(options: HttpFrontOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, options.maxBodyBytes);
  if (options.latencyMs > 0) await new Promise((r) => setTimeout(r, options.latencyMs));
  const response = await dispatch(options, req, body);
  if (response === DROP) {
    // An injected `drop`: the handler ran; the caller gets no response at all.
    res.destroy();
    return;
  }
  if (options.trace) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = (q < 0 ? url : url.slice(0, q)).replace(/^\/v1/, '') || '/';
    try {
      options.trace({
        method: (req.method ?? 'GET').toUpperCase(),
        path,
        query: q < 0 ? '' : url.slice(q + 1),
        status: response.status,
        json: response.json,
      });
    } catch (e) {
      options.log(`trace hook failed: ${(e as Error).message}`);
    }
  }
  send(res, response);
}

/** Marks a response to withhold (an injected `drop`). */
const DROP = Symbol('drop');

async function dispatch(
  options: HttpFrontOptions,
  req: IncomingMessage,
  body: Buffer | 'too_large',
): Promise<ApiResponse | typeof DROP> {
  try {
    if (body === 'too_large') {
      throw invalidArgument(`Request body is larger than the limit of ${options.maxBodyBytes} bytes.`);
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const fullPath = q < 0 ? url : url.slice(0, q);
    const method = (req.method ?? 'GET').toUpperCase();
    if (!fullPath.startsWith('/v1/') && fullPath !== '/v1')
      throw new AppwriteError('general_route_not_found');
    const path = fullPath.slice(3) || '/';
    const match = options.router.match(method, path);
    if (match.kind !== 'found') throw new AppwriteError('general_route_not_found');

    const headers = req.headers as Record<string, string | undefined>;
    const auth = authenticate(options, match.route, headers);
    const request: ApiRequest = {
      method,
      path,
      params: match.params,
      query: parseQueryString(q < 0 ? '' : url.slice(q + 1)),
      headers,
      body: parseBody(headers['content-type'], body),
      rawBody: body,
      responseFormat: headers['x-appwrite-response-format'] ?? SERVER_VERSION,
      auth,
    };
    const fault = path === FAULTS_PATH ? undefined : options.faults?.take(method, path, ['error', 'drop']);
    if (fault?.kind === 'error') {
      const message = fault.message ?? ERROR_CATALOGUE[fault.type]?.[1] ?? 'Injected fault.';
      return {
        status: fault.status,
        json: { message, code: fault.status, type: fault.type, version: SERVER_VERSION },
      };
    }
    const response = await match.route.handler(request);
    return fault?.kind === 'drop' ? DROP : response;
  } catch (e) {
    if (e instanceof AppwriteError) return errorResponse(e);
    options.log(`handler failed: ${(e as Error).stack ?? e}`);
    return errorResponse(new AppwriteError('general_unknown'));
  }
}

function authenticate(
  options: HttpFrontOptions,
  route: RouteDefinition,
  headers: Record<string, string | undefined>,
): AuthContext | undefined {
  const project = headers['x-appwrite-project'];
  const key = headers['x-appwrite-key'];
  const jwt = headers['x-appwrite-jwt'];
  if (route.scope === null) {
    // Public routes serve anyone; a key (even an expired one) only adds what the caller may see.
    if (!key || project !== options.projectId) return undefined;
    try {
      return options.keys.verify(key) ?? undefined;
    } catch {
      return undefined;
    }
  }
  if (!project) {
    if (key || jwt) throw new AppwriteError('project_id_missing');
    throw missingScope(route, options.projectId, 'guests');
  }
  if (project !== options.projectId) throw new AppwriteError('project_not_found');
  if (key && jwt) throw new AppwriteError('user_api_key_and_session_set');
  let auth: AuthContext | null;
  if (jwt) auth = userAuth(options, jwt);
  else if (key) auth = options.keys.verify(key);
  else auth = guest();
  const wanted = typeof route.scope === 'string' ? [route.scope] : route.scope;
  if (!auth || !wanted.some((s) => auth.scopes.has(s))) {
    const who = !auth ? 'guests' : auth.kind === 'user' ? 'users' : auth.kind === 'guest' ? 'guests' : 'key';
    throw missingScope(route, options.projectId, who);
  }
  return auth;
}

/** The caller of a verified user JWT: the user, or a guest when the user is gone (as Appwrite). */
function userAuth(options: HttpFrontOptions, jwt: string): AuthContext {
  const { userId } = options.keys.verifyUserJwt(jwt);
  const user = options.identity.resolve(userId);
  if (!user) return guest();
  if (!user.status) throw new AppwriteError('user_blocked');
  return { kind: 'user', scopes: new Set(USER_SCOPES), userId: user.id, roles: user.roles };
}

function guest(): AuthContext {
  return { kind: 'guest', scopes: new Set(GUEST_SCOPES), roles: GUEST_ROLES };
}

function missingScope(
  route: RouteDefinition,
  projectId: string,
  who: 'guests' | 'users' | 'key',
): AppwriteError {
  const scope = typeof route.scope === 'string' ? route.scope : (route.scope?.[0] ?? '');
  const name =
    who === 'key' ? `app.${projectId}@service.localhost (role: applications)` : `User (role: ${who})`;
  return new AppwriteError('general_unauthorized_scope', `${name} missing scopes (["${scope}"])`);
}

function parseBody(contentType: string | undefined, body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const ct = (contentType ?? '').toLowerCase();
  if (ct.startsWith('multipart/')) return {};
  if (!ct.includes('json') && ct !== '' && !ct.startsWith('text/plain')) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new AppwriteError('general_argument_invalid', `Invalid JSON body: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AppwriteError('general_argument_invalid', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** Reads the whole body; past the limit it keeps draining (so the client sees the reply) and reports it. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        // A client that keeps streaming far beyond the limit is cut off instead of drained forever.
        if (size > limit * 4 + 1_048_576) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', () => resolve('too_large'));
    req.on('close', () => resolve(tooLarge ? 'too_large' : Buffer.concat(chunks)));
  });
}

/** The response Appwrite sends for an error. */
export function errorResponse(e: AppwriteError): ApiResponse {
  return { status: e.code, json: e.toJSON() };
}

function send(res: ServerResponse, response: ApiResponse): void {
  if (res.writableEnded || res.destroyed) return;
  const headers: Record<string, string> = { ...response.headers };
  let payload: Buffer | string | undefined;
  if (response.raw !== undefined) {
    payload = response.raw;
  } else if (response.json !== undefined && response.status !== 204) {
    payload = JSON.stringify(response.json);
    headers['content-type'] = 'application/json';
  }
  headers['x-appwrite-version'] = SERVER_VERSION;
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(response.status, headers);
  res.end(payload);
}
