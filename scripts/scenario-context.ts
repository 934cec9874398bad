/**
 * What every scenario step works with: the context (SDK clients, the run's state), the step shape and `check`.
 * Kept apart from scripts/scenario.ts, which lists the steps, so step files import this and never the list
 * (no import cycle).
 */
import { randomBytes } from 'node:crypto';
import { Client, Functions, type Models, Users } from 'node-appwrite';

/** What a step can use. */
export interface ScenarioContext {
  endpoint: string;
  projectId: string;
  /** A full-scope API key (generated per run). */
  apiKey: string;
  client: Client;
  /** Ids of the functions that were deployed and are active. */
  deployed: string[];
  /** A short random id of this run, to keep ids unique in a persistent data directory. */
  runId: string;
  /** Values steps hand to later steps (e.g. `orgId`). */
  state: Record<string, string>;
  /**
   * Runs a function synchronously as a server call (API key, no `x-appwrite-user-id`) and parses its JSON
   * answer.
   */
  execute(functionId: string, request: ExecuteRequest): Promise<ExecuteResult>;
  /**
   * The same as the signed-in user `userId`: a user JWT (`users.createJWT`, 900 s) on a client without the
   * key, so the function sees `x-appwrite-user-id` and Appwrite's `execute` permission applies.
   */
  executeAsUser(userId: string, functionId: string, request: ExecuteRequest): Promise<ExecuteResult>;
}

/** A request to a function. */
export interface ExecuteRequest {
  path: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Serialised as JSON with `content-type: application/json`. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A function's answer. */
export interface ExecuteResult {
  statusCode: number;
  /** The JSON body (or the raw text when it is not JSON). */
  body: unknown;
  execution: Models.Execution;
}

/** One step. `run` returns a short detail line for the report, and throws to fail. */
export interface ScenarioStep {
  name: string;
  run(ctx: ScenarioContext): Promise<string | undefined>;
}

/** Throws with `message` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Builds the context for a server. */
export function scenarioContext(options: {
  endpoint: string;
  projectId: string;
  apiKey: string;
  deployed: string[];
}): ScenarioContext {
  const client = new Client()
    .setEndpoint(options.endpoint)
    .setProject(options.projectId)
    .setKey(options.apiKey);
  const run = async (
    functions: Functions,
    functionId: string,
    request: ExecuteRequest,
  ): Promise<ExecuteResult> => {
    const execution = await functions.createExecution({
      functionId,
      xpath: request.path,
      method: (request.method ?? 'GET') as never,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      headers: {
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      },
    });
    let body: unknown = execution.responseBody;
    try {
      body = JSON.parse(execution.responseBody);
    } catch {
      // Not JSON: keep the text.
    }
    return { statusCode: execution.responseStatusCode, body, execution };
  };
  const asKey = new Functions(client);
  return {
    ...options,
    client,
    runId: randomBytes(3).toString('hex'),
    state: {},
    execute: (functionId, request) => run(asKey, functionId, request),
    async executeAsUser(userId, functionId, request) {
      const { jwt } = await new Users(client).createJWT({ userId });
      const asUser = new Client().setEndpoint(options.endpoint).setProject(options.projectId).setJWT(jwt);
      return run(new Functions(asUser), functionId, request);
    },
  };
}

/** Every deployed function answers `GET /health` with 200. */
