/**
 * A tiny document table on SQLite for the functions module: rows are JSON, validated with zod on read (a corrupt
 * row is a bug), keyed by (scope, $id) where scope is the owning function id ('' for top-level records), and
 * listed in insertion order (`seq`, like Appwrite's `$sequence`). Each call is one synchronous statement, so a
 * read-check-write without an `await` in between is atomic with respect to every other request.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { z } from 'zod';

/** A stored record: any JSON object with an `$id`. */
export interface Identified {
  $id: string;
}

/** One SQL table of JSON records. */
export class JsonTable<T extends Identified> {
  private readonly getStmt: Statement<[string, string], { data: string }>;
  private readonly insertStmt: Statement<[string, string, string]>;
  private readonly updateStmt: Statement<[string, string, string]>;
  private readonly deleteStmt: Statement<[string, string]>;
  private readonly listStmt: Statement<[string], { data: string }>;
  private readonly deleteScopeStmt: Statement<[string]>;
  private readonly pruneStmt: Statement<[number, string]>;

  /**
   * @param name SQL table name (prefix it with the module name)
   * @param schema parses a stored row back into a record
   */
  constructor(
    db: Database,
    name: string,
    private readonly schema: z.ZodType<T>,
  ) {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${name} (seq INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, UNIQUE(scope, id))`,
    );
    this.getStmt = db.prepare(`SELECT data FROM ${name} WHERE scope = ? AND id = ?`);
    this.insertStmt = db.prepare(`INSERT OR IGNORE INTO ${name} (scope, id, data) VALUES (?, ?, ?)`);
    this.updateStmt = db.prepare(`UPDATE ${name} SET data = ? WHERE scope = ? AND id = ?`);
    this.deleteStmt = db.prepare(`DELETE FROM ${name} WHERE scope = ? AND id = ?`);
    this.listStmt = db.prepare(`SELECT data FROM ${name} WHERE scope = ? ORDER BY seq`);
    this.deleteScopeStmt = db.prepare(`DELETE FROM ${name} WHERE scope = ?`);
    this.pruneStmt = db.prepare(
      `DELETE FROM ${name} WHERE json_extract(data, '$."$createdAt"') < ? AND coalesce(json_extract(data, '$.status'), '') NOT IN (SELECT value FROM json_each(?))`,
    );
  }

  /** The record, or null. */
  get(scope: string, id: string): T | null {
    const row = this.getStmt.get(scope, id);
    return row ? this.schema.parse(JSON.parse(row.data)) : null;
  }

  /** Inserts; false (and nothing written) when (scope, $id) exists. */
  insert(scope: string, record: T): boolean {
    return this.insertStmt.run(scope, record.$id, JSON.stringify(record)).changes === 1;
  }

  /** Replaces an existing record; false when it does not exist. */
  put(scope: string, record: T): boolean {
    return this.updateStmt.run(JSON.stringify(record), scope, record.$id).changes === 1;
  }

  /** Deletes; false when it did not exist. */
  delete(scope: string, id: string): boolean {
    return this.deleteStmt.run(scope, id).changes === 1;
  }

  /** Every record of a scope, oldest first. */
  list(scope: string): T[] {
    return this.listStmt.all(scope).map((row) => this.schema.parse(JSON.parse(row.data)));
  }

  /**
   * Deletes records (of every scope) created before `beforeMs` (epoch ms) whose `status` is not one of
   * `keepStatuses`; returns how many.
   */
  pruneCreatedBefore(beforeMs: number, keepStatuses: readonly string[] = []): number {
    return this.pruneStmt.run(beforeMs, JSON.stringify(keepStatuses)).changes;
  }

  /** Deletes every record of a scope. */
  deleteScope(scope: string): void {
    this.deleteScopeStmt.run(scope);
  }
}
