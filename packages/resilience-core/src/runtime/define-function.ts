import type { Client } from 'node-appwrite';
import type { z } from 'zod';
import {
  type AppwriteConnection,
  type AppwriteRequestInfo,
  createAppwriteClient,
  createAppwriteTableStore,
} from '../adapters/appwrite/appwrite-table-store.ts';
import { createTeamsOrgDirectory } from '../adapters/appwrite/teams-org-directory.ts';
import { errors, isResilienceError, ResilienceError } from '../errors.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { OrgDirectory } from '../ports/org-directory.ts';
import type { TableStore } from '../ports/table-store.ts';
import { continueTrace, formatTraceparent, type TraceContext } from '../tracing/trace-context.ts';
import { type AuthLevel, authorize, type Caller, callerOf, orgIdOf } from './auth.ts';
import {
  type AppwriteContext,
  type AppwriteRequest,
  type ResponseDescriptor,
  type Trigger,
  triggerOf,
} from './context.ts';
import { type BaseEnv, parseEnv, secretValues } from './env.ts';
import { createLogger, type Logger, redact } from './logger.ts';
import { type PathParams, validateParams } from './params.ts';
import { invalidInput, type RouteResult, toResponse } from './responses.ts';
import { compilePath, type HttpMethod, normalisePath, parseQuery } from './router.ts';

/** The parsed env of a function: the base variables plus its own schema's output. */
export type EnvOf<S extends z.ZodObject | undefined> = (S extends z.ZodObject ? z.output<S> : unknown) &
  BaseEnv;

/** What `setup` gets to build per-execution dependencies from. */
export interface SetupContext<E = BaseEnv> {
  /** Parsed once per cold start. */
  env: E;
  trigger: Trigger;
  /** This execution's span: the caller's trace continued from `traceparent`, else a new trace. */
  trace: TraceContext;
  /** `trace.traceId`. */
  traceId: string;
  log: Logger;
  clock: Clock;
  caller: Caller;
  /** Lower-case request headers. */
  headers: Record<string, string | undefined>;
  /**
   * Appwrite for this execution: the env's endpoint and project with the dynamic `x-appwrite-key` (or the
   * `APPWRITE_API_KEY` fallback). `null` when any part is missing. Never log it.
   */
  connection: AppwriteConnection | null;
  /**
   * A TableStore for this execution (memoized; the platform override in tests). Its failed round trips are
   * logged by {@link logAppwriteRequest}: expected answers (a lost compare-and-set) at debug level only.
   */
  store(): TableStore;
  /** The OrgDirectory for this execution (memoized; Appwrite Teams unless overridden). */
  orgs(): OrgDirectory;
  /** A node-appwrite Client for services the ports do not cover (e.g. Functions). Memoized. */
  client(): Client;
}

/** What a route handler receives. */
export interface HandlerInput<D, B = unknown, Q = Record<string, string>, P = Record<string, string>> {
  /** The validated body (`undefined` for routes without a body schema). */
  body: B;
  /**
   * Path parameters (`:name` segments), URL-decoded and validated ({@link validateParams}: Appwrite ids unless
   * the route declares `params`), typed from the path literal.
   */
  params: P;
  /** The validated query (decoded strings when the route has no query schema). */
  query: Q;
  /** Who called, with `orgId`/`roles` resolved by the route's auth level. */
  caller: Caller;
  deps: D;
  log: Logger;
  /** This execution's span (see {@link SetupContext.trace}); pass it to work that continues the trace. */
  trace: TraceContext;
  /** `trace.traceId`. */
  traceId: string;
  clock: Clock;
  req: AppwriteRequest;
}

type SchemaOut<S> = S extends z.ZodType ? z.output<S> : undefined;
type QueryOut<S> = S extends z.ZodType ? z.output<S> : Record<string, string>;

/** A route as written, with its schemas' types inferred. */
export interface RouteDefinition<
  D,
  B extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  P extends string = string,
