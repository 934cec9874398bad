/**
 * Shared setup of the functions tests (helper L2): a local server, an SDK client on it, and fixture deploys.
 * Fixture functions live in test/fixtures/functions/<name>.
 */
import { join } from 'node:path';
import { deployFunction, type FunctionsModule, startAppwriteLocal, type TraceEntry } from 'appwrite-local';
import { Client, Functions, type Models } from 'node-appwrite';
import { checkAgainstSpec, validateSchema } from './appwrite-local-openapi.ts';

/** Directory of a fixture function. */
export function fixtureDir(name: string): string {
  return join(import.meta.dirname, 'fixtures', 'functions', name);
}

/** A running server with an SDK client. */
export interface TestServer {
  endpoint: string;
  projectId: string;
  apiKey: string;
  client: Client;
  functions: Functions;
  module: FunctionsModule;
  /** Every request the server answered (for OpenAPI checks). */
  traced: TraceEntry[];
  stop(): Promise<void>;
}

/** Starts a server (in memory unless `dataDir`) whose scheduler only ticks when the test says so. */
export async function startServer(
  options: { syncTimeoutSeconds?: number; config?: string; dataDir?: string } = {},
): Promise<TestServer> {
  const traced: TraceEntry[] = [];
  const s = await startAppwriteLocal({
    trace: (entry) => traced.push(entry),
    port: 0,
    memory: options.dataDir === undefined,
    dataDir: options.dataDir,
    projectId: 'test',
    apiKey: 'test-key',
    config: options.config,
    functions: { autoTick: false, syncTimeoutSeconds: options.syncTimeoutSeconds },
  });
  const client = new Client().setEndpoint(s.endpoint).setProject(s.projectId).setKey(s.apiKey);
  return {
    endpoint: s.endpoint,
    projectId: s.projectId,
    apiKey: s.apiKey,
    client,
    functions: new Functions(client),
    module: s.functions,
    traced,
    stop: s.stop,
  };
}

/** Settings a test may override when creating a function. */
export interface FunctionOverrides {
  runtime?: string;
  execute?: string[];
  events?: string[];
  schedule?: string;
  timeout?: number;
  enabled?: boolean;
  logging?: boolean;
  entrypoint?: string;
  commands?: string;
  scopes?: string[];
}

/** Creates a function (node-22, entrypoint main.js, timeout 5 s unless overridden). */
export function createFunction(
  s: TestServer,
  functionId: string,
  overrides: FunctionOverrides = {},
): Promise<Models.Function> {
  const { runtime, scopes, ...rest } = overrides;
  return s.functions.create({
    functionId,
    name: functionId,
    // The SDK types these as enums; tests pass plain strings (and invalid ones on purpose).
    runtime: (runtime ?? 'node-22') as never,
    scopes: scopes as never,
    entrypoint: 'main.js',
    timeout: 5,
    ...rest,
  });
}

/** Deploys a fixture directory to a function through the SDK and waits until it is ready (and active). */
export function deployFixture(
  s: TestServer,
  functionId: string,
  fixture: string,
  options: { activate?: boolean; entrypoint?: string; commands?: string } = {},
): Promise<Models.Deployment> {
  return deployFunction({
    endpoint: s.endpoint,
    projectId: s.projectId,
    apiKey: s.apiKey,
    functionId,
    dir: fixtureDir(fixture),
    ...options,
  });
}

/**
 * Checks every traced functions response against the 1.8.x OpenAPI schemas. Two spec quirks are handled here:
 * createExecution's 201 body is declared as multipart/form-data (so it is validated against `execution`
 * directly), and async/scheduled createExecution answer 202, which the spec does not list.
 */
export function specProblems(s: TestServer): string[] {
  const isCreateExecution = (e: TraceEntry) =>
    e.method === 'POST' && /^\/functions\/[^/]+\/executions$/.test(e.path);
  const functions = s.traced.filter((e) => e.path.startsWith('/functions') && e.status < 400);
  const report = checkAgainstSpec(functions.filter((e) => !isCreateExecution(e)));
  const executions = functions.filter(isCreateExecution);
  const problems = [
    ...report.problems,
    ...executions.flatMap((e) =>
      validateSchema(e.json, { $ref: '#/components/schemas/execution' }, 'createExecution'),
    ),
  ];
  if (report.checked === 0) problems.push('no functions response was checked');
  return problems;
}

/** Polls an execution until it is completed or failed. */
export async function waitForExecution(
  s: TestServer,
  functionId: string,
  executionId: string,
): Promise<Models.Execution> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const e = await s.functions.getExecution({ functionId, executionId });
    if (e.status === 'completed' || e.status === 'failed') return e;
    if (Date.now() > deadline) throw new Error(`execution ${executionId} still ${e.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls a deployment until it leaves waiting/processing/building. */
export async function waitForBuild(
  s: TestServer,
  functionId: string,
  deploymentId: string,
): Promise<Models.Deployment> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const d = await s.functions.getDeployment({ functionId, deploymentId });
    if (d.status === 'ready' || d.status === 'failed' || d.status === 'canceled') return d;
    if (Date.now() > deadline) throw new Error(`deployment ${deploymentId} still ${d.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
