/**
 * The runtime contract's corner cases, as the real open-runtimes node server 0.13.14 behaves
 * (`runtimes/node/versions/latest/src/server.js`, `logger.js`; ../shared/appwrite-platform.md §F5): log lines,
 * serialisation of non-string log arguments, responses that are errors, JSON bodies, and the headers the
 * executor adds on its way to the runtime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFunction,
  deployFixture,
  startServer,
  type TestServer,
} from './appwrite-local-functions-helpers.ts';

let s: TestServer;

beforeAll(async () => {
  s = await startServer();
  await createFunction(s, 'contract');
  await deployFixture(s, 'contract', 'contract');
});

afterAll(async () => {
  await s.stop();
});

const run = (path: string, extra: { body?: string; headers?: object } = {}) =>
  s.functions.createExecution({ functionId: 'contract', xpath: path, method: 'POST' as never, ...extra });

describe('logs', () => {
  it('cuts a line over 8,000 characters with the runtime notice and ends it with a newline', async () => {
    const e = await run('/log-long');
    expect(e.logs).toBe(`${'x'.repeat(8000)}... Log truncated due to size limit (8000 characters)\n`);
  });

  it('serialises non-string arguments as superjson does: Map → entries, Set → array, undefined → null, bigint → string', async () => {
    const e = await run('/log-types');
    expect(e.logs.split('\n')).toEqual([
      '[["a",1]]',
      '[1,2]',
      'null',
      '"10"',
      '{"a":1,"u":null,"d":"1970-01-01T00:00:00.000Z","nested":[["k",["v"]]]}',
      'a 1 true null',
      '[1,null,"NaN"]',
      '',
    ]);
  });
});

describe('responses', () => {
  it('fails with 500 on res.text(123): Buffer.from throws a TypeError, logged with its stack', async () => {
    const e = await run('/text-number');
    expect([e.status, e.responseStatusCode, e.responseBody]).toEqual(['failed', 500, '']);
    expect(e.errors).toMatch(/^TypeError \[ERR_INVALID_ARG_TYPE\]: .*Received type number \(123\)/);
  });

  it('fails with 500 and no error line when the handler returns a plain string', async () => {
    const e = await run('/plain');
    expect([e.status, e.responseStatusCode, e.responseBody, e.errors]).toEqual(['failed', 500, '', '']);
  });

  it('fails with 500 on res.json(undefined) (JSON.stringify gives undefined)', async () => {
    const e = await run('/json-undefined');
    expect([e.status, e.responseStatusCode]).toEqual(['failed', 500]);
    expect(e.errors).toContain('TypeError');
  });

  it('sends res.send({a: 1}) as JSON under the default text/plain content type', async () => {
    const one = await run('/send-object');
    expect([one.responseStatusCode, one.responseBody]).toEqual([200, '{"a":1}']);
    expect(one.responseHeaders).toContainEqual({ name: 'content-type', value: 'text/plain; charset=utf-8' });
    const empty = await run('/send-empty');
    expect([empty.responseStatusCode, empty.responseBody]).toEqual([200, '{}']);
    expect(empty.responseHeaders).toContainEqual({ name: 'content-length', value: '2' });
  });

  it('lower-cases the content type before adding the charset', async () => {
    const e = await run('/upper-type');
    expect(e.responseHeaders).toContainEqual({ name: 'content-type', value: 'text/html; charset=utf-8' });
  });

  it('accepts a plain descriptor object, defaulting nothing it gives', async () => {
    const e = await run('/descriptor');
    expect([e.status, e.responseStatusCode, e.responseBody]).toEqual(['completed', 201, 'raw']);
  });
});

describe('requests', () => {
  it('parses the body as JSON for a content type of any case', async () => {
    const e = await run('/body', { body: '{"n":1}', headers: { 'Content-Type': 'Application/JSON' } });
    expect(JSON.parse(e.responseBody)).toEqual({ type: 'object', body: { n: 1 } });
  });

  it('gets the executor headers: basic auth with the runtime secret, accept, content-length, form type', async () => {
    const e = await run('/headers', { body: 'a=1&b=2' });
    const { headers, secret } = JSON.parse(e.responseBody);
    expect(secret).toMatch(/^[0-9a-f]{48}$/);
    expect(headers).toMatchObject({
      authorization: `Basic ${Buffer.from(`opr:${secret}`).toString('base64')}`,
      accept: '*/*',
      'content-length': '7',
      'content-type': 'application/x-www-form-urlencoded',
    });
    const empty = JSON.parse((await run('/headers')).responseBody).headers;
    expect(empty['content-length']).toBe('0');
    expect(empty['content-type']).toBeUndefined();
  });

  it('records only the allow-listed request headers (FUNCTION_ALLOWLIST_HEADERS_REQUEST)', async () => {
    const e = await run('/headers', {
      body: '{}',
      headers: { 'content-type': 'application/json', 'x-mine': '1' },
    });
    const stored = await s.functions.getExecution({ functionId: 'contract', executionId: e.$id });
    expect(stored.requestHeaders).toEqual([
      { name: 'content-type', value: 'application/json' },
      { name: 'x-appwrite-client-ip', value: '127.0.0.1' },
    ]);
    expect(JSON.parse(e.responseBody).headers['x-mine']).toBe('1');
  });
});

describe('the record of a synchronous execution', () => {
  it('is stored only when it ends: $createdAt is the end', async () => {
    const before = Date.now();
    const e = await run('/log-long');
    const stored = await s.functions.getExecution({ functionId: 'contract', executionId: e.$id });
    expect(stored.$createdAt).toBe(e.$createdAt);
    expect(Date.parse(stored.$createdAt)).toBeGreaterThanOrEqual(before + Math.floor(e.duration * 1000) - 5);
  });
});