> {
  method: HttpMethod;
  /** e.g. `/orgs/:orgId/recognitions`. `GET /health` is reserved for the kit. */
  path: P;
  auth: AuthLevel;
  /**
   * zod schema of the path parameters, for parameters that are not Appwrite ids (a breaker name). Without it
   * every `:name` must be an Appwrite id; either way a bad one is a 400 naming it, before auth.
   */
  params?: z.ZodType;
  /** zod schema of the JSON body; invalid JSON or a failed parse → 400 listing the field problems. */
  body?: B;
  /** zod schema of the (decoded) query parameters. */
  query?: Q;
  /** One line for docs and logs. */
  summary?: string;
  handler(
    input: HandlerInput<D, SchemaOut<B>, QueryOut<Q>, PathParams<P>>,
  ): Promise<RouteResult> | RouteResult;
}

/** A route with its types erased, as stored in a function's `routes` list. */
export interface Route<D> {
  method: HttpMethod;
  path: string;
  auth: AuthLevel;
  params?: z.ZodType;
  body?: z.ZodType;
  query?: z.ZodType;
  summary?: string;
  handler(input: HandlerInput<D, unknown, unknown>): Promise<RouteResult> | RouteResult;
}

/**
 * A typed route builder for deps `D`: `const route = routesFor<AppDeps>();` then
 * `route({ method: 'POST', path: '/x', body: schema, auth: 'member', handler: ({ body }) => … })` infers
 * `body` from the schema.
 */
export function routesFor<D>() {
  return <
    const P extends string,
    B extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
  >(
    definition: RouteDefinition<D, B, Q, P>,
  ): Route<D> => definition as unknown as Route<D>;
}

/** What schedule and event handlers receive. */
export interface TriggerInput<D> {
  deps: D;
  log: Logger;
  /** This execution's span (see {@link SetupContext.trace}). */
  trace: TraceContext;
  /** `trace.traceId`. */
  traceId: string;
  clock: Clock;
  req: AppwriteRequest;
  /** When the execution started (ms since epoch), for drains that must end before the function timeout. */
  startedAt: number;
}

/** What an event handler receives: the event name and its payload (the row/document JSON). */
export interface EventInput<D> extends TriggerInput<D> {
  /** e.g. `databases.resilience.tables.job-queue.rows.abc.create`. */
  event: string;
  /** The parsed JSON body (`null` when not JSON); validate it with zod in the handler. */
  payload: unknown;
}

/** A dependency check for `GET /health`: resolves when healthy, throws (or rejects) when not. */
export type HealthCheck<D> = (deps: D) => Promise<unknown> | unknown;

/** Everything a function declares. */
export interface FunctionDefinition<S extends z.ZodObject | undefined, D> {
  /** Function name, as in appwrite.json (also reported by `/health`). */
  name: string;
  /** Code version (semver or git sha), reported by `/health`. */
  version: string;
  /** zod schema of the function's own env variables, merged with {@link BaseEnv}. */
  env?: S;
  /** Builds per-execution dependencies. Runs after routing and auth, before the handler. */
  setup: (ctx: SetupContext<EnvOf<S>>) => D | Promise<D>;
  routes?: readonly Route<D>[];
  /** Named dependency checks run by `GET /health` (each with a timeout). */
  health?: Record<string, HealthCheck<D>>;
  /** Per-check timeout, ms. Default 3000. */
  healthTimeoutMs?: number;
  /** Runs on `x-appwrite-trigger: schedule` (cron). Returns an optional result (default 200 `{ ok: true }`). */
  onSchedule?: (input: TriggerInput<D>) => Promise<RouteResult | undefined> | RouteResult | undefined;
  /** Runs on `x-appwrite-trigger: event`. */
  onEvent?: (input: EventInput<D>) => Promise<RouteResult | undefined> | RouteResult | undefined;
}

