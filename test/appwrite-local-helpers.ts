/**
 * Shared set-up for tests and benches on the local server: a server that records every exchange, SDK clients,
 * raw HTTP (appwrite-local's own tests); a server provisioned with some of the code's tables, with Appwrite
 * table-store clients on it (services' tests and benches).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type AppwriteLocal,
  type AppwriteLocalOptions,
  startAppwriteLocal,
  type TraceEntry,
} from 'appwrite-local';
import { AppwriteException, Client, TablesDB, Teams, Users } from 'node-appwrite';
import type { TableSpec } from 'resilience-core';
import { type AppwriteTableStore, createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { expect } from 'vitest';
import { buildAppwriteConfig } from '../scripts/appwrite-config.ts';

/**
 * Writes an appwrite.json provisioning the database with `tables` (as scripts/appwrite-config.ts writes them, so
 * without `rowSchema`) and `functions` (appwrite.json `functions[]` entries; none by default) into a new
 * temporary directory; returns the file's path. The directory is the caller's to remove.
 */
export function writeTablesConfig(
  tables: readonly TableSpec[],
  functions: readonly Record<string, unknown>[] = [],
): string {
  const file = join(mkdtempSync(join(tmpdir(), 'appwrite-config-')), 'appwrite.json');
  writeFileSync(file, JSON.stringify({ ...buildAppwriteConfig(tables), functions }));
  return file;
}

/** A separate store client (its own SDK client and counters), as one execution would have. */
export function storeFor(server: AppwriteLocal): AppwriteTableStore {
  return createAppwriteTableStore({
    endpoint: server.endpoint,
    projectId: server.projectId,
    key: server.apiKey,
  });
}

/** A local server provisioned with some tables, and store clients on it. */
export interface LocalTables {
  server: AppwriteLocal;
  /** A new store client on every call ({@link storeFor}): separate executions share nothing but the server. */
  store(): AppwriteTableStore;
  /** Stops the server (idempotent). */
  stop(): Promise<void>;
}

/**
 * Starts an in-memory local server (project `test`, key `key` unless `options` say otherwise) provisioned with
 * `tables` and the appwrite.json `functions[]` entries of `options.functionEntries` (none by default), through a
 * temporary appwrite.json ({@link writeTablesConfig}) removed once the server has read it.
 */
export async function startLocalWithTables(
  tables: readonly TableSpec[],
  options: Partial<Omit<AppwriteLocalOptions, 'config'>> & {
    functionEntries?: readonly Record<string, unknown>[] | undefined;
  } = {},
): Promise<LocalTables> {
  const { functionEntries, ...serverOptions } = options;
  const config = writeTablesConfig(tables, functionEntries);
  try {
    const server = await startAppwriteLocal({
      port: 0,
      memory: true,
      ...serverOptions,
      projectId: serverOptions.projectId ?? 'test',
      apiKey: serverOptions.apiKey ?? 'key',
      config,
    });
    return { server, store: () => storeFor(server), stop: () => server.stop() };
  } finally {
    rmSync(dirname(config), { recursive: true, force: true });
  }
}

/** A running server plus its trace and SDK services. */
export interface LocalHarness {
  server: AppwriteLocal;
  trace: TraceEntry[];
  client: Client;
  tables: TablesDB;
  teams: Teams;
  users: Users;
  /** A raw request below `/v1` (headers default to project + full key). */
  raw(
    method: string,
    path: string,
    init?: { body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<{ status: number; json: unknown; text: string }>;
}

/** Starts an in-memory server (project `test`, key `test-key`) with tracing on. */
export async function startHarness(options: Partial<AppwriteLocalOptions> = {}): Promise<LocalHarness> {
  const trace: TraceEntry[] = [];
  const server = await startAppwriteLocal({
    port: 0,
    memory: true,
    projectId: 'test',
    apiKey: 'test-key',
    functions: { autoTick: false },
    ...options,
    trace: (e) => trace.push(e),
  });
  const client = new Client().setEndpoint(server.endpoint).setProject(server.projectId).setKey(server.apiKey);
  return {
    server,
    trace,
    client,
    tables: new TablesDB(client),
    teams: new Teams(client),
    users: new Users(client),
    async raw(method, path, init = {}) {
      const res = await fetch(`${server.endpoint}${path}`, {
        method,
        headers: {
          'x-appwrite-project': 'test',
          'x-appwrite-key': 'test-key',
          'content-type': 'application/json',
          ...init.headers,
        },
        ...(init.body === undefined ? {} : { body: init.body as NonNullable<RequestInit['body']> }),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    },
  };
}

/** Creates database `db` holding table `t` with one optional integer column `n`: the smallest table to write to. */
export async function createTableT(h: LocalHarness): Promise<void> {
  await h.tables.create({ databaseId: 'db', name: 'db' });
  await h.tables.createTable({
    databaseId: 'db',
    tableId: 't',
    name: 't',
    columns: [{ key: 'n', type: 'integer', required: false }],
  });
}

/** Awaits a promise that must fail with an AppwriteException of this status and type. */
export async function expectAppwriteError<T>(
  promise: Promise<T>,
  code: number,
  type: string,
): Promise<AppwriteException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code} ${type}`).toBeInstanceOf(AppwriteException);
  const e = error as AppwriteException;
  expect({ code: e.code, type: e.type }, e.message).toEqual({ code, type });
  return e;
}
