import { type Client, type Models, Query } from 'node-appwrite';
import { InputFile } from 'node-appwrite/file';
import { errors, isResilienceError, ResilienceError } from '../../errors.ts';
import type {
  DeploymentInfo,
  DeploymentStatus,
  ExecutionInfo,
  ExecutionStatus,
  FunctionInfo,
  FunctionsPlatform,
} from '../../ports/functions-platform.ts';
import { type AppwriteConnection, createAppwriteClient } from './appwrite-table-store.ts';
import { readFailure, translateAppwriteError } from './errors.ts';
import { pathSegment } from './path-segment.ts';

/** Options of {@link createAppwriteFunctionsPlatform}: a configured `Client`, or the connection fields. */
export interface AppwriteFunctionsPlatformOptions extends Partial<AppwriteConnection> {
  client?: Client;
  /** The Functions calls to use (tests inject a fake). Default: {@link createFunctionsApi} over the client. */
  api?: FunctionsApi;
}

type Params = Record<string, unknown>;

/**
 * The Functions endpoints the platform uses, with node-appwrite's parameter names. Sent through the SDK's own
 * `Client.call` / `Client.chunkedUpload` (same transport, headers, multipart chunking and
 * `AppwriteException`s as the `Functions` service), without the `Functions` class, which carries every
 * endpoint and would push the deploy-orchestrator bundle past its 250 KB budget.
 */
export interface FunctionsApi {
  get(p: { functionId: string }): Promise<Models.Function>;
  createDeployment(p: {
    functionId: string;
    code: InputFile;
    activate: boolean;
    entrypoint?: string;
    commands?: string;
  }): Promise<Models.Deployment>;
  getDeployment(p: { functionId: string; deploymentId: string }): Promise<Models.Deployment>;
  updateFunctionDeployment(p: { functionId: string; deploymentId: string }): Promise<Models.Function>;
  createExecution(p: {
    functionId: string;
    body?: string;
    async?: boolean;
    xpath?: string;
    method?: string;
    headers?: Record<string, string>;
  }): Promise<Models.Execution>;
  listExecutions(p: {
    functionId: string;
    queries?: string[];
    total?: boolean;
  }): Promise<Models.ExecutionList>;
  getDeploymentDownload(p: {
    functionId: string;
    deploymentId: string;
    type?: 'source' | 'output';
  }): Promise<ArrayBuffer>;
}

/** {@link FunctionsApi} over `client`: the SDK's paths, methods, headers and payloads. */
export function createFunctionsApi(client: Client): FunctionsApi {
  const seg = (v: string) => pathSegment(v, 'functionId or deploymentId');
  const url = (path: string) => new URL(client.config.endpoint + path);
  const headers = (json: boolean, accept = 'application/json'): Record<string, string> => ({
    'X-Appwrite-Project': client.config.project,
    ...(json ? { 'content-type': 'application/json' } : {}),
    accept,
  });
  const defined = (payload: Params): Params =>
    Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
  return {
    get: (p) => client.call('get', url(`/functions/${seg(p.functionId)}`), headers(false), {}),
    createDeployment: (p) =>
      client.chunkedUpload(
        'post',
        url(`/functions/${seg(p.functionId)}/deployments`),
        {
          'X-Appwrite-Project': client.config.project,
          'content-type': 'multipart/form-data',
          accept: 'application/json',
        },
        defined({ entrypoint: p.entrypoint, commands: p.commands, code: p.code, activate: p.activate }),
        () => {},
      ),
    getDeployment: (p) =>
      client.call(
        'get',
        url(`/functions/${seg(p.functionId)}/deployments/${seg(p.deploymentId)}`),
        headers(false),
        {},
      ),
    updateFunctionDeployment: (p) =>
      client.call('patch', url(`/functions/${seg(p.functionId)}/deployment`), headers(true), {
        deploymentId: p.deploymentId,
      }),
    createExecution: (p) =>
      client.call(
        'post',
        url(`/functions/${seg(p.functionId)}/executions`),
        headers(true),
        defined({ body: p.body, async: p.async, path: p.xpath, method: p.method, headers: p.headers }),
      ),
    listExecutions: (p) =>
      client.call(
        'get',
        url(`/functions/${seg(p.functionId)}/executions`),
        headers(false),
        defined({ queries: p.queries, total: p.total }),
      ),
    getDeploymentDownload: (p) =>
      client.call(
        'get',
        url(`/functions/${seg(p.functionId)}/deployments/${seg(p.deploymentId)}/download`),
        { 'X-Appwrite-Project': client.config.project, accept: '*/*' },
        defined({ type: p.type }),
        'arrayBuffer',
      ),
  };
}

