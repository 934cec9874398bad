/**
 * The local server's function runtime through the real node-appwrite SDK: the open-runtimes contract
 * (context, req fields, res descriptors), failures (throw, no return, timeout, blocked loop, crash), warm
 * reuse, the import() fallback for ES modules, the dynamic key, and concurrent executions on one process.
 */
import { AppwriteException, Query } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../scripts/scenario-support.ts';
import {
  createFunction,
  deployFixture,
  specProblems,
  startServer,
  type TestServer,
  waitForExecution,
} from './appwrite-local-functions-helpers.ts';

let s: TestServer;
let deploymentId: string;

beforeAll(async () => {
  s = await startServer({ syncTimeoutSeconds: 2 });
  await createFunction(s, 'basic', { timeout: 1, scopes: ['functions.read'] as never });
  deploymentId = (await deployFixture(s, 'basic', 'basic')).$id;
});

afterAll(async () => {
  await s.stop();
});

const run = (path: string, extra: { body?: string; method?: string; headers?: object } = {}) =>
  s.functions.createExecution({
    functionId: 'basic',
    xpath: path,
    ...(extra.body === undefined ? {} : { body: extra.body }),
    method: extra.method as never,
    ...(extra.headers === undefined ? {} : { headers: extra.headers }),
  });

describe('the request and response contract', () => {
  it('passes method, path, query, headers and body, and answers with the handler response', async () => {
    const e = await run('/echo?a=1&b=x%20y', {
      method: 'PUT',
      body: '{"n":1}',
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' },
    });
    expect(e.status).toBe('completed');
    expect(e.responseStatusCode).toBe(200);
    expect(e.deploymentId).toBe(deploymentId);
    expect(e.trigger).toBe('http');
    expect(e.requestMethod).toBe('PUT');
    expect(e.requestPath).toBe('/echo?a=1&b=x%20y');
    // The caller of a synchronous execution sees every response header and the execution id (Create.php:509-514).
    expect(e.responseHeaders).toEqual([
      { name: 'content-type', value: 'application/json; charset=utf-8' },
      { name: 'content-length', value: String(Buffer.byteLength(e.responseBody)) },
      { name: 'x-appwrite-execution-id', value: e.$id },
    ]);
    // The stored record keeps content-type and content-length only (FUNCTION_ALLOWLIST_HEADERS_RESPONSE).
    const stored = await s.functions.getExecution({ functionId: 'basic', executionId: e.$id });
    expect(stored.responseHeaders).toEqual([
      { name: 'content-type', value: 'application/json; charset=utf-8' },
      { name: 'content-length', value: String(Buffer.byteLength(e.responseBody)) },
    ]);
    const out = JSON.parse(e.responseBody);
    expect(out).toMatchObject({
      method: 'PUT',
      path: '/echo',
      query: { a: '1', b: 'x%20y' },
      queryString: 'a=1&b=x%20y',
      body: { n: 1 },
      bodyText: '{"n":1}',
      url: 'http://localhost:3000/echo?a=1&b=x%20y',
    });
    expect(out.headers).toMatchObject({
      'content-type': 'application/json',
      'x-custom': 'v',
      'x-appwrite-trigger': 'http',
      'x-appwrite-event': '',
      'x-appwrite-execution-id': e.$id,
      'x-appwrite-user-id': '',
    });
    expect(out.headers['x-appwrite-key']).toMatch(/^ephemeral_/);
    expect(out.env).toMatchObject({
      APPWRITE_FUNCTION_API_ENDPOINT: s.endpoint,
      APPWRITE_FUNCTION_ID: 'basic',
      APPWRITE_FUNCTION_NAME: 'basic',
      APPWRITE_FUNCTION_DEPLOYMENT: deploymentId,
      APPWRITE_FUNCTION_PROJECT_ID: s.projectId,
      APPWRITE_FUNCTION_RUNTIME_NAME: 'Node.js',
      APPWRITE_FUNCTION_RUNTIME_VERSION: '22',
      APPWRITE_VERSION: '1.9.5',
    });
  });

  it('treats a non-JSON body as text', async () => {
    const out = JSON.parse((await run('/echo', { body: 'plain words' })).responseBody);
    expect(out.body).toBe('plain words');
  });

  it('marks an execution failed only when the status is 500 or more', async () => {
    const notFound = await run('/status?code=404');
    expect([notFound.status, notFound.responseStatusCode]).toEqual(['completed', 404]);
    const unavailable = await run('/status?code=503');
    expect([unavailable.status, unavailable.responseStatusCode]).toEqual(['failed', 503]);
  });

  it('hands the function a dynamic key carrying its scopes', async () => {
    const out = JSON.parse((await run('/whoami')).responseBody);
    expect(out.status).toBe(200);
    expect(out.body.$id).toBe('basic');
  });
});

