/**
 * `npm run doctor` against the local Appwrite: a fully deployed project (appwrite.json provisioned, then
 * `deploy` with the built bundles) passes every check; then one thing at a time is broken (and repaired) and
 * the matching line turns `!` (exit 0) or `✗` (exit 1). The CLI itself is run once for `--json` and the exit code.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type AppwriteLocal, deployFunction, startAppwriteLocal } from 'appwrite-local';
import { Client, Functions, TablesDB } from 'node-appwrite';
import { allTables, DATABASE_ID, stableId } from 'resilience-core';
import { provisionSchema } from 'resilience-core/adapters/appwrite';
import { CIRCUIT_BREAKERS_TABLE } from 'resilience-core/circuit-breaker';
import { LOCKS_TABLE, ROLLOUTS_TABLE } from 'resilience-core/deployment';
import { JOB_TABLES } from 'resilience-core/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions as declared } from '../scripts/appwrite-config.ts';
// @ts-expect-error — plain .mjs build script without type declarations
import { buildFunction } from '../scripts/build-function.mjs';
import { deploy, functionSettings } from '../scripts/deploy.ts';
import { type DoctorReport, formatDoctorReport, runDoctor } from '../scripts/doctor.ts';
import { DEPLOY_FIXTURES } from './deploy-helpers.ts';

const root = path.resolve(import.meta.dirname, '..');
const KEY = 'doctor-secret-key-0123456789';
const LIMITED_KEY = 'doctor-limited-key';
const NO_FUNCTIONS_KEY = 'doctor-no-functions-key';
let server: AppwriteLocal;
let client: Client;
let fns: Functions;
let db: TablesDB;

const WEBHOOKS = {
  NOTIFY_SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/slack-hook-value',
  NOTIFY_TEAMS_WEBHOOK_URL: 'http://127.0.0.1:9/teams-hook-value',
};

beforeAll(async () => {
  for (const fn of declared) {
    if (!existsSync(path.join(root, fn.path, 'dist', 'main.js')))
      await buildFunction(path.join(root, fn.path));
  }
  server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'doctor',
    apiKey: KEY,
    config: path.join(root, 'appwrite.json'),
    keys: [
      {
        secret: LIMITED_KEY,
        // Everything the doctor reads, but not execution.write (the /health executions) nor rows.read.
        scopes: [
          'databases.read',
          'tables.read',
          'columns.read',
          'indexes.read',
          'functions.read',
          'execution.read',
        ],
      },
      { secret: NO_FUNCTIONS_KEY, scopes: ['databases.read', 'tables.read', 'rows.read'] },
    ],
  });
  client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(KEY);
  fns = new Functions(client);
  db = new TablesDB(client);
  await deploy({
    endpoint: server.endpoint,
    projectId: server.projectId,
    key: KEY,
    build: false,
    env: WEBHOOKS,
    out: () => {},
    pollMs: 50,
    schemaPollMs: 20,
    buildTimeoutMs: 60_000,
  });
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

const doctor = (extra: { execute?: boolean; now?: () => number; key?: string } = {}): Promise<DoctorReport> =>
  runDoctor({
    endpoint: server.endpoint,
    projectId: server.projectId,
    key: extra.key ?? KEY,
    execute: extra.execute ?? false,
    ...(extra.now ? { now: extra.now } : {}),
  });

const line = (report: DoctorReport, id: string) => {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in:\n${formatDoctorReport(report).join('\n')}`);
  return found;
};
const notOk = (report: DoctorReport) => report.checks.filter((c) => c.status !== 'ok');

describe('npm run doctor', () => {
  it('passes every check on a fully deployed project, with a bounded number of API calls', async () => {
    const report = await doctor({ execute: true });
    const text = formatDoctorReport(report);
    expect(notOk(report), text.join('\n')).toEqual([]);
    expect(report.exitCode).toBe(0);
    // One line per table, three per function (settings, deployment, health), the twin rule, three variable
    // lines, six operations, connection and scopes.
    // (+1: the counters line)
    expect(report.checks.filter((c) => c.area === 'schema')).toHaveLength(allTables.length + 2);
    expect(report.checks.filter((c) => c.id.endsWith('.health'))).toHaveLength(declared.length);
    for (const fn of declared) {
      const remote = await fns.get({ functionId: fn.$id });
      expect(line(report, `function.${fn.$id}.health`).message).toContain(remote.deploymentId);
    }
    // 1 version + 1 function list + (1 + tables) schema + one NULL check per counter column + per function
    // (deployment + execution) + 3 variable lists + 5 row lists + 1 execution list.
    const counters = allTables.flatMap((t) => t.columns.filter((c) => c.counter)).length;
    expect(line(report, 'schema.counters').message).toBe(
      `counters: no NULL in ${counters} counter column(s)`,
    );
    expect(report.calls.total).toBe(2 + (1 + allTables.length) + counters + 2 * declared.length + 3 + 5 + 1);
    expect(text.at(-1)).toMatch(
      /^✓ \d+ ok, 0 warning\(s\), 0 failure\(s\) — \d+ API calls \(GET \d+, POST 7\)$/,
    );
    expect(JSON.stringify(report)).not.toContain(KEY);
    expect(JSON.stringify(report)).not.toContain('hook-value');
  }, 60_000);

  it('warns about an isolated circuit breaker (exit 0)', async () => {
    const id = stableId('cb', 'slack');
    const now = Date.now();
    await db.createRow({
      databaseId: DATABASE_ID,
      tableId: CIRCUIT_BREAKERS_TABLE,
      rowId: id,
      data: {
        name: 'slack',
        scope: null,
        state: 'OPEN',
        version: 1,
        changedAt: now,
        openUntil: null,
        isolated: true,
        reopenCount: 0,
        reason: 'isolated by an operator',
      },
    });
    await db.createRow({
      databaseId: DATABASE_ID,
      tableId: CIRCUIT_BREAKERS_TABLE,
      rowId: stableId('cb', 'teams'),
      data: {
        name: 'teams',
        scope: null,
        state: 'OPEN',
        version: 3,
        changedAt: now,
        openUntil: now + 60_000,
      },
    });
    try {
      const report = await doctor();
      expect(notOk(report).map((c) => c.id)).toEqual(['ops.circuit-breakers']);
      const breakers = line(report, 'ops.circuit-breakers');
      expect(breakers.status).toBe('warn');
      expect(breakers.message).toContain('slack (isolated)');
      expect(breakers.message).toMatch(/teams \(OPEN, \d+ s left\)/);
      expect(report.exitCode).toBe(0);
    } finally {
      await db.deleteRow({ databaseId: DATABASE_ID, tableId: CIRCUIT_BREAKERS_TABLE, rowId: id });
      await db.deleteRow({
        databaseId: DATABASE_ID,
        tableId: CIRCUIT_BREAKERS_TABLE,
        rowId: stableId('cb', 'teams'),
      });
    }
  });

  const job = (status: string, runAt: number) => ({
    orgId: 'org-doctor',
    type: 'generate-export',
    payload: '{}',
    status,
    runAt,
    enqueuedAt: runAt,
    history: '[]',
  });

  it('warns about dead-letter jobs (exit 0)', async () => {
    const rowId = 'doctor-dead-letter';
    await db.createRow({
      databaseId: DATABASE_ID,
      tableId: JOB_TABLES.queue,
      rowId,
      data: job('DEAD_LETTER', Date.now()),
    });
    try {
      const report = await doctor();
      expect(notOk(report).map((c) => c.id)).toEqual(['ops.dead-letter']);
      expect(line(report, 'ops.dead-letter').message).toContain('1 DEAD_LETTER job(s)');
      expect(report.exitCode).toBe(0);
    } finally {
      await db.deleteRow({ databaseId: DATABASE_ID, tableId: JOB_TABLES.queue, rowId });
    }
  });

  it('fails when a job has been due for more than 5 minutes (the worker is not draining)', async () => {
    // Due in an hour (the local job-worker leaves it alone); the doctor looks from two hours ahead.
    const rowId = 'doctor-stale-job';
    const runAt = Date.now() + 3_600_000;
    await db.createRow({
      databaseId: DATABASE_ID,
      tableId: JOB_TABLES.queue,
      rowId,
      data: job('PENDING', runAt),
    });
    try {
      const report = await doctor({ now: () => runAt + 3_600_000 });
      const stale = line(report, 'ops.due-jobs');
      expect(stale.status).toBe('fail');
      expect(stale.message).toMatch(
        /1 job\(s\) due for more than 5 min, oldest doctor-stale-job \(generate-export\) due 60 min ago/,
      );
      expect(notOk(report).map((c) => c.id)).toEqual(['ops.due-jobs']);
      expect(report.exitCode).toBe(1);
      // Four minutes late: not yet a failure.
      expect(line(await doctor({ now: () => runAt + 240_000 }), 'ops.due-jobs').status).toBe('ok');
    } finally {
      await db.deleteRow({ databaseId: DATABASE_ID, tableId: JOB_TABLES.queue, rowId });
    }
  });

  it('warns about a held rollout lock (exit 0)', async () => {
    const rowId = stableId('lock', 'job-worker');
    await db.createRow({
      databaseId: DATABASE_ID,
      tableId: LOCKS_TABLE,
      rowId,
      data: {
        functionId: 'job-worker',
        rolloutId: 'r1',
        owner: 'deploy-1234',
        expiresAt: Date.now() - 60_000,
        version: 1,
      },
    });
    try {
      const report = await doctor();
      expect(notOk(report).map((c) => c.id)).toEqual(['ops.rollout-locks']);
      expect(line(report, 'ops.rollout-locks').message).toMatch(
        /job-worker by deploy-1234 \(expired \d+ s ago\)/,
      );
      expect(report.exitCode).toBe(0);
    } finally {
      await db.deleteRow({ databaseId: DATABASE_ID, tableId: LOCKS_TABLE, rowId });
    }
  });

  it('warns when a webhook variable is missing (notifications off), never showing values', async () => {
    const { variables } = await fns.listVariables({ functionId: 'job-worker' });
    const teams = variables.find((v) => v.key === 'NOTIFY_TEAMS_WEBHOOK_URL')!;
    await fns.deleteVariable({ functionId: 'job-worker', variableId: teams.$id });
    try {
      const report = await doctor();
      const vars = line(report, 'variables.job-worker');
      expect(vars.status).toBe('warn');
      expect(vars.message).toBe(
        'job-worker: NOTIFY_TEAMS_WEBHOOK_URL not set: notifications off on that channel (1/2 set)',
      );
      expect(notOk(report)).toHaveLength(1);
      expect(report.exitCode).toBe(0);
    } finally {
      await fns.createVariable({
        functionId: 'job-worker',
        variableId: teams.$id,
        key: teams.key,
        value: WEBHOOKS.NOTIFY_TEAMS_WEBHOOK_URL,
        secret: true,
      });
    }
  });

  it('fails on a deleted column and a deleted index, and passes again once deploy recreates them', async () => {
    await db.deleteColumn({ databaseId: DATABASE_ID, tableId: JOB_TABLES.schedules, key: 'timezone' });
    await db.deleteIndex({ databaseId: DATABASE_ID, tableId: JOB_TABLES.exports, key: 'age' });
    const report = await doctor();
    expect(line(report, `schema.${JOB_TABLES.schedules}`)).toMatchObject({
      status: 'fail',
      message: `table ${JOB_TABLES.schedules}: missing columns timezone`,
    });
    expect(line(report, `schema.${JOB_TABLES.exports}`)).toMatchObject({
      status: 'fail',
      message: `table ${JOB_TABLES.exports}: missing indexes age`,
    });
    expect(notOk(report)).toHaveLength(2);
    expect(report.exitCode).toBe(1);
    await provisionSchema({ client, tables: allTables, pollIntervalMs: 20 });
    expect(notOk(await doctor())).toEqual([]);
  });

  it('fails on a counter holding NULL (increments of it count nothing), and passes once deploy backfills it', async () => {
    await db.createRow({
      databaseId: DATABASE_ID,
      tableId: 'quota-usage',
      rowId: 'null-reserved',
      data: {
        orgId: 'acme',
        quotaType: 'recognitions_per_day',
        windowKey: '2026-01-01',
        timeZone: 'UTC',
        used: 0,
      },
    });
    // Appwrite leaves NULL in the rows of a column added to a populated table (platform notes §F2; an update
    // re-encodes with defaults, so re-adding the column is the faithful way to get one).
    await db.deleteColumn({ databaseId: DATABASE_ID, tableId: 'quota-usage', key: 'reserved' });
    await db.createIntegerColumn({
      databaseId: DATABASE_ID,
      tableId: 'quota-usage',
      key: 'reserved',
      required: false,
      min: 0,
      xdefault: 0,
    });
    const report = await doctor();
    expect(line(report, 'schema.counters')).toMatchObject({
      status: 'fail',
      message:
        'counters hold NULL (increments of NULL count nothing): quota-usage.reserved in 1 row(s): run npm run ' +
        'deploy (it backfills them)',
    });
    expect(notOk(report)).toHaveLength(1);
    const provisioned = await provisionSchema({ client, tables: allTables, pollIntervalMs: 20 });
    expect(provisioned.backfilled).toEqual({ 'quota-usage.reserved': 1 });
    expect(notOk(await doctor())).toEqual([]);
    await db.deleteRow({ databaseId: DATABASE_ID, tableId: 'quota-usage', rowId: 'null-reserved' });
  });

  it('fails on an incompatible column type', async () => {
    await db.deleteColumn({ databaseId: DATABASE_ID, tableId: JOB_TABLES.schedules, key: 'timezone' });
    await db.createIntegerColumn({
      databaseId: DATABASE_ID,
      tableId: JOB_TABLES.schedules,
      key: 'timezone',
      required: false,
    });
    try {
      const report = await doctor();
      const schedules = line(report, `schema.${JOB_TABLES.schedules}`);
      expect(schedules.status).toBe('fail');
      expect(schedules.message).toContain('timezone: incompatible, type integer → string');
      expect(report.exitCode).toBe(1);
    } finally {
      await db.deleteColumn({ databaseId: DATABASE_ID, tableId: JOB_TABLES.schedules, key: 'timezone' });
      await provisionSchema({ client, tables: allTables, pollIntervalMs: 20 });
    }
  });

  it('fails on a standby twin with a schedule, and on a changed live setting', async () => {
    const twin = declared.find((f) => f.$id === 'job-worker-standby')!;
    const live = declared.find((f) => f.$id === 'quota-reset')!;
    const settings = (fn: typeof twin, extra: Record<string, unknown>) => ({
      ...functionSettings(fn),
      ...extra,
    });
    await fns.update(settings(twin, { schedule: '* * * * *' }));
    await fns.update(settings(live, { timeout: 30 }));
    try {
      const report = await doctor();
      expect(line(report, 'function.job-worker-standby')).toMatchObject({ area: 'twins', status: 'fail' });
      expect(line(report, 'function.job-worker-standby').message).toContain(
        'standby twin job-worker-standby has schedule "* * * * *"',
      );
      expect(line(report, 'function.quota-reset')).toMatchObject({
        status: 'fail',
        message: 'quota-reset: timeout differ from appwrite.json: run npm run deploy',
      });
      expect(notOk(report)).toHaveLength(2);
      expect(report.exitCode).toBe(1);
    } finally {
      await fns.update(settings(twin, {}));
      await fns.update(settings(live, {}));
    }
  });

  it('warns about a twin of deploy-orchestrator', async () => {
    await fns.create({
      functionId: 'deploy-orchestrator-standby',
      name: 'deploy-orchestrator-standby',
      runtime: 'node-22' as never,
      execute: [],
    });
    try {
      const report = await doctor();
      expect(line(report, 'twins.no-orchestrator-twin')).toMatchObject({ status: 'warn' });
      expect(line(report, 'twins.no-orchestrator-twin').message).toContain('deploy-orchestrator-standby');
      expect(report.exitCode).toBe(0);
    } finally {
      await fns.delete({ functionId: 'deploy-orchestrator-standby' });
    }
  });

  it('warns about an unfinished rollout (exit 0)', async () => {
    const rowId = 'doctor-rollout';
    await db.createRow({
      databaseId: DATABASE_ID,
      tableId: ROLLOUTS_TABLE,
      rowId,
      data: {
        functionId: 'create-recognition',
        status: 'watching',
        skipHealthCheck: false,
        autoRollback: true,
        policy: '{}',
        startedAt: Date.now(),
      },
    });
    try {
      const report = await doctor();
      expect(notOk(report).map((c) => c.id)).toEqual(['ops.rollouts']);
      expect(line(report, 'ops.rollouts').message).toContain(
        '1 unfinished: create-recognition doctor-rollout (watching)',
      );
      expect(report.exitCode).toBe(0);
    } finally {
      await db.deleteRow({ databaseId: DATABASE_ID, tableId: ROLLOUTS_TABLE, rowId });
    }
  });

  it('warns when quota-reset has had no scheduled run for more than 26 h', async () => {
    const report = await doctor({ now: () => Date.now() + 27 * 3_600_000 });
    expect(line(report, 'ops.quota-reset')).toMatchObject({ status: 'warn' });
    expect(line(report, 'ops.quota-reset').message).toMatch(
      /no scheduled execution, the function exists for 1\.1 d|27\.\d h/,
    );
    expect(report.exitCode).toBe(0);
  });

  it('fails when a function answers GET /health with 503', async () => {
    const before = await fns.get({ functionId: 'job-worker-standby' });
    const bad = await deployFunction({
      endpoint: server.endpoint,
      projectId: server.projectId,
      apiKey: KEY,
      functionId: 'job-worker-standby',
      dir: path.join(DEPLOY_FIXTURES, 'bad-health'),
      entrypoint: 'index.js',
      commands: '',
      pollMs: 20,
    });
    try {
      const report = await doctor({ execute: true });
      expect(line(report, 'function.job-worker-standby.health')).toMatchObject({ status: 'fail' });
      expect(line(report, 'function.job-worker-standby.health').message).toMatch(
        /^job-worker-standby: GET \/health answered 503 \(execution \w+, failed\)$/,
      );
      expect(line(report, 'function.job-worker-standby.deployment').message).toContain(bad.$id);
      expect(notOk(report)).toHaveLength(1);
      expect(report.exitCode).toBe(1);
    } finally {
      await fns.updateFunctionDeployment({ functionId: before.$id, deploymentId: before.deploymentId });
    }
  }, 60_000);

  it('names the scopes a limited key lacks', async () => {
    const report = await doctor({ key: LIMITED_KEY, execute: true });
    expect(line(report, 'connection')).toMatchObject({ status: 'ok' });
    expect(line(report, 'connection.scopes')).toMatchObject({
      status: 'fail',
      message: 'the key lacks scope(s) execution.write, rows.read: add them to the API key',
    });
    expect(line(report, 'function.job-worker.health').message).toContain(
      'the key lacks scope execution.write',
    );
    expect(report.checks[1]!.id).toBe('connection.scopes');
    expect(report.exitCode).toBe(1);
  });

  it('without functions.read, says so once and skips the function checks', async () => {
    const report = await doctor({ key: NO_FUNCTIONS_KEY });
    expect(line(report, 'connection.scopes').message).toBe(
      'the key lacks scope(s) functions.read: add them to the API key',
    );
    expect(line(report, 'functions')).toMatchObject({
      status: 'fail',
      message: 'functions: not checked, the key lacks scope functions.read',
    });
    expect(report.checks.filter((c) => c.id.startsWith('function.'))).toEqual([]);
    expect(line(report, 'ops.dead-letter').status).toBe('ok');
    expect(report.exitCode).toBe(1);
  });

  it('fails on a refused key and stops there', async () => {
    const report = await doctor({ key: 'not-a-key' });
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]!.status).toBe('fail');
    expect(report.checks[0]!.message).toContain('the key was refused');
    expect(report.checks[0]!.message).not.toContain('not-a-key');
    expect(report.exitCode).toBe(1);
  });

  it('the CLI prints --json and exits 1 on a missing function and a deployment-less twin; never the key', async () => {
    const twin = await fns.get({ functionId: 'quota-reset-standby' });
    await fns.deleteDeployment({ functionId: twin.$id, deploymentId: twin.deploymentId });
    await fns.delete({ functionId: 'deploy-orchestrator' });
    const env = {
      ...process.env,
      APPWRITE_ENDPOINT: server.endpoint,
      APPWRITE_PROJECT_ID: server.projectId,
      APPWRITE_API_KEY: KEY,
    };
    // Asynchronously: the server lives in this process, a blocking spawn would starve it.
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', path.join(root, 'scripts', 'doctor.ts'), ...args],
          { env, encoding: 'utf8', cwd: root, timeout: 60_000 },
          (error, stdout, stderr) =>
            resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
      });
    const cli = await run('--json', '--no-exec');
    expect(cli.status, cli.stderr).toBe(1);
    expect(cli.stdout).not.toContain(KEY);
    const report = JSON.parse(cli.stdout) as DoctorReport;
    expect(report.exitCode).toBe(1);
    const failures = report.checks.filter((c) => c.status === 'fail');
    expect(failures.map((c) => c.id).sort()).toEqual([
      'function.deploy-orchestrator',
      'function.quota-reset-standby.deployment',
    ]);
    expect(failures.find((c) => c.id === 'function.deploy-orchestrator')!.message).toBe(
      'function deploy-orchestrator is missing: run npm run deploy',
    );
    expect(failures.find((c) => c.id.endsWith('.deployment'))!.message).toBe(
      'quota-reset-standby: no active deployment: run npm run deploy',
    );
    const text = await run('--no-exec');
    expect(text.status).toBe(1);
    expect(text.stdout).toContain('  ✗ function deploy-orchestrator is missing: run npm run deploy');
    expect(text.stdout).not.toContain(KEY);
  }, 60_000);
});