/**
 * The FunctionsPlatform over node-appwrite's Functions service (platform notes §C4, §C7). One SDK call per
 * port method: `getFunction` → `get`, `createDeployment` → `createDeployment` (multipart, `InputFile`),
 * `getDeployment` → `getDeployment`, `activateDeployment` → `updateFunctionDeployment`, `execute` →
 * synchronous `createExecution`, `listExecutions` → `listExecutions` with `deploymentId`/`$createdAt` queries,
 * `downloadDeployment` → `getDeploymentDownload` (source).
 *
 * Errors: 404 from the getters → `null`; 400 `build_not_ready` on activation → `CONFLICT`; everything else via
 * `translateAppwriteError` (429/5xx/network → `RETRYABLE`, other 4xx → `INVALID_INPUT`, 401/403 → `INTERNAL`).
 * No retries here: the orchestrator retries, because it owns the deadlines. The key never appears in errors.
 */
export function createAppwriteFunctionsPlatform(
  options: AppwriteFunctionsPlatformOptions,
): FunctionsPlatform {
  const client =
    options.client ??
    (options.endpoint && options.projectId && options.key
      ? createAppwriteClient({ endpoint: options.endpoint, projectId: options.projectId, key: options.key })
      : undefined);
  const functions = options.api ?? (client ? createFunctionsApi(client) : undefined);
  if (!functions) {
    throw errors.invalidInput(
      'createAppwriteFunctionsPlatform needs a client or endpoint, projectId and key',
    );
  }

  let timeQueries = true;
  const fail = (error: unknown, operation: string, id?: string): ResilienceError =>
    isResilienceError(error) ? error : translateAppwriteError(error, { operation, ...(id ? { id } : {}) });

  return {
    async getFunction(functionId) {
      try {
        return toFunction(await functions.get({ functionId }));
      } catch (error) {
        if (readFailure(error).status === 404) return null;
        throw fail(error, 'functions.get', functionId);
      }
    },

    async createDeployment(functionId, code, { activate }) {
      try {
        const dep = await functions.createDeployment({
          functionId,
          code: InputFile.fromBuffer(code.archive, code.filename ?? 'code.tar.gz'),
          activate,
          entrypoint: code.entrypoint,
          // Omitted = the function's configured build commands.
          ...(code.commands !== undefined ? { commands: code.commands } : {}),
        });
        return toDeployment(dep, functionId);
      } catch (error) {
        throw fail(error, 'functions.createDeployment', functionId);
      }
    },

    async getDeployment(functionId, deploymentId) {
      try {
        return toDeployment(await functions.getDeployment({ functionId, deploymentId }), functionId);
      } catch (error) {
        if (readFailure(error).status === 404) return null;
        throw fail(error, 'functions.getDeployment', deploymentId);
      }
    },

    async activateDeployment(functionId, deploymentId) {
      try {
        await functions.updateFunctionDeployment({ functionId, deploymentId });
      } catch (error) {
        const f = readFailure(error);
        if (f.status === 400 && f.type === 'build_not_ready') {
          throw errors.conflict(`deployment ${deploymentId} of ${functionId} is not built (build_not_ready)`);
        }
        throw fail(error, 'functions.updateFunctionDeployment', deploymentId);
      }
    },

    async execute(functionId, request) {
      try {
        const exec = await functions.createExecution({
          functionId,
          async: false,
          xpath: request.path,
          method: request.method,
          ...(request.body !== undefined ? { body: request.body } : {}),
          ...(request.headers ? { headers: request.headers } : {}),
        });
        return toExecution(exec);
      } catch (error) {
        // 408: the synchronous execution outlived Appwrite's 30 s request limit (it is recorded `failed`/500).
        if (readFailure(error).status === 408) {
          throw new ResilienceError(
            'TIMEOUT',
            `functions.createExecution/${functionId}: the execution timed out (408)`,
            { cause: error, details: { appwriteStatus: 408 } },
          );
        }
        throw fail(error, 'functions.createExecution', functionId);
      }
    },

    async listExecutions(functionId, query) {
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 100);
      const since = query.createdAfter;
      // `$createdAt` filtering/ordering on executions is accepted by appwrite-local; whether every Appwrite
      // version accepts it is UNCONFIRMED, so a 400 on it falls back (once, then for good) to the documented
      // filter (`deploymentId`) with the time filter applied here.
      const build = (withTime: boolean) => [
        ...(query.deploymentId ? [Query.equal('deploymentId', [query.deploymentId])] : []),
        ...(withTime && since !== undefined
          ? [
              Query.greaterThanEqual('$createdAt', new Date(since).toISOString()),
              Query.orderAsc('$createdAt'),
            ]
          : []),
        ...(query.cursor ? [Query.cursorAfter(query.cursor)] : []),
        Query.limit(limit + 1),
      ];
      const fetchPage = async (withTime: boolean) => {
        const page = await functions.listExecutions({ functionId, queries: build(withTime), total: false });
        const rows = page.executions.slice(0, limit).map(toExecution);
        return {
          executions: withTime || since === undefined ? rows : rows.filter((e) => e.createdAt >= since),
          nextCursor: page.executions.length > limit ? (rows.at(-1)?.id ?? null) : null,
        };
      };
      try {
        return await fetchPage(timeQueries);
      } catch (error) {
        const f = readFailure(error);
        if (timeQueries && since !== undefined && f.status === 400 && f.type.startsWith('general_query')) {
          timeQueries = false;
          try {
            return await fetchPage(false);
          } catch (retryError) {
            throw fail(retryError, 'functions.listExecutions', functionId);
          }
        }
        throw fail(error, 'functions.listExecutions', functionId);
      }
    },

    async downloadDeployment(functionId, deploymentId) {
      try {
        const buffer = await functions.getDeploymentDownload({ functionId, deploymentId, type: 'source' });
        return new Uint8Array(buffer);
      } catch (error) {
        throw fail(error, 'functions.getDeploymentDownload', deploymentId);
      }
    },
  } satisfies FunctionsPlatform & {
    downloadDeployment(functionId: string, deploymentId: string): Promise<Uint8Array>;
  };
}