describe('logs and errors', () => {
  it('captures log(), error() and console output per execution', async () => {
    const e = await run('/log');
    expect(e.logs).toContain('to log {"n":1}');
    expect(e.logs).toContain('from console');
    // Every line of both streams ends with a newline, as the runtime writes them.
    expect(e.errors).toBe('to error\n');
  });

  it('answers 500 with the stack in errors when the handler throws', async () => {
    const e = await run('/throw');
    expect([e.status, e.responseStatusCode, e.responseBody]).toEqual(['failed', 500, '']);
    expect(e.errors).toContain('Error: fixture failure');
  });

  it('answers 500 when the handler returns nothing', async () => {
    const e = await run('/none');
    expect([e.status, e.responseStatusCode]).toEqual(['failed', 500]);
    expect(e.errors).toContain('Return statement missing');
  });

  it('keeps logs of concurrent executions apart', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => run('/mark', { body: `req-${i}` }).then((e) => ({ i, e }))),
    );
    for (const { i, e } of results) {
      expect(e.status).toBe('completed');
      expect(e.responseBody).toBe(`req-${i}`);
      expect(e.logs.split('\n').filter((l) => l.includes('req-'))).toEqual([
        `mark req-${i}`,
        `native req-${i}`,
      ]);
    }
  });
});

describe('process lifecycle', () => {
  it('reuses one warm process: module state survives between executions', async () => {
    const a = JSON.parse((await run('/echo')).responseBody);
    const b = JSON.parse((await run('/echo')).responseBody);
    expect(b.pid).toBe(a.pid);
    expect(b.count).toBe(a.count + 1);
  });

  it('times out after the function timeout with "Execution timed out." and stays warm', async () => {
    const before = JSON.parse((await run('/echo')).responseBody);
    const e = await run('/sleep?ms=1500');
    expect([e.status, e.responseStatusCode]).toEqual(['failed', 500]);
    expect(e.errors).toContain('Execution timed out.');
    expect(e.duration).toBeGreaterThanOrEqual(0.9);
    expect(e.duration).toBeLessThan(2.5);
    const after = JSON.parse((await run('/echo')).responseBody);
    expect(after.pid).toBe(before.pid);
  });

  it('replaces a process that crashed', async () => {
    const before = JSON.parse((await run('/echo')).responseBody);
    const crash = await run('/crash');
    expect([crash.status, crash.responseStatusCode]).toEqual(['failed', 500]);
    expect(crash.errors).toContain('exit code 7');
    const after = JSON.parse((await run('/echo')).responseBody);
    expect(after.pid).not.toBe(before.pid);
    expect(after.count).toBe(1);
  });

  it('kills and replaces a process whose handler blocks the event loop', async () => {
    const before = JSON.parse((await run('/echo')).responseBody);
    const e = await s.functions.createExecution({ functionId: 'basic', xpath: '/block', async: true });
    const done = await waitForExecution(s, 'basic', e.$id);
    expect([done.status, done.responseStatusCode]).toEqual(['failed', 500]);
    expect(done.errors).toContain('Execution timed out.');
    const after = JSON.parse((await run('/echo')).responseBody);
    expect(after.pid).not.toBe(before.pid);
  });

  it('answers a synchronous execution past the sync limit with 408 function_synchronous_timeout', async () => {
    await s.functions.update({
      functionId: 'basic',
      name: 'basic',
      entrypoint: 'main.js',
      timeout: 10,
      scopes: ['functions.read'] as never,
    });
    const error = await run('/sleep?ms=3000').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppwriteException);
    expect((error as AppwriteException).code).toBe(408);
    expect((error as AppwriteException).type).toBe('function_synchronous_timeout');
    expect((error as AppwriteException).message).toBe(
      "Synchronous function execution timed out. Use asynchronous execution instead, or ensure the execution duration doesn't exceed 2 seconds.",
    );
    // Appwrite stores the cut-short execution as failed/500 with the error (Create.php:481-492, 507), and
    // only then: its $createdAt is when the limit struck, not when it started.
    const failed = await s.functions.listExecutions({
      functionId: 'basic',
      queries: [Query.equal('requestPath', ['/sleep?ms=3000'])],
    });
    expect(failed.total).toBe(1);
    const record = failed.executions[0]!;
    expect([record.status, record.responseStatusCode, record.logs]).toEqual(['failed', 500, '']);
    expect(record.errors).toBe(`${(error as AppwriteException).message}\\nError Code: 408`);
    expect(record.duration).toBeGreaterThanOrEqual(2);
    expect(Date.now() - Date.parse(record.$createdAt)).toBeLessThan(1_000);
    await s.functions.update({
      functionId: 'basic',
      name: 'basic',
      entrypoint: 'main.js',
      timeout: 1,
      scopes: ['functions.read'] as never,
    });
  });
});

