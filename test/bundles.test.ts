/**
 * The four function bundles, loaded the way the open-runtimes Node server loads them (platform notes §A1):
 * `require()` (and `import()`) of dist/main.js copied OUT of the repository (so nothing can come from
 * node_modules), then called with an open-runtimes-shaped context. The bundles talk to a local Appwrite
 * provisioned from appwrite.json.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import type { FunctionHandler } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction, MAX_BUNDLE_BYTES } from '../scripts/build-function.mjs';

const root = path.resolve(import.meta.dirname, '..');
const names = readdirSync(path.join(root, 'functions')).filter((n) =>
  existsSync(path.join(root, 'functions', n, 'src', 'main.ts')),
);
const outside = mkdtempSync(path.join(tmpdir(), 'bundles-'));
const requireOutside = createRequire(path.join(outside, 'index.js'));
let server: AppwriteLocal;
const ENV_KEYS = [
  'APPWRITE_FUNCTION_API_ENDPOINT',
  'APPWRITE_FUNCTION_PROJECT_ID',
  'APPWRITE_FUNCTION_DEPLOYMENT',
];
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

/** The bundle of `name` copied to its own folder outside the repository. */
function isolated(name: string): string {
  const dir = path.join(outside, name);
  mkdirSync(dir, { recursive: true });
  // Everything dist/ ships (main.js, and croner.cjs beside it where the bundle loads croner on first use).
  for (const file of readdirSync(path.join(root, 'functions', name, 'dist')))
    copyFileSync(path.join(root, 'functions', name, 'dist', file), path.join(dir, file));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
  return path.join(dir, 'main.js');
}

beforeAll(async () => {
  for (const name of names) {
    if (!existsSync(path.join(root, 'functions', name, 'dist', 'main.js'))) {
      await buildFunction(path.join(root, 'functions', name));
    }
  }
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'bundles',
    apiKey: 'bundles-key',
    config: path.join(root, 'appwrite.json'),
  });
  process.env.APPWRITE_FUNCTION_API_ENDPOINT = server.endpoint;
  process.env.APPWRITE_FUNCTION_PROJECT_ID = server.projectId;
  process.env.APPWRITE_FUNCTION_DEPLOYMENT = 'dep-bundle-test';
});

afterAll(async () => {
  await server?.stop();
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  rmSync(outside, { recursive: true, force: true });
});

type Loaded = FunctionHandler & { default?: unknown };

describe.each(names)('bundle %s', (name) => {
  const serverHeaders = () => ({ 'x-appwrite-key': server.apiKey, 'x-appwrite-trigger': 'http' });

  it(`is one file of at most ${MAX_BUNDLE_BYTES / 1024} KB (plus croner.cjs for the cron functions)`, () => {
    const file = path.join(root, 'functions', name, 'dist', 'main.js');
    expect(statSync(file).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
    // job-worker and quota-reset evaluate cron expressions: croner ships beside the bundle, loaded on first use.
    const cron = name === 'job-worker' || name === 'quota-reset';
    expect(readdirSync(path.dirname(file)).sort()).toEqual(
      cron ? ['croner.cjs', 'main.js', 'package.json'] : ['main.js', 'package.json'],
    );
    const shipped =
      statSync(file).size + (cron ? statSync(path.join(path.dirname(file), 'croner.cjs')).size : 0);
    expect(shipped).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });

  it('loads with require(): module.exports is the handler and .default is the same handler', () => {
    const mod = requireOutside(isolated(name)) as Loaded;
    expect(typeof mod).toBe('function');
    expect(mod.default).toBe(mod);
    expect(mod.definition.name).toBe(name);
  });

  it('loads with import() in plain Node (the runtime fallback): the default export is the handler', () => {
    // A child process: vitest rewrites import() in test files, and the runtime uses Node's own.
    const script = `import(${JSON.stringify(pathToFileURL(isolated(name)).href)}).then((m) => {
      const h = m.default;
      console.log(JSON.stringify({ type: typeof h, name: h && h.definition && h.definition.name, self: h && h.default === h }));
    });`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: outside,
    }).toString();
    expect(JSON.parse(out)).toEqual({ type: 'function', name, self: true });
  });

  it('loads no Node built-in module while loading (node:crypto, fetch/undici, streams wait for first use)', () => {
    // Cold start (bench/bundles.bench.ts): node:crypto alone costs ~5 ms to load. `process.moduleLoadList`
    // (Node's list of loaded built-ins) is compared before and after the require(); an empty file is required
    // first so the CommonJS loader's own modules are already in the list.
    const empty = path.join(outside, 'empty.cjs');
    writeFileSync(empty, 'module.exports = 1;\n');
    const script = `const list = () => process.moduleLoadList ?? [];
      require(${JSON.stringify(empty)});
      const before = new Set(list());
      require(${JSON.stringify(isolated(name))});
      console.log(JSON.stringify({ has: Array.isArray(process.moduleLoadList), added: list().filter((m) => !before.has(m)) }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: outside }).toString());
    expect(out).toEqual({ has: true, added: [] });
  });

  it('answers GET /health with its name, deployment id and version', async () => {
    const handler = requireOutside(isolated(name)) as Loaded;
    const out = await invoke(handler, { method: 'GET', path: '/health', headers: serverHeaders() });
    expect(out.body).toMatchObject({
      name,
      deploymentId: 'dep-bundle-test',
      version: expect.stringMatching(/\+/),
    });
    expect(out.status, JSON.stringify(out.body)).toBe(200);
  });

  it('answers a bad body with 400 listing the problem, never 500', async () => {
    const handler = requireOutside(isolated(name)) as Loaded;
    const route = handler.definition.routes?.find((r) => r.body);
    expect(route, `${name} has no route with a body schema`).toBeDefined();
    const routePath = route!.path.replace(/:[^/]+/g, 'x');
    const out = await invoke(handler, {
      method: route!.method,
      path: routePath,
      body: '{"not json',
      headers: { ...serverHeaders(), 'content-type': 'application/json' },
    });
    expect(out.status).toBe(400);
    expect(out.body).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });
});
