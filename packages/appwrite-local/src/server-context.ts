/**
 * The contract between the server core and its modules (TablesDB, teams, users, functions …).
 *
 * A module is installed once, before the server listens: it registers routes on `ctx.router`, creates its
 * own SQL tables on `ctx.db` (use `CREATE TABLE IF NOT EXISTS`, prefix table names with the module name), and
 * subscribes to `ctx.events`. `start()` runs once the server is listening (the endpoint is known then);
 * `stop()` runs on shutdown, before the database closes, in reverse install order.
 *
 * Handlers run one at a time per request on Node's event loop, and better-sqlite3 is synchronous: a handler
 * that reads and writes without an `await` in between is atomic with respect to every other request.
 */
import type { Database } from 'better-sqlite3';
import type { AppwriteConfig } from './config.ts';
import type { FaultInjector } from './faults.ts';
import type { Collation } from './tablesdb/collation.ts';

/** The scopes an API key carries, e.g. `rows.read`, `rows.write`, `functions.write`, `execution.write`. */
export type Scope = string;

/** Who made the request, once the key or JWT has been checked. */
export interface AuthContext {
  /**
   * `static` = a configured key; `dynamic` = an `ephemeral_…` key the functions module issued (both: server
   * callers, which bypass permissions as on Appwrite); `user` = a user authenticated by `X-Appwrite-JWT`;
   * `guest` = no key and no JWT (only routes whose scope guests hold on Appwrite, here the execution routes).
   */
  kind: 'static' | 'dynamic' | 'user' | 'guest';
  scopes: ReadonlySet<Scope>;
  /** For dynamic keys: the function and execution the key was issued to. */
  functionId?: string;
  executionId?: string;
  /** For `user`: the user's id. */
  userId?: string;
  /**
   * For `user` and `guest`: the Appwrite roles the caller holds, as permission strings name them: `any`,
   * `guests` | `users`, `users/unverified`, `user:<id>`, `user:<id>/unverified`, `team:<id>`,
   * `team:<id>/<role>`, `member:<membershipId>`, `label:<label>`.
   */
  roles?: readonly string[];
}

/** True for API-key callers (static or dynamic keys), which Appwrite lets past every permission check. */
export function isKeyAuth(auth: AuthContext | undefined): boolean {
  return auth?.kind === 'static' || auth?.kind === 'dynamic';
}

/** A user as request authentication needs it: enabled or blocked, and the roles they hold. */
export interface UserIdentity {
  id: string;
  /** false = blocked (`users.updateStatus(false)`): every JWT request is refused with 403 `user_blocked`. */
  status: boolean;
  /** Appwrite roles (see {@link AuthContext.roles}). */
  roles: string[];
}

/** Resolves user ids to identities; the users module installs the resolver. */
export interface IdentityRegistry {
  /** Installs the resolver (the last one wins). */
  setResolver(resolver: (userId: string) => UserIdentity | null): void;
  /** The identity of `userId`, or null when the user does not exist (or no resolver is installed). */
  resolve(userId: string): UserIdentity | null;
}

/** A parsed request as handlers see it. */
export interface ApiRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** Path below `/v1`, without the query string, e.g. `/tablesdb/db/tables/t/rows`. */
  path: string;
  /** Route parameters from `:name` segments of the route pattern (URL-decoded). */
  params: Record<string, string>;
  /**
   * Query-string parameters with PHP-style nesting decoded: `queries[0]=a&queries[1]=b` → `{queries: ['a','b']}`,
   * `a[b]=1` → `{a:{b:'1'}}`. Values stay strings (`'true'`, `'25'`).
   */
  query: Record<string, unknown>;
  /** Lower-cased request headers. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body (`{}` when there is none). For non-JSON bodies (multipart) it is `{}`; use `rawBody`. */
  body: Record<string, unknown>;
  /** The raw request body (empty buffer when there is none). Bounded by the server's body limit. */
  rawBody: Buffer;
  /**
   * `X-Appwrite-Response-Format` (e.g. `1.9.5` from node-appwrite 27, `1.8.0` from appwrite-cli 12), or the
   * server's own version when the header is absent. Models differ across formats (e.g. `$sequence` is a string
   * from 1.9.0, an integer before).
   */
  responseFormat: string;
  /**
   * The authenticated caller (a key, a user JWT, or a guest); undefined only on public routes (`scope: null`)
   * called without a key.
   */
  auth?: AuthContext | undefined;
}

/** What a handler returns. `json` is serialised with `content-type: application/json`. */
export interface ApiResponse {
  status: number;
  /** JSON body; omit for 204. */
  json?: unknown;
  /** A raw body instead of `json` (e.g. a deployment download). */
  raw?: Buffer | string;
  headers?: Record<string, string>;
}

