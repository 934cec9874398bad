/**
 * The function kit's types: what a function declares ({@link FunctionDefinition}, its routes and triggers),
 * what `setup`, handlers and triggers receive, and the handler the kit returns. No SDK type is part of them:
 * a function reaches Appwrite through the ports (`store()`, `orgs()`) or, for services the ports do not
 * cover, through `connection` and the adapters.
 */
import type { z } from 'zod';
import type { AppwriteConnection } from '../adapters/appwrite/appwrite-table-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { OrgDirectory } from '../ports/org-directory.ts';
import type { TableStore } from '../ports/table-store.ts';
import type { TraceContext } from '../tracing/trace-context.ts';
import type { AuthLevel, Caller } from './auth.ts';
import type { AppwriteContext, AppwriteRequest, ResponseDescriptor, Trigger } from './context.ts';
import type { BaseEnv } from './env.ts';
import type { Logger } from './logger.ts';
import type { PathParams } from './params.ts';
import type { RouteResult } from './responses.ts';
import type { HttpMethod } from './router.ts';

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
  /** See {@link PrefetchInput}: reads started while the caller is being authorized. */
  prefetch?(input: PrefetchInput<D>): unknown;
  handler(
    input: HandlerInput<D, SchemaOut<B>, QueryOut<Q>, PathParams<P>>,
  ): Promise<RouteResult> | RouteResult;
}

/**
 * What a route's `prefetch` gets. A route may start the reads its handler will need while the kit authorizes the
 * caller, so they cost no round trip of latency of their own (they warm per-execution caches the handler then
 * hits). Nothing is answered before authorization: on a refusal the reads are wasted, never shown. `prefetch`
 * sees the body unvalidated, must only read, and its result and failures are ignored (the handler meets them
 * again). For such routes `setup` runs alongside authorization, so its `caller` has no `roles` yet.
 */
export interface PrefetchInput<D> {
  params: Record<string, string>;
  /** The parsed JSON body, not yet validated by the route's schema. */
  rawBody: unknown;
  /** The caller before authorization (`roles` empty; `orgId` as the request names it). */
  caller: Caller;
  deps: D;
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
  prefetch?(input: PrefetchInput<D>): unknown;
  handler(input: HandlerInput<D, unknown, unknown>): Promise<RouteResult> | RouteResult;
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
