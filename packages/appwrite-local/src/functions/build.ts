/**
 * The build step of a deployment: waiting → processing → (building →) ready | failed, as Appwrite's build
 * worker does it. Extracts the uploaded tar.gz into the deployment's code directory, runs the deployment's
 * `commands` with `bash -c` there (when non-empty), and fails when a command fails, the build times out or the
 * entrypoint file is missing. Build output goes to `buildLogs`. A ready build auto-activates per activation.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as tar from 'tar';
import { maybeAutoActivate, syncLatest } from './activation.ts';
import { buildDir, type FunctionsDeps, sourcePath } from './deps.ts';
import { buildEnv } from './env.ts';
import type { DeploymentRecord } from './records.ts';
import { ROOT } from './store.ts';

/** Build time limit in seconds (Appwrite's `_APP_COMPUTE_BUILD_TIMEOUT` default). */
export const BUILD_TIMEOUT_SECONDS = 900;
/** Characters of build output kept. */
const MAX_BUILD_LOG = 1_000_000;

/** Builds a deployment whose archive is complete. Never throws: failures end as status `failed`. */
export async function buildDeployment(
  deps: FunctionsDeps,
  functionId: string,
  deploymentId: string,
): Promise<void> {
  // Appwrite rounds the build time up to whole seconds (Builds.php:928, intval(ceil(end - start))).
  const startedHr = performance.now();
  const buildSeconds = () => Math.ceil((performance.now() - startedHr) / 1000);
  const logs: string[] = [];
  const update = (patch: Partial<DeploymentRecord>): DeploymentRecord | null => {
    const current = deps.store.deployments.get(functionId, deploymentId);
    // Deleted or canceled meanwhile: stop quietly.
    if (!current || current.status === 'canceled') return null;
    const next = { ...current, ...patch, $updatedAt: deps.ctx.clock.now() };
    deps.store.deployments.put(functionId, next);
    syncLatest(deps, next);
    return next;
  };

  const dep = update({ status: 'processing', buildLogs: 'Preparing for build ...\n' });
  if (!dep) return;
  const dir = buildDir(deps, deploymentId);
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await extractArchive(sourcePath(deps, deploymentId), dir, logs);
    logs.push('Extracted source archive.');
    if (dep.commands.trim() !== '') {
      if (!update({ status: 'building', buildLogs: logs.join('\n') })) return;
      logs.push(`$ ${dep.commands}`);
      const fn = deps.store.functions.get(ROOT, functionId);
      const result = await runCommands(dep.commands, dir, fn ? buildEnv(deps, fn, deploymentId) : {});
      logs.push(result.output.slice(-MAX_BUILD_LOG));
      if (result.error) throw new Error(result.error);
    }
    const entry = resolve(dir, dep.entrypoint);
    if (relative(dir, entry).startsWith('..') || !existsSync(entry) || !statSync(entry).isFile()) {
      throw new Error(`Entrypoint "${dep.entrypoint}" was not found in the build output.`);
    }
    logs.push('Build completed.');
    const ready = update({
      status: 'ready',
      buildLogs: logs.join('\n'),
      buildSize: directorySize(dir),
      buildDuration: buildSeconds(),
    });
    if (ready) maybeAutoActivate(deps, ready);
  } catch (e) {
    logs.push(`Build failed: ${(e as Error).message}`);
    update({
      status: 'failed',
      buildLogs: logs.join('\n'),
      buildDuration: buildSeconds(),
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Extracts a deployment archive into `dir`. node-tar already keeps every entry inside `dir` (leading `/` is
 * stripped, `..` paths and links resolving outside are skipped, nothing is written through a symlink); an
 * archive that tried any of that is refused as a whole — the build fails naming the entries — rather than
 * deployed with files silently missing.
 */
async function extractArchive(file: string, dir: string, logs: string[]): Promise<void> {
  const refused: string[] = [];
  await tar.x({
    file,
    cwd: dir,
    onwarn: (code, message, data) => {
      const entry = (data as { entry?: { path?: unknown } } | undefined)?.entry?.path;
      if (code === 'TAR_ENTRY_INFO') {
        logs.push(`${message}`);
        return;
      }
      if (code === 'TAR_ENTRY_ERROR' || code === 'TAR_SYMLINK_ERROR' || code === 'TAR_BAD_ARCHIVE') {
        refused.push(
          `${typeof entry === 'string' ? entry.slice(0, 200) : '?'} (${String(message).slice(0, 200)})`,
        );
      } else {
        logs.push(`archive warning ${code}: ${String(message).slice(0, 200)}`);
      }
    },
  });
  if (refused.length > 0) {
    throw new Error(
      `The archive has entries that would escape the deployment directory: ${refused.slice(0, 10).join('; ')}`,
    );
  }
}

function runCommands(
  commands: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ output: string; error?: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', commands], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-MAX_BUILD_LOG);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_SECONDS * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      done({ output, error: `cannot run bash: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done({ output });
      else
        done({
          output,
          error: signal ? `build commands killed (${signal})` : `build commands exited with code ${code}`,
        });
    });
  });
}

function directorySize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directorySize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
