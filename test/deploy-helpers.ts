import path from 'node:path';
import { type AppwriteLocal, deployFunction } from 'appwrite-local';
import { Client, Functions } from 'node-appwrite';
import type { TableStore } from 'resilience-core';
import {
  deploymentTables,
  LOCKS_TABLE,
  type RolloutPolicyInput,
  rolloutLockIdOf,
} from 'resilience-core/deployment';
import { waitFor } from '../scripts/scenario-support.ts';
import { startLocalWithTables } from './appwrite-local-helpers.ts';

/** The rollout fixtures: test/fixtures/deploy/<name> (blue, good, bad-build, bad-health, ...). */
export const DEPLOY_FIXTURES = path.join(import.meta.dirname, 'fixtures', 'deploy');

/** A local Appwrite server for rollout tests and benches, and a Functions client on its API key. */
export interface DeployServer {
  server: AppwriteLocal;
  functions: Functions;
}

/**
 * An appwrite.json `functions[]` entry for startDeployServer: function `id` on node-22, entrypoint index.js, no
 * build commands, no roles, events, schedule or scopes; `extra` overrides any field.
 */
export function functionEntry(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    $id: id,
    name: id,
    runtime: 'node-22',
    execute: [],
    events: [],
    schedule: '',
    timeout: 60,
    enabled: true,
    logging: true,
    entrypoint: 'index.js',
    commands: '',
    path: '.',
    scopes: [],
    ...extra,
  };
}

/** A few seconds per rollout on a local server: fast build polls, a 1.5 s watch judged every 300 ms on at least 3 samples. */
export const localRolloutPolicy: RolloutPolicyInput = {
  buildPollInitialMs: 50,
  buildPollMaxMs: 200,
  watchWindowMs: 1_500,
  watchIntervalMs: 300,
  minSamples: 3,
  lockTtlMs: 2_000,
};

/**
 * Starts an in-memory local Appwrite server (startLocalWithTables) provisioned with the deployment tables and
 * `functions` (appwrite.json `functions[]` entries; none by default).
 */
export async function startDeployServer(
  options: { projectId?: string; functions?: readonly Record<string, unknown>[] } = {},
): Promise<DeployServer> {
  const { server } = await startLocalWithTables(deploymentTables, {
    ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
    functionEntries: options.functions,
  });
  const functions = new Functions(
    new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey),
  );
  return { server, functions };
}

/**
 * Deploys fixture `blue` (entrypoint index.js, no build commands) to function `id` and to its twin `<id>-standby`,
 * each activated once built; returns the deployment id on `id`. `pollMs` is deployFunction's build poll.
 */
export async function deployBlueWithTwin(
  server: AppwriteLocal,
  id: string,
  options: { pollMs?: number | undefined } = {},
): Promise<string> {
  const common = {
    endpoint: server.endpoint,
    projectId: server.projectId,
    apiKey: server.apiKey,
    dir: path.join(DEPLOY_FIXTURES, 'blue'),
    entrypoint: 'index.js',
    commands: '',
    pollMs: options.pollMs,
  };
  const blue = await deployFunction({ ...common, functionId: id });
  await deployFunction({ ...common, functionId: `${id}-standby` });
  return blue.$id;
}

/**
 * A fresh live function `id` and its twin `<id>-standby` (node-22, entrypoint index.js), both running fixture
 * `blue` (deployBlueWithTwin); returns blue's deployment id. `execute` is the live function's roles (default
 * `[]`, API keys only); the twin's are always `[]`.
 */
export async function createLiveWithTwin(
  { server, functions }: DeployServer,
  id: string,
  options: { execute?: string[]; pollMs?: number } = {},
): Promise<string> {
  for (const [functionId, execute] of [
    [id, options.execute ?? []],
    [`${id}-standby`, []],
  ] as const) {
    await functions.create({
      functionId,
      name: functionId,
      runtime: 'node-22' as never,
      execute: [...execute],
      entrypoint: 'index.js',
      commands: '',
    });
  }
  return deployBlueWithTwin(server, id, { pollMs: options.pollMs });
}

/**
 * Waits until the rollout lock of `functionId`, as stored, is free or its lease has ended (a dead run's lock
 * may then be taken over); fails after `timeoutMs` with what it waited for.
 */
export async function waitForLockLeaseEnd(
  store: TableStore,
  functionId: string,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    `the lease on ${functionId}'s rollout lock to end`,
    async () => {
      const lock = await store.get(LOCKS_TABLE, rolloutLockIdOf(functionId));
      return lock === null || Date.now() > Number(lock.expiresAt) ? true : undefined;
    },
    { timeoutMs, intervalMs: 25 },
  );
}
