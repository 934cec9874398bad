import { errors } from '../../errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  type Condition,
  type IncrementBound,
  LIST_DEFAULT_LIMIT,
  LIST_MAX_LIMIT,
  type ListOptions,
  type ListResult,
  orderForCommit,
  type Row,
  type RowData,
  type TableStore,
  type WriteOp,
  type WriteOptions,
} from '../../ports/table-store.ts';
import { clonerFor, type RowCloner } from './row-cloner.ts';

export interface MemoryTableStoreOptions {
  clock?: Clock;
  /** Unique indexes per table: each entry is a list of columns whose combined values must be unique. */
  unique?: Record<string, readonly (readonly string[])[]>;
}

/** Counters of the operations served, so tests and benches can count storage round trips. */
export interface StoreStats {
  calls: number;
  byMethod: Record<string, number>;
}

/**
 * What a table holds per id: the stored (frozen) row, and once it has been incremented, the copier for its shape
 * (see {@link clonerFor}), so the next increment of the same shape needs no lookup. An entry is never handed out.
 * Writes to the live tables outside a transaction may replace an entry's row in place (nothing holds an entry
 * across an await: every method runs synchronously); a transaction's staged tables share entries with the live
 * ones, so writes there always put a new entry.
 */
interface Stored {
  row: Row;
  clone: RowCloner | undefined;
}

type Tables = Map<string, Map<string, Stored>>;

/**
 * The memory adapter: same semantics as the Appwrite adapter, atomicity included. Every method does all its
 * checks and writes synchronously between awaits, so concurrent callers in one process see each operation
 * whole. Rows are copied in and out, so callers can never mutate stored state by accident. Stored rows are frozen
 * (every write replaces a row, none changes one in place), so `increment` — the counters' hot path — answers
 * with the stored row itself instead of a copy: changing it throws instead of reaching the store.
 */
export class MemoryTableStore implements TableStore {
  readonly stats: StoreStats = { calls: 0, byMethod: {} };
  private tables: Tables = new Map();
  private sequence = 0;
  private readonly clock: Clock;
  private readonly unique: Record<string, readonly (readonly string[])[]>;

  constructor(options: MemoryTableStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.unique = options.unique ?? {};
  }

  async create<T extends RowData>(
    table: string,
    id: string,
    data: T,
    options?: WriteOptions,
  ): Promise<Row<T>> {
    this.count('create');
    return copy(this.applyCreate(this.tables, table, id, data, options?.permissions)) as Row<T>;
  }

  async get<T extends RowData>(table: string, id: string): Promise<Row<T> | null> {
    this.count('get');
    const stored = this.tables.get(table)?.get(id);
    return stored ? (copy(stored.row) as Row<T>) : null;
  }

  async update<T extends RowData>(table: string, id: string, patch: Partial<T>): Promise<Row<T>> {
    this.count('update');
    return copy(this.applyUpdate(this.tables, table, id, patch)) as Row<T>;
  }

  async upsert<T extends RowData>(
    table: string,
    id: string,
    data: T,
    options?: WriteOptions,
  ): Promise<Row<T>> {
    this.count('upsert');
    const exists = this.tables.get(table)?.has(id);
    const row = exists
      ? this.applyUpdate(this.tables, table, id, data)
      : this.applyCreate(this.tables, table, id, data, options?.permissions);
    return copy(row) as Row<T>;
  }

  async delete(table: string, id: string): Promise<boolean> {
    this.count('delete');
    return this.tables.get(table)?.delete(id) ?? false;
  }

  async list<T extends RowData>(table: string, options: ListOptions = {}): Promise<ListResult<T>> {
    this.count('list');
    const limit = Math.min(Math.max(1, options.limit ?? LIST_DEFAULT_LIMIT), LIST_MAX_LIMIT);
    let rows = Array.from(this.tables.get(table)?.values() ?? [], (s) => s.row).filter((row) =>
      (options.where ?? []).every((c) => matches(row, c)),
    );
    const order = options.orderBy ?? [];
    rows.sort((a, b) => {
      for (const { field, direction } of order) {
        const d = compare(a[field], b[field]);
        if (d !== 0) return direction === 'asc' ? d : -d;
      }
      return a.$sequence - b.$sequence;
    });
    if (options.cursor !== undefined) {
      const at = rows.findIndex((r) => r.$id === options.cursor);
      if (at < 0) throw errors.invalidInput(`Cursor row "${options.cursor}" not found`);
      rows = rows.slice(at + 1);
    }
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? (page[page.length - 1]?.$id ?? null) : null;
    return {
      rows: page.map((r) => (options.select ? pick(r, options.select) : copy(r))) as Row<T>[],
      nextCursor,
    };
  }

