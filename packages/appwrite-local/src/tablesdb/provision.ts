/**
 * Provisions appwrite.json's `tablesDB[]` and `tables[]` (columns and indexes) at start-up. Idempotent: what
 * exists is kept (a restart over `--data` does not duplicate or reset anything); missing columns and indexes
 * are added.
 */
import type { AppwriteConfig } from '../config.ts';
import { AppwriteError } from '../errors.ts';
import { columnFromRequest } from './columns.ts';
import { indexFromRequest, kindOf } from './routes-schema.ts';
import type { TablesDbService } from './service.ts';

/** Creates what the config declares and is missing; throws an Error naming the bad entry. */
export function provisionTables(
  svc: TablesDbService,
  config: AppwriteConfig,
  log: (m: string) => void,
): void {
  const s = svc.schemas;
  const known = new Set(s.listDatabases().map((d) => d.id));
  const wanted = new Set([...config.tablesDB.map((d) => d.$id), ...config.tables.map((t) => t.databaseId)]);
  for (const id of wanted) {
    if (known.has(id)) continue;
    const entry = config.tablesDB.find((d) => d.$id === id);
    s.createDatabase(id, entry?.name ?? id, entry?.enabled ?? true);
  }
  for (const t of config.tables) {
    try {
      let schema = exists(() => s.getTable('tables', t.databaseId, t.$id));
      if (!schema) {
        schema = s.createTable('tables', t.databaseId, {
          id: t.$id,
          name: t.name ?? t.$id,
          permissions: t.$permissions ?? [],
          rowSecurity: t.rowSecurity ?? false,
          enabled: t.enabled ?? true,
        });
      }
      for (const c of t.columns) {
        if (schema.columns.has(c.key)) continue;
        s.addColumn('tables', t.databaseId, t.$id, columnFromRequest(kindOf(c), { required: false, ...c }));
      }
      const current = s.getTable('tables', t.databaseId, t.$id);
      for (const i of t.indexes) {
        if (current.indexes.some((x) => x.key === i.key)) continue;
        s.addIndex('tables', t.databaseId, t.$id, indexFromRequest('tables', i));
      }
    } catch (e) {
      const detail = e instanceof AppwriteError ? `${e.type}: ${e.message}` : (e as Error).message;
      throw new Error(
        `appwrite-local: cannot provision table ${t.databaseId}/${t.$id} from ${config.dir}: ${detail}`,
      );
    }
  }
  log(`provisioned ${wanted.size} database(s) and ${config.tables.length} table(s) from config`);
}

function exists<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AppwriteError && e.code === 404) return undefined;
    throw e;
  }
}