/** Replaces platform pieces (tests and local runs). */
export interface PlatformOverrides {
  /** Used instead of `process.env`. */
  env?: Record<string, string | undefined>;
  /** A store, or a factory given the execution's connection (or `null`). */
  store?: TableStore | ((connection: AppwriteConnection | null) => TableStore);
  orgs?: OrgDirectory | ((connection: AppwriteConnection | null) => OrgDirectory);
  clock?: Clock;
}

/** The `/health` answer. */
export interface HealthReport {
  name: string;
  deploymentId: string;
  version: string;
  /** `ok` when every check passed, else `fail` (HTTP 503). */
  status: 'ok' | 'fail';
  checks: Record<string, { ok: boolean; durationMs: number; error?: string }>;
}

/** The default export Appwrite calls, with its definition and a way to rebind platform pieces. */
export interface FunctionHandler<S extends z.ZodObject | undefined = z.ZodObject | undefined, D = unknown> {
  (context: AppwriteContext): Promise<ResponseDescriptor>;
  readonly definition: FunctionDefinition<S, D>;
  /** The same function over other platform pieces (memory store, manual clock, fixed env). */
  with(overrides: PlatformOverrides): FunctionHandler<S, D>;
}

interface CompiledRoute<D> {
  route: Route<D>;
  match: (path: string) => Record<string, string> | null;
}

/**
 * Defines an Appwrite function and returns its default-export handler. Per execution: trace id, structured
 * logger, trigger dispatch (schedule → `onSchedule`, event → `onEvent`, http → routes), `GET /health`, route
 * match (404/405), query and body validation (400 with field issues — never 500), auth (403), `setup`, the
 * handler, and one error → response mapping ({@link toResponse}). Env is parsed on the first execution of a
 * cold start and cached.
 */
