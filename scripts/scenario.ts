/**
 * The scripted scenario `npm start` runs after deploying: a list of steps that show each service working
 * against the local server through the real SDK. Services append their steps: write them in
 * `scripts/scenario-<service>.ts` as `export const <service>Steps: ScenarioStep[]`, then add one import line and
 * one spread line to `scenarioSteps` below. Steps run in order and share `ctx.state`; a failing step is
 * reported and the run goes on (steps that need its state then fail too, with their own message).
 */
import { randomBytes } from 'node:crypto';
import { Client, Functions, type Models, Teams, Users } from 'node-appwrite';
import { breakerSteps } from './scenario-breaker.ts';
import { jobsSteps } from './scenario-jobs.ts';
import { quotaSteps } from './scenario-quota.ts';
import { rolloutSteps } from './scenario-rollout.ts';

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
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
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
const healthStep: ScenarioStep = {
  name: 'every deployed function answers GET /health',
  async run(ctx) {
    check(ctx.deployed.length > 0, 'no function was deployed');
    const lines: string[] = [];
    for (const id of ctx.deployed) {
      const r = await ctx.execute(id, { path: '/health' });
      check(
        r.statusCode === 200,
        `${id}: /health answered ${r.statusCode} ${JSON.stringify(r.body)} ${r.execution.errors}`,
      );
      lines.push(`${id} ${r.execution.duration.toFixed(3)}s`);
    }
    return lines.join(', ');
  },
};

/** An organization (team) with an owner and a member. */
const orgStep: ScenarioStep = {
  name: 'an organization (team) with two members',
  async run(ctx) {
    const users = new Users(ctx.client);
    const teams = new Teams(ctx.client);
    const orgId = `org-${ctx.runId}`;
    await teams.create({ teamId: orgId, name: `Acme ${ctx.runId}` });
    const alice = await users.create({
      userId: `alice-${ctx.runId}`,
      email: `alice-${ctx.runId}@example.com`,
      name: 'Alice',
    });
    const bob = await users.create({
      userId: `bob-${ctx.runId}`,
      email: `bob-${ctx.runId}@example.com`,
      name: 'Bob',
    });
    await teams.createMembership({ teamId: orgId, roles: ['owner'], userId: alice.$id });
    await teams.createMembership({ teamId: orgId, roles: ['member'], userId: bob.$id });
    const members = await teams.listMemberships({ teamId: orgId });
    check(members.total === 2, `expected 2 memberships, got ${members.total}`);
    Object.assign(ctx.state, { orgId, aliceId: alice.$id, bobId: bob.$id });
    return `${orgId}: ${alice.$id} (owner), ${bob.$id} (member)`;
  },
};

/** A recognition through create-recognition, idempotent on `requestId`, then listed. */
const recognitionStep: ScenarioStep = {
  name: 'alice (signed in, user JWT) recognizes bob through create-recognition',
  async run(ctx) {
    const { orgId, aliceId, bobId } = ctx.state;
    check(orgId && aliceId && bobId, 'needs the organization step');
    // Alice calls as herself: the giver is the JWT's user (x-appwrite-user-id), not a body field.
    const body = {
      orgId,
      receiverId: bobId,
      message: 'Thanks for the thorough review!',
      points: 10,
      tags: ['teamwork'],
      requestId: `scenario-${ctx.runId}`,
    };
    const request = { path: '/recognitions', method: 'POST', body } as const;
    const first = await ctx.executeAsUser(aliceId, 'create-recognition', request);
    check(first.statusCode === 201, `create answered ${first.statusCode}: ${JSON.stringify(first.body)}`);
    const id = idIn(first.body);
    check(id, `no $id in the create answer: ${JSON.stringify(first.body)}`);
    const again = await ctx.executeAsUser(aliceId, 'create-recognition', request);
    check(again.statusCode === 200, `a repeated requestId answered ${again.statusCode}, expected 200`);
    check(idIn(again.body) === id, 'a repeated requestId returned a different recognition');
    const list = await ctx.execute('create-recognition', { path: `/orgs/${orgId}/recognitions` });
    check(list.statusCode === 200, `list answered ${list.statusCode}: ${JSON.stringify(list.body)}`);
    check(JSON.stringify(list.body).includes(id), `the org's list lacks ${id}`);
    check(
      JSON.stringify(first.body).includes(`"giverId":"${aliceId}"`),
      `the giver is not the signed-in user: ${JSON.stringify(first.body)}`,
    );
    ctx.state.recognitionId = id;
    return `${id}: 201 as ${aliceId} (JWT), then 200 with the same row for the same requestId; listed in ${orgId}`;
  },
};

/** The first `$id` anywhere in a JSON answer (routes may wrap the row in an envelope). */
function idIn(body: unknown): string | undefined {
  return /"\$id":"([^"]+)"/.exec(JSON.stringify(body) ?? '')?.[1];
}

/** The steps `npm start` runs, in order. Append yours here (one import + one spread per service). */
export const scenarioSteps: ScenarioStep[] = [
  healthStep,
  orgStep,
  recognitionStep,
  ...breakerSteps,
  ...jobsSteps,
  ...quotaSteps,
  ...rolloutSteps,
];

/** Runs steps in order, printing one line per step; returns the counts. */
export async function runScenario(
  ctx: ScenarioContext,
  steps: readonly ScenarioStep[] = scenarioSteps,
  print: (line: string) => void = (line) => console.log(line),
): Promise<{ passed: number; failed: number }> {
  let passed = 0;
  let failed = 0;
  for (const step of steps) {
    const started = performance.now();
    try {
      const detail = await step.run(ctx);
      passed++;
      const ms = Math.round(performance.now() - started);
      print(`  ✓ ${step.name} (${ms} ms)${detail ? ` — ${detail}` : ''}`);
    } catch (e) {
      failed++;
      print(`  ✗ ${step.name}: ${(e as Error).message}`);
    }
  }
  return { passed, failed };
}
