/**
 * Deployment uploads: `multipart/form-data` with `code` (a tar.gz), `activate`, `entrypoint`, `commands`, either
 * whole or in chunks the way node-appwrite and appwrite-cli send files over 5 MB (`content-range: bytes a-b/total`
 * on every chunk, `x-appwrite-id: <deployment id>` on chunks after the first, later chunks possibly in parallel).
 * The first chunk creates the deployment (status `waiting`, `chunksUploaded` < `chunksTotal`); the chunk that
 * completes the archive queues the build. Partial uploads live in memory and on disk until complete; a server
 * restart forgets them (the client must re-upload).
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppwriteError, invalidArgument } from '../errors.ts';
import type { ApiRequest } from '../server-context.ts';
import { optionalBoolean, uniqueId } from '../wire.ts';
import { syncLatest } from './activation.ts';
import { buildDeployment } from './build.ts';
import { type FunctionsDeps, inBackground, sourcePath } from './deps.ts';
import type { DeploymentRecord, FunctionRecord } from './records.ts';

/** Largest deployment archive accepted, bytes (Appwrite's `_APP_FUNCTIONS_SIZE_LIMIT` default, 30 MB). */
export const MAX_DEPLOYMENT_BYTES = 30_000_000;

interface PartialUpload {
  total: number;
  /** Start offsets of the chunks received. */
  received: Set<number>;
  bytes: number;
}

/** In-progress chunked uploads of one server, by deployment id. */
export type PartialUploads = Map<string, PartialUpload>;

interface DeploymentForm {
  code: Buffer;
  activate: boolean;
  entrypoint?: string | undefined;
  commands?: string | undefined;
}

async function parseForm(req: ApiRequest): Promise<DeploymentForm> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) throw new AppwriteError('storage_file_empty');
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(req.rawBody), { headers: { 'content-type': type } }).formData();
  } catch {
    throw invalidArgument('Invalid multipart/form-data body.');
  }
  const code = form.get('code');
  if (code === null || typeof code === 'string') throw new AppwriteError('storage_file_empty');
  const field = (name: string): string | undefined => {
    const v = form.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const activate = field('activate');
  if (activate === undefined) throw invalidArgument('Param "activate" is not optional.');
  return {
    code: Buffer.from(await code.arrayBuffer()),
    activate: optionalBoolean(activate, 'activate', false),
    entrypoint: field('entrypoint'),
    commands: field('commands'),
  };
}

function parseRange(header: string): { start: number; end: number; total: number } {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  if (!m) throw new AppwriteError('storage_invalid_content_range');
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (end < start || end >= total) throw new AppwriteError('storage_invalid_content_range');
  return { start, end, total };
}

/**
 * Handles one upload request (whole or chunk) for `fn` and returns the deployment as it stands. Bad input → 400
 * and nothing is stored.
 */
export async function receiveUpload(
  deps: FunctionsDeps,
  partials: PartialUploads,
  fn: FunctionRecord,
  req: ApiRequest,
): Promise<DeploymentRecord> {
  const form = await parseForm(req);
  if (form.code.length === 0) throw new AppwriteError('storage_file_empty');
  const entrypoint = form.entrypoint || fn.entrypoint;
  if (!entrypoint) throw new AppwriteError('function_entrypoint_missing');
  const commands = form.commands ?? fn.commands;
  const rangeHeader = req.headers['content-range'];
  const range = rangeHeader
    ? parseRange(rangeHeader)
    : { start: 0, end: form.code.length - 1, total: form.code.length };
  if (range.end - range.start + 1 !== form.code.length)
    throw new AppwriteError('storage_invalid_content_range');
  if (range.total > MAX_DEPLOYMENT_BYTES) throw new AppwriteError('storage_invalid_file_size');

  const requestedId = req.headers['x-appwrite-id'];
  const existing = requestedId ? deps.store.deployments.get(fn.$id, requestedId) : null;
  let record: DeploymentRecord;
  let partial: PartialUpload | undefined;
  if (existing) {
    partial = partials.get(existing.$id);
    if (!partial || partial.total !== range.total) throw new AppwriteError('storage_invalid_content_range');
    record = existing;
  } else {
    const now = deps.ctx.clock.now();
    const chunkSize = range.end - range.start + 1;
    record = {
      $id: requestedId && /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$/.test(requestedId) ? requestedId : uniqueId(),
      $createdAt: now,
      $updatedAt: now,
      functionId: fn.$id,
      entrypoint,
      commands,
      activate: form.activate,
      status: 'waiting',
      buildLogs: '',
      buildDuration: 0,
      sourceSize: range.total,
      buildSize: 0,
      chunksTotal: Math.ceil(range.total / chunkSize),
      chunksUploaded: 0,
      // As Deployments/Create.php:222: an upload from appwrite-cli (`x-sdk-language: cli`) is a `cli` deployment.
      type: req.headers['x-sdk-language'] === 'cli' ? 'cli' : 'manual',
    };
    partial = { total: range.total, received: new Set(), bytes: 0 };
    partials.set(record.$id, partial);
    deps.store.deployments.insert(fn.$id, record);
  }

  const part = join(deps.codeRoot, 'uploads', `${record.$id}.part`);
  mkdirSync(dirname(part), { recursive: true });
  if (!partial.received.has(range.start)) {
    const fd = openSync(part, partial.received.size === 0 ? 'w' : 'r+');
    try {
      writeSync(fd, form.code, 0, form.code.length, range.start);
    } finally {
      closeSync(fd);
    }
    partial.received.add(range.start);
    partial.bytes += form.code.length;
  }
  const complete = partial.bytes >= partial.total;
  record = {
    ...record,
    $updatedAt: deps.ctx.clock.now(),
    chunksUploaded: complete ? record.chunksTotal : Math.min(partial.received.size, record.chunksTotal - 1),
  };
  deps.store.deployments.put(fn.$id, record);
  syncLatest(deps, record);
  if (complete) {
    partials.delete(record.$id);
    const source = sourcePath(deps, record.$id);
    mkdirSync(dirname(source), { recursive: true });
    renameSync(part, source);
    inBackground(deps, `build ${record.$id}`, () => buildDeployment(deps, fn.$id, record.$id));
  }
  return record;
}

/** Forgets a partial upload and its file (deployment deleted). */
export function discardUpload(deps: FunctionsDeps, partials: PartialUploads, deploymentId: string): void {
  partials.delete(deploymentId);
  rmSync(join(deps.codeRoot, 'uploads', `${deploymentId}.part`), { force: true });
}