  async increment<T extends RowData>(
    table: string,
    id: string,
    column: string,
    by: number,
    bound?: IncrementBound,
  ): Promise<Row<T>> {
    this.count('increment');
    return this.applyIncrement(this.tables, table, id, column, by, bound) as Row<T>;
  }

  async transaction(ops: readonly WriteOp[]): Promise<void> {
    this.count('transaction');
    // Apply to a copy-on-write view of the touched tables; swap in only if every operation succeeded.
    const staged: Tables = new Map(this.tables);
    for (const name of new Set(ops.map((op) => op.table))) {
      staged.set(name, new Map(this.tables.get(name) ?? []));
    }
    const sequenceBefore = this.sequence;
    try {
      for (const op of orderForCommit(ops)) {
        switch (op.action) {
          case 'create':
            this.applyCreate(staged, op.table, op.id, op.data, op.permissions);
            break;
          case 'update':
            this.applyUpdate(staged, op.table, op.id, op.data);
            break;
          case 'upsert':
            if (staged.get(op.table)?.has(op.id)) this.applyUpdate(staged, op.table, op.id, op.data);
            else this.applyCreate(staged, op.table, op.id, op.data, op.permissions);
            break;
          case 'delete':
            if (!staged.get(op.table)?.delete(op.id))
              throw errors.notFound(`Row "${op.id}" not found in ${op.table}`);
            break;
          case 'increment':
            this.applyIncrement(staged, op.table, op.id, op.column, op.by, op.bound);
            break;
        }
      }
    } catch (error) {
      this.sequence = sequenceBefore;
      throw error;
    }
    this.tables = staged;
  }

  /** Removes every row (tests). */
  clear(): void {
    this.tables.clear();
  }

  private count(method: string): void {
    this.stats.calls++;
    this.stats.byMethod[method] = (this.stats.byMethod[method] ?? 0) + 1;
  }

  private table(tables: Tables, name: string): Map<string, Stored> {
    let t = tables.get(name);
    if (!t) {
      t = new Map();
      tables.set(name, t);
    }
    return t;
  }

  private applyCreate(
    tables: Tables,
    table: string,
    id: string,
    data: RowData,
    permissions: readonly string[] = [],
  ): Row {
    const t = this.table(tables, table);
    if (t.has(id)) throw errors.conflict(`Row "${id}" already exists in ${table}`, { table, id });
    const now = this.timestamp();
    const row: Row = {
      ...copy(data),
      $id: id,
      $sequence: ++this.sequence,
      $createdAt: now,
      $updatedAt: now,
      $permissions: [...permissions],
    };
    this.checkUnique(t, table, row);
    t.set(id, { row: deepFreeze(row), clone: undefined });
    return row;
  }

  private applyUpdate(tables: Tables, table: string, id: string, patch: RowData): Row {
    const t = this.table(tables, table);
    const current = t.get(id)?.row;
    if (!current) throw errors.notFound(`Row "${id}" not found in ${table}`, { table, id });
    const { $id: _i, $sequence: _s, $createdAt: _c, $updatedAt: _u, $permissions: _p, ...values } = patch;
    const row: Row = { ...current, ...copy(values), $updatedAt: this.timestamp() };
    this.checkUnique(t, table, row);
    t.set(id, { row: deepFreeze(row), clone: undefined });
    return row;
  }

