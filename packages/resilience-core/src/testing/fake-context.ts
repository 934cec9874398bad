import type { AppwriteContext, ResponseDescriptor } from '../runtime/context.ts';

/** A request for {@link createFakeContext}. */
export interface FakeRequest {
  method?: string;
  /** Path, optionally with a `?query`. */
  path?: string;
  /** A string is sent as is; anything else is JSON-encoded with `content-type: application/json`. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A fake open-runtimes context and what the function wrote to its streams. */
export interface FakeContext {
  context: AppwriteContext;
  /** Lines written with `log`. */
  logs: string[];
  /** Lines written with `error`. */
  errors: string[];
}

/**
 * Builds a context shaped like the open-runtimes Node server's (platform notes §A2/§A3): lower-case headers,
 * `bodyText`/`bodyRaw`/`body`/`bodyJson`, raw `query` (not decoded), `queryString`, and `res.*` returning
 * `{ body, statusCode, headers }` descriptors (json bodies are kept as the serialised string, as the runtime
 * sends them).
 */
export function createFakeContext(request: FakeRequest = {}): FakeContext {
  const logs: string[] = [];
  const errors: string[] = [];
  const [rawPath, queryString = ''] = (request.path ?? '/').split('?', 2) as [string, string?];
  const bodyText =
    request.body === undefined
      ? ''
      : typeof request.body === 'string'
        ? request.body
        : JSON.stringify(request.body);
  const headers: Record<string, string> = {};
  if (request.body !== undefined && typeof request.body !== 'string')
    headers['content-type'] = 'application/json';
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const pair of queryString.split('&').filter(Boolean)) {
    const at = pair.indexOf('=');
    query[at < 0 ? pair : pair.slice(0, at)] = at < 0 ? '' : pair.slice(at + 1);
  }
  const isJson = (headers['content-type'] ?? '').startsWith('application/json');
  const req = {
    bodyText,
    bodyRaw: bodyText,
    get body(): unknown {
      return isJson ? (bodyText === '' ? {} : JSON.parse(bodyText)) : bodyText;
    },
    get bodyJson(): unknown {
      return JSON.parse(bodyText);
    },
    bodyBinary: Buffer.from(bodyText),
    headers,
    method: (request.method ?? 'GET').toUpperCase(),
    path: rawPath || '/',
    query,
    queryString,
    scheme: 'http',
    host: 'localhost',
    port: 3000,
    url: `http://localhost:3000${request.path ?? '/'}`,
  };
  const descriptor = (body: unknown, statusCode: number, h: Record<string, string>): ResponseDescriptor => ({
    body,
    statusCode,
    headers: h,
  });
  const res = {
    json: (body: unknown, statusCode = 200, h: Record<string, string> = {}) =>
      descriptor(JSON.stringify(body), statusCode, { ...h, 'content-type': 'application/json' }),
    text: (body: string, statusCode = 200, h: Record<string, string> = {}) => descriptor(body, statusCode, h),
    send: (body: unknown, statusCode = 200, h: Record<string, string> = {}) =>
      descriptor(body, statusCode, h),
    binary: (body: Uint8Array, statusCode = 200, h: Record<string, string> = {}) =>
      descriptor(body, statusCode, h),
    empty: () => descriptor('', 204, {}),
    redirect: (url: string, statusCode = 301, h: Record<string, string> = {}) =>
      descriptor('', statusCode, { ...h, location: url }),
  };
  return {
    context: { req, res, log: (m) => logs.push(String(m)), error: (m) => errors.push(String(m)) },
    logs,
    errors,
  };
}

/** Calls `handler` with a fake context and returns status, parsed JSON body (or text), headers and logs. */
export async function invoke(
  handler: (context: AppwriteContext) => Promise<ResponseDescriptor> | ResponseDescriptor,
  request: FakeRequest = {},
): Promise<{
  status: number;
  body: unknown;
  headers: Record<string, string>;
  logs: string[];
  errors: string[];
}> {
  const fake = createFakeContext(request);
  const out = await handler(fake.context);
  let body: unknown = out.body;
  if (typeof body === 'string' && (out.headers['content-type'] ?? '').startsWith('application/json')) {
    body = body === '' ? null : JSON.parse(body);
  }
  return { status: out.statusCode, body, headers: out.headers, logs: fake.logs, errors: fake.errors };
}
