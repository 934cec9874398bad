import {
  type AppwriteConnection,
  type AppwriteRequestInfo,
  createAppwriteClient,
  createAppwriteTableStore,
} from '../adapters/appwrite/appwrite-table-store.ts';
import { createTeamsOrgDirectory } from '../adapters/appwrite/teams-org-directory.ts';
import { errors } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { OrgDirectory } from '../ports/org-directory.ts';
import type { TableStore } from '../ports/table-store.ts';
import type { TraceContext } from '../tracing/trace-context.ts';
import type { Caller } from './auth.ts';
import type { Trigger } from './context.ts';
import type { BaseEnv } from './env.ts';
import type { Logger } from './logger.ts';
import type { PlatformOverrides, SetupContext } from './types.ts';

/** What {@link createSetupContext} builds one execution's context from. */
export interface SetupInput<E> {
  env: E;
  trace: TraceContext;
  trigger: Trigger;
  caller: Caller;
  headers: Record<string, string | undefined>;
  log: Logger;
  clock: Clock;
  overrides: PlatformOverrides;
}

/**
 * The connection of an execution: the env's endpoint and project with the dynamic `x-appwrite-key` (or the
 * `APPWRITE_API_KEY` fallback); `null` when any part is missing.
 */
export function connectionOf(
  env: BaseEnv,
  headers: Record<string, string | undefined>,
): AppwriteConnection | null {
  const key = headers['x-appwrite-key']?.trim() || env.APPWRITE_API_KEY;
  return env.APPWRITE_FUNCTION_API_ENDPOINT && env.APPWRITE_FUNCTION_PROJECT_ID && key
    ? { endpoint: env.APPWRITE_FUNCTION_API_ENDPOINT, projectId: env.APPWRITE_FUNCTION_PROJECT_ID, key }
    : null;
}

/**
 * The execution's connection, or INTERNAL naming what is missing: for services the ports do not cover, built
 * with the Appwrite adapters (e.g. `createAppwriteFunctionsPlatform({ client: createAppwriteClient(…) })`).
 */
export function requireConnection(
  ctx: Pick<SetupContext, 'connection'>,
  what = 'Appwrite',
): AppwriteConnection {
  if (!ctx.connection) {
    throw errors.internal(
      `${what} needs APPWRITE_FUNCTION_API_ENDPOINT, APPWRITE_FUNCTION_PROJECT_ID and a key (x-appwrite-key or APPWRITE_API_KEY)`,
    );
  }
  return ctx.connection;
}

/**
 * One execution's {@link SetupContext}: the store and the org directory are built on first use (the platform
 * overrides in tests, else the Appwrite adapters over the execution's connection, one SDK client shared).
 */
export function createSetupContext<E extends BaseEnv>(input: SetupInput<E>): SetupContext<E> {
  const { overrides, log, clock } = input;
  const connection = connectionOf(input.env, input.headers);
  let client: ReturnType<typeof createAppwriteClient> | undefined;
  let store: TableStore | undefined;
  let orgs: OrgDirectory | undefined;
  const getClient = () => {
    client ??= createAppwriteClient(requireConnection({ connection }, 'The Appwrite client'));
    return client;
  };
  return {
    env: input.env,
    trigger: input.trigger,
    trace: input.trace,
    traceId: input.trace.traceId,
    log,
    clock,
    caller: input.caller,
    headers: input.headers,
    connection,
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
