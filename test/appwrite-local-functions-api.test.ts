/**
 * The local server's Functions API through the real node-appwrite SDK: functions and variables CRUD,
 * deployments (build, failure, activation rules, chunked upload, duplicate, delete), execution input
 * validation, list queries, and Appwrite's error types.
 */
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployFunction, packDirectory } from 'appwrite-local';
import { AppwriteException, Client, Query } from 'node-appwrite';
import { InputFile } from 'node-appwrite/file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFunction,
  deployFixture,
  fixtureDir,
  specProblems,
  startServer,
  type TestServer,
  waitForBuild,
  waitForExecution,
} from './appwrite-local-functions-helpers.ts';

let s: TestServer;

beforeAll(async () => {
  s = await startServer();
});

afterAll(async () => {
  await s.stop();
});

async function appwriteError(p: Promise<unknown>): Promise<{ code: number; type: string; message: string }> {
  const e = await p.then(
    () => {
      throw new Error('expected an AppwriteException');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppwriteException);
  const ae = e as AppwriteException;
  return { code: ae.code, type: ae.type, message: ae.message };
}

describe('functions', () => {
  it('creates, gets, lists, updates and deletes a function', async () => {
    const created = await createFunction(s, 'crud', { schedule: '*/5 * * * *', events: ['users.*.create'] });
    expect(created).toMatchObject({
      $id: 'crud',
      runtime: 'node-22',
      timeout: 5,
      enabled: true,
      deploymentId: '',
      live: true,
    });
    expect(await s.functions.get({ functionId: 'crud' })).toMatchObject({
      $id: 'crud',
      schedule: '*/5 * * * *',
    });
    const list = await s.functions.list({ queries: [Query.equal('name', ['crud'])] });
    expect(list.functions.map((f) => f.$id)).toEqual(['crud']);
    const updated = await s.functions.update({ functionId: 'crud', name: 'renamed', timeout: 30 });
    // PUT resets the settings it does not carry, as Appwrite's does.
    expect(updated).toMatchObject({ name: 'renamed', timeout: 30, schedule: '', events: [], entrypoint: '' });
    await s.functions.delete({ functionId: 'crud' });
    expect(await appwriteError(s.functions.get({ functionId: 'crud' }))).toMatchObject({
      code: 404,
      type: 'function_not_found',
    });
  });

  it('rejects bad input with Appwrite errors and stores nothing', async () => {
    await createFunction(s, 'dup');
    expect(await appwriteError(createFunction(s, 'dup'))).toMatchObject({
      code: 409,
      type: 'function_already_exists',
    });
    expect(await appwriteError(createFunction(s, '-bad'))).toMatchObject({
      code: 400,
      type: 'general_argument_invalid',
    });
    expect(await appwriteError(createFunction(s, 'py', { runtime: 'python-3.12' as never }))).toMatchObject({
      code: 404,
      type: 'function_runtime_unsupported',
    });
    expect(await appwriteError(createFunction(s, 'cron', { schedule: 'every minute' }))).toMatchObject({
      code: 400,
    });
    expect(await appwriteError(createFunction(s, 'slow', { timeout: 901 }))).toMatchObject({ code: 400 });
    const ids = (await s.functions.list()).functions.map((f) => f.$id);
    expect(ids).not.toContain('cron');
    expect(ids).not.toContain('slow');
  });
});

describe('variables', () => {
  it('stores variables, hides secret values and passes them to the function env', async () => {
    await createFunction(s, 'vars');
    const v = await s.functions.createVariable({
      functionId: 'vars',
      variableId: 'v1',
      key: 'FIXTURE_COLOR',
      value: 'blue',
    });
    expect(v).toMatchObject({
      $id: 'v1',
      key: 'FIXTURE_COLOR',
      value: 'blue',
      secret: false,
      resourceType: 'function',
      resourceId: 'vars',
    });
    await s.functions.createVariable({
      functionId: 'vars',
      variableId: 'v2',
      key: 'FIXTURE_SECRET',
      value: 's3',
      secret: true,
    });
    expect((await s.functions.getVariable({ functionId: 'vars', variableId: 'v2' })).value).toBe('');
    expect(
      await appwriteError(
        s.functions.createVariable({
          functionId: 'vars',
          variableId: 'v3',
          key: 'FIXTURE_COLOR',
          value: 'x',
        }),
      ),
    ).toMatchObject({ code: 409, type: 'variable_already_exists' });
    expect(
      await appwriteError(
        s.functions.updateVariable({ functionId: 'vars', variableId: 'v2', secret: false }),
      ),
    ).toMatchObject({ code: 400, type: 'variable_cannot_unset_secret' });
    await deployFixture(s, 'vars', 'basic');
    let env = JSON.parse((await s.functions.createExecution({ functionId: 'vars' })).responseBody).env;
    expect([env.FIXTURE_COLOR, env.FIXTURE_SECRET]).toEqual(['blue', 's3']);
    await s.functions.updateVariable({
      functionId: 'vars',
      variableId: 'v1',
      key: 'FIXTURE_COLOR',
      value: 'green',
    });
    env = JSON.parse((await s.functions.createExecution({ functionId: 'vars' })).responseBody).env;
    expect(env.FIXTURE_COLOR).toBe('green');
    await s.functions.deleteVariable({ functionId: 'vars', variableId: 'v1' });
    expect((await s.functions.listVariables({ functionId: 'vars' })).variables.map((x) => x.key)).toEqual([
      'FIXTURE_SECRET',
    ]);
    expect(
      await appwriteError(s.functions.getVariable({ functionId: 'vars', variableId: 'v1' })),
    ).toMatchObject({
      code: 404,
      type: 'variable_not_found',
    });
  });
});

describe('deployments', () => {
  it('moves waiting → ready and auto-activates only with activate:true', async () => {
    await createFunction(s, 'deps');
    const inactive = await deployFixture(s, 'deps', 'basic', { activate: false });
    expect(inactive.status).toBe('ready');
    expect((await s.functions.get({ functionId: 'deps' })).deploymentId).toBe('');
    expect(await appwriteError(s.functions.createExecution({ functionId: 'deps' }))).toMatchObject({
      code: 404,
      type: 'deployment_not_found',
    });
    const active = await deployFixture(s, 'deps', 'basic');
    const fn = await s.functions.get({ functionId: 'deps' });
    expect(fn).toMatchObject({
      deploymentId: active.$id,
      latestDeploymentId: active.$id,
      latestDeploymentStatus: 'ready',
    });
  });

  it('switches executions to the activated deployment (blue-green)', async () => {
    await createFunction(s, 'bg');
    const blue = await deployFixture(s, 'bg', 'basic');
    const green = await deployFixture(s, 'bg', 'basic', { activate: false });
    const onBlue = await s.functions.createExecution({ functionId: 'bg' });
    expect(onBlue.deploymentId).toBe(blue.$id);
    expect(JSON.parse(onBlue.responseBody).env.APPWRITE_FUNCTION_DEPLOYMENT).toBe(blue.$id);
    const fn = await s.functions.updateFunctionDeployment({ functionId: 'bg', deploymentId: green.$id });
    expect(fn.deploymentId).toBe(green.$id);
    const onGreen = await s.functions.createExecution({ functionId: 'bg' });
    expect(onGreen.deploymentId).toBe(green.$id);
    expect(JSON.parse(onGreen.responseBody).env.APPWRITE_FUNCTION_DEPLOYMENT).toBe(green.$id);
    // Rollback is activating the old one again.
    await s.functions.updateFunctionDeployment({ functionId: 'bg', deploymentId: blue.$id });
    expect((await s.functions.createExecution({ functionId: 'bg' })).deploymentId).toBe(blue.$id);
  });

  it('fails a build whose entrypoint is missing, keeps the active one and refuses to activate it', async () => {
    await createFunction(s, 'broken');
    const good = await deployFixture(s, 'broken', 'basic');
    const error = await deployFixture(s, 'broken', 'broken').catch((e: Error) => e);
    expect(String(error)).toContain('Entrypoint "main.js" was not found');
    const deployments = await s.functions.listDeployments({
      functionId: 'broken',
      queries: [Query.equal('status', ['failed'])],
    });
    expect(deployments.total).toBe(1);
    const failed = deployments.deployments[0]!;
    expect(failed.buildLogs).toContain('Build failed');
    expect((await s.functions.get({ functionId: 'broken' })).deploymentId).toBe(good.$id);
    expect(
      await appwriteError(
        s.functions.updateFunctionDeployment({ functionId: 'broken', deploymentId: failed.$id }),
      ),
    ).toMatchObject({ code: 400, type: 'build_not_ready' });
  });

  it('runs build commands with bash and fails the build when they fail', async () => {
    await createFunction(s, 'built', { entrypoint: 'out/main.js' });
    const ok = await deployFixture(s, 'built', 'basic', {
      commands: 'mkdir -p out && cp main.js out/main.js && echo built-ok',
    });
    expect(ok.buildLogs).toContain('built-ok');
    expect((await s.functions.createExecution({ functionId: 'built' })).responseStatusCode).toBe(200);
    const error = await deployFixture(s, 'built', 'basic', { commands: 'echo nope >&2; exit 3' }).catch(
      (e: Error) => e,
    );
    expect(String(error)).toContain('exited with code 3');
    expect(String(error)).toContain('nope');
    expect((await s.functions.get({ functionId: 'built' })).deploymentId).toBe(ok.$id);
  });

  it('uploads archives over the chunk size in chunks, as the SDK does for files over 5 MB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l2-chunked-'));
    try {
      writeFileSync(join(dir, 'main.js'), 'module.exports = async ({ res }) => res.text("big");\n');
      mkdirSync(join(dir, 'assets'));
      // Random bytes do not compress: the archive stays > 6 MB, so the SDK sends two chunks.
      writeFileSync(join(dir, 'assets', 'blob.bin'), randomFillSync(Buffer.alloc(6 * 1024 * 1024)));
      await createFunction(s, 'chunked');
      const dep = await deployFunction({
        endpoint: s.endpoint,
        projectId: s.projectId,
        apiKey: s.apiKey,
        functionId: 'chunked',
        dir,
      });
      expect(dep.sourceSize).toBeGreaterThan(Client.CHUNK_SIZE);
      expect(dep.status).toBe('ready');
      expect((await s.functions.createExecution({ functionId: 'chunked' })).responseBody).toBe('big');
      const listed = await s.functions.listDeployments({ functionId: 'chunked' });
      expect(listed.total).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('assembles chunks the SDK sends 8 at a time into the exact archive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l2-parallel-'));
    const chunkSize = Client.CHUNK_SIZE;
    try {
      writeFileSync(join(dir, 'main.js'), 'module.exports = async ({ res }) => res.text("parallel");\n');
      writeFileSync(join(dir, 'noise.bin'), randomFillSync(Buffer.alloc(700 * 1024)));
      await createFunction(s, 'parallel');
      const archive = await packDirectory(dir);
      // Small chunks: ~12 requests, up to 8 in flight at once, arriving in any order.
      Client.CHUNK_SIZE = 64 * 1024;
      const created = await s.functions.createDeployment({
        functionId: 'parallel',
        code: InputFile.fromBuffer(new Uint8Array(archive), 'code.tar.gz'),
        activate: true,
      });
      Client.CHUNK_SIZE = chunkSize;
      const dep = await waitForBuild(s, 'parallel', created.$id);
      expect(dep.status).toBe('ready');
      expect(dep.sourceSize).toBe(archive.length);
      const downloaded = await fetch(`${s.endpoint}/functions/parallel/deployments/${dep.$id}/download`, {
        headers: { 'x-appwrite-project': s.projectId, 'x-appwrite-key': s.apiKey },
      });
      expect(Buffer.from(await downloaded.arrayBuffer()).equals(archive)).toBe(true);
      expect((await s.functions.createExecution({ functionId: 'parallel' })).responseBody).toBe('parallel');
    } finally {
      Client.CHUNK_SIZE = chunkSize;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('duplicates a deployment (rebuild of the same code) and deletes deployments', async () => {
    await createFunction(s, 'dupdep');
    const first = await deployFixture(s, 'dupdep', 'basic');
    const copy = await s.functions.createDuplicateDeployment({
      functionId: 'dupdep',
      deploymentId: first.$id,
    });
    expect(copy.$id).not.toBe(first.$id);
    expect((await waitForBuild(s, 'dupdep', copy.$id)).status).toBe('ready');
    // The copy keeps the original's activate flag, and is newer: it becomes the active one.
    expect((await s.functions.get({ functionId: 'dupdep' })).deploymentId).toBe(copy.$id);
    await s.functions.deleteDeployment({ functionId: 'dupdep', deploymentId: first.$id });
    expect(
      await appwriteError(s.functions.getDeployment({ functionId: 'dupdep', deploymentId: first.$id })),
    ).toMatchObject({ code: 404, type: 'deployment_not_found' });
    // Deleting the active deployment leaves the function without one.
    await s.functions.deleteDeployment({ functionId: 'dupdep', deploymentId: copy.$id });
    expect((await s.functions.get({ functionId: 'dupdep' })).deploymentId).toBe('');
    expect((await s.functions.listDeployments({ functionId: 'dupdep' })).total).toBe(0);
  });

  it('rejects an upload without code', async () => {
    await createFunction(s, 'nocode');
    const res = await fetch(`${s.endpoint}/functions/nocode/deployments`, {
      method: 'POST',
      headers: { 'x-appwrite-project': s.projectId, 'x-appwrite-key': s.apiKey },
      body: (() => {
        const form = new FormData();
        form.set('activate', 'true');
        return form;
      })(),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 400, type: 'storage_file_empty' });
    expect((await s.functions.listDeployments({ functionId: 'nocode' })).total).toBe(0);
  });
});

describe('execution input', () => {
  beforeAll(async () => {
    await createFunction(s, 'input');
    await deployFixture(s, 'input', 'basic');
  });

  it('rejects reserved and malformed header names', async () => {
    expect(
      await appwriteError(
        s.functions.createExecution({ functionId: 'input', headers: { 'x-appwrite-user-id': 'u1' } }),
      ),
    ).toMatchObject({ code: 400, type: 'general_argument_invalid' });
    expect(
      await appwriteError(s.functions.createExecution({ functionId: 'input', headers: { 'bad key': 'v' } })),
    ).toMatchObject({ code: 400 });
  });

  it('rejects an unknown method and a missing function', async () => {
    expect(
      await appwriteError(s.functions.createExecution({ functionId: 'input', method: 'TRACE' as never })),
    ).toMatchObject({
      code: 400,
    });
    expect(await appwriteError(s.functions.createExecution({ functionId: 'nope' }))).toMatchObject({
      code: 404,
      type: 'function_not_found',
    });
  });

  it('validates scheduledAt: async only, ≥ 1 minute ahead, minute precision', async () => {
    const nextMinutes = (n: number) =>
      new Date(Math.ceil(Date.now() / 60_000) * 60_000 + n * 60_000).toISOString();
    expect(
      await appwriteError(s.functions.createExecution({ functionId: 'input', scheduledAt: nextMinutes(3) })),
    ).toMatchObject({ code: 400 });
    expect(
      await appwriteError(
        s.functions.createExecution({
          functionId: 'input',
          async: true,
          scheduledAt: new Date(Date.now() - 120_000).toISOString(),
        }),
      ),
    ).toMatchObject({ code: 400 });
    expect(
      await appwriteError(
        s.functions.createExecution({
          functionId: 'input',
          async: true,
          scheduledAt: new Date(Date.parse(nextMinutes(3)) + 1500).toISOString(),
        }),
      ),
    ).toMatchObject({ code: 400 });
    const before = (await s.functions.listExecutions({ functionId: 'input' })).total;
    expect(before).toBe(0);
  });

  it('lists executions with queries', async () => {
    const a = await s.functions.createExecution({ functionId: 'input', xpath: '/status?code=404' });
    const b = await s.functions.createExecution({ functionId: 'input', xpath: '/throw' });
    const failed = await s.functions.listExecutions({
      functionId: 'input',
      queries: [Query.equal('status', ['failed'])],
    });
    expect(failed.executions.map((e) => e.$id)).toEqual([b.$id]);
    const by404 = await s.functions.listExecutions({
      functionId: 'input',
      queries: [Query.equal('responseStatusCode', [404])],
    });
    expect(by404.executions.map((e) => e.$id)).toEqual([a.$id]);
    const newest = await s.functions.listExecutions({
      functionId: 'input',
      queries: [Query.orderDesc('$createdAt'), Query.limit(1)],
    });
    expect(newest.total).toBe(2);
    expect(newest.executions.map((e) => e.$id)).toEqual([b.$id]);
    expect(
      await appwriteError(
        s.functions.listExecutions({ functionId: 'input', queries: [Query.equal('nope', ['x'])] }),
      ),
    ).toMatchObject({ code: 400, type: 'general_query_invalid' });
  });
});

describe('configuration and restarts', () => {
  it('creates the functions appwrite.json lists, without deployments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'l2-config-'));
    const config = join(dir, 'appwrite.json');
    writeFileSync(
      config,
      JSON.stringify({
        projectId: 'test',
        functions: [
          {
            $id: 'from-config',
            name: 'From config',
            runtime: 'node-22',
            entrypoint: 'main.js',
            schedule: '0 * * * *',
            timeout: 42,
            scopes: ['rows.read'],
            path: 'x',
          },
        ],
      }),
    );
    const server = await startServer({ config });
    try {
      const fn = await server.functions.get({ functionId: 'from-config' });
      expect(fn).toMatchObject({
        name: 'From config',
        schedule: '0 * * * *',
        timeout: 42,
        scopes: ['rows.read'],
        deploymentId: '',
      });
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps functions, deployments, code and scheduled executions across a restart of a data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'l2-data-'));
    try {
      const first = await startServer({ dataDir });
      await createFunction(first, 'durable');
      const dep = await deployFixture(first, 'durable', 'basic');
      const when = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 3 * 60_000);
      const scheduled = await first.functions.createExecution({
        functionId: 'durable',
        async: true,
        scheduledAt: when.toISOString(),
      });
      await first.stop();

      const second = await startServer({ dataDir });
      try {
        expect((await second.functions.get({ functionId: 'durable' })).deploymentId).toBe(dep.$id);
        const e = await second.functions.createExecution({ functionId: 'durable', xpath: '/echo' });
        expect([e.status, e.deploymentId]).toEqual(['completed', dep.$id]);
        expect(second.module.tick(when).map((x) => x.$id)).toContain(scheduled.$id);
        expect((await waitForExecution(second, 'durable', scheduled.$id)).status).toBe('completed');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

it('uses the fixture directory it claims to', () => {
  expect(fixtureDir('basic')).toMatch(/test\/fixtures\/functions\/basic$/);
});

it('answers in the shapes of the OpenAPI spec', () => {
  expect(specProblems(s)).toEqual([]);
});
