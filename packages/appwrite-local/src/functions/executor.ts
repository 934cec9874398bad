/**
 * Running executions: records them (waiting/scheduled → processing → completed | failed), sends the request to
 * the function's warm process with Appwrite's `x-appwrite-*` headers and a dynamic key, and stores status,
 * response code, whitelisted response headers, logs, errors and duration. `failed` means
 * `responseStatusCode >= 500`, as Appwrite decides it.
 */
import { AppwriteError, SERVER_VERSION } from '../errors.ts';
import { uniqueId } from '../wire.ts';
import { buildDir, type FunctionsDeps, inBackground } from './deps.ts';
import { runtimeEnv } from './env.ts';
import type { ExecutionRecord, FunctionRecord } from './records.ts';
import type { RuntimeResponse } from './runtime/runtime-process.ts';
import { ROOT } from './store.ts';

/** Characters of logs and errors kept per execution (Appwrite's source constant). */
export const MAX_LOG_CHARS = 1_000_000;
/** Response headers an execution record keeps (Appwrite's FUNCTION_ALLOWLIST_HEADERS_RESPONSE). */
const KEPT_RESPONSE_HEADERS = new Set(['content-type', 'content-length']);
/** Request headers an execution record keeps (Appwrite's FUNCTION_ALLOWLIST_HEADERS_REQUEST). */
const KEPT_REQUEST_HEADERS = new Set([
  'content-type',
  'agent',
  'content-length',
  'host',
  'x-appwrite-client-ip',
]);

/** One request to a function, before it becomes an execution. */
export interface ExecutionInput {
  trigger: 'http' | 'schedule' | 'event';
  /** Upper-case HTTP method. */
  method: string;
  /** Path with optional query string, starting with `/`. */
  path: string;
  /** Caller headers (validated by the route for http triggers). */
  headers: Record<string, string>;
  body: Buffer;
  /** The event name for event triggers. */
  event?: string | undefined;
  /**
   * The signed-in user who called (a `X-Appwrite-JWT` request): the execution gets `x-appwrite-user-id` and a
   * fresh `x-appwrite-user-jwt` for them. Absent for API keys, guests and triggers (both headers empty).
   */
  userId?: string | undefined;
}

/** The outcome of an execution. */
export interface SyncResult {
  /** The final record (as stored, or as it will be stored for a synchronous execution). */
  record: ExecutionRecord;
  responseBody: string;
  /**
   * Every header the function answered with: a synchronous createExecution returns them all (plus
   * `x-appwrite-execution-id`), while the record keeps only content-type and content-length.
   */
  responseHeaders: { name: string; value: string }[];
}

/**
 * The active deployment of `fn`, ready to run. 404 `deployment_not_found` when there is none (or it vanished),
 * 400 `build_not_ready` when it is not ready.
 */
export function activeDeployment(deps: FunctionsDeps, fn: FunctionRecord): string {
  if (!fn.deploymentId) throw new AppwriteError('deployment_not_found');
  const dep = deps.store.deployments.get(fn.$id, fn.deploymentId);
  if (!dep) throw new AppwriteError('deployment_not_found');
  if (dep.status !== 'ready') throw new AppwriteError('build_not_ready');
  return dep.$id;
}

/**
 * Creates the execution record (not yet run). `scheduledAt` (epoch ms) makes it `scheduled`. With
 * `persist: false` (synchronous executions) nothing is stored: Appwrite writes those only when they end.
 */
export function recordExecution(
  deps: FunctionsDeps,
  fn: FunctionRecord,
  input: ExecutionInput,
  options: {
    status: 'waiting' | 'processing' | 'scheduled';
    deploymentId: string;
    scheduledAt?: number;
    persist?: boolean;
  },
): ExecutionRecord {
  const now = deps.ctx.clock.now();
  const record: ExecutionRecord = {
    $id: uniqueId(),
    $createdAt: now,
    $updatedAt: now,
    // As Appwrite: a user's execution is readable by that user; others only by API keys.
    $permissions: input.userId ? [`read("user:${input.userId}")`] : [],
    functionId: fn.$id,
    deploymentId: options.deploymentId,
    trigger: input.trigger,
    status: options.status,
    requestMethod: input.method,
    requestPath: input.path,
    requestHeaders: recordedRequestHeaders(input),
    responseStatusCode: 0,
    responseHeaders: [],
    logs: '',
    errors: '',
    duration: 0,
    scheduledAt: options.scheduledAt ?? null,
    event: input.event ?? '',
  };
  if (options.status !== 'processing') {
    record.pendingBody = input.body.toString('base64');
    record.pendingHeaders = input.headers;
    if (input.userId) record.pendingUserId = input.userId;
  }
  if (options.persist !== false) deps.store.executions.insert(fn.$id, record);
  return record;
}

