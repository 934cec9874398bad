/**
 * `npm start`: the whole project on one machine, no Docker. Builds the functions, starts appwrite-local,
 * provisions appwrite.json (database, tables, functions), deploys and activates each function's bundle through
 * the SDK, runs the cron schedules, prints how to call each function, then runs the scripted scenario
 * (scripts/scenario.ts). Ctrl-C stops everything (the server kills the function processes).
 *
 * Flags: --port N (default 0 = a free port), --data DIR (default .data/appwrite-local) or --memory,
 * --project ID (default `local`), --no-build, --no-scenario, --once (stop after the scenario; exit code 1 if a
 * step failed), --verbose (server diagnostics on stderr), --ops-port N (the operations console, default 0 = a
 * free port; packages/ops-console), --no-ops.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AppwriteLocal, deployFunction, startAppwriteLocal } from 'appwrite-local';
import { type OpsConsole, startOpsConsole } from 'ops-console';
import { errorText } from 'resilience-core';
import { runScenario, scenarioContext } from './scenario.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface ConfigFunction {
  $id: string;
  path?: string;
  entrypoint?: string;
  commands?: string;
  schedule?: string;
  events?: string[];
}

function parseFlags() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      data: { type: 'string', default: join(root, '.data', 'appwrite-local') },
      memory: { type: 'boolean', default: false },
      project: { type: 'string', default: 'local' },
      'no-build': { type: 'boolean', default: false },
      'no-scenario': { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'ops-port': { type: 'string', default: '0' },
      'no-ops': { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--port must be 0..65535, got ${values.port}`);
  const opsPort = Number(values['ops-port']);
  if (!Number.isInteger(opsPort) || opsPort < 0 || opsPort > 65_535)
    throw new Error(`--ops-port must be 0..65535, got ${values['ops-port']}`);
  return {
    port,
    opsPort: values['no-ops'] ? null : opsPort,
    dataDir: values.memory ? undefined : resolve(values.data),
    projectId: values.project,
    build: !values['no-build'],
    scenario: !values['no-scenario'],
    once: values.once,
    verbose: values.verbose,
  };
}

/** Runs the workspace build (turbo); a missing build script is skipped with a warning, a failing one aborts. */
function buildFunctions(): void {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  if (!pkg.scripts?.build) {
    console.warn('! no "build" script in package.json: deploying the bundles already in functions/*/dist');
    return;
  }
  console.log('› npm run build');
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status ?? result.signal})`);
}

async function deployAll(
  server: AppwriteLocal,
  configPath: string,
  functions: ConfigFunction[],
): Promise<string[]> {
  const deployed: string[] = [];
  for (const fn of functions) {
    const dir = resolve(dirname(configPath), fn.path ?? `functions/${fn.$id}`);
    if (!existsSync(join(dir, 'dist'))) {
      console.warn(`! ${fn.$id}: ${relative(root, dir)}/dist is missing (not built?); not deployed`);
      continue;
    }
    const started = performance.now();
    const dep = await deployFunction({
      endpoint: server.endpoint,
      projectId: server.projectId,
      apiKey: server.apiKey,
      functionId: fn.$id,
      dir,
      // The bundles are self-contained (esbuild): ship dist only, as appwrite.json's `ignore` does.
      files: ['dist'],
      entrypoint: fn.entrypoint,
      commands: fn.commands,
    });
    const ms = Math.round(performance.now() - started);
    console.log(
      `  ✓ ${fn.$id}: deployment ${dep.$id} active (${Math.round(dep.sourceSize / 1024)} KiB, ${ms} ms)`,
    );
    deployed.push(fn.$id);
  }
  return deployed;
}

function printUsage(server: AppwriteLocal, functions: ConfigFunction[], deployed: string[]): void {
  const lines = [
    '',
    `appwrite-local is running at ${server.endpoint} (project "${server.projectId}").`,
    'This run generated its own API key (full scopes, valid until you stop the server):',
    `  export APPWRITE_ENDPOINT=${server.endpoint} APPWRITE_PROJECT_ID=${server.projectId} APPWRITE_API_KEY=${server.apiKey}`,
    '',
    'Call a function (synchronous execution):',
  ];
  for (const fn of functions) {
    if (!deployed.includes(fn.$id)) continue;
    const triggers = [
      fn.schedule ? `cron "${fn.schedule}"` : '',
      ...(fn.events ?? []).map((e) => `event ${e}`),
    ].filter(Boolean);
    lines.push(`  ${fn.$id}${triggers.length ? `   (also runs on ${triggers.join(', ')})` : ''}`);
    lines.push(
      `    curl -s -X POST "$APPWRITE_ENDPOINT/functions/${fn.$id}/executions" -H "X-Appwrite-Project: $APPWRITE_PROJECT_ID" \\`,
      `      -H "X-Appwrite-Key: $APPWRITE_API_KEY" -H "Content-Type: application/json" -d '{"path":"/health","method":"GET"}'`,
    );
  }
  lines.push(
    '',
    'Or with node-appwrite: new Functions(client).createExecution({ functionId, xpath: "/health", method: "GET" }).',
    '',
  );
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  const flags = parseFlags();
  if (flags.build) buildFunctions();
  const configPath = join(root, 'appwrite.json');
  const hasConfig = existsSync(configPath);
  if (!hasConfig) console.warn('! appwrite.json not found: starting without tables or functions');
  const apiKey = `local_${randomBytes(24).toString('hex')}`;
  const server = await startAppwriteLocal({
    port: flags.port,
    dataDir: flags.dataDir,
    memory: flags.dataDir === undefined,
    projectId: flags.projectId,
    apiKey,
    config: hasConfig ? configPath : undefined,
    log: flags.verbose ? (m) => console.error(`[appwrite-local] ${m}`) : undefined,
  });
  let stopping = false;
  let ops: OpsConsole | null = null;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping appwrite-local …');
    await ops?.close();
    await server.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  console.log(
    `appwrite-local listening on ${server.endpoint}${flags.dataDir ? ` (data: ${relative(root, flags.dataDir)})` : ' (in memory)'}`,
  );
  const functions: ConfigFunction[] = hasConfig
    ? ((JSON.parse(readFileSync(configPath, 'utf8')) as { functions?: ConfigFunction[] }).functions ?? [])
    : [];
  console.log(`Deploying ${functions.length} function(s) …`);
  const deployed = await deployAll(server, configPath, functions);
  printUsage(server, functions, deployed);
  if (flags.opsPort !== null) {
    // The operations console reads this server through the real SDK with the run's key (kept in this process).
    ops = await startOpsConsole({
      connection: { endpoint: server.endpoint, projectId: server.projectId, key: apiKey },
      port: flags.opsPort,
    });
    console.log(`ops console on ${ops.url}   (metrics: ${ops.url}/metrics)\n`);
  }

  if (flags.scenario) {
    console.log('Scenario (scripts/scenario.ts):');
    const ctx = scenarioContext({ endpoint: server.endpoint, projectId: server.projectId, apiKey, deployed });
    const { passed, failed } = await runScenario(ctx);
    console.log(`Scenario: ${passed} passed, ${failed} failed.`);
    if (flags.once) return shutdown(failed > 0 ? 1 : 0);
  } else if (flags.once) {
    return shutdown(0);
  }
  console.log('Schedules are running. Press Ctrl-C to stop.');
}

main().catch((e: unknown) => {
  console.error(`npm start failed: ${errorText(e)}`);
  process.exit(1);
});
