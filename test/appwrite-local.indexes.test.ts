/**
 * Declared `key`/`unique` indexes serve listRows: the SQL row-query.ts compiles runs on the table's SQLite
 * expression index (checked with EXPLAIN QUERY PLAN on the exact statement and parameters listRows runs), and
 * returns exactly what the same query returns on an identical table without indexes (filters, orders, NULLs,
 * cursors, offsets, mixed number/string JSON values). Works on the row store directly: plans are not visible
 * over HTTP.
 */
import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../packages/appwrite-local/src/db.ts';
import { parseQueries } from '../packages/appwrite-local/src/queries.ts';
import { listRows, rowAttributes } from '../packages/appwrite-local/src/tablesdb/row-query.ts';
import { RowStore } from '../packages/appwrite-local/src/tablesdb/row-store.ts';
import { SchemaStore, type TableSchema } from '../packages/appwrite-local/src/tablesdb/schema-store.ts';

const ROWS = 2_000;
const clock = { now: () => 1_767_225_600_000 };

type Q = { method: string; attribute?: string | undefined; values?: unknown[] | undefined };
const q = (method: string, attribute?: string, values?: unknown[]): string =>
  JSON.stringify({ method, attribute, values } satisfies Q);

let db: Database;
let schemas: SchemaStore;
let rows: RowStore;

/** Creates `jobs`-like table `id`, with the job queue's claim index when `indexed`, and fills it. */
function makeTable(id: string, indexed: boolean): TableSchema {
  schemas.createTable('tables', 'db', { id, name: id, permissions: [], rowSecurity: false, enabled: true });
  const columns = [
    { key: 'status', type: 'string', size: 16 },
    { key: 'runAt', type: 'integer' },
    { key: 'priority', type: 'integer' },
    { key: 'orgId', type: 'string', size: 36 },
    { key: 'score', type: 'double' },
    { key: 'tags', type: 'string', size: 8, array: true },
  ];
  for (const c of columns) {
    schemas.addColumn('tables', 'db', id, { required: false, array: false, ...c } as never);
  }
  if (indexed) {
    const index = (key: string, type: string, cols: string[]) =>
      schemas.addIndex('tables', 'db', id, { key, type, columns: cols, orders: [], lengths: [] });
    index('due', 'key', ['status', 'runAt', 'priority']);
    index('org', 'key', ['orgId']);
    index('score', 'key', ['score']);
    // No index on the array column `tags`: Appwrite refuses one ("Creating indexes on array attributes is not
    // currently supported.", Indexes/Create.php); this table used to declare it.
    index('org_run', 'unique', ['orgId', 'runAt']);
  }
  const t = schemas.getTable('tables', 'db', id);
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      rows.create(
        'tables',
        t,
        `r${i}`,
        {
          status: i % 50 === 0 ? 'QUEUED' : i % 50 === 1 ? null : 'COMPLETED',
          runAt: i % 97,
          priority: i % 7,
          orgId: i % 13 === 0 ? null : `org${i % 40}`,
          // Doubles that are whole numbers come back from JSON as integers: both kinds meet in one index.
          score: i % 11 === 0 ? null : (i % 9) / 2,
          tags: i % 3 === 0 ? ['a', 'b'] : ['c'],
        },
        [],
      );
    }
  })();
  return t;
}

/** The SELECT statements listRows prepares and the parameters it runs them with. */
function spyDb(target: Database): { db: Database; runs: { sql: string; params: unknown[] }[] } {
  const runs: { sql: string; params: unknown[] }[] = [];
  const proxy = new Proxy(target, {
    get(obj, prop) {
      if (prop === 'prepare') {
        return (sql: string) => {
          const stmt = obj.prepare(sql);
          return new Proxy(stmt, {
            get(s, p) {
              if (p === 'all')
                return (...params: unknown[]) => {
                  runs.push({ sql, params });
                  return s.all(...params);
                };
              const v = Reflect.get(s, p, s);
              return typeof v === 'function' ? v.bind(s) : v;
            },
          });
        };
      }
      const v = Reflect.get(obj, prop, obj);
      return typeof v === 'function' ? v.bind(obj) : v;
    },
  });
  return { db: proxy, runs };
}

/** The query plan of the page query listRows runs for `raw` on `t`. */
function planOf(t: TableSchema, raw: string[]): string {
  const spy = spyDb(db);
  listRows(spy.db, t, parseQueries(raw, rowAttributes(t)), true);
  const run = spy.runs.at(-1);
  if (!run) throw new Error('listRows ran no query');
  return (db.prepare(`EXPLAIN QUERY PLAN ${run.sql}`).all(...run.params) as { detail: string }[])
    .map((r) => r.detail)
    .join(' | ');
}

const page = (t: TableSchema, raw: string[]) => {
  const res = listRows(db, t, parseQueries(raw, rowAttributes(t)), true);
  return { total: res.total, rows: res.rows.map((r) => ({ id: r.id, seq: r.seq, data: r.data })) };
};

beforeEach(() => {
  db = openDatabase({ memory: true });
  schemas = new SchemaStore(db, clock);
  rows = new RowStore(db, clock);
  schemas.createDatabase('db', 'db', true);
});

afterEach(() => {
  db.close();
});

const claim = [
  q('equal', 'status', ['QUEUED', 'RETRY']),
  q('lessThanEqual', 'runAt', [60]),
  q('orderAsc', 'priority'),
  q('limit', undefined, [10]),
];