/**
 * The request headers a record shows: those of the caller and Appwrite's own (`x-appwrite-client-ip` for http
 * triggers) that are on Appwrite's allow-list; everything else reaches the function but is not recorded.
 */
function recordedRequestHeaders(input: ExecutionInput): { name: string; value: string }[] {
  const headers: Record<string, string> = { ...input.headers };
  headers['x-appwrite-client-ip'] = input.trigger === 'http' ? CLIENT_IP : '';
  return Object.entries(headers)
    .filter(([name]) => KEPT_REQUEST_HEADERS.has(name.toLowerCase()))
    .map(([name, value]) => ({ name, value }));
}

/** The client address every http execution reports (the local server is reached on loopback). */
const CLIENT_IP = '127.0.0.1';

/** Logs or errors cut to Appwrite's limit: the last characters, behind Appwrite's warning line. */
function truncateStream(text: string, kind: 'Logs' | 'Errors'): string {
  if (text.length <= MAX_LOG_CHARS) return text;
  const warning = `[WARNING] ${kind} truncated. The output exceeded ${MAX_LOG_CHARS} characters.\n`;
  return warning + text.slice(-(MAX_LOG_CHARS - warning.length));
}

/**
 * The record of a synchronous execution cut short by the sync limit: Appwrite stores it `failed` with 500
 * and its error message (`\n` is literal there: PHP single quotes) while the caller gets 408.
 */
export function timedOutRecord(
  deps: FunctionsDeps,
  record: ExecutionRecord,
  message: string,
  durationSeconds: number,
): ExecutionRecord {
  const now = deps.ctx.clock.now();
  return {
    ...record,
    $createdAt: now,
    $updatedAt: now,
    status: 'failed',
    responseStatusCode: 500,
    errors: `${message}\\nError Code: 408`,
    duration: durationSeconds,
  };
}

/**
 * Runs a recorded execution on `deploymentId` and stores the outcome. Never throws: a missing deployment, a
 * runtime that cannot start, a crash or a timeout all end as a `failed` execution with the reason in `errors`.
 * With `sync` the record is neither stored while it runs nor at its end (the caller stores it, with
 * `$createdAt` = its end, unless the sync limit cut it short first).
 */
export async function runExecution(
  deps: FunctionsDeps,
  record: ExecutionRecord,
  input: ExecutionInput,
  deploymentId: string,
  options: { sync?: boolean } = {},
): Promise<SyncResult> {
  const started = deps.ctx.clock.now();
  const startedHr = performance.now();
  let current: ExecutionRecord = { ...record, deploymentId, status: 'processing', $updatedAt: started };
  delete current.pendingBody;
  delete current.pendingHeaders;
  delete current.pendingUserId;
  if (!options.sync) deps.store.executions.put(record.functionId, current);

  deps.running++;
  const response = await invoke(deps, current, input)
    .catch((e: unknown): RuntimeResponse => failure(`Execution failed: ${(e as Error).message}`))
    .finally(() => deps.running--);
  const fn = deps.store.functions.get(ROOT, record.functionId);
  const logging = fn?.logging ?? true;
  const ended = deps.ctx.clock.now();
  const allHeaders = Object.entries(response.headers).map(([name, value]) => ({ name, value }));
  current = {
    ...current,
    // A synchronous execution is written once, when it ends: that is its creation time too.
    $createdAt: options.sync ? ended : current.$createdAt,
    $updatedAt: ended,
    status: response.statusCode >= 500 ? 'failed' : 'completed',
    responseStatusCode: response.statusCode,
    responseHeaders: allHeaders.filter(({ name }) => KEPT_RESPONSE_HEADERS.has(name.toLowerCase())),
    logs: logging ? truncateStream(response.logs, 'Logs') : '',
    errors: logging ? truncateStream(response.errors, 'Errors') : '',
    duration: Math.round(performance.now() - startedHr) / 1000,
  };
  // The function (and so its executions) may have been deleted while it ran.
  if (!options.sync) deps.store.executions.put(record.functionId, current);
  // A late execution on a deployment that is no longer active must not keep its process warm.
  if (fn && fn.deploymentId !== deploymentId) deps.pool.releaseDeployment(fn.$id, deploymentId);
  // A HEAD request's answer has no body.
  const responseBody = input.method === 'HEAD' ? '' : response.body.toString('utf8');
  return { record: current, responseBody, responseHeaders: allHeaders };
}

