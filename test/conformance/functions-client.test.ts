/**
 * Conformance: Appwrite 1.9.5 `tests/e2e/Services/Functions/FunctionsCustomClientTest.php` (SideClient: a
 * signed-in user of a custom project), translated to node-appwrite against appwrite-local. Upstream signs the
 * user in with an account session; appwrite-local serves no sessions, so the same user calls with a JWT from
 * `users.createJWT` (`X-Appwrite-JWT`), which Appwrite resolves to the same user and roles. Setup steps the
 * PHP test makes with the API key (setupFunction, setupDeployment) use the API key here too.
 * FunctionsConsoleClientTest.php (the console project) is listed as skipped at the end.
 */
import { join } from 'node:path';
import { packDirectory } from 'appwrite-local';
import { Client, Functions, ID, type Models, Role, Users } from 'node-appwrite';
import { InputFile } from 'node-appwrite/file';
import { afterAll, beforeAll, expect } from 'vitest';
import { AS_GUEST, failure, lastStatus, rawCall } from '../appwrite-local-functions-conformance.ts';
import { startServer, type TestServer } from '../appwrite-local-functions-helpers.ts';
import { installAssertionCounter, skipUpstream, upstream } from './harness.ts';

installAssertionCounter();

const F = 'Functions/FunctionsCustomClientTest.php';
let s: TestServer;
/** API-key service (the PHP tests' x-appwrite-key calls). */
let admin: Functions;
/** The signed-in user's service (getHeaders() of SideClient). */
let asUser: Functions;
let userClient: Client;
let userId: string;
const status = () => lastStatus(s.traced);

beforeAll(async () => {
  s = await startServer();
  admin = s.functions;
  const users = new Users(s.client);
  userId = ID.unique();
  await users.create({ userId, email: `${userId}@localhost.test`, password: 'password', name: 'User' });
  const { jwt } = await users.createJWT({ userId, duration: 3600 });
  userClient = new Client().setEndpoint(s.endpoint).setProject(s.projectId).setJWT(jwt);
  asUser = new Functions(userClient);
});

afterAll(async () => {
  await s.stop();
});

async function packageFunction(name: string): Promise<InputFile> {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'conformance', 'functions', name);
  return InputFile.fromBuffer(new Uint8Array(await packDirectory(dir)), 'code.tar.gz');
}

