import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..');
/** Where the browser tests keep their screenshots (gitignored). */
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'ops');
/** Debian's chromium (installed by scripts/setup-test-env.sh, the root `pretest`). */
export const CHROMIUM = '/usr/bin/chromium';

/** What `npm start` printed: the server, the run's key and the console URL. */
export interface StartedSystem {
  endpoint: string;
  projectId: string;
  apiKey: string;
  consoleUrl: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Runs `npm start` (scripts/start.ts: local server, deploy, ops console, scenario) as the user would, in memory
 * and without rebuilding (the bundles must be built: `npm test` builds first), and resolves once the scenario has
 * finished and the schedules run.
 */
export async function startSystem(timeoutMs = 180_000): Promise<StartedSystem> {
  for (const fn of ['create-recognition', 'job-worker', 'quota-reset', 'deploy-orchestrator']) {
    if (!existsSync(join(ROOT, 'functions', fn, 'dist', 'main.js')))
      throw new Error(`functions/${fn}/dist is missing: run npm run build first`);
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      'scripts/start.ts',
      '--memory',
      '--no-build',
      '--ops-port',
      '0',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  const deadline = Date.now() + timeoutMs;
  while (!out.includes('Schedules are running')) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not finish its scenario in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const env = /export APPWRITE_ENDPOINT=(\S+) APPWRITE_PROJECT_ID=(\S+) APPWRITE_API_KEY=(\S+)/.exec(out);
  const consoleUrl = /ops console on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  if (!env || !consoleUrl) {
    await stop();
    throw new Error(`npm start did not print the endpoint and the console URL:\n${out}`);
  }
  return {
    endpoint: env[1]!,
    projectId: env[2]!,
    apiKey: env[3]!,
    consoleUrl,
    output: () => out,
    stop,
  };
}

/** Chromium (Debian's, no download) in a new empty profile, with the flags the project's tests use. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/setup-test-env.sh`);
  const profile = mkdtempSync(join(tmpdir(), 'ops-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
