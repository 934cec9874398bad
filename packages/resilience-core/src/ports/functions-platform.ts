/**
 * FunctionsPlatform: the port the blue-green orchestrator drives. It is the part of Appwrite Functions a
 * rollout needs, with no SDK types (the node-appwrite adapter lives in `adapters/appwrite/functions-platform.ts`,
 * a simulated platform for tests in `testing/`).
 *
 * The platform model it assumes (../shared/appwrite-platform.md §C4, §C7):
 * - A function has at most ONE active deployment. Every execution runs the active one; an execution cannot
 *   target an inactive deployment. So a new version is validated on a separate standby twin function.
 * - `activateDeployment` is one call (`updateFunctionDeployment`) and atomic from the callers' point of view:
 *   an execution started after it returns runs the new deployment. It fails with `CONFLICT` unless the
 *   deployment's build is `ready`. Calling it for the deployment that is already active changes nothing.
 * - A deployment uploaded with `activate: false` is never activated by the platform itself.
 * - Deployments stay built until deleted, so the previously active one (blue) is the rollback target.
 *
 * Errors: adapters translate their backend's errors — a missing function or deployment is `NOT_FOUND` (or `null`
 * from the getters), activation of an unbuilt deployment is `CONFLICT`, bad arguments are `INVALID_INPUT`,
 * transient failures (429, 5xx, network) are `RETRYABLE`. No call here is retried by the adapter except where
 * stated; the orchestrator owns retries because it owns the deadlines.
 */

/** A build's lifecycle, as Appwrite reports it. `ready`, `failed` and `canceled` are final. */
export type DeploymentStatus = 'waiting' | 'processing' | 'building' | 'ready' | 'failed' | 'canceled';

/** What the orchestrator needs to know about a function. */
export interface FunctionInfo {
  id: string;
  name: string;
  /** The active deployment's id, or `null` when none is active yet. */
  activeDeploymentId: string | null;
  enabled: boolean;
  /** Execute roles; `[]` means API keys only. */
  execute: string[];
  /** Days the platform keeps inactive deployments (0 = forever). Rollback needs blue to survive the rollout. */
  deploymentRetentionDays: number;
  /**
   * Cron schedule (`''` for none). Optional in the port: a platform that cannot report it leaves it out, and
   * the orchestrator then cannot check that a standby twin has none.
   */
  schedule?: string;
  /** Events that trigger the function (`[]` for none). Optional like `schedule`. */
  events?: string[];
}

/** One deployment (build) of a function. */
export interface DeploymentInfo {
  id: string;
  functionId: string;
  status: DeploymentStatus;
  /** Creation time, milliseconds since the epoch. */
  createdAt: number;
  entrypoint: string;
  /** The tail of the build log (may be empty); never contains secrets we put there. */
  buildLogs: string;
}

/** Execution lifecycle, as Appwrite reports it. */
export type ExecutionStatus = 'waiting' | 'processing' | 'completed' | 'failed' | 'scheduled';

/** One execution record. */
export interface ExecutionInfo {
  id: string;
  functionId: string;
  /** The deployment that ran (or will run) this execution. */
  deploymentId: string;
  status: ExecutionStatus;
  trigger: string;
  requestMethod: string;
  requestPath: string;
  /** HTTP status the function answered with (0 while not finished). */
  responseStatusCode: number;
  /** Response body; only filled for synchronous executions. */
  responseBody: string;
  /** Run time in milliseconds (Appwrite reports seconds; adapters convert). */
  durationMs: number;
  /**
   * Creation time of the record, milliseconds since the epoch. On Appwrite a synchronous execution is recorded
   * when it ENDS (this is its end), an async, schedule or event one when it is queued (platform notes §F5).
   */
  createdAt: number;
  /**
   * When a finished execution ended, ms since the epoch: the record's last update (Appwrite `$updatedAt`: a
   * synchronous record is written once, at the end; a queued one is updated when it ends). Absent while it runs,
   * or when the platform does not say: then {@link executionEndOf} falls back to `createdAt`.
   */
  endedAt?: number;
}

/** The end time of an execution (see {@link ExecutionInfo.endedAt}). */
export function executionEndOf(e: ExecutionInfo): number {
  return e.endedAt ?? e.createdAt;
}

/** A code archive to upload: a `tar.gz` whose root is the function root. */
export interface CodeBundle {
  /** The gzipped tarball bytes. */
  archive: Uint8Array;
  /** Entrypoint relative to the archive root, e.g. `dist/main.js`. */
  entrypoint: string;
  /** Build commands (`''` for pre-bundled code); omitted = the function's configured commands. */
  commands?: string | undefined;
  /** File name sent with the upload; default `code.tar.gz`. */
  filename?: string | undefined;
}