const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'waiting',
  'processing',
  'building',
  'ready',
  'failed',
  'canceled',
];
const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'waiting',
  'processing',
  'completed',
  'failed',
  'scheduled',
];

function toFunction(fn: Models.Function): FunctionInfo {
  return {
    id: fn.$id,
    name: fn.name,
    activeDeploymentId: fn.deploymentId ? fn.deploymentId : null,
    enabled: fn.enabled,
    execute: fn.execute ?? [],
    deploymentRetentionDays: typeof fn.deploymentRetention === 'number' ? fn.deploymentRetention : 0,
    schedule: fn.schedule ?? '',
    events: fn.events ?? [],
  };
}

function toDeployment(dep: Models.Deployment, functionId: string): DeploymentInfo {
  const raw = String(dep.status);
  return {
    id: dep.$id,
    functionId: dep.resourceId || functionId,
    // An unknown status is treated as still in progress: the orchestrator's build deadline bounds it.
    status: (DEPLOYMENT_STATUSES as readonly string[]).includes(raw)
      ? (raw as DeploymentStatus)
      : 'processing',
    createdAt: Date.parse(dep.$createdAt),
    entrypoint: dep.entrypoint ?? '',
    buildLogs: typeof dep.buildLogs === 'string' ? dep.buildLogs.slice(-2000) : '',
  };
}

function toExecution(exec: Models.Execution): ExecutionInfo {
  const raw = String(exec.status);
  return {
    id: exec.$id,
    functionId: exec.functionId,
    deploymentId: exec.deploymentId,
    status: (EXECUTION_STATUSES as readonly string[]).includes(raw) ? (raw as ExecutionStatus) : 'processing',
    trigger: String(exec.trigger),
    requestMethod: exec.requestMethod,
    requestPath: exec.requestPath,
    responseStatusCode: exec.responseStatusCode,
    responseBody: exec.responseBody ?? '',
    durationMs: Math.round((exec.duration ?? 0) * 1000),
    createdAt: Date.parse(exec.$createdAt),
    ...(raw === 'completed' || raw === 'failed'
      ? { endedAt: Date.parse(exec.$updatedAt || exec.$createdAt) }
      : {}),
  };
}