describe('activation while executions run', () => {
  it('lets executions in flight finish on the old deployment while new ones go to the activated one', async () => {
    await createFunction(s, 'drain', { timeout: 5 });
    const blue = await deployFixture(s, 'drain', 'basic');
    const green = await deployFixture(s, 'drain', 'basic', { activate: false });
    // Started before the switch (the first one also pays blue's cold start): they must complete on blue.
    const inFlight = [0, 1, 2].map(() =>
      s.functions.createExecution({ functionId: 'drain', xpath: '/sleep?ms=400' }),
    );
    // Synchronous executions are stored only when they end (as Appwrite): wait until all three run.
    await waitFor(
      'three executions running',
      async () => (s.module.runningExecutions >= 3 ? true : undefined),
      {
        timeoutMs: 20_000,
        intervalMs: 5,
      },
    );
    await s.functions.updateFunctionDeployment({ functionId: 'drain', deploymentId: green.$id });
    const onGreen = await s.functions.createExecution({ functionId: 'drain', xpath: '/echo' });
    expect(onGreen.deploymentId).toBe(green.$id);
    for (const e of await Promise.all(inFlight)) {
      expect([e.status, e.responseStatusCode, e.responseBody, e.deploymentId]).toEqual([
        'completed',
        200,
        'slept 400',
        blue.$id,
      ]);
    }
  });
});

describe('the record of a synchronous execution', () => {
  it('is stored only once it ends: not listed while it runs, and $createdAt is its end (Create.php:507)', async () => {
    const started = Date.now();
    const running = run('/sleep?ms=400');
    await waitFor('the execution running', async () => (s.module.runningExecutions >= 1 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 5,
    });
    const during = await s.functions.listExecutions({
      functionId: 'basic',
      queries: [Query.equal('requestPath', ['/sleep?ms=400'])],
    });
    expect(during.total).toBe(0);
    const e = await running;
    expect(Date.parse(e.$createdAt)).toBeGreaterThanOrEqual(started + 400);
    const stored = await s.functions.getExecution({ functionId: 'basic', executionId: e.$id });
    expect([stored.status, stored.$createdAt]).toEqual(['completed', e.$createdAt]);
  });
});

describe('async executions', () => {
  it('refuses to delete an execution still running: 400 execution_in_progress', async () => {
    const e = await s.functions.createExecution({ functionId: 'basic', xpath: '/sleep?ms=300', async: true });
    const error = await s.functions
      .deleteExecution({ functionId: 'basic', executionId: e.$id })
      .catch((x) => x);
    expect(error).toBeInstanceOf(AppwriteException);
    expect([(error as AppwriteException).code, (error as AppwriteException).type]).toEqual([
      400,
      'execution_in_progress',
    ]);
    expect((error as AppwriteException).message).toContain("Can't delete ongoing execution.");
    await waitForExecution(s, 'basic', e.$id);
  });

  it('answers 202 waiting, then completes in the background with logs', async () => {
    const e = await s.functions.createExecution({ functionId: 'basic', xpath: '/log', async: true });
    expect(e.status).toBe('waiting');
    expect(e.responseStatusCode).toBe(0);
    const done = await waitForExecution(s, 'basic', e.$id);
    expect(done.status).toBe('completed');
    expect(done.responseStatusCode).toBe(200);
    expect(done.responseBody).toBe('');
    expect(done.logs).toContain('to log');
  });
});

describe('ES module entrypoints', () => {
  it('loads a .mjs entrypoint through the import() fallback', async () => {
    await createFunction(s, 'esm', { entrypoint: 'main.mjs' });
    const dep = await deployFixture(s, 'esm', 'esm');
    const e = await s.functions.createExecution({ functionId: 'esm', xpath: '/hi' });
    expect(JSON.parse(e.responseBody)).toEqual({ esm: true, deployment: dep.$id, path: '/hi' });
  });
});

it('answers in the shapes of the OpenAPI spec', () => {
  expect(specProblems(s)).toEqual([]);
});