/** A route handler. Throw `AppwriteError` (see errors.ts) for 4xx/5xx; anything else becomes a 500. */
export type RouteHandler = (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;

/** One route. */
export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Pattern below `/v1` with `:name` parameters, e.g. `/functions/:functionId/executions/:executionId`. */
  path: string;
  /**
   * The scope the caller's key must hold (an array = any one of them, as Appwrite's 1.8+ routes declare e.g.
   * `['rows.write', 'documents.write']`); `null` = public (no key required, `req.auth` may be undefined).
   * Missing key or scope → 401 `general_unauthorized_scope`. Users (`X-Appwrite-JWT`) hold USER_SCOPES and
   * guests GUEST_SCOPES (keys.ts): a route those scopes reach must check permissions itself (`isKeyAuth`).
   */
  scope: Scope | readonly Scope[] | null;
  handler: RouteHandler;
}

/** The route table. Static segments win over parameters; the first matching route of equal rank wins. */
export interface Router {
  add(route: RouteDefinition): void;
}

/**
 * A domain event, emitted after the write it describes has been committed.
 * `names` lists every concrete name Appwrite would fire for it, e.g. for a row create:
 * `databases.{db}.tables.{t}.rows.{r}.create` and the legacy `databases.{db}.collections.{t}.documents.{r}.create`.
 * Subscribers do their own wildcard matching (`databases.*.tables.*.rows.*.create`).
 */
export interface PlatformEvent {
  names: string[];
  /**
   * `names[i]` as its segments, ids kept whole: Appwrite ids may contain `.` (`jk.org-1.export`), so a name
   * cannot be split back on dots. Wildcards match one segment of these. Absent = split the name on `.`.
   */
  segments?: string[][];
  /** The resource as the API returns it (e.g. the row model, format 1.9.5). */
  payload: Record<string, unknown>;
}

/** A synchronous fan-out of platform events; a throwing listener is isolated (logged, not propagated). */
export interface EventBus {
  emit(event: PlatformEvent): void;
  /** Returns an unsubscribe function. */
  subscribe(listener: (event: PlatformEvent) => void): () => void;
}

/** Options for a dynamic (function execution) key. */
export interface DynamicKeyOptions {
  functionId: string;
  executionId: string;
  scopes: Scope[];
  /** Lifetime in seconds; Appwrite uses the function's `timeout + 60`. */
  ttlSeconds: number;
}

/** Static API keys and HMAC-signed dynamic keys. */
export interface KeysService {
  /** Issues `ephemeral_<token>` carrying the scopes and an expiry; valid for this server instance's secret. */
  issueDynamicKey(options: DynamicKeyOptions): string;
  /**
   * Resolves a key from `X-Appwrite-Key`: the auth context, `null` for an unknown key, or throws
   * `AppwriteError('project_key_expired')` for an expired dynamic key.
   */
  verify(secret: string): AuthContext | null;
  /**
   * Issues a user JWT (HS256, signed with this server's secret; not usable as a key): the payload carries
   * `userId`, `sessionId` (`''` without a session) and `exp` = now + `durationSeconds`.
   */
  issueUserJwt(options: UserJwtOptions): string;
  /**
   * Verifies an `X-Appwrite-JWT` value and returns its claims; throws 401 `user_jwt_invalid` for a malformed,
   * forged or expired token.
   */
  verifyUserJwt(jwt: string): { userId: string; sessionId: string };
}

/** Options of a user JWT. */
export interface UserJwtOptions {
  userId: string;
  /** The session it belongs to; `''` when none (appwrite-local has no sessions). */
  sessionId: string;
  /** Lifetime in seconds (Appwrite: default 900, 0–3600). */
  durationSeconds: number;
}

/** Time source in epoch milliseconds (a manual clock in tests). */
export interface ServerClock {
  now(): number;
}

/** Everything a module gets at install time. */
export interface ServerContext {
  router: Router;
  /** The project's SQLite database (better-sqlite3, WAL when on disk). */
  db: Database;
  events: EventBus;
  keys: KeysService;
  /** User lookup for `X-Appwrite-JWT` requests (the teams/users module installs the resolver). */
  identity: IdentityRegistry;
  clock: ServerClock;
  /** Injected faults (tests; see faults.ts). */
  faults: FaultInjector;
  /** The project id every request must name in `X-Appwrite-Project`. */
  projectId: string;
  /** Parsed appwrite.json (when `config` was given), with `dir` = the directory it was read from. */
  config?: AppwriteConfig | undefined;
  /** Server options a module may need. */
  options: {
    dataDir?: string | undefined;
    memory: boolean;
    /** How row ids, unique indexes and string filters compare (tablesdb/collation.ts). */
    collation: Collation;
  };
  /** Diagnostic log (stderr); never pass secrets. */
  log(message: string): void;
}

/** What `start()` learns once the server listens. */
export interface ListeningInfo {
  /** e.g. `http://127.0.0.1:41234/v1` */
  endpoint: string;
  port: number;
}

/** A pluggable part of the server. */
export interface ServerModule {
  name: string;
  install(ctx: ServerContext): void | Promise<void>;
  /** After the server listens (start timers, workers). */
  start?(info: ListeningInfo): void | Promise<void>;
  /** On shutdown, before the database closes (stop timers, kill child processes). */
  stop?(): void | Promise<void>;
}
