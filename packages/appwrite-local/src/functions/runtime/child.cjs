'use strict';
/**
 * The function runtime child process: one per warm function deployment, started by runtime-process.ts with
 * `cwd` = the deployment's code directory and the function's env. It implements the open-runtimes v5 Node
 * contract (../../../../../../shared/appwrite-platform.md §A1-A3, A6) over Node IPC instead of HTTP:
 *   parent → child  { type: 'execute', id, method, url, headers, body: Buffer, timeoutMs }
 *   child  → parent { type: 'result', id, statusCode, headers, body: Buffer, logs, errors }
 *   child  → parent { type: 'ready' } once, after start.
 * Concurrent executions share the process (as the open-runtimes HTTP server does); console output is
 * attributed to the execution whose async context wrote it (AsyncLocalStorage).
 * Plain CommonJS on purpose: it runs under bare `node` (no tsx) so a cold start costs only Node's boot.
 */
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { AsyncLocalStorage } = require('node:async_hooks');

const ENTRYPOINT = process.env.OPEN_RUNTIMES_ENTRYPOINT || 'index.js';
const CODE_DIR = process.cwd();
/** Characters kept per log line, as open-runtimes does. */
const MAX_LINE = 8000;
const logContext = new AsyncLocalStorage();
const TIMED_OUT = Symbol('timed-out');

/** Whether superjson treats `value` as a plain object (walked key by key). */
function isPlainObject(value) {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/**
 * The JSON-safe form superjson 2 gives a value (`superjson.serialize(v).json`), which open-runtimes' logger
 * stringifies: undefined → null, bigint → its decimal string, NaN/±Infinity/-0 → strings, Date → ISO string,
 * RegExp → its source text, Error → {name, message}, URL → href, typed arrays (Buffers too) → number arrays,
 * Map → [key, value] entries, Set → array; plain objects and arrays are walked, a cycle becomes null, and
 * anything else (class instances, functions, symbols, invalid dates) is left to JSON.stringify. Checked against
 * superjson 2.2.6 itself on 29 kinds of value while writing it.
 */
function superjsonForm(value, path) {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Number.POSITIVE_INFINITY) return 'Infinity';
    if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
    if (Object.is(value, -0)) return '-0';
    return value;
  }
  if (typeof value !== 'object' || value === null) return value;
  // An invalid Date is left alone (JSON.stringify makes it null).
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? value : value.toISOString();
  if (value instanceof RegExp) return String(value);
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof URL) return value.href;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value);
  const isMap = value instanceof Map;
  const isSet = value instanceof Set;
  if (!isMap && !isSet && !Array.isArray(value) && !isPlainObject(value)) return value;
  if (path.includes(value)) return null;
  const inner = [...path, value];
  if (isMap) return [...value].map(([k, v]) => [superjsonForm(k, inner), superjsonForm(v, inner)]);
  if (isSet || Array.isArray(value)) return [...value].map((v) => superjsonForm(v, inner));
  const out = {};
  for (const key of Object.keys(value)) out[key] = superjsonForm(value[key], inner);
  return out;
}

/** Serialises one log() argument as open-runtimes 0.13.14's logger does: strings as-is, errors as their stack. */
function formatArg(value) {
  if (value instanceof Error) return value.stack || String(value);
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(superjsonForm(value, []));
  } catch {
    return String(value);
  }
}

/** One log line: arguments joined by a space, cut at 8,000 characters with the runtime's notice. */
function formatLine(args) {
  // An argument JSON.stringify turns into undefined (a function) joins as an empty string, as in Array.join.
  const line = args.map(formatArg).join(' ');
  return line.length > MAX_LINE
    ? line.substring(0, MAX_LINE) + '... Log truncated due to size limit (8000 characters)'
    : line;
}

// console.* goes to the log stream of the execution that wrote it; outside any execution, to stderr.
const nativeStderr = process.stderr.write.bind(process.stderr);
// As open-runtimes: log, info, debug, warn and error (all to the log stream); others stay native.
for (const method of ['log', 'info', 'debug', 'warn', 'error']) {
  console[method] = (...args) => {
    const store = logContext.getStore();
    if (store) {
      if (!store.nativeNoticed) {
        store.nativeNoticed = true;
        store.logs.push('Native logs detected. Use context.log() or context.error() for better experience.');
      }
      store.logs.push(formatLine(args));
    } else {
      nativeStderr(formatLine(args) + '\n');
    }
  };
}

