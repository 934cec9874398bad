/**
 * The real appwrite-cli 12 against the local server: `appwrite push functions` updates a function from
 * appwrite.json, uploads its code as a deployment, waits for the build and reads the proxy rules; the pushed
 * code then executes. The CLI runs with its own HOME and a copy of the config in a temp dir (it writes both).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixtureDir, startServer, type TestServer } from './appwrite-local-functions-helpers.ts';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'node_modules', '.bin', 'appwrite');
let dir: string;
let s: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'l2-cli-'));
  mkdirSync(join(dir, 'home'));
  cpSync(fixtureDir('basic'), join(dir, 'project', 'fn'), { recursive: true });
  const config = join(dir, 'project', 'appwrite.json');
  const fn = {
    $id: 'clifn',
    name: 'clifn',
    runtime: 'node-22',
    execute: [],
    events: [],
    schedule: '',
    timeout: 15,
  };
  writeFileSync(
    config,
    JSON.stringify({
      projectId: 'test',
      functions: [
        { ...fn, enabled: true, logging: true, entrypoint: 'main.js', commands: '', path: 'fn', scopes: [] },
      ],
    }),
  );
  // Provisioning creates the function: with a key only, the CLI cannot create one (platform notes §B5).
  s = await startServer({ config });
});

afterAll(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI asynchronously (the server shares this process's event loop). */
async function appwrite(args: string[]): Promise<string> {
  const env = { ...process.env, HOME: join(dir, 'home'), NO_COLOR: '1', CI: '1' };
  const { stdout, stderr } = await run(cli, args, { cwd: join(dir, 'project'), env, timeout: 90_000 });
  return stdout + stderr;
}

it('pushes a function with appwrite push functions, and the pushed code runs', async () => {
  await appwrite(['client', '--endpoint', s.endpoint, '--project-id', s.projectId, '--key', s.apiKey]);
  const output = await appwrite(['push', 'functions', '--all', '--force']);
  expect(output).not.toContain('Error');
  const fn = await s.functions.get({ functionId: 'clifn' });
  expect(fn.deploymentId).not.toBe('');
  const deployment = await s.functions.getDeployment({ functionId: 'clifn', deploymentId: fn.deploymentId });
  expect(deployment).toMatchObject({ status: 'ready', activate: true, entrypoint: 'main.js' });
  const e = await s.functions.createExecution({ functionId: 'clifn', xpath: '/echo' });
  expect(JSON.parse(e.responseBody).env.APPWRITE_FUNCTION_DEPLOYMENT).toBe(fn.deploymentId);
}, 120_000);