/** Queues a recorded execution to run in the background on `deploymentId` (async http, cron, events). */
export function runInBackground(
  deps: FunctionsDeps,
  record: ExecutionRecord,
  input: ExecutionInput,
  deploymentId: string,
): void {
  inBackground(deps, `execution ${record.$id}`, () => runExecution(deps, record, input, deploymentId));
}

async function invoke(
  deps: FunctionsDeps,
  execution: ExecutionRecord,
  input: ExecutionInput,
): Promise<RuntimeResponse> {
  const fn = deps.store.functions.get(ROOT, execution.functionId);
  if (!fn) return failure('Function was deleted before the execution ran.');
  const deployment = deps.store.deployments.get(fn.$id, execution.deploymentId);
  if (deployment?.status !== 'ready') return failure('Deployment not found or not ready.');
  const key = deps.ctx.keys.issueDynamicKey({
    functionId: fn.$id,
    executionId: execution.$id,
    scopes: fn.scopes,
    ttlSeconds: fn.timeout + 60,
  });
  const headers: Record<string, string> = { host: 'localhost:3000' };
  for (const [name, value] of Object.entries(input.headers)) headers[name.toLowerCase()] = value;
  if (input.trigger === 'event') {
    headers['content-type'] = 'application/json';
    headers['user-agent'] = `Appwrite/${SERVER_VERSION}`;
  }
  const added = executorHeaders(deps.runtimeSecret, input.body, headers['content-type']);
  // The caller's own accept header is kept; the rest is the executor's.
  if (headers.accept !== undefined) delete added.accept;
  Object.assign(headers, added);
  Object.assign(headers, {
    'x-appwrite-trigger': input.trigger,
    'x-appwrite-event': input.event ?? '',
    'x-appwrite-execution-id': execution.$id,
    'x-appwrite-key': key,
    'x-appwrite-user-id': input.userId ?? '',
    // Appwrite derives it from the caller's session (900 s); appwrite-local signs a fresh 900 s user JWT.
    'x-appwrite-user-jwt': input.userId
      ? deps.ctx.keys.issueUserJwt({ userId: input.userId, sessionId: '', durationSeconds: 900 })
      : '',
    'x-appwrite-client-ip': input.trigger === 'http' ? CLIENT_IP : '',
    'x-appwrite-country-code': '',
    'x-appwrite-continent-code': '',
    'x-appwrite-continent-eu': 'false',
  });
  const target = {
    functionId: fn.$id,
    deploymentId: deployment.$id,
    codeDir: buildDir(deps, deployment.$id),
    entrypoint: deployment.entrypoint,
    env: runtimeEnv(deps, fn, deployment.$id),
  };
  return deps.pool.run(target, {
    method: input.method,
    url: input.path,
    headers,
    body: input.body,
    timeoutSeconds: fn.timeout,
  });
}

/**
 * Headers the open-runtimes executor's HTTP client adds on its way to the runtime (§F5): basic auth with the
 * runtime secret, `accept: *\/*`, the body length, and libcurl's form content type for a non-empty body the
 * caller gave no content type.
 */
export function executorHeaders(
  secret: string,
  body: Buffer,
  contentType: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`opr:${secret}`).toString('base64')}`,
    accept: '*/*',
    'content-length': String(body.length),
  };
  if (body.length > 0 && contentType === undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  return headers;
}

function failure(errors: string): RuntimeResponse {
  return { statusCode: 500, headers: {}, body: Buffer.alloc(0), logs: '', errors };
}

/** The input stored with a queued or scheduled execution. */
export function pendingInput(record: ExecutionRecord): ExecutionInput {
  return {
    trigger: record.trigger,
    method: record.requestMethod,
    path: record.requestPath,
    headers: record.pendingHeaders ?? {},
    body: Buffer.from(record.pendingBody ?? '', 'base64'),
    event: record.event || undefined,
    userId: record.pendingUserId,
  };
}
