/**
 * The storage contract against the Appwrite adapter: on the local server always, and on a real Appwrite when
 * APPWRITE_ENDPOINT, APPWRITE_PROJECT_ID and APPWRITE_API_KEY are set (visibly skipped otherwise).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppwriteLocal, type Collation, startAppwriteLocal } from 'appwrite-local';
import { DATABASE_ID, type TableSpec } from 'resilience-core';
import {
  createAppwriteClient,
  createAppwriteTableStore,
  provisionSchema,
} from 'resilience-core/adapters/appwrite';
import { contractTable, describeTableStoreContract } from 'resilience-core/testing';
import { afterAll, describe, it } from 'vitest';

const contractSpec = contractTable as unknown as TableSpec;

// --- local server: provisioned from a one-table appwrite.json, once per collation ---------------------
const dir = mkdtempSync(path.join(tmpdir(), 'contract-'));
const locals = new Map<Collation, Promise<AppwriteLocal>>();
function localServer(collation: Collation): Promise<AppwriteLocal> {
  let server = locals.get(collation);
  if (!server) {
    server = (async () => {
      const config = path.join(dir, `appwrite-${collation}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          projectId: 'test',
          tablesDB: [{ $id: DATABASE_ID, name: DATABASE_ID, enabled: true }],
          tables: [
            {
              ...contractSpec,
              databaseId: DATABASE_ID,
              $permissions: [],
              enabled: true,
              rowSecurity: false,
              columns: contractSpec.columns.map((c) => ({ array: false, ...c })),
            },
          ],
        }),
      );
      return startAppwriteLocal({
        port: 0,
        memory: true,
        projectId: 'test',
        apiKey: 'key',
        config,
        collation,
      });
    })();
    locals.set(collation, server);
  }
  return server;
}
afterAll(async () => {
  for (const server of locals.values()) await (await server).stop();
  rmSync(dir, { recursive: true, force: true });
});

for (const collation of ['utf8mb4_general_ci', 'binary'] as const) {
  describeTableStoreContract(`appwrite adapter on appwrite-local (${collation})`, async () => {
    const server = await localServer(collation);
    return {
      store: createAppwriteTableStore({
        endpoint: server.endpoint,
        projectId: server.projectId,
        key: server.apiKey,
      }),
    };
  });
}

// --- a real Appwrite ------------------------------------------------------------------------------------
const { APPWRITE_ENDPOINT, APPWRITE_PROJECT_ID, APPWRITE_API_KEY } = process.env;
/** A database of its own, so the contract rows never mix with the application's. */
const REAL_DATABASE = 'resilience-contract';

if (APPWRITE_ENDPOINT && APPWRITE_PROJECT_ID && APPWRITE_API_KEY) {
  const connection = { endpoint: APPWRITE_ENDPOINT, projectId: APPWRITE_PROJECT_ID, key: APPWRITE_API_KEY };
  let provisioned: Promise<unknown> | undefined;
  describeTableStoreContract('appwrite adapter on a real Appwrite', async () => {
    provisioned ??= provisionSchema({
      client: createAppwriteClient(connection),
      databaseId: REAL_DATABASE,
      tables: [contractSpec],
    });
    await provisioned;
    return { store: createAppwriteTableStore({ ...connection, databaseId: REAL_DATABASE }) };
  });
} else {
  describe.skip('TableStore contract: appwrite adapter on a real Appwrite — SKIPPED: set APPWRITE_ENDPOINT, APPWRITE_PROJECT_ID and APPWRITE_API_KEY to run it', () => {
    it('runs the storage contract against a real Appwrite', () => {});
  });
}
