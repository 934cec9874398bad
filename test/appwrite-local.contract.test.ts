/**
 * The storage contract suite against appwrite-local, through the real Appwrite adapter and node-appwrite 27:
 * the same guarantees the memory adapter keeps must hold over the wire, under both collations of the server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppwriteLocal, startAppwriteLocal } from 'appwrite-local';
import { DATABASE_ID } from 'resilience-core';
import { createAppwriteTableStore } from 'resilience-core/adapters/appwrite';
import { contractTable, describeTableStoreContract } from 'resilience-core/testing';
import { afterAll, beforeAll, describe } from 'vitest';

/** Both comparison modes of the local server (the default, Appwrite on MariaDB's, and exact). */
const COLLATIONS = ['utf8mb4_general_ci', 'binary'] as const;

for (const collation of COLLATIONS) {
  describe(`collation ${collation}`, () => {
    let server: AppwriteLocal;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'appwrite-local-contract-'));
      const config = join(dir, 'appwrite.json');
      writeFileSync(
        config,
        JSON.stringify({
          projectId: 'contract',
          tablesDB: [{ $id: DATABASE_ID, name: DATABASE_ID, enabled: true }],
          tables: [
            {
              ...contractTable,
              databaseId: DATABASE_ID,
              $permissions: [],
              rowSecurity: false,
              enabled: true,
            },
          ],
        }),
      );
      server = await startAppwriteLocal({
        port: 0,
        memory: true,
        projectId: 'contract',
        apiKey: 'contract-key',
        config,
        collation,
      });
    });

    afterAll(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    describeTableStoreContract(`appwrite-local (node-appwrite over HTTP, ${collation})`, async () => ({
      store: createAppwriteTableStore({
        endpoint: server.endpoint,
        projectId: server.projectId,
        key: server.apiKey,
        retry: { attempts: 1 },
      }),
    }));
  });
}
