/**
 * Kill the local server mid-rollout and resume. appwrite-local runs as its own process on a data directory
 * (state survives a restart); `npm run rollout` drives a blue-green rollout of a live function against it.
 * - outage: the server is SIGKILLed while the rollout watches green and restarted after `outageMs` on the
 *   same port and data. The running CLI must ride it out (issue 11.6: transient errors retried with backoff and
 *   a visible countdown) and end with `VERDICT: SUCCEEDED`, green active.
 * - crash: the server AND the CLI are SIGKILLed mid-rollout; after the restart `rollout resume` must finish the
 *   rollout — taking over the dead run's lock, or saying exactly when it can (then resumed at that time).
 * Afterwards the function's history holds each rollout once, SUCCEEDED, and the live deployment is green.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { deployFunction } from 'appwrite-local';
import { Client, Functions } from 'node-appwrite';
import { deploymentTables } from 'resilience-core/deployment';
import { buildAppwriteConfig } from '../../scripts/appwrite-config.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'deploy');
const POLICY_FLAGS = [
  '--watch-ms=4000',
  '--interval-ms=1000',
  '--min-samples=3',
  '--lock-ttl-ms=2500',
  '--build-timeout-ms=30000',
  '--build-poll-max-ms=500',
];

/** What the scenario measured. */
export interface RolloutKillFigures {
  serverKills: number;
  outageMs: number;
  /** The CLI that lived through the outage: its exit code and whether it printed a retry countdown. */
  survivorExit: number | null;
  survivorCountdown: boolean;
  /** After the crash: how many `resume` runs it took, and the last one's exit code. */
  resumeRuns: number;
  resumeExit: number | null;
  rolloutsSucceeded: number;
}

interface ServerProcess {
  child: ChildProcess;
  endpoint: string;
}

const KEY = 'rollout-kill-key';
const PROJECT = 'rollout-kill';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function startServer(port: number, dataDir: string, config: string): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'packages', 'appwrite-local', 'bin', 'appwrite-local.mjs'),
      `--key=${KEY}`,
      `--port=${port}`,
      `--data=${dataDir}`,
      `--config=${config}`,
      `--project=${PROJECT}`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('appwrite-local did not start')), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`appwrite-local exited (${code})`)));
  });
  return { child, endpoint };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

function rollout(endpoint: string, args: string[]) {
  // `node --import tsx` rather than the tsx launcher, which runs the script in a grandchild a SIGKILL would miss.
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
  const listeners: ((text: string) => void)[] = [];
  const onData = (d: Buffer) => {
    out += String(d);
    for (const l of listeners) l(out);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, out })),
  );
  const when = (pattern: RegExp, timeoutMs = 90_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`rollout never printed ${pattern}:\n${out}`)),
        timeoutMs,
      );
      const check = (text: string) => {
        if (pattern.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      listeners.push(check);
      check(out);
      void done.then(() => check(out));
    });
  return { child, done, when, output: () => out };
}

async function createLive(endpoint: string, id: string): Promise<void> {
  const functions = new Functions(new Client().setEndpoint(endpoint).setProject(PROJECT).setKey(KEY));
  for (const functionId of [id, `${id}-standby`]) {
    await functions.create({
      functionId,
      name: functionId,
      runtime: 'node-22' as never,
      execute: [],
      entrypoint: 'index.js',
      commands: '',
    });
    await deployFunction({
      endpoint,
      projectId: PROJECT,
      apiKey: KEY,
      functionId,
      dir: path.join(FIXTURES, 'blue'),
      entrypoint: 'index.js',
      commands: '',
    });
  }
}