describe('listRows on declared indexes', () => {
  it('runs indexed filters on the expression index, unfiltered lists on $sequence', () => {
    const t = makeTable('jobs', true);
    expect(planOf(t, claim)).toContain('USING INDEX tdbx:db:jobs:due');
    expect(planOf(t, [q('equal', 'orgId', ['org3']), q('orderDesc', '$sequence')])).toContain(
      'USING INDEX tdbx:db:jobs:org',
    );
    expect(planOf(t, [q('greaterThan', 'score', [3]), q('orderAsc', 'runAt')])).toContain(
      'USING INDEX tdbx:db:jobs:score',
    );
    expect(planOf(t, [q('equal', 'orgId', ['org3']), q('equal', 'runAt', [42])])).toMatch(
      /USING INDEX tdbx:db:jobs:(org_run|org)\b/,
    );
    const unfiltered = planOf(t, [q('limit', undefined, [25])]);
    expect(unfiltered).toContain('USING INDEX tdb_rows_seq');
    expect(unfiltered).not.toContain('TEMP B-TREE');
    // A filter on a column no index leads with keeps the $sequence walk.
    expect(planOf(t, [q('equal', 'priority', [3])])).toContain('USING INDEX tdb_rows_seq');
  });

  it('returns exactly what the same queries return without indexes', () => {
    const indexed = makeTable('indexed', true);
    const plain = makeTable('plain', false);
    const queries: string[][] = [
      claim,
      [q('equal', 'status', ['QUEUED']), q('orderAsc', 'runAt'), q('limit', undefined, [25])],
      [q('equal', 'status', ['COMPLETED']), q('orderDesc', 'runAt'), q('offset', undefined, [40])],
      [q('isNull', 'status'), q('orderDesc', 'priority')],
      [q('isNotNull', 'orgId'), q('orderAsc', 'orgId'), q('limit', undefined, [100])],
      [q('equal', 'orgId', ['org3', 'org7']), q('orderAsc', 'score'), q('limit', undefined, [50])],
      [q('between', 'score', [1, 3]), q('orderDesc', 'score'), q('offset', undefined, [7])],
      [q('greaterThanEqual', 'score', [2.5]), q('lessThan', 'runAt', [30])],
      [q('equal', 'score', [2]), q('orderAsc', 'orgId')],
      [q('notEqual', 'status', ['COMPLETED']), q('orderAsc', 'status')],
      [q('contains', 'tags', ['a']), q('equal', 'orgId', ['org0', 'org9']), q('offset', undefined, [3])],
      [q('startsWith', 'orgId', ['org1']), q('orderDesc', 'orgId')],
      [q('equal', 'status', ['QUEUED']), q('orderAsc', 'runAt'), q('cursorAfter', undefined, ['r500'])],
      [q('equal', 'status', ['QUEUED']), q('orderAsc', 'runAt'), q('cursorBefore', undefined, ['r1500'])],
      [q('equal', 'orgId', ['org5']), q('cursorAfter', undefined, ['r205']), q('limit', undefined, [5])],
      [q('orderAsc', 'status'), q('orderDesc', 'score'), q('limit', undefined, [200])],
    ];
    for (const raw of queries) {
      const expected = page(plain, raw);
      expect(expected.rows.length, raw.join(' ')).toBeGreaterThan(0);
      expect(page(indexed, raw), raw.join(' ')).toEqual(expected);
    }
    // A null order value at the cursor is refused either way.
    const nullCursor = [q('orderAsc', 'orgId'), q('cursorAfter', undefined, ['r13'])];
    expect(() => page(indexed, nullCursor)).toThrow(/null value/);
    expect(() => page(plain, nullCursor)).toThrow(/null value/);
  });

  it('restores missing statistics when the store opens (data directories from before)', () => {
    const t = makeTable('jobs', true);
    db.exec("DELETE FROM sqlite_stat1 WHERE tbl = 'tdb_rows'; ANALYZE sqlite_schema");
    expect(planOf(t, claim)).not.toContain('tdbx:');
    new SchemaStore(db, clock);
    expect(planOf(t, claim)).toContain('USING INDEX tdbx:db:jobs:due');
  });

  it('drops the SQL index and its statistics with the index and with the table', () => {
    const t = makeTable('jobs', true);
    const stats = () =>
      (
        db
          .prepare("SELECT idx FROM sqlite_stat1 WHERE tbl = 'tdb_rows' ORDER BY idx")
          .pluck()
          .all() as string[]
      )
        .filter((i) => i.startsWith('tdbx:'))
        .sort();
    const sqlIndexes = () =>
      (
        db
          .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'tdbx:%'")
          .pluck()
          .all() as string[]
      ).sort();
    // The array-only index has no SQL index.
    const expected = ['tdbx:db:jobs:due', 'tdbx:db:jobs:org', 'tdbx:db:jobs:org_run', 'tdbx:db:jobs:score'];
    expect(sqlIndexes()).toEqual(expected);
    expect(stats()).toEqual(expected);
    schemas.deleteIndex('tables', 'db', 'jobs', 'due');
    const after = schemas.getTable('tables', 'db', 'jobs');
    expect(planOf(after, claim)).not.toContain('tdbx:db:jobs:due');
    expect(stats()).toEqual(expected.filter((i) => !i.endsWith(':due')));
    schemas.deleteTable('tables', 'db', 'jobs');
    expect(sqlIndexes()).toEqual([]);
    expect(stats()).toEqual([]);
    expect(t.id).toBe('jobs');
  });
});
