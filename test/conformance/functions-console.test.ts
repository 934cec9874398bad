/**
 * Conformance: the variables cases of Appwrite 1.9.5 `tests/e2e/Services/Functions/FunctionsConsoleClientTest.php`
 * (SideConsole: a console session managing a custom project), translated to node-appwrite against appwrite-local.
 * The console session is replaced by the project API key: the variables routes are the same routes, and
 * appwrite-local serves no console. Calls whose parameters node-appwrite's typed methods cannot send as the PHP
 * test does (an update without `key`, without anything) go through the SDK's transport (`rawCall`). The other
 * cases of this file (console-only routes) are listed as skipped in functions-client.test.ts.
 */
import { join } from 'node:path';
import { packDirectory } from 'appwrite-local';
import { type Functions, ID, type Models, Query, Role } from 'node-appwrite';
import { InputFile } from 'node-appwrite/file';
import { afterAll, beforeAll, expect } from 'vitest';
import { waitFor } from '../../scripts/scenario-support.ts';
import { failure, lastStatus, rawCall } from '../appwrite-local-functions-conformance.ts';
import { startServer, type TestServer } from '../appwrite-local-functions-helpers.ts';
import { installAssertionCounter, upstream } from './harness.ts';

installAssertionCounter();

const F = 'Functions/FunctionsConsoleClientTest.php';
let s: TestServer;
let functions: Functions;
const status = () => lastStatus(s.traced);
/** The user the PHP test's `execute` lists name (any id does: nobody executes these functions). */
const USER = 'console-user';

beforeAll(async () => {
  s = await startServer();
  functions = s.functions;
});

afterAll(async () => {
  await s.stop();
});

const createFunction = async (name: string, extra: { logging?: boolean; execute?: string[] } = {}) => {
  const fn = await functions.create({
    functionId: ID.unique(),
    name,
    execute: extra.execute ?? [Role.user(USER)],
    runtime: 'node-22' as never,
    entrypoint: 'index.js',
    timeout: 10,
    ...(extra.logging === undefined ? {} : { logging: extra.logging }),
  });
  expect(status()).toBe(201);
  return fn;
};

const createVariable = (
  functionId: string,
  key: string,
  value: string,
  secret?: boolean,
  variableId = ID.unique(),
) =>
  functions.createVariable({
    functionId,
    variableId,
    key,
    value,
    ...(secret === undefined ? {} : { secret }),
  });

const updateVariable = (functionId: string, variableId: string, params: Record<string, unknown>) =>
  rawCall(
    s.client,
    'put',
    `/functions/${functionId}/variables/${variableId}`,
    params,
  ) as unknown as Promise<Models.Variable>;

let testVariables: { functionId: string; variableId: string; secretVariableId: string } | undefined;

/** FunctionsConsoleClientTest.php:30-104 setupTestFunction + setupTestVariables (cached; three assertions). */
async function setupTestVariables() {
  if (testVariables) return testVariables;
  const fn = await functions.create({
    functionId: ID.unique(),
    name: 'Test',
    execute: [Role.user(USER)],
    runtime: 'node-22' as never,
    entrypoint: 'index.js',
    events: ['users.*.create', 'users.*.delete'],
    schedule: '0 0 1 1 *',
    timeout: 10,
  });
  expect(status()).toBe(201);
  const variable = await createVariable(fn.$id, 'APP_TEST', 'TESTINGVALUE', false);
  expect(status()).toBe(201);
  const secret = await createVariable(fn.$id, 'APP_TEST_1', 'TESTINGVALUE_1', true);
  expect(status()).toBe(201);
  testVariables = { functionId: fn.$id, variableId: variable.$id, secretVariableId: secret.$id };
  return testVariables;
}