export function defineFunction<S extends z.ZodObject | undefined, D>(
  definition: FunctionDefinition<S, D>,
  overrides: PlatformOverrides = {},
): FunctionHandler<S, D> {
  const routes: CompiledRoute<D>[] = (definition.routes ?? []).map((route) => ({
    route,
    match: compilePath(route.path).match,
  }));
  for (const { route } of routes) {
    if (route.method === 'GET' && normalisePath(route.path) === '/health') {
      throw new Error(`${definition.name}: GET /health is provided by the kit`);
    }
  }
  const clock = overrides.clock ?? systemClock;
  let env: { ok: true; value: EnvOf<S> } | { ok: false; error: unknown } | undefined;
  // The env's secret values, read once per cold start like the env itself.
  let envSecrets: string[] | undefined;

  function loadEnv() {
    if (!env) {
      try {
        env = { ok: true, value: parseEnv(definition.env, overrides.env ?? process.env) as EnvOf<S> };
      } catch (error) {
        env = { ok: false, error };
      }
    }
    return env;
  }

  const handler = async (context: AppwriteContext): Promise<ResponseDescriptor> => {
    const { req, res } = context;
    const headers = req.headers ?? {};
    const started = clock.now();
    // W3C trace context: the caller's trace continues (a child span of its `traceparent`), else a new trace.
    // The Appwrite execution id is kept beside it in every log line.
    const trace = continueTrace(headers.traceparent);
    const traceId = trace.traceId;
    const executionId = headers['x-appwrite-execution-id']?.trim() || undefined;
    const trigger = triggerOf(headers);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = normalisePath(req.path ?? '/');
    const loaded = loadEnv();
    const envValues = loaded.ok ? (loaded.value as Record<string, unknown>) : {};
    const deploymentId = String(envValues.APPWRITE_FUNCTION_DEPLOYMENT ?? 'local');
    envSecrets ??= secretValues(overrides.env ?? process.env);
    const secrets = [
      ...envSecrets,
      headers['x-appwrite-key'] ?? '',
      headers['x-appwrite-user-jwt'] ?? '',
    ].filter((s) => s.length > 0);
    const log = createLogger({
      write: (line) => context.log(line),
      writeError: (line) => context.error(line),
      base: {
        fn: definition.name,
        traceId,
        spanId: trace.spanId,
        ...(executionId ? { executionId } : {}),
        deploymentId,
      },
      secrets,
      now: () => clock.now(),
      level: envValues.LOG_LEVEL === 'debug' ? 'debug' : 'info',
    });
    const caller = callerOf(headers);

    const respond = (result: RouteResult): ResponseDescriptor => {
      const status = result.status ?? 200;
      const out = { ...(result.headers ?? {}), 'x-trace-id': traceId, traceparent: formatTraceparent(trace) };
      log.info('execution finished', {
        trigger,
        method,
        path,
        status,
        durationMs: clock.now() - started,
        userId: caller.userId,
      });
      if (status === 204) return res.send('', 204, out);
      if (result.text !== undefined) {
        const hasType = Object.keys(out).some((h) => h.toLowerCase() === 'content-type');
        return res.text(
          result.text,
          status,
          hasType ? out : { 'content-type': 'text/plain; charset=utf-8', ...out },
        );
      }
      return res.json(result.body ?? null, status, out);
    };
    const fail = (error: unknown): ResponseDescriptor => {
      // Users get generic messages for Appwrite errors; API-key callers (operators) get the full story.
      const rendered = toResponse(error, traceId, { dependencyDetails: caller.kind === 'server' });
      const fields = {
        code: rendered.body.error.code,
        status: rendered.status,
        error: isResilienceError(error)
          ? { message: error.message, details: error.details, cause: describeCause(error.cause) }
          : describeCause(error),
      };
      if (rendered.status >= 500) log.error('request failed', fields);
      else log.warn('request refused', fields);
      return respond(rendered);
    };

    try {
      if (trigger === 'http' && method === 'GET' && path === '/health') {
        return respond(
          await health(loaded, deploymentId, secrets, () => makeSetup(trace, trigger, caller, headers, log)),
        );
      }
      if (!loaded.ok) throw loaded.error;

      if (trigger === 'schedule' || trigger === 'event') {
        const deps = await definition.setup(makeSetup(trace, trigger, caller, headers, log));
        const base = { deps, log, trace, traceId, clock, req, startedAt: started };
        if (trigger === 'schedule') {
          if (!definition.onSchedule) throw errors.notFound(`${definition.name} has no schedule handler`);
          return respond((await definition.onSchedule(base)) ?? { body: { ok: true } });
        }
        if (!definition.onEvent) throw errors.notFound(`${definition.name} has no event handler`);
        const event = headers['x-appwrite-event'] ?? '';
        return respond(
          (await definition.onEvent({ ...base, event, payload: parseJsonOrNull(req) })) ?? {
            body: { ok: true },
          },
        );
      }

      let params: Record<string, string> | null = null;
      let route: Route<D> | undefined;
      const allowed: string[] = [];
      for (const candidate of routes) {
        const matched = candidate.match(path);
        if (!matched) continue;
        if (candidate.route.method === method) {
          route = candidate.route;
          params = matched;
          break;
        }
        allowed.push(candidate.route.method);
      }
      if (!route || !params) {
        if (allowed.length) {
          return respond({
            status: 405,
            headers: { allow: [...new Set(allowed)].join(', ') },
            body: {
              ok: false,
              error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}` },
              traceId,
            },
          });
        }
        throw errors.notFound(`No route for ${method} ${path}`);
      }
      params = validateParams(params, route.params);

      const rawQuery =
        req.queryString !== undefined ? parseQuery(req.queryString) : decodeAll(req.query ?? {});
      // The org is read from the raw JSON, so a schema that strips `orgId` cannot hide a mismatch.
      let rawBody: unknown;
      if (route.body) {
        const text = bodyTextOf(req);
        try {
          rawBody = text.trim() === '' ? undefined : JSON.parse(text);
        } catch (e) {
          throw errors.invalidInput('Body is not valid JSON', [
            { path: '', message: `invalid JSON: ${(e as Error).message}` },
          ]);
        }
        if (rawBody === undefined) {
          throw errors.invalidInput('Body is required', [{ path: '', message: 'a JSON body is required' }]);
        }
      }

      const setupContext = makeSetup(trace, trigger, caller, headers, log);
      // Who may call is settled before the input's shape is judged: a caller without access gets 403 and
      // learns nothing about the route's schema.
      const authorized = await authorize(
        route.auth,
        caller,
        orgIdOf(params, rawBody, rawQuery),
        setupContext.orgs,
      );

      let query: unknown = rawQuery;
      if (route.query) {
        const parsed = route.query.safeParse(rawQuery);
        if (!parsed.success) throw invalidInput('query', parsed.error);
        query = parsed.data;
      }
      let body: unknown;
      if (route.body) {
        const parsed = route.body.safeParse(rawBody);
        if (!parsed.success) throw invalidInput('body', parsed.error);
        body = parsed.data;
      }
      // Raw and parsed values both count: a schema that trims, coerces or defaults `orgId` must not change the
      // org that was authorized.
      const orgId = orgIdOf(params, rawBody, rawQuery, {
        bodies: [body],
        queries: [query as Record<string, unknown>],
      });
      if (orgId !== authorized.orgId) {
        throw errors.invalidInput('orgId changed by validation', [
          { path: 'orgId', message: 'the validated orgId differs from the one given' },
        ]);
      }
      const deps = await definition.setup({ ...setupContext, caller: authorized });
      const result = await route.handler({
        body,
        params,
        query,
        caller: authorized,
        deps,
        log: log.child({ route: `${route.method} ${route.path}` }),
        trace,
        traceId,
        clock,
        req,
      });
      return respond(result);
    } catch (error) {
      return fail(error);
    }
  };

  function makeSetup(
    trace: TraceContext,
    trigger: Trigger,
    caller: Caller,
    headers: Record<string, string | undefined>,
    log: Logger,
  ): SetupContext<EnvOf<S>> {
    const loaded = loadEnv();
    if (!loaded.ok) throw loaded.error;
    const e = loaded.value as BaseEnv;
    const key = headers['x-appwrite-key']?.trim() || e.APPWRITE_API_KEY;
    const connection: AppwriteConnection | null =
      e.APPWRITE_FUNCTION_API_ENDPOINT && e.APPWRITE_FUNCTION_PROJECT_ID && key
        ? { endpoint: e.APPWRITE_FUNCTION_API_ENDPOINT, projectId: e.APPWRITE_FUNCTION_PROJECT_ID, key }
        : null;
    const needConnection = (what: string): AppwriteConnection => {
      if (!connection) {
        throw errors.internal(
          `${what} needs APPWRITE_FUNCTION_API_ENDPOINT, APPWRITE_FUNCTION_PROJECT_ID and a key (x-appwrite-key or APPWRITE_API_KEY)`,
        );
      }
      return connection;
    };
    let client: Client | undefined;
    let store: TableStore | undefined;
    let orgs: OrgDirectory | undefined;
    const getClient = () => {
      client ??= createAppwriteClient(needConnection('The Appwrite client'));
      return client;
    };
    return {
      env: loaded.value,
      trigger,
      trace,
      traceId: trace.traceId,
      log,
      clock,
      caller,
      headers,
      connection,
      client: getClient,
      store() {
        if (!store) {
          const o = overrides.store;
          store =
            typeof o === 'function'
              ? o(connection)
              : (o ??
                createAppwriteTableStore({
                  client: getClient(),
                  clock,
                  onRequest: (info) => logAppwriteRequest(log, info),
                }));
        }
        return store;
      },
      orgs() {
        if (!orgs) {
          const o = overrides.orgs;
          orgs =
            typeof o === 'function' ? o(connection) : (o ?? createTeamsOrgDirectory({ client: getClient() }));
        }
        return orgs;
      },
    };
  }

  async function health(
    loaded: ReturnType<typeof loadEnv>,
    deploymentId: string,
    secrets: readonly string[],
    setup: () => SetupContext<EnvOf<S>>,
  ): Promise<RouteResult> {
    const checks: HealthReport['checks'] = {};
    // `/health` answers anyone who may execute the function: check errors are scrubbed like log lines.
    const errorText = (error: unknown) => String(redact(describeError(error), secrets));
    const timeoutMs = definition.healthTimeoutMs ?? 3000;
    if (!loaded.ok) {
      checks.env = { ok: false, durationMs: 0, error: errorText(loaded.error) };
    } else {
      checks.env = { ok: true, durationMs: 0 };
      const named = Object.entries(definition.health ?? {});
      let deps: D | undefined;
      const setupStarted = clock.now();
      try {
        deps = await definition.setup(setup());
        if (named.length === 0) checks.setup = { ok: true, durationMs: clock.now() - setupStarted };
      } catch (error) {
        checks.setup = { ok: false, durationMs: clock.now() - setupStarted, error: errorText(error) };
      }
      if (deps !== undefined) {
        await Promise.all(
          named.map(async ([name, check]) => {
            const t0 = clock.now();
            try {
              await withTimeout(
                Promise.resolve().then(() => check(deps as D)),
                timeoutMs,
              );
              checks[name] = { ok: true, durationMs: clock.now() - t0 };
            } catch (error) {
              checks[name] = { ok: false, durationMs: clock.now() - t0, error: errorText(error) };
            }
          }),
        );
      }
    }
    const ok = Object.values(checks).every((c) => c.ok);
    const report: HealthReport = {
      name: definition.name,
      deploymentId,
      version: definition.version,
      status: ok ? 'ok' : 'fail',
      checks,
    };
    return { status: ok ? 200 : 503, body: report };
  }

  const fn = handler as FunctionHandler<S, D>;
  Object.defineProperty(fn, 'definition', { value: definition, enumerable: true });
  Object.defineProperty(fn, 'with', {
    value: (more: PlatformOverrides) => defineFunction(definition, { ...overrides, ...more }),
    enumerable: true,
  });
  return fn;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ResilienceError('TIMEOUT', `timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How the kit logs the Appwrite adapter's round trips: nothing for a success; `debug` for an expected answer
 * (a 404, a 409 or a bound crossed, e.g. a claim lost to a concurrent worker: the caller handles it); `error`
 * for 401/403 (the key or its scopes are wrong: a deployment fault); `warn` for the rest (5xx, network, 429,
 * an unexpected 4xx), saying whether the call is retried or has given up.
 */
export function logAppwriteRequest(log: Logger, info: AppwriteRequestInfo): void {
  if (info.ok) return;
  if (info.expected) log.debug('appwrite answered', { ...info });
  else if (info.status === 401 || info.status === 403) log.error('appwrite refused the key', { ...info });
  else if (info.retrying) log.warn('appwrite request failed; retrying', { ...info });
  else log.warn('appwrite request failed', { ...info });
}

/** A short description of an error for health reports (codes and messages only; redacted by the caller). */
function describeError(error: unknown): string {
  if (isResilienceError(error)) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

function describeCause(cause: unknown): unknown {
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

function parseJsonOrNull(req: AppwriteRequest): unknown {
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
function bodyTextOf(req: AppwriteRequest): string {
  if (typeof req.bodyText === 'string') return req.bodyText;
  if (typeof req.bodyRaw === 'string') return req.bodyRaw;
  if (typeof req.body === 'string') return req.body;
  if (req.body !== undefined && req.body !== null) return JSON.stringify(req.body);
  return '';
}