/** A synchronous request to a function's active deployment. */
export interface ExecutionRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Filter for {@link FunctionsPlatform.listExecutions}. */
export interface ExecutionQuery {
  /** Only executions of this deployment. */
  deploymentId?: string;
  /** Only executions whose record was created at or after this time (ms since epoch; see `createdAt`). */
  createdAfter?: number;
  /** Page size; adapters cap it (Appwrite: 100 is a safe page). Default 100. */
  limit?: number;
  /** Continue after this execution id (the previous page's `nextCursor`). */
  cursor?: string;
}

/** One page of executions, oldest first. */
export interface ExecutionPage {
  executions: ExecutionInfo[];
  nextCursor: string | null;
}

/** The port. Every method is one API call unless its docblock says otherwise. */
export interface FunctionsPlatform {
  /** The function, or `null` when it does not exist. */
  getFunction(functionId: string): Promise<FunctionInfo | null>;
  /** Uploads code as a new deployment. The orchestrator always passes `activate: false`. */
  createDeployment(
    functionId: string,
    code: CodeBundle,
    options: { activate: boolean },
  ): Promise<DeploymentInfo>;
  /** The deployment, or `null` when it does not exist (deleted, or never existed). */
  getDeployment(functionId: string, deploymentId: string): Promise<DeploymentInfo | null>;
  /** Makes a ready deployment the function's active one (`updateFunctionDeployment`): ONE call. */
  activateDeployment(functionId: string, deploymentId: string): Promise<void>;
  /** Runs a synchronous execution of the active deployment and returns its record with the response. */
  execute(functionId: string, request: ExecutionRequest): Promise<ExecutionInfo>;
  /** Lists execution records, oldest first. */
  listExecutions(functionId: string, query: ExecutionQuery): Promise<ExecutionPage>;
  /**
   * Downloads a deployment's source archive (to build the same code on the standby twin when a rollout
   * names an existing deployment instead of uploading code). Optional: platforms without it make such
   * rollouts require the code too.
   */
  downloadDeployment?(functionId: string, deploymentId: string): Promise<Uint8Array>;
}

/** Per-method call counters kept by {@link countingPlatform}. */
export interface PlatformCallStats {
  calls: number;
  byMethod: Record<string, number>;
}

/**
 * Wraps a platform so every call is counted (for the rollout command's figures and for tests that assert
 * "the switch is one call"). `snapshot()`/`since()` give the calls made between two points.
 */
export function countingPlatform(inner: FunctionsPlatform): FunctionsPlatform & {
  stats: PlatformCallStats;
  snapshot(): PlatformCallStats;
  since(before: PlatformCallStats): PlatformCallStats;
} {
  const stats: PlatformCallStats = { calls: 0, byMethod: {} };
  const count = (method: string) => {
    stats.calls++;
    stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
  };
  const counted =
    <A extends unknown[], R>(method: string, fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      count(method);
      return fn(...args);
    };
  const wrapped: FunctionsPlatform = {
    getFunction: counted('getFunction', (id: string) => inner.getFunction(id)),
    createDeployment: counted(
      'createDeployment',
      (id: string, code: CodeBundle, options: { activate: boolean }) =>
        inner.createDeployment(id, code, options),
    ),
    getDeployment: counted('getDeployment', (id: string, dep: string) => inner.getDeployment(id, dep)),
    activateDeployment: counted('activateDeployment', (id: string, dep: string) =>
      inner.activateDeployment(id, dep),
    ),
    execute: counted('execute', (id: string, request: ExecutionRequest) => inner.execute(id, request)),
    listExecutions: counted('listExecutions', (id: string, query: ExecutionQuery) =>
      inner.listExecutions(id, query),
    ),
  };
  if (inner.downloadDeployment) {
    const download = inner.downloadDeployment.bind(inner);
    wrapped.downloadDeployment = counted('downloadDeployment', (id: string, dep: string) =>
      download(id, dep),
    );
  }
  const snapshot = (): PlatformCallStats => ({ calls: stats.calls, byMethod: { ...stats.byMethod } });
  return {
    ...wrapped,
    stats,
    snapshot,
    since(before) {
      const byMethod: Record<string, number> = {};
      for (const [method, n] of Object.entries(stats.byMethod)) {
        const delta = n - (before.byMethod[method] ?? 0);
        if (delta) byMethod[method] = delta;
      }
      return { calls: stats.calls - before.calls, byMethod };
    },
  };
}