upstream(`${F}:184`, 'testCreateFunctionVariable', async () => {
  const { $id: functionId } = await createFunction('Test Variable Creation');
  await createVariable(functionId, 'APP_TEST', 'TESTINGVALUE', false);
  expect(status()).toBe(201);

  const secret = await createVariable(functionId, 'APP_TEST_1', 'TESTINGVALUE_1', true);
  expect(status()).toBe(201);
  expect(secret.key).toBe('APP_TEST_1');
  expect(secret.value).toBe('');
  expect(secret.secret).toBe(true);

  expect((await failure(createVariable(functionId, 'APP_TEST', 'ANOTHERTESTINGVALUE', false))).code).toBe(
    409,
  );
  expect(
    (await failure(createVariable(functionId, 'INVALID_ID_KEY', 'value', undefined, '!invalid-id!'))).code,
  ).toBe(400);

  const duplicateId = ID.unique();
  await createVariable(functionId, 'DUP_ID_KEY_1', 'value1', undefined, duplicateId);
  expect(status()).toBe(201);
  expect(
    (await failure(createVariable(functionId, 'DUP_ID_KEY_2', 'value2', undefined, duplicateId))).code,
  ).toBe(409);

  expect((await failure(createVariable(functionId, 'A'.repeat(256), 'TESTINGVALUE'))).code).toBe(400);
  expect((await failure(createVariable(functionId, 'LONGKEY', '#'.repeat(8193)))).code).toBe(400);
});

upstream(`${F}:307`, 'testListVariables', async () => {
  const data = await setupTestVariables();
  const response = await functions.listVariables({ functionId: data.functionId });
  expect(status()).toBe(200);
  expect(response.variables).toHaveLength(2);
  expect(response.total).toBe(2);
  expect(response.variables[0]?.key).toBe('APP_TEST');
  expect(response.variables[0]?.value).toBe('TESTINGVALUE');
  expect(response.variables[1]?.key).toBe('APP_TEST_1');
  expect(response.variables[1]?.value).toBe('');
});

upstream(`${F}:333`, 'testListVariablesWithLimit', async () => {
  const { $id: functionId } = await createFunction('Test List Variables With Limit');
  await createVariable(functionId, 'LIMIT_KEY_1', 'limit-value-1');
  expect(status()).toBe(201);
  await createVariable(functionId, 'LIMIT_KEY_2', 'limit-value-2');
  expect(status()).toBe(201);
  const response = await functions.listVariables({ functionId, queries: [Query.limit(1)], total: true });
  expect(status()).toBe(200);
  expect(response.variables).toHaveLength(1);
  expect(response.total).toBeGreaterThanOrEqual(2);
  await functions.delete({ functionId });
});

upstream(`${F}:379`, 'testListVariablesWithoutTotal', async () => {
  const { $id: functionId } = await createFunction('Test List Variables Without Total');
  await createVariable(functionId, 'NO_TOTAL_KEY', 'no-total-value');
  expect(status()).toBe(201);
  const response = await functions.listVariables({ functionId, total: false });
  expect(status()).toBe(200);
  expect(response.total).toBe(0);
  expect(response.variables.length).toBeGreaterThanOrEqual(1);
  await functions.delete({ functionId });
});

upstream(`${F}:415`, 'testListVariablesCursorPagination', async () => {
  const { $id: functionId } = await createFunction('Test List Variables Cursor Pagination');
  await createVariable(functionId, 'CURSOR_KEY_1', 'cursor-value-1');
  expect(status()).toBe(201);
  await createVariable(functionId, 'CURSOR_KEY_2', 'cursor-value-2');
  expect(status()).toBe(201);
  const page1 = await functions.listVariables({ functionId, queries: [Query.limit(1)], total: true });
  expect(status()).toBe(200);
  expect(page1.variables).toHaveLength(1);
  const cursorId = page1.variables[0]!.$id;
  const page2 = await functions.listVariables({
    functionId,
    queries: [Query.limit(1), Query.cursorAfter(cursorId)],
    total: true,
  });
  expect(status()).toBe(200);
  expect(page2.variables).toHaveLength(1);
  expect(page2.variables[0]?.$id).not.toBe(cursorId);
  await functions.delete({ functionId });
});

