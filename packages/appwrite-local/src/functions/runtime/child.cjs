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
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');
const { AsyncLocalStorage } = require('node:async_hooks');

const ENTRYPOINT = process.env.OPEN_RUNTIMES_ENTRYPOINT || 'index.js';
const CODE_DIR = process.cwd();
/** Characters kept per log line, as open-runtimes does. */
const MAX_LINE = 8000;
const logContext = new AsyncLocalStorage();
const TIMED_OUT = Symbol('timed-out');

/** Serialises one log() argument: strings as-is, everything else as JSON (falling back to inspect). */
function formatArg(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.stack || String(value);
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json;
  } catch {
    return util.inspect(value);
  }
}

function formatLine(args) {
  const line = args.map(formatArg).join(' ');
  return line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
}

// console.* goes to the log stream of the execution that wrote it; outside any execution, to stderr.
const nativeStderr = process.stderr.write.bind(process.stderr);
for (const method of ['log', 'info', 'debug', 'warn', 'error', 'trace', 'dir']) {
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
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq === -1) query[part] = '';
    else query[part.slice(0, eq)] = part.slice(eq + 1);
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
      const type = headers['content-type'] || 'text/plain';
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
  return { body, statusCode, headers: headers || {} };
}

const res = {
  json(obj, statusCode = 200, headers = {}) {
    return descriptor(Buffer.from(JSON.stringify(obj)), statusCode, {
      ...headers,
      'content-type': 'application/json',
    });
  },
  text(text, statusCode = 200, headers = {}) {
    return descriptor(Buffer.from(String(text), 'utf8'), statusCode, headers);
  },
  binary(bytes, statusCode = 200, headers = {}) {
    return descriptor(Buffer.from(bytes), statusCode, headers);
  },
  send(body, statusCode = 200, headers = {}) {
    return descriptor(
      Buffer.isBuffer(body) ? body : Buffer.from(String(body ?? ''), 'utf8'),
      statusCode,
      headers,
    );
  },
  empty() {
    return descriptor(Buffer.alloc(0), 204, {});
  },
  redirect(url, statusCode = 301, headers = {}) {
    return descriptor(Buffer.alloc(0), statusCode, { ...headers, location: url });
  },
};

function normaliseHeaders(headers) {
  const out = {};
  for (const [key, value] of Object.entries(headers || {})) {
    const lower = key.toLowerCase();
    if (lower.startsWith('x-open-runtimes-')) continue;
    out[lower] = String(value);
  }
  const type = out['content-type'];
  if (type === undefined) out['content-type'] = 'text/plain; charset=utf-8';
  else if (!type.startsWith('multipart/') && !type.includes('charset='))
    out['content-type'] = type + '; charset=utf-8';
  return out;
}

async function execute(message) {
  const store = { logs: [], errors: [], nativeNoticed: false };
  const context = {
    req: buildRequest(message),
    res,
    log: (...args) => store.logs.push(formatLine(args)),
    error: (...args) => store.errors.push(formatLine(args)),
  };
  let output;
  await logContext.run(store, async () => {
    try {
      const handler = await loadEntrypoint();
      if (typeof handler !== 'function') {
        store.errors.push('User function is not valid: the entrypoint must export a function.');
        output = descriptor(Buffer.alloc(0), 503, {});
        return;
      }
      const run = Promise.resolve().then(() => handler(context));
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), message.timeoutMs);
      });
      const result = await Promise.race([run, timeout]).finally(() => clearTimeout(timer));
      if (result === TIMED_OUT) {
        store.errors.push('Execution timed out.');
        output = descriptor(Buffer.alloc(0), 500, {});
        // The handler keeps running in the background, as on open-runtimes; swallow its late outcome.
        run.catch(() => {});
      } else if (result === undefined || result === null) {
        store.errors.push('Return statement missing. return context.res.empty() if no response is expected.');
        output = descriptor(Buffer.alloc(0), 500, {});
      } else if (typeof result !== 'object' || result.statusCode === undefined) {
        store.errors.push(
          'Invalid response: return one of context.res.json(), text(), binary(), send(), empty(), redirect().',
        );
        output = descriptor(Buffer.alloc(0), 500, {});
      } else {
        output = descriptor(Buffer.from(result.body ?? Buffer.alloc(0)), result.statusCode, result.headers);
      }
    } catch (e) {
      store.errors.push(e?.stack ? e.stack : formatArg(e));
      output = descriptor(Buffer.alloc(0), 500, {});
    }
  });
  return {
    type: 'result',
    id: message.id,
    statusCode: output.statusCode,
    headers: normaliseHeaders(output.headers),
    body: output.body,
    logs: store.logs.join('\n'),
    errors: store.errors.join('\n'),
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
