/**
 * Deploying a function directory through the real node-appwrite SDK, as a user's script or the CLI would:
 * pack the directory (or chosen paths in it) as a tar.gz, `createDeployment`, wait for the build, and — when
 * activating — wait until the function serves the new deployment. Works against appwrite-local and against a
 * real Appwrite. Used by `npm start` and by tests.
 */
import { Client, Functions, type Models } from 'node-appwrite';
import { InputFile } from 'node-appwrite/file';
import * as tar from 'tar';

/** What to deploy, and where. */
export interface DeployFunctionOptions {
  /** e.g. `http://127.0.0.1:PORT/v1`. */
  endpoint: string;
  projectId: string;
  /** An API key with `functions.write` and `functions.read`. */
  apiKey: string;
  functionId: string;
  /** The function's root directory (what the archive's root becomes). */
  dir: string;
  /** Paths inside `dir` to pack (default: everything, `.`), e.g. `['dist']` for a bundled function. */
  files?: string[] | undefined;
  /** Entrypoint relative to `dir` (default: the function's configured entrypoint). */
  entrypoint?: string | undefined;
  /** Build commands (default: the function's configured commands). */
  commands?: string | undefined;
  /** Activate once built (default true). */
  activate?: boolean | undefined;
  /** Give up waiting for the build after this many ms (default 120 000). */
  timeoutMs?: number | undefined;
  /** Poll interval while waiting, ms (default 100). */
  pollMs?: number | undefined;
}

/** Packs a directory as a gzipped tarball in memory. */
export async function packDirectory(dir: string, files: string[] = ['.']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = tar.c({ gzip: true, cwd: dir, portable: true }, files);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * Uploads the directory as a new deployment and waits until it is `ready` (and, when activating, active).
 * Rejects with the build logs when the build fails, or on timeout. Returns the ready deployment.
 */
export async function deployFunction(options: DeployFunctionOptions): Promise<Models.Deployment> {
  const client = new Client()
    .setEndpoint(options.endpoint)
    .setProject(options.projectId)
    .setKey(options.apiKey);
  const functions = new Functions(client);
  const archive = await packDirectory(options.dir, options.files);
  const activate = options.activate ?? true;
  const created = await functions.createDeployment({
    functionId: options.functionId,
    code: InputFile.fromBuffer(new Uint8Array(archive), 'code.tar.gz'),
    activate,
    ...(options.entrypoint === undefined ? {} : { entrypoint: options.entrypoint }),
    ...(options.commands === undefined ? {} : { commands: options.commands }),
  });
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const pollMs = options.pollMs ?? 100;
  for (;;) {
    const dep = await functions.getDeployment({ functionId: options.functionId, deploymentId: created.$id });
    if (dep.status === 'failed' || dep.status === 'canceled') {
      throw new Error(`deployment ${dep.$id} of ${options.functionId} ${dep.status}:\n${dep.buildLogs}`);
    }
    if (dep.status === 'ready') {
      if (!activate) return dep;
      const fn = await functions.get({ functionId: options.functionId });
      if (fn.deploymentId === dep.$id) return dep;
    }
    if (Date.now() > deadline)
      throw new Error(`deployment ${dep.$id} of ${options.functionId} still ${dep.status}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
