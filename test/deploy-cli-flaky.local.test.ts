/**
 * `npm run rollout` under a flaky server (issue 11.6), with real processes: the local Appwrite server is
 * `packages/appwrite-local/bin/appwrite-local.mjs --data DIR` (state survives its restart) and the command runs
 * as a child process. Killing the server mid-rollout must not end the command: it retries with a countdown and
 * reaches a verdict once the server is back. A command killed along with the server is resumed at once by the
 * next `resume` (the dead run's lock is taken over: its process provably no longer exists), not after its lease.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AppwriteLocal } from 'appwrite-local';
import { Client, Functions } from 'node-appwrite';
import { provisionSchema } from 'resilience-core/adapters/appwrite';
import { deploymentTables } from 'resilience-core/deployment';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveWithTwin, DEPLOY_FIXTURES, type DeployServer } from './deploy-helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'flaky-key';
const PROJECT = 'flaky';

let dataDir: string;
let port: number;
let endpoint: string;
let server: ChildProcess | null = null;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as { port: number };
      s.close(() => resolve(p));
    });
  });
}

/** Starts the server process on `port` with `dataDir`; resolves once it prints its listening line. */
async function startServer(): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'packages', 'appwrite-local', 'bin', 'appwrite-local.mjs'),
      '--data',
      dataDir,
      '--port',
      String(port),
      '--key',
      KEY,
      '--project',
      PROJECT,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server = child;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (/listening on/.test(out)) resolve();
    });
    child.stderr!.on('data', (d) => {
      out += String(d);
    });
    child.on('exit', (code) => reject(new Error(`appwrite-local exited ${code}: ${out}`)));
  });
}

async function killServer(): Promise<void> {
  const child = server!;
  server = null;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function rollout(args: string[]): { child: ChildProcess; out: () => string; done: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts', 'rollout.ts'), ...args],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        APPWRITE_ENDPOINT: endpoint,
        APPWRITE_PROJECT_ID: PROJECT,
        APPWRITE_API_KEY: KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, done };
}

/** Resolves once the command's output matches `pattern` (or it exits). */
function until(run: ReturnType<typeof rollout>, pattern: RegExp): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = () => {
      if (pattern.test(run.out())) resolve();
    };
    run.child.stdout!.on('data', check);
    run.child.on('exit', () => resolve());
    check();
  });
}

const POLICY = [
  '--watch-ms=4000',
  '--interval-ms=1000',
  '--min-samples=5',
  '--build-timeout-ms=30000',
  '--build-poll-max-ms=500',
  '--entrypoint=index.js',
  `--dir=${path.join(DEPLOY_FIXTURES, 'good')}`,
];

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'rollout-flaky-'));
  port = await freePort();
  endpoint = `http://127.0.0.1:${port}/v1`;
  await startServer();
  const client = new Client().setEndpoint(endpoint).setProject(PROJECT).setKey(KEY);
  await provisionSchema({ client, tables: deploymentTables, pollIntervalMs: 20 });
}, 60_000);

afterAll(async () => {
  if (server) await killServer();
  rmSync(dataDir, { recursive: true, force: true });
});

const world = (): DeployServer => ({
  server: { endpoint, projectId: PROJECT, apiKey: KEY } as AppwriteLocal,
  functions: new Functions(new Client().setEndpoint(endpoint).setProject(PROJECT).setKey(KEY)),
});

describe('npm run rollout with a server that dies and comes back', () => {
  it('retries with a countdown while the server is down and reaches the verdict', async () => {
    await createLiveWithTwin(world(), 'flaky-a');
    const run = rollout(['start', 'flaky-a', ...POLICY]);
    await until(run, /watching/);
    expect(run.out()).toMatch(/watching/);
    await killServer();
    await until(run, /retrying in \d+ s/);
    await startServer();
    const code = await run.done;
    const out = run.out();
    expect(out).toMatch(/transient failure \(attempt 1\): .*unreachable/);
    expect(out).toMatch(/retrying in \d+ s…/);
    expect(out).toMatch(/resumes the rollout at (switching|watching)/);
    expect(out).toMatch(/VERDICT: SUCCEEDED/);
    expect(code).toBe(0);
  }, 120_000);

  it('a run killed with the server is resumed at once: its dead process cannot hold the lock', async () => {
    await createLiveWithTwin(world(), 'flaky-b');
    // A 60 s lease: without the proof that the holder is gone, resume would be refused for a minute.
    const first = rollout(['start', 'flaky-b', ...POLICY, '--lock-ttl-ms=60000']);
    await until(first, /watching/);
    first.child.kill('SIGKILL');
    await first.done;
    await killServer();
    await startServer();
    const started = Date.now();
    const second = rollout(['resume', 'flaky-b', ...POLICY]);
    const code = await second.done;
    const out = second.out();
    expect(out).toMatch(/resumes the rollout at watching/);
    expect(out).toMatch(/VERDICT: SUCCEEDED/);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(50_000); // not after the 60 s lease
  }, 120_000);

  it('a live holder is not taken over: resume says exactly when it can', async () => {
    await createLiveWithTwin(world(), 'flaky-c');
    const first = rollout(['start', 'flaky-c', ...POLICY, '--watch-ms=15000', '--lock-ttl-ms=60000']);
    await until(first, /watching/);
    const second = rollout(['resume', 'flaky-c']);
    expect(await second.done).toBe(2);
    expect(second.out()).toMatch(/its run's lease ends \d{4}-\d\d-\d\dT[\d:.]+Z, in \d+ s\)/);
    expect(second.out()).toMatch(
      /the lock can be taken over at \d{4}-\d\d-\d\dT[\d:.]+Z: run resume again then, or pass --wait/,
    );
    first.child.kill('SIGKILL');
    await first.done;
  }, 120_000);
});