async function eventually(probe: () => Promise<boolean>, timeoutMs = 50_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Params {
  functionId: string;
  name: string;
  execute?: string[];
  entrypoint?: string;
  events?: string[];
  schedule?: string;
  timeout?: number;
}
const create = (service: Functions, params: Params) =>
  service.create({ ...params, runtime: 'node-22' as never });

/** FunctionsBase.php:53 setupFunction, with the API key (one assertion). */
async function setupFunction(params: Params): Promise<string> {
  const fn = await create(admin, params);
  expect(status()).toBe(201);
  return fn.$id;
}

/** FunctionsBase.php:68 setupDeployment, with the API key (three assertions when activating). */
async function setupDeployment(functionId: string, code: string): Promise<string> {
  const deployment = await admin.createDeployment({
    functionId,
    code: await packageFunction(code),
    activate: true,
  });
  expect(status()).toBe(202);
  await eventually(
    async () => (await admin.getDeployment({ functionId, deploymentId: deployment.$id })).status === 'ready',
  );
  expect((await admin.getDeployment({ functionId, deploymentId: deployment.$id })).status).toBe('ready');
  await eventually(async () => (await admin.get({ functionId })).deploymentId === deployment.$id);
  expect((await admin.get({ functionId })).deploymentId).toBe(deployment.$id);
  return deployment.$id;
}

/** FunctionsBase.php:128 cleanupFunction (no assertion when the first delete answers 204). */
/**
 * The 13 upstream assertions on the `basic` fixture's output for an http execution by the user with body
 * `foobar` (repeated verbatim in testCreateCustomExecution and testSynchronousExecution).
 */
function expectBasicEnv(
  output: Record<string, unknown>,
  functionId: string,
  name: string,
  deploymentId: string,
): void {
  expect(output.APPWRITE_FUNCTION_ID).toBe(functionId);
  expect(output.APPWRITE_FUNCTION_NAME).toBe(name);
  expect(output.APPWRITE_FUNCTION_DEPLOYMENT).toBe(deploymentId);
  expect(output.APPWRITE_FUNCTION_TRIGGER).toBe('http');
  expect(output.APPWRITE_FUNCTION_RUNTIME_NAME).toBe('Node.js');
  expect(output.APPWRITE_FUNCTION_RUNTIME_VERSION).toBe('22');
  expect(output.APPWRITE_VERSION).toBe('1.9.5');
  expect(output.APPWRITE_REGION).toBe('default');
  expect(output.APPWRITE_FUNCTION_EVENT).toBe('');
  expect(output.APPWRITE_FUNCTION_DATA).toBe('foobar');
  expect(output.APPWRITE_FUNCTION_USER_ID).toBe(userId);
  expect(output.APPWRITE_FUNCTION_JWT).toBeTruthy();
  expect(output.APPWRITE_FUNCTION_PROJECT_ID).toBe(s.projectId);
}

async function cleanupFunction(functionId: string): Promise<void> {
  await admin.delete({ functionId });
}

const userFunction = (name = 'Test'): Params => ({
  functionId: ID.unique(),
  name,
  execute: [Role.user(userId)],
  entrypoint: 'index.js',
  events: ['users.*.create', 'users.*.delete'],
  timeout: 10,
});

upstream(`${F}:22`, 'testCreateFunction', async () => {
  const denied = await failure(
    create(asUser, {
      functionId: ID.unique(),
      name: 'Test',
      events: ['users.*.create', 'users.*.delete'],
      schedule: '0 0 1 1 *',
      timeout: 10,
    }),
  );
  expect(denied.code).toBe(401);

  const functionId = await setupFunction(userFunction());
  const duplicate = await failure(create(admin, { ...userFunction(), functionId }));
  expect(duplicate.code).toBe(409);
});

upstream(`${F}:75`, 'testCreateExecution', async () => {
  const functionId = await setupFunction(userFunction());
  await setupDeployment(functionId, 'basic');

  const guest = await failure(
    rawCall(s.client, 'post', `/functions/${functionId}/executions`, { async: true }, AS_GUEST),
  );
  expect(guest.code).toBe(401);

  await asUser.createExecution({ functionId, async: true });
  expect(status()).toBe(202);
  await s.module.settle();
  await cleanupFunction(functionId);
});

upstream(`${F}:115`, 'testCreateHeadExecution', async () => {
  const functionId = await setupFunction(userFunction());
  await setupDeployment(functionId, 'basic');

  const guest = await failure(
    rawCall(s.client, 'post', `/functions/${functionId}/executions`, { async: true }, AS_GUEST),
  );
  expect(guest.code).toBe(401);

  // HEAD on the executions path: Appwrite answers it as the GET route, without a body.
  const url = new URL(`${s.endpoint}/functions/${functionId}/executions?async=true`);
  const head = await fetch(url, {
    method: 'HEAD',
    headers: {
      'x-appwrite-project': s.projectId,
      'x-appwrite-jwt': (userClient.headers as Record<string, string>)['X-Appwrite-JWT']!,
    },
  });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe('');
  await cleanupFunction(functionId);
});

upstream(`${F}:159`, 'testCreateCustomExecution', async () => {
  const functionId = await setupFunction({
    functionId: ID.unique(),
    name: 'Test',
    execute: [Role.any()],
    entrypoint: 'index.js',
    timeout: 10,
  });
  const deploymentId = await setupDeployment(functionId, 'basic');

  let execution: Models.Execution = await asUser.createExecution({
    functionId,
    body: 'foobar',
    async: false,
  });
  const output = JSON.parse(execution.responseBody);
  expect(status()).toBe(201);
  expect(execution.responseHeaders.length).toBeGreaterThan(0);
  const idHeader = execution.responseHeaders.find((h) => h.name === 'x-appwrite-execution-id')?.value;
  expect(idHeader).toBeTruthy();
  expect(idHeader).toBe(execution.$id);
  expect(execution.responseStatusCode).toBe(200);
  expect(execution.duration).toBeGreaterThan(0);
  expect(execution.status).toBe('completed');
  expectBasicEnv(output, functionId, 'Test', deploymentId);
  expect(output.APPWRITE_FUNCTION_EXECUTION_ID).toBeTruthy();
  expect(output.APPWRITE_FUNCTION_EXECUTION_ID).toBe(execution.$id);
  expect(output.APPWRITE_FUNCTION_CLIENT_IP).toBeTruthy();

  execution = await asUser.createExecution({ functionId, body: 'foobar', async: true });
  expect(status()).toBe(202);
  const executionId = execution.$id;
  await eventually(
    async () => (await asUser.getExecution({ functionId, executionId })).status === 'completed',
    10_000,
  );
  const done = await asUser.getExecution({ functionId, executionId });
  expect(done.status).toBe('completed');
  expect(done.responseStatusCode).toBe(200);
});

upstream(`${F}:236`, 'testCreateCustomExecutionGuest', async () => {
  const functionId = await setupFunction({
    functionId: ID.unique(),
    name: 'Test guest execution',
    execute: [Role.any()],
    entrypoint: 'index.js',
    timeout: 10,
  });
  await setupDeployment(functionId, 'basic');
  // As upstream: a guest, with a stray `data` param (ignored).
  await rawCall(
    s.client,
    'post',
    `/functions/${functionId}/executions`,
    { data: 'foobar', async: true },
    AS_GUEST,
  );
  expect(status()).toBe(202);
  await s.module.settle();
});

upstream(`${F}:269`, 'testCreateExecutionNoDeployment', async () => {
  const functionId = await setupFunction({
    functionId: ID.unique(),
    name: 'Test',
    execute: [],
    entrypoint: 'index.js',
    timeout: 10,
  });
  expect((await failure(asUser.createExecution({ functionId, async: true }))).code).toBe(404);
});

upstream(`${F}:286`, 'testSynchronousExecution', async () => {
  const functionId = await setupFunction({
    functionId: ID.unique(),
    name: 'Test synchronous execution',
    execute: [Role.any()],
    entrypoint: 'index.js',
    timeout: 10,
  });
  const deploymentId = await setupDeployment(functionId, 'basic');
  const execution = await asUser.createExecution({ functionId, body: 'foobar' });
  const output = JSON.parse(execution.responseBody);
  expect(status()).toBe(201);
  expect(execution.status).toBe('completed');
  expect(execution.responseStatusCode).toBe(200);
  expectBasicEnv(output, functionId, 'Test synchronous execution', deploymentId);
  expect(execution.logs).toBe('');
  expect(execution.errors).toBe('');
  await cleanupFunction(functionId);
});

upstream(`${F}:332`, 'testNonOverrideOfHeaders', async () => {
  const functionId = await setupFunction({
    functionId: ID.unique(),
    name: 'Test',
    execute: [Role.any()],
    entrypoint: 'index.js',
  });
  await setupDeployment(functionId, 'basic');
  // Upstream sends the x-appwrite-* names as body params of createExecution; they must not reach the function.
  const execution = (await rawCall(userClient, 'post', `/functions/${functionId}/executions`, {
    'x-appwrite-event': 'OVERRIDDEN',
    'x-appwrite-trigger': 'OVERRIDDEN',
    'x-appwrite-user-id': 'OVERRIDDEN',
    'x-appwrite-user-jwt': 'OVERRIDDEN',
  })) as unknown as Models.Execution;
  const output = JSON.parse(execution.responseBody);
  expect(output.APPWRITE_FUNCTION_JWT).not.toBe('OVERRIDDEN');
  expect(output.APPWRITE_FUNCTION_EVENT).not.toBe('OVERRIDDEN');
  expect(output.APPWRITE_FUNCTION_TRIGGER).not.toBe('OVERRIDDEN');
  expect(output.APPWRITE_FUNCTION_USER_ID).not.toBe('OVERRIDDEN');
  await cleanupFunction(functionId);
});

skipUpstream(`${F}:367`, 'testListTemplates', 'function templates are not served');
skipUpstream(`${F}:493`, 'testGetTemplate', 'function templates are not served');
skipUpstream(
  `${F}:522`,
  'testEventTriggerWithClientAuth',
  'creates documents through the legacy Documents API (collections/documents) as a user; appwrite-local serves the legacy schema routes only, not documents',
);

const CONSOLE = 'the console project (root sessions, console-only routes) is not served';
for (const [line, title] of [
  [108, 'testCreateFunction'],
  [137, 'testFunctionUsage'],
  [920, 'testFunctionDownload'],
  [960, 'testFunctionDeploymentRetentionWithMaintenance'],
] as const) {
  skipUpstream(`Functions/FunctionsConsoleClientTest.php:${line}`, title, CONSOLE);
}