/** Loads the entrypoint: require() first, import() when the file is ESM (ERR_REQUIRE_ESM). */
async function loadEntrypoint() {
  const file = path.join(CODE_DIR, ENTRYPOINT);
  let mod;
  try {
    mod = require(file);
  } catch (e) {
    if (e?.code !== 'ERR_REQUIRE_ESM') throw e;
    mod = await import(pathToFileURL(file).href);
  }
  return mod && mod.default !== undefined ? mod.default : mod;
}

function parseQuery(queryString) {
  const query = {};
  if (!queryString) return query;
  for (const part of queryString.split('&')) {
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    // As open-runtimes: a parameter without a key (`=x`, or an empty part) is dropped.
    if (key) query[key] = eq === -1 ? '' : part.slice(eq + 1);
  }
  return query;
}

function buildRequest(message) {
  const headers = {};
  for (const [key, value] of Object.entries(message.headers || {})) {
    const lower = key.toLowerCase();
    if (lower.startsWith('x-open-runtimes-')) continue;
    headers[lower] = String(value);
  }
  const body = Buffer.from(message.body || Buffer.alloc(0));
  const rawUrl = message.url || '/';
  const qIndex = rawUrl.indexOf('?');
  const reqPath = (qIndex === -1 ? rawUrl : rawUrl.slice(0, qIndex)) || '/';
  const queryString = qIndex === -1 ? '' : rawUrl.slice(qIndex + 1);
  const scheme = headers['x-forwarded-proto'] || 'http';
  const hostHeader = headers.host || 'localhost';
  const colon = hostHeader.lastIndexOf(':');
  const host = colon === -1 ? hostHeader : hostHeader.slice(0, colon);
  const defaultPort = scheme === 'https' ? 443 : 80;
  const port = colon === -1 ? defaultPort : Number(hostHeader.slice(colon + 1)) || defaultPort;
  const portPart = port === defaultPort ? '' : ':' + port;
  const url = scheme + '://' + host + portPart + reqPath + (queryString ? '?' + queryString : '');
  return {
    get bodyText() {
      return body.toString('utf8');
    },
    get bodyRaw() {
      return body.toString('utf8');
    },
    get bodyJson() {
      return JSON.parse(body.toString('utf8'));
    },
    get body() {
      // The content type is compared lower-cased: `Application/JSON` parses too.
      const type = (headers['content-type'] || 'text/plain').toLowerCase();
      if (type.startsWith('application/json')) {
        return body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      }
      return body.toString('utf8');
    },
    get bodyBinary() {
      return body;
    },
    headers,
    method: message.method || 'GET',
    path: reqPath,
    query: parseQuery(queryString),
    queryString,
    scheme,
    host,
    port,
    url,
  };
}

function descriptor(body, statusCode, headers) {
  return { body, statusCode, headers };
}

/**
 * `context.res`, as open-runtimes 0.13.14 builds it: text() takes only what Buffer.from accepts (res.text(123)
 * throws a TypeError, so the execution fails with 500); json() sets the content type and text()s the JSON;
 * send() and binary() keep the body unchanged (it is encoded when the response is sent, see encodeBody).
 */
const res = {
  send(body, statusCode = 200, headers = {}) {
    return descriptor(body, statusCode, headers);
  },
  text(body, statusCode = 200, headers = {}) {
    return this.binary(Buffer.from(body, 'utf8'), statusCode, headers);
  },
  binary(bytes, statusCode = 200, headers = {}) {
    return descriptor(bytes, statusCode, headers);
  },
  json(obj, statusCode = 200, headers = {}) {
    headers['content-type'] = 'application/json';
    return this.text(JSON.stringify(obj), statusCode, headers);
  },
  empty() {
    return this.text('', 204, {});
  },
  redirect(url, statusCode = 301, headers = {}) {
    headers.location = url;
    return this.text('', statusCode, headers);
  },
};

/**
 * The bytes a response body becomes, as micro's send() writes it: a Buffer as-is, an object or number as its
 * JSON (so res.send({a: 1}) is `{"a":1}`, and a Uint8Array that is not a Buffer is JSON too), a string as UTF-8.
 * Anything else (a boolean, a function, a bigint) throws, and the runtime answers 500 with an empty body.
 */
function encodeBody(body) {
  if (Buffer.isBuffer(body)) return body;
  let text = body;
  if (typeof body === 'object' || typeof body === 'number') text = JSON.stringify(body);
  if (typeof text !== 'string') throw new TypeError('The response body must be a string, a Buffer or JSON');
  return Buffer.from(text, 'utf8');
}

