/** Shared fixtures for the quota tests: a store, a manual clock, a recording notifier and limit setup. */
import { type ListOptions, type TableStore, uniqueIndexesOf, type WriteOp } from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import {
  type QuotaNotification,
  type QuotaNotifier,
  QuotaService,
  type QuotaServiceOptions,
  type QuotaType,
  quotaTables,
  updateQuotaSettings,
} from 'resilience-core/quota';
import { ManualClock } from 'resilience-core/testing';

/** A notifier that records every message; `failing` makes it throw. */
export class RecordingNotifier implements QuotaNotifier {
  readonly sent: QuotaNotification[] = [];
  failing = false;
  async notify(n: QuotaNotification): Promise<void> {
    if (this.failing) throw new Error('webhook answered 500');
    this.sent.push(n);
  }
}

/** Everything a quota test needs. */
export interface QuotaFixture {
  store: TableStore;
  memory: MemoryTableStore | null;
  clock: ManualClock;
  notifier: RecordingNotifier;
  /** A new service, as a new execution would create. */
  service(options?: Partial<QuotaServiceOptions>): QuotaService;
  /** Sets per-org overrides (and optionally zone, plan, shadow) as an operator. */
  configure(
    orgId: string,
    settings: {
      overrides?: Partial<Record<QuotaType, number>>;
      timeZone?: string;
      plan?: 'free' | 'pro' | 'enterprise';
      shadow?: QuotaType[];
    },
  ): Promise<void>;
}

/** A fixture over the memory store (default) or any given store. */
export function quotaFixture(options: { store?: TableStore; start?: string } = {}): QuotaFixture {
  const clock = new ManualClock(options.start ?? '2026-03-10T12:00:00.000Z');
  const memory = options.store ? null : new MemoryTableStore({ clock, unique: uniqueIndexesOf(quotaTables) });
  const store = options.store ?? memory!;
  const notifier = new RecordingNotifier();
  return {
    store,
    memory,
    clock,
    notifier,
    service: (extra = {}) => new QuotaService({ store, clock, notifier, ...extra }),
    configure: async (orgId, settings) => {
      await updateQuotaSettings(store, { userId: null, orgId, isAdmin: true }, settings, clock.now());
    },
  };
}

/** Runs `n` calls of `fn` concurrently and returns their results. */
export function concurrently<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}

/** How `utf8mb4_general_ci` compares two ids: case, accents and trailing spaces ignored. */
export const fold = (id: string) =>
  id.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/ +$/, '');

/** A store that addresses rows by their folded id, as Appwrite on MariaDB does (row ids keep their spelling). */
export function caseInsensitive(inner: TableStore): TableStore {
  const spelled = new Map<string, string>();
  const key = (table: string, id: string) => `${table}\u0000${fold(id)}`;
  const resolve = (table: string, id: string) => spelled.get(key(table, id)) ?? id;
  const remember = (table: string, id: string) => {
    if (!spelled.has(key(table, id))) spelled.set(key(table, id), id);
  };
  const map = (op: WriteOp): WriteOp => ({ ...op, id: resolve(op.table, op.id) }) as WriteOp;
  return {
    async create(table, id, data, options) {
      const row = await inner.create(table, resolve(table, id), data, options);
      remember(table, id);
      return row;
    },
    get: (table, id) => inner.get(table, resolve(table, id)),
    update: (table, id, patch) => inner.update(table, resolve(table, id), patch),
    async upsert(table, id, data, options) {
      const row = await inner.upsert(table, resolve(table, id), data, options);
      remember(table, id);
      return row;
    },
    delete: (table, id) => inner.delete(table, resolve(table, id)),
    list: (table, options?: ListOptions) => inner.list(table, options),
    increment: (table, id, column, by, bound) =>
      inner.increment(table, resolve(table, id), column, by, bound),
    async transaction(ops) {
      await inner.transaction(ops.map(map));
      for (const op of ops) if (op.action === 'create' || op.action === 'upsert') remember(op.table, op.id);
    },
  };
}
