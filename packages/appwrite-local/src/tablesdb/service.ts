/**
 * The TablesDB service: schema, rows and transactions over one SQLite database, plus the row events every
 * committed write emits (concrete names for TablesDB and the legacy Databases API, payload = the row model).
 */
import type { Database } from 'better-sqlite3';
import type { FaultInjector } from '../faults.ts';
import type { EventBus, ServerClock } from '../server-context.ts';
import { type Collation, DEFAULT_COLLATION } from './collation.ts';
import { RowStore, renderRow, type StoredRow } from './row-store.ts';
import { SchemaStore, type TableSchema } from './schema-store.ts';
import { TransactionStore } from './transactions.ts';

/** What the TablesDB routes share. */
export interface TablesDbService {
  db: Database;
  schemas: SchemaStore;
  rows: RowStore;
  transactions: TransactionStore;
  clock: ServerClock;
  /** Injected faults (the commit route applies `commit-failed` and `commit-stuck`). */
  faults?: FaultInjector | undefined;
  /** Emits the platform event for a committed row write. */
  emitRow(action: 'create' | 'update' | 'delete', table: TableSchema, row: StoredRow): void;
}

/** The response format used for event payloads (the server's own). */
const EVENT_FORMAT = '1.9.5';

/** Builds the service. */
export function createTablesDbService(
  db: Database,
  clock: ServerClock,
  events: EventBus,
  collation: Collation = DEFAULT_COLLATION,
  faults?: FaultInjector,
): TablesDbService {
  const schemas = new SchemaStore(db, clock, collation);
  const rows = new RowStore(db, clock, collation);
  const transactions = new TransactionStore(db, schemas, rows, clock);
  return {
    db,
    schemas,
    rows,
    transactions,
    clock,
    faults,
    emitRow(action, table, row) {
      const d = table.databaseId;
      const t = table.id;
      const segments = [
        ['databases', d, 'tables', t, 'rows', row.id, action],
        ['databases', d, 'collections', t, 'documents', row.id, action],
      ];
      events.emit({
        names: segments.map((parts) => parts.join('.')),
        segments,
        payload: renderRow(table, row, EVENT_FORMAT),
      });
    },
  };
}