upstream(`${F}:477`, 'testGetVariable', async () => {
  const data = await setupTestVariables();
  let response = await functions.getVariable({ functionId: data.functionId, variableId: data.variableId });
  expect(status()).toBe(200);
  expect(response.key).toBe('APP_TEST');
  expect(response.value).toBe('TESTINGVALUE');
  response = await functions.getVariable({ functionId: data.functionId, variableId: data.secretVariableId });
  expect(status()).toBe(200);
  expect(response.key).toBe('APP_TEST_1');
  expect(response.value).toBe('');
  const missing = await failure(
    functions.getVariable({ functionId: data.functionId, variableId: 'NON_EXISTING_VARIABLE' }),
  );
  expect(missing.code).toBe(404);
});

upstream(`${F}:515`, 'testUpdateVariable', async () => {
  const { $id: functionId } = await createFunction('Test Update Variable');
  const variable = await createVariable(functionId, 'APP_TEST', 'TESTINGVALUE', false);
  expect(status()).toBe(201);
  const secret = await createVariable(functionId, 'APP_TEST_1', 'TESTINGVALUE_1', true);
  expect(status()).toBe(201);
  const get = (variableId: string) => functions.getVariable({ functionId, variableId });

  let response = await updateVariable(functionId, variable.$id, {
    key: 'APP_TEST_UPDATE',
    value: 'TESTINGVALUEUPDATED',
  });
  expect(status()).toBe(200);
  expect(response.key).toBe('APP_TEST_UPDATE');
  expect(response.value).toBe('TESTINGVALUEUPDATED');
  let read = await get(variable.$id);
  expect(status()).toBe(200);
  expect(read.key).toBe('APP_TEST_UPDATE');
  expect(read.value).toBe('TESTINGVALUEUPDATED');

  response = await updateVariable(functionId, secret.$id, {
    key: 'APP_TEST_UPDATE_1',
    value: 'TESTINGVALUEUPDATED_1',
  });
  expect(status()).toBe(200);
  expect(response.key).toBe('APP_TEST_UPDATE_1');
  expect(response.value).toBe('');
  read = await get(secret.$id);
  expect(status()).toBe(200);
  expect(read.key).toBe('APP_TEST_UPDATE_1');
  expect(read.value).toBe('');

  response = await updateVariable(functionId, variable.$id, { key: 'APP_TEST_UPDATE_2' });
  expect(status()).toBe(200);
  expect(response.key).toBe('APP_TEST_UPDATE_2');
  expect(response.value).toBe('TESTINGVALUEUPDATED');
  read = await get(variable.$id);
  expect(status()).toBe(200);
  expect(read.key).toBe('APP_TEST_UPDATE_2');
  expect(read.value).toBe('TESTINGVALUEUPDATED');

  response = await updateVariable(functionId, variable.$id, { key: 'APP_TEST_UPDATE_2', secret: true });
  expect(status()).toBe(200);
  expect(response.key).toBe('APP_TEST_UPDATE_2');
  expect(response.value).toBe('');
  expect(response.secret).toBe(true);
  read = await get(variable.$id);
  expect(status()).toBe(200);
  expect(read.key).toBe('APP_TEST_UPDATE_2');
  expect(read.value).toBe('');
  expect(read.secret).toBe(true);

  // A secret variable cannot become non-secret again.
  expect(
    (await failure(updateVariable(functionId, variable.$id, { key: 'APP_TEST_UPDATE', secret: false }))).code,
  ).toBe(400);
  expect((await failure(updateVariable(functionId, variable.$id, {}))).code).toBe(400);
  await updateVariable(functionId, variable.$id, { value: 'TESTINGVALUEUPDATED_2' });
  expect(status()).toBe(200);
  expect(
    (
      await failure(
        updateVariable(functionId, variable.$id, { key: 'A'.repeat(256), value: 'TESTINGVALUEUPDATED' }),
      )
    ).code,
  ).toBe(400);
  expect(
    (
      await failure(
        updateVariable(functionId, variable.$id, { key: 'APP_TEST_UPDATE', value: '#'.repeat(8193) }),
      )
    ).code,
  ).toBe(400);
});

upstream(`${F}:694`, 'testUpdateVariableKey', async () => {
  const { $id: functionId } = await createFunction('Test Update Variable Key');
  const variable = await createVariable(functionId, 'KEY_BEFORE', 'unchanged-value', false);
  expect(status()).toBe(201);
  const response = await updateVariable(functionId, variable.$id, { key: 'KEY_AFTER' });
  expect(status()).toBe(200);
  expect(response.key).toBe('KEY_AFTER');
  expect(response.value).toBe('unchanged-value');
  await functions.delete({ functionId });
});