  private applyIncrement(
    tables: Tables,
    table: string,
    id: string,
    column: string,
    by: number,
    bound: IncrementBound = {},
  ): Row {
    if (!Number.isFinite(by) || by === 0)
      throw errors.invalidInput('Increment must be a non-zero finite number');
    const t = this.table(tables, table);
    const stored = t.get(id);
    if (!stored) throw errors.notFound(`Row "${id}" not found in ${table}`, { table, id });
    const current = stored.row;
    const value = current[column] ?? 0;
    if (typeof value !== 'number') throw errors.invalidInput(`Column "${column}" is not numeric`);
    const next = value + by;
    if (by > 0 && bound.max !== undefined && next > bound.max) {
      throw errors.boundExceeded(`${column} would exceed ${bound.max}`, {
        table,
        id,
        column,
        value,
        by,
        ...bound,
      });
    }
    if (by < 0 && bound.min !== undefined && next < bound.min) {
      throw errors.boundExceeded(`${column} would go below ${bound.min}`, {
        table,
        id,
        column,
        value,
        by,
        ...bound,
      });
    }
    // A shallow copy by the shape's generated copier, then two assignments. Nested values are those of the frozen
    // row it replaces, so freezing the top level keeps it wholly frozen. A column the row lacked changes the
    // shape: the copier is then looked up again for the new shape.
    const clone = stored.clone ?? clonerFor(current);
    const row = clone(current);
    const sameShape = Object.hasOwn(current, column);
    row[column] = next;
    row.$updatedAt = this.timestamp();
    Object.freeze(row);
    const nextClone = sameShape ? clone : clonerFor(row);
    if (tables === this.tables) {
      stored.row = row;
      stored.clone = nextClone;
    } else t.set(id, { row, clone: nextClone });
    return row;
  }

  private checkUnique(t: Map<string, Stored>, table: string, row: Row): void {
    for (const columns of this.unique[table] ?? []) {
      const key = JSON.stringify(columns.map((c) => row[c] ?? null));
      if (columns.every((c) => row[c] === null || row[c] === undefined)) continue;
      for (const { row: other } of t.values()) {
        if (other.$id !== row.$id && JSON.stringify(columns.map((c) => other[c] ?? null)) === key) {
          throw errors.conflict(`Unique index on ${table}(${columns.join(',')}) violated`, {
            table,
            columns,
          });
        }
      }
    }
  }

  private timestamp(): string {
    return toAppwriteDate(this.clock.now());
  }
}

let lastDateMs = Number.NaN;
let lastDate = '';

/** Formats epoch milliseconds the way Appwrite does: `2026-01-01T00:00:00.000+00:00`. */
export function toAppwriteDate(ms: number): string {
  // Formatting a date costs more than the rest of a memory write; writes within one millisecond share it.
  if (ms !== lastDateMs) {
    lastDate = new Date(ms).toISOString().replace('Z', '+00:00');
    lastDateMs = ms;
  }
  return lastDate;
}

/**
 * Copies a row value. Rows are JSON data (scalars, arrays, plain objects), so a direct recursive copy does;
 * it is several times cheaper than `structuredClone`, which matters on the hot paths benchmarks measure.
 * Objects are copied with a spread (V8 clones a flat object of a known shape in one step, several times
 * faster than a key-by-key loop), then only their object-valued entries are copied deeper.
 */
function copy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copy) as T;
  // A spread defines own data properties, so an own `__proto__` key (possible from JSON.parse) stays data.
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key in out) {
    const v = out[key];
    if (typeof v !== 'object' || v === null) continue;
    // Assigning `__proto__` would set the copy's prototype instead of the key: define it as data.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: copy(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = copy(v);
  }
  return out as T;
}

/** Freezes a row and every object or array inside it (stored rows are never changed in place). */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

function pick(row: Row, fields: readonly string[]): Row {
  const out: Row = {
    $id: row.$id,
    $sequence: row.$sequence,
    $createdAt: row.$createdAt,
    $updatedAt: row.$updatedAt,
    $permissions: [...row.$permissions],
  };
  for (const f of fields) out[f] = copy(row[f] ?? null);
  return out;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as number | string) < (b as number | string) ? -1 : 1;
}

function matches(row: Row, c: Condition): boolean {
  const v = row[c.field] ?? null;
  switch (c.op) {
    case 'eq':
      return Array.isArray(c.value) ? (c.value as unknown[]).includes(v) : v === c.value;
    case 'ne':
      return v !== c.value;
    case 'lt':
      return v !== null && compare(v, c.value) < 0;
    case 'lte':
      return v !== null && compare(v, c.value) <= 0;
    case 'gt':
      return v !== null && compare(v, c.value) > 0;
    case 'gte':
      return v !== null && compare(v, c.value) >= 0;
    case 'between':
      return v !== null && compare(v, c.value[0]) >= 0 && compare(v, c.value[1]) <= 0;
    case 'isNull':
      return v === null;
    case 'isNotNull':
      return v !== null;
    case 'startsWith':
      return typeof v === 'string' && v.startsWith(c.value);
    case 'contains':
      return Array.isArray(v) ? v.includes(c.value) : typeof v === 'string' && v.includes(String(c.value));
  }
}