/** Runs both halves; returns figures and what went wrong. */
export async function runRolloutKill(options: { outageMs: number }): Promise<{
  figures: RolloutKillFigures;
  violations: string[];
}> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rollout-kill-data-'));
  const configDir = mkdtempSync(path.join(tmpdir(), 'rollout-kill-config-'));
  const config = path.join(configDir, 'appwrite.json');
  writeFileSync(config, JSON.stringify({ ...buildAppwriteConfig(deploymentTables), functions: [] }));
  const port = await freePort();
  const violations: string[] = [];
  const figures: RolloutKillFigures = {
    serverKills: 0,
    outageMs: options.outageMs,
    survivorExit: null,
    survivorCountdown: false,
    resumeRuns: 0,
    resumeExit: null,
    rolloutsSucceeded: 0,
  };
  let server = await startServer(port, dataDir, config);
  const restart = async () => {
    await kill(server.child);
    figures.serverKills++;
    await new Promise((r) => setTimeout(r, options.outageMs));
    server = await startServer(port, dataDir, config);
  };
  const start = (fn: string) =>
    rollout(server.endpoint, [
      'start',
      fn,
      `--dir=${path.join(FIXTURES, 'good')}`,
      '--entrypoint=index.js',
      ...POLICY_FLAGS,
    ]);
  try {
    // 1. The server dies while the CLI watches green; the CLI lives on.
    await createLive(server.endpoint, 'outage');
    const survivor = start('outage');
    await survivor.when(/watching/);
    await restart();
    const result = await Promise.race([
      survivor.done,
      new Promise<{ code: number | null; out: string }>((resolve) =>
        setTimeout(() => resolve({ code: -1, out: survivor.output() }), 60_000),
      ),
    ]);
    if (result.code === -1) await kill(survivor.child);
    figures.survivorExit = result.code;
    // Any wording, as long as it names the wait: "retrying in 2 s", "retry 3/6 in 800 ms", "reconnecting in 4s".
    figures.survivorCountdown =
      /\b(retry(ing)?|retries|reconnect(ing)?|again)\b[^\n]*\d+(\.\d+)?\s*(ms|s|sec|seconds?)\b/i.test(
        result.out,
      );
    if (result.code !== 0 || !/VERDICT: SUCCEEDED/.test(result.out)) {
      violations.push(
        `the CLI did not ride out the outage (exit ${result.code}):\n${result.out.slice(-800)}`,
      );
    }
    if (!figures.survivorCountdown) violations.push('the CLI printed no retry countdown during the outage');

    // 2. Server and CLI die together; `resume` finishes the rollout.
    await createLive(server.endpoint, 'crash');
    const doomed = start('crash');
    await doomed.when(/watching/);
    await kill(doomed.child);
    await restart();
    for (let attempt = 0; attempt < 4; attempt++) {
      figures.resumeRuns++;
      const resumed = await rollout(server.endpoint, ['resume', 'crash', ...POLICY_FLAGS]).done;
      figures.resumeExit = resumed.code;
      if (resumed.code === 0) {
        if (!/VERDICT: SUCCEEDED/.test(resumed.out))
          violations.push(`resume exited 0 without SUCCEEDED:\n${resumed.out}`);
        break;
      }
      // Refused while the dead run's lock stands: it must say exactly when resume can take over.
      const when =
        /\b(?:in|after|until)\s+(\d+(?:\.\d+)?)\s*(?:s|sec|seconds?)\b|(\d{4}-\d{2}-\d{2}T[\d:.]+Z)/i.exec(
          resumed.out,
        );
      if (resumed.code !== 2 || !when) {
        violations.push(
          `resume failed (exit ${resumed.code}) without saying when it can:\n${resumed.out.slice(-800)}`,
        );
        break;
      }
      const waitMs = when[1] ? Number(when[1]) * 1000 : Date.parse(when[2]!) - Date.now();
      await new Promise((r) => setTimeout(r, Math.min(Math.max(waitMs, 0) + 200, 70_000)));
    }
    if (figures.resumeExit !== 0)
      violations.push(`resume never finished the rollout (exit ${figures.resumeExit})`);

    // 3. Each rollout once, SUCCEEDED.
    for (const fn of ['outage', 'crash']) {
      const history = await rollout(server.endpoint, ['history', fn]).done;
      const succeeded = (history.out.match(/'succeeded'/gi) ?? []).length;
      figures.rolloutsSucceeded += succeeded > 0 ? 1 : 0;
      if (succeeded === 0) violations.push(`${fn}: history shows no SUCCEEDED rollout:\n${history.out}`);
    }
  } finally {
    await kill(server.child);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(configDir, { recursive: true, force: true });
  }
  return { figures, violations };
}