upstream(`${F}:732`, 'testUpdateVariableValueOnly', async () => {
  const { $id: functionId } = await createFunction('Test Update Variable Value');
  const variable = await createVariable(functionId, 'UNCHANGED_KEY', 'value-before', false);
  expect(status()).toBe(201);
  const response = await updateVariable(functionId, variable.$id, { value: 'value-after' });
  expect(status()).toBe(200);
  expect(response.key).toBe('UNCHANGED_KEY');
  expect(response.value).toBe('value-after');
  await functions.delete({ functionId });
});

upstream(`${F}:770`, 'testUpdateVariableNotFound', async () => {
  const { $id: functionId } = await createFunction('Test Update Variable Not Found');
  const missing = await failure(
    updateVariable(functionId, 'non-existent-id', { key: 'NEW_KEY', value: 'new-value' }),
  );
  expect(missing.code).toBe(404);
  expect(missing.type).toBe('variable_not_found');
  await functions.delete({ functionId });
});

upstream(`${F}:798`, 'testDeleteVariable', async () => {
  const { $id: functionId } = await createFunction('Test Delete Variable');
  const variable = await createVariable(functionId, 'APP_TEST', 'TESTINGVALUE', false);
  expect(status()).toBe(201);
  const secret = await createVariable(functionId, 'APP_TEST_1', 'TESTINGVALUE_1', true);
  expect(status()).toBe(201);
  await functions.deleteVariable({ functionId, variableId: variable.$id });
  expect(status()).toBe(204);
  await functions.deleteVariable({ functionId, variableId: secret.$id });
  expect(status()).toBe(204);
  const list = await functions.listVariables({ functionId });
  expect(status()).toBe(200);
  expect(list.variables).toHaveLength(0);
  expect(list.total).toBe(0);
  expect(
    (await failure(functions.deleteVariable({ functionId, variableId: 'NON_EXISTING_VARIABLE' }))).code,
  ).toBe(404);
});

upstream(`${F}:870`, 'testVariableE2E', async () => {
  const fn = await createFunction('Variable E2E Test', { logging: false, execute: ['any'] });
  expect(fn.logging).toBe(false);
  expect(fn.$id).not.toBe('');
  const functionId = fn.$id;
  const variable = await createVariable(functionId, 'CUSTOM_VARIABLE', 'a_secret_value', true);
  expect(status()).toBe(201);
  expect(variable.$id).not.toBe('');
  expect(variable.key).toBe('CUSTOM_VARIABLE');
  expect(variable.value).toBe('');
  expect(variable.secret).toBe(true);

  // FunctionsBase.php:68 setupDeployment (three assertions when activating), then the test's own.
  const dir = join(import.meta.dirname, '..', 'fixtures', 'conformance', 'functions', 'basic');
  const code = InputFile.fromBuffer(new Uint8Array(await packDirectory(dir)), 'code.tar.gz');
  const deployment = await functions.createDeployment({
    functionId,
    code,
    activate: true,
    entrypoint: 'index.js',
  });
  expect(status()).toBe(202);
  await waitFor(
    `deployment ${deployment.$id} to finish building`,
    async () => {
      const d = await functions.getDeployment({ functionId, deploymentId: deployment.$id });
      return d.status === 'ready' || d.status === 'failed' ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 25 },
  );
  expect((await functions.getDeployment({ functionId, deploymentId: deployment.$id })).status).toBe('ready');
  expect((await functions.get({ functionId })).deploymentId).toBe(deployment.$id);
  expect(deployment.$id).not.toBe('');

  const execution = await functions.createExecution({ functionId });
  expect(status()).toBe(201);
  expect(execution.logs).toBe('');
  expect(execution.errors).toBe('');
  expect(JSON.parse(execution.responseBody).CUSTOM_VARIABLE).toBe('a_secret_value');
  await functions.delete({ functionId });
});
