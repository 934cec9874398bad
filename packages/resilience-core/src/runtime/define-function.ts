import type { z } from 'zod';
import { errors, isResilienceError, ResilienceError } from '../errors.ts';
import { systemClock } from '../ports/clock.ts';
import { continueTrace, formatTraceparent, type TraceContext } from '../tracing/trace-context.ts';
import { authorize, type Caller, callerOf, orgIdOf } from './auth.ts';
import {
  type AppwriteContext,
  type AppwriteRequest,
  type ResponseDescriptor,
  type Trigger,
  triggerOf,
} from './context.ts';
import { parseEnv, secretValues } from './env.ts';
import { runHealth } from './health.ts';
import { createLogger, type Logger } from './logger.ts';
import { validateParams } from './params.ts';
import { bodyTextOf, describeCause, parseJsonOrNull, queryOf } from './request.ts';
import { invalidInput, type RouteResult, toResponse } from './responses.ts';
import { compilePath, normalisePath } from './router.ts';
import { createSetupContext } from './setup.ts';
import type {
  EnvOf,
  FunctionDefinition,
  FunctionHandler,
  PlatformOverrides,
  Route,
  RouteDefinition,
  SetupContext,
} from './types.ts';

export { logAppwriteRequest } from './setup.ts';
export type {
  EnvOf,
  EventInput,
  FunctionDefinition,
  FunctionHandler,
  HandlerInput,
  HealthCheck,
  HealthReport,
  PlatformOverrides,
  PrefetchInput,
  Route,
  RouteDefinition,
  SetupContext,
  TriggerInput,
} from './types.ts';

import { errorText } from '../error-classification.ts';

/**
 * A typed route builder for deps `D`: `const route = routesFor<AppDeps>();` then
 * `route({ method: 'POST', path: '/x/:id', body: schema, auth: 'member', handler: ({ body, params }) => … })`
 * infers `body` from the schema and `params` (`{ id: string }`) from the path literal.
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

/** What the dispatch of one http execution works with. */
interface Execution {
  req: AppwriteRequest;
  headers: Record<string, string | undefined>;
  method: string;
  path: string;
  trace: TraceContext;
  trigger: Trigger;
  caller: Caller;
  log: Logger;
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
          await runHealth<D>({
            definition: definition as never,
            env: loaded,
            deploymentId,
            secrets,
            setup: () => setupFor(trace, trigger, caller, headers, log) as never,
            clock,
          }),
        );
      }
      if (!loaded.ok) throw loaded.error;

      if (trigger === 'schedule' || trigger === 'event') {
        const deps = await definition.setup(setupFor(trace, trigger, caller, headers, log));
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

      return respond(await runRoute({ req, headers, method, path, trace, trigger, caller, log }));
    } catch (error) {
      return fail(error);
    }
  };

  /** The http dispatch: route match (404/405), params, query and body validation, auth, setup, the handler. */
  async function runRoute(x: Execution): Promise<RouteResult> {
    const { req, headers, method, path, trace, trigger, caller, log } = x;
    const traceId = trace.traceId;
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
        throw new ResilienceError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, {
          headers: { allow: [...new Set(allowed)].join(', ') },
        });
      }
      throw errors.notFound(`No route for ${method} ${path}`);
    }
    params = validateParams(params, route.params);

    const rawQuery = queryOf(req);
    // The org is read from the raw JSON, so a schema that strips `orgId` cannot hide a mismatch.
    let rawBody: unknown;
    if (route.body) {
      const text = bodyTextOf(req);
      try {
        rawBody = text.trim() === '' ? undefined : JSON.parse(text);
      } catch (e) {
        throw errors.invalidInput('Body is not valid JSON', [
          { path: '', message: `invalid JSON: ${errorText(e)}` },
        ]);
      }
      if (rawBody === undefined) {
        throw errors.invalidInput('Body is required', [{ path: '', message: 'a JSON body is required' }]);
      }
    }

    const setupContext = setupFor(trace, trigger, caller, headers, log);
    // Who may call is settled before the input's shape is judged: a caller without access gets 403 and
    // learns nothing about the route's schema.
    const requestedOrg = orgIdOf(params, rawBody, rawQuery);
    const authorizing = authorize(route.auth, caller, requestedOrg, setupContext.orgs);
    // A route's prefetch runs side by side with authorization (see PrefetchInput); its deps are the handler's.
    const early = route.prefetch
      ? prefetchFor(route, setupContext, caller, requestedOrg, params, rawBody)
      : null;
    const authorized = await authorizing;

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
    const deps = early ? await early : await definition.setup({ ...setupContext, caller: authorized });
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
    return result;
  }

  /** Builds the deps early and starts the route's prefetch on them; resolves to the deps (setup errors kept). */
  function prefetchFor(
    route: Route<D>,
    setupContext: SetupContext<EnvOf<S>>,
    caller: Caller,
    orgId: string | null,
    params: Record<string, string>,
    rawBody: unknown,
  ): Promise<D> {
    const early = { ...caller, orgId };
    const deps = Promise.resolve().then(() => definition.setup({ ...setupContext, caller: early }));
    deps.then((d) => route.prefetch?.({ params, rawBody, caller: early, deps: d })).catch(() => undefined);
    // Authorization may refuse before anyone awaits the deps: a setup failure then must not go unhandled.
    deps.catch(() => undefined);
    return deps;
  }

  /** One execution's setup context over the cold start's env (throws its parse error). */
  function setupFor(
    trace: TraceContext,
    trigger: Trigger,
    caller: Caller,
    headers: Record<string, string | undefined>,
    log: Logger,
  ): SetupContext<EnvOf<S>> {
    const loaded = loadEnv();
    if (!loaded.ok) throw loaded.error;
    return createSetupContext({ env: loaded.value, trace, trigger, caller, headers, log, clock, overrides });
  }

  const fn = handler as FunctionHandler<S, D>;
  Object.defineProperty(fn, 'definition', { value: definition, enumerable: true });
  Object.defineProperty(fn, 'with', {
    value: (more: PlatformOverrides) => defineFunction(definition, { ...overrides, ...more }),
    enumerable: true,
  });
  return fn;
}