/** A valid HTTP status code from a descriptor's statusCode (Node coerces it as `code | 0`), or undefined. */
function statusOf(value) {
  const code = Number(value) | 0;
  return code >= 100 && code <= 999 ? code : undefined;
}

/**
 * The response headers: names lower-cased, `x-open-runtimes-*` dropped, the content type lower-cased and given
 * `; charset=utf-8` unless multipart or already carrying a charset, and content-length set from the body.
 */
function responseHeaders(headers, length) {
  const out = {};
  for (const [key, value] of Object.entries(headers || {})) {
    const lower = key.toLowerCase();
    if (lower.startsWith('x-open-runtimes-')) continue;
    out[lower] = String(value);
  }
  const type = (out['content-type'] ?? 'text/plain').toLowerCase();
  if (!type.startsWith('multipart/') && !type.includes('charset='))
    out['content-type'] = type + '; charset=utf-8';
  out['content-length'] = String(length);
  return out;
}

/** What the runtime sends when it fails before or while sending: 500, empty body, text/plain. */
const FAILED = { statusCode: 500, headers: {}, body: Buffer.alloc(0) };

/** The response the runtime sends for the handler's `output` (a descriptor, or whatever it returned). */
function toResponse(output) {
  // A primitive (a returned plain string, a number) has no statusCode: sending it fails, 500 with no log line.
  if (typeof output !== 'object' && typeof output !== 'function') return FAILED;
  const statusCode = statusOf(output.statusCode ?? 200);
  if (statusCode === undefined) return FAILED;
  let body;
  try {
    body = encodeBody(output.body ?? '');
  } catch {
    return FAILED;
  }
  return { statusCode, headers: output.headers ?? {}, body };
}

/** The error line of a thrown value: `context.error(e.stack || e)`, as the runtime logs it. */
function failureLine(e) {
  return formatLine([e?.stack || e]);
}

/** Loads the entrypoint, or returns the 503 line open-runtimes logs when it cannot. */
async function loadHandler() {
  const file = path.join(CODE_DIR, ENTRYPOINT);
  if (!fs.existsSync(file)) return { error: `Failed to load entrypoint, file ${ENTRYPOINT} does not exist.` };
  try {
    const handler = await loadEntrypoint();
    if (typeof handler !== 'function') {
      return { error: "Function signature invalid. Did you forget to export a 'main' function?" };
    }
    return { handler };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof SyntaxError) return { error: `Syntax error in ${ENTRYPOINT}: ${message}` };
    if (e instanceof TypeError) return { error: message };
    return { error: `Failed to load module: ${message}` };
  }
}

async function execute(message) {
  const store = { logs: [], errors: [], nativeNoticed: false };
  const context = {
    req: buildRequest(message),
    res,
    log: (...args) => store.logs.push(formatLine(args)),
    error: (...args) => store.errors.push(formatLine(args)),
  };
  let response;
  await logContext.run(store, async () => {
    const loaded = await loadHandler();
    if (loaded.error) {
      store.errors.push(loaded.error);
      response = { statusCode: 503, headers: {}, body: Buffer.alloc(0) };
      return;
    }
    let output;
    try {
      const run = Promise.resolve().then(() => loaded.handler(context));
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), message.timeoutMs);
      });
      output = await Promise.race([run, timeout]).finally(() => clearTimeout(timer));
      if (output === TIMED_OUT) {
        context.error('Execution timed out.');
        output = context.res.text('', 500, {});
        // The handler keeps running in the background, as on open-runtimes; swallow its late outcome.
        run.catch(() => {});
      }
    } catch (e) {
      store.errors.push(failureLine(e));
      output = context.res.text('', 500, {});
    }
    if (output === null || output === undefined) {
      context.error('Return statement missing. return context.res.empty() if no response is expected.');
      output = context.res.text('', 500, {});
    }
    response = toResponse(output);
  });
  // Every line of both streams ends with a newline, as the runtime writes its log files.
  const stream = (lines) => lines.map((line) => line + '\n').join('');
  return {
    type: 'result',
    id: message.id,
    statusCode: response.statusCode,
    headers: responseHeaders(response.headers, response.body.length),
    body: response.body,
    logs: stream(store.logs),
    errors: stream(store.errors),
  };
}

process.on('message', (message) => {
  if (message?.type !== 'execute') return;
  execute(message).then(
    (result) => process.send(result),
    (e) =>
      process.send({
        type: 'result',
        id: message.id,
        statusCode: 500,
        headers: {},
        body: Buffer.alloc(0),
        logs: '',
        errors: String(e),
      }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
