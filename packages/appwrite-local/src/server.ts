/** Wires the server: database, keys, events, modules, the HTTP front; start and stop. */
import type { AddressInfo } from 'node:net';
import { type AppwriteConfig, loadAppwriteConfig } from './config.ts';
import { openDatabase } from './db.ts';
import { createEventBus } from './events.ts';
import { createFaultInjector, type FaultInjector, faultRoutes } from './faults.ts';
import {
  createFunctionsModule,
  type FunctionsModule,
  type FunctionsModuleOptions,
} from './functions/index.ts';
import { healthModule } from './health.ts';
import { createHttpFront, type TraceEntry } from './http-server.ts';
import { createIdentityRegistry } from './identity.ts';
import { ALL_SCOPES, createKeysService, persistentSecret, type StaticKey } from './keys.ts';
import { PathRouter } from './router.ts';
import type { ServerClock, ServerContext, ServerModule } from './server-context.ts';
import { COLLATIONS, type Collation, DEFAULT_COLLATION } from './tablesdb/collation.ts';
import { tablesDbModule } from './tablesdb/module.ts';
import { teamsModule } from './teams/module.ts';

/** Options of {@link startAppwriteLocal}. */
export interface AppwriteLocalOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number | undefined;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string | undefined;
  /** Keep everything in memory (default when `dataDir` is not given). */
  memory?: boolean | undefined;
  /** Directory of the SQLite database; data survives restarts. Ignored when `memory` is true. */
  dataDir?: string | undefined;
  /** The project id clients must send in `X-Appwrite-Project`. */
  projectId: string;
  /** A key with every scope. */
  apiKey: string;
  /** More keys with limited scopes. */
  keys?: StaticKey[] | undefined;
  /** Path of an appwrite.json to provision (databases, tables, columns, indexes, functions). */
  config?: string | undefined;
  /** Delay added before handling every request, in ms (benches simulate a network with it). Default 0. */
  latencyMs?: number | undefined;
  /** Largest request body, bytes. Default 32 MiB (deployment chunks are 5 MiB; execution bodies up to 10 MB). */
  maxBodyBytes?: number | undefined;
  /**
   * How row ids, unique indexes and `equal`/`IN`/text filters compare: `utf8mb4_general_ci` (default; what Appwrite
   * on MariaDB does: case-, accent- and trailing-space-insensitive) or `binary` (exact).
   */
  collation?: Collation | undefined;
  /** Time source (epoch ms); default `Date.now`. */
  clock?: ServerClock | undefined;
  /** Options of the functions module (scheduler ticking, sync timeout). */
  functions?: FunctionsModuleOptions | undefined;
  /** Extra modules (tests); installed after the built-in ones. */
  modules?: ServerModule[] | undefined;
  /** Called with every request/response pair (tests validate responses against the OpenAPI spec with it). */
  trace?: ((entry: TraceEntry) => void) | undefined;
  /** Diagnostics sink; default: none. */
  log?: ((message: string) => void) | undefined;
}

/** A running server. */
export interface AppwriteLocal {
  /** `http://127.0.0.1:PORT/v1` */
  endpoint: string;
  port: number;
  projectId: string;
  apiKey: string;
  /** Requests received so far. */
  stats: { requests: number };
  /**
   * Fault injection for tests (faults.ts): e.g. `faults.add({method: 'PATCH', path: '^/tablesdb/transactions/',
   * action: {kind: 'commit-stuck'}})`. Also over HTTP: `POST /v1/local/faults` with the API key.
   */
  faults: FaultInjector;
  /** The functions module: `tick()` the scheduler, `settle()` background work, `coldStarts`. */
  functions: FunctionsModule;
  /** Stops modules, closes connections and the database. Idempotent. */
  stop(): Promise<void>;
}

/** Built-in modules, in install order. */
const BUILT_IN: ServerModule[] = [healthModule, tablesDbModule, teamsModule];

/** Starts a server and resolves once it listens. */
export async function startAppwriteLocal(options: AppwriteLocalOptions): Promise<AppwriteLocal> {
  const log = options.log ?? (() => {});
  const clock = options.clock ?? { now: () => Date.now() };
  const memory = options.memory ?? !options.dataDir;
  const collation = options.collation ?? DEFAULT_COLLATION;
  if (!COLLATIONS.includes(collation))
    throw new Error(
      `appwrite-local: collation must be one of ${COLLATIONS.join(', ')} (got ${String(collation)})`,
    );
  const config: AppwriteConfig | undefined = options.config ? loadAppwriteConfig(options.config) : undefined;
  const db = openDatabase({ memory, dataDir: options.dataDir });
  const router = new PathRouter();
  const keys = createKeysService({
    projectId: options.projectId,
    clock,
    // Dynamic keys and user JWTs of a data directory survive restarts; in memory they die with the server.
    secret: memory ? undefined : persistentSecret(db),
    staticKeys: [{ secret: options.apiKey, scopes: [...ALL_SCOPES] }, ...(options.keys ?? [])],
  });
  const identity = createIdentityRegistry();
  const faults = createFaultInjector();
  faultRoutes(router, faults, options.apiKey);
  const ctx: ServerContext = {
    router,
    db,
    events: createEventBus(log),
    keys,
    identity,
    clock,
    faults,
    projectId: options.projectId,
    config,
    options: { dataDir: memory ? undefined : options.dataDir, memory, collation },
    log,
  };
  const functions = createFunctionsModule(options.functions);
  const modules = [...BUILT_IN, functions, ...(options.modules ?? [])];
  const installed: ServerModule[] = [];
  const stats = { requests: 0 };
  try {
    for (const m of modules) {
      await m.install(ctx);
      installed.push(m);
    }
  } catch (e) {
    db.close();
    throw e;
  }

  const server = createHttpFront({
    router,
    keys,
    identity,
    projectId: options.projectId,
    maxBodyBytes: options.maxBodyBytes ?? 32 * 1024 * 1024,
    latencyMs: options.latencyMs ?? 0,
    stats,
    log,
    trace: options.trace,
    faults,
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://${host}:${port}/v1`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const m of [...installed].reverse()) {
        try {
          await m.stop?.();
        } catch (e) {
          log(`module ${m.name} failed to stop: ${(e as Error).message}`);
        }
      }
      server.closeAllConnections();
      await closed;
      db.close();
    })();
    return stopping;
  };

  try {
    for (const m of installed) await m.start?.({ endpoint, port });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    endpoint,
    port,
    projectId: options.projectId,
    apiKey: options.apiKey,
    stats,
    faults,
    functions,
    stop,
  };
}
