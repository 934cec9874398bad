/** Shared set-up for appwrite-local tests: a server that records every exchange, SDK clients, raw HTTP. */
import {
  type AppwriteLocal,
  type AppwriteLocalOptions,
  startAppwriteLocal,
  type TraceEntry,
} from 'appwrite-local';
import { AppwriteException, Client, TablesDB, Teams, Users } from 'node-appwrite';
import { expect } from 'vitest';

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
        body: init.body as BodyInit | undefined,
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
